"""site.yml and a rollback job run from the execution environment image (ee/build.sh, make ee), as
AWX runs a job in its EE: ansible-runner inside the image, the job's private data directory
mounted at /runner (lab/cskl_lab/awx.py lays it out), the machine credential's ssh key in runner's
ssh-agent, the container in the in-band lab's controller namespace so that it reaches the hosts
over the network the collection changes. Nothing of this checkout is used in the image but the
private data directory: ansible-core, ansible-runner and the collections are the image's.

On a fresh in-band lab (tests/lab/conftest.py: four hosts as their installers left them):
  1. site.yml from the image migrates every host (commit-confirmed); a second job changes nothing;
  2. rollback.yml from the image puts every host back to its snapshot (the installer's network),
     and each answers on it.

Run: make lab-awx (builds the image first; not in CI: docs/awx.md has its last measured run).
"""

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from inband import HOSTS
from test_safe_apply import models
from cskl_lab import awx
from cskl_lab.util import env_with_podman

IMAGE = os.environ.get("EE_IMAGE", "localhost/cskl-ee:current")


@pytest.fixture(scope="module")
def jobs(scenario):
    proc = subprocess.run(["podman", "image", "exists", IMAGE], env=env_with_podman(), check=False)
    assert proc.returncode == 0, f"no image {IMAGE}: build it with make ee (ee/build.sh)"
    jobs = awx.LabJobs(scenario.lab, Path(tempfile.mkdtemp(prefix="ee-jobs-")), image=IMAGE)
    jobs.sc = scenario
    return jobs


def hostvars(sc, host_models):
    return sc.hostvars(host_models, kvm_host_install_packages=False, kvm_host_load_kernel_modules=False)


def changed(result):
    return dict((h, result["stats"].get("changed", {}).get(h, 0)) for h in HOSTS)


def test_1_site_yml_from_the_image_migrates_the_hosts_then_changes_nothing(jobs):
    first = jobs.run(hostvars(jobs.sc, models()), groups={"hypervisors": list(HOSTS)}, timeout=900)
    assert (first["status"], first["rc"]) == ("successful", 0), first["stats"]
    assert all(changed(first)[h] > 0 for h in HOSTS), changed(first)
    assert all(e["host"] in HOSTS for e in first["events"] if e["event"] != "playbook_on_stats")
    for host in HOSTS:
        assert [s["status"] for s in jobs.sc.snapshots(host)][-1] == "confirmed", host
    again = jobs.run(hostvars(jobs.sc, models()), groups={"hypervisors": list(HOSTS)}, timeout=900)
    assert (again["status"], again["rc"]) == ("successful", 0), again["stats"]
    assert changed(again) == dict((h, 0) for h in HOSTS), again["stats"]


def test_2_a_rollback_job_from_the_image_puts_the_hosts_back(jobs):
    result = jobs.run(hostvars(jobs.sc, models()), playbook="playbooks/rollback.yml", timeout=900)
    assert (result["status"], result["rc"]) == ("successful", 0), (result["stats"], result["events"][-5:])
    for index, host in enumerate(HOSTS, start=1):
        assert jobs.sc.snapshots(host)[-1]["status"] == "rolled_back", host
        assert jobs.sc.reachable(host, index), f"{host} answers on its restored network"
    assert "198.51.100.12/24" in jobs.sc.sh("sa-ifupdown", "ip -4 -br addr show dev eth0"), \
        "the installer's static address is back on eth0"
