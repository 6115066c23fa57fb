"""site.yml on the oldest and the newest ansible-core the collection claims (tests/matrix/cores.txt),
each from its own virtualenv with the community collections that go with it
(scripts/core-matrix.sh builds and caches them), on the in-band lab of tests/lab/conftest.py. It
works from any state the other lab tests leave:
  1. the oldest core converges the four hosts to the models with an address on cloudbr1 (a change
     on every host, commit-confirmed and verified), then changes nothing on a second run;
  2. the newest core takes the address away again (a change on every host), then changes nothing.
The unit tests and ansible-test sanity on every core are `make matrix`; on these two, `make test`.
"""

import re
import subprocess

import pytest

from inband import HOSTS, REPO, recap
from test_safe_apply import models

SITE_VARS = dict(kvm_host_install_packages=False, kvm_host_load_kernel_modules=False,
                 kvm_network_verify_fail=True)


@pytest.fixture(scope="module")
def cores():
    """[(core, virtualenv)] for the oldest and the newest core, built or taken from the cache."""
    proc = subprocess.run([str(REPO / "scripts" / "core-matrix.sh"), "--edges", "--venvs"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout
    found = [line.split() for line in proc.stdout.splitlines() if re.match(r"^\d+\.\d+\.\d+ /", line)]
    assert len(found) == 2, proc.stdout
    return found


def converge(sc, venv, host_models):
    """site.yml, then again: {host: changed} of each run."""
    counts = []
    for attempt in ("converge", "re-run"):
        rc, out = sc.play("site.yml", sc.inventory(host_models, **SITE_VARS), venv=venv)
        assert rc == 0, f"site.yml ({attempt}) with {venv}:\n{out[-8000:]}"
        ran = recap(out)
        assert sorted(ran) == sorted(HOSTS), out[-3000:]
        assert all(unreachable == failed == 0 for dummy, unreachable, failed in ran.values()), ran
        counts.append(dict((h, ran[h][0]) for h in HOSTS))
    return counts


def cloudbr1_address(index):
    return {"addresses": [f"2001:db8:15::{index}/64"]}


def test_1_the_oldest_core_converges_then_changes_nothing(scenario, cores):
    core, venv = cores[0]
    first, again = converge(scenario, venv, models(extra=cloudbr1_address))
    assert all(first[h] > 0 for h in HOSTS), (core, first)
    assert again == dict((h, 0) for h in HOSTS), (core, again)
    for index, host in enumerate(HOSTS, start=1):
        assert f"2001:db8:15::{index}/64" in scenario.sh(host, "ip -brief address show dev cloudbr1"), host


def test_2_the_newest_core_changes_the_hosts_back_then_changes_nothing(scenario, cores):
    core, venv = cores[1]
    first, again = converge(scenario, venv, models())
    assert all(first[h] > 0 for h in HOSTS), (core, first)
    assert again == dict((h, 0) for h in HOSTS), (core, again)
    for host in HOSTS:
        assert "2001:db8:15::" not in scenario.sh(host, "ip -brief address show dev cloudbr1"), host
