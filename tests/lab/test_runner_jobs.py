"""site.yml as AWX runs it: through ansible-runner's Python API, from a private data directory laid
out as AWX lays one out (lab/cskl_lab/awx.py: project/, an inventory script, env/ with extra vars,
settings and the machine credential's ssh key, the collection installed from its tarball), in the
in-band lab's controller namespace, over ssh with the key runner loads into its ssh-agent.

On the in-band lab of tests/lab/conftest.py (one lab per pytest run; it works from any state the
other lab tests leave): make lab-safe-apply (CI) runs tests 1 and 3 after the change catalogue,
make lab-awx all three after test_execution_environment.py:
  1. site.yml converges the four hosts: the job is successful, every host event names a host of
     the inventory, the stats say which host changed; a second job changes nothing;
  2. a job whose model cuts one host off: the job fails, that host's failed event carries the
     rollback message, the other hosts are untouched and the host is reachable again;
  3. job slicing: the inventory in two slices run as two parallel jobs, as AWX's sliced job
     templates run them: every host in exactly one slice, each converged (changed=0) once; groups
     cut down to the slice's hosts.

No AWX runs here: the layout and slicing follow AWX's task runner and sliced job templates; the
bench of 1, 2 and 4 slices is bench/slices.
"""

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inband import HOSTS
from test_safe_apply import models
from cskl_lab import awx

BROKEN = "sa-ifupdown"


@pytest.fixture(scope="module")
def jobs(scenario):
    return Jobs(scenario)


class Jobs(awx.LabJobs):
    """site.yml jobs on the in-band lab with the safe apply tests' models and settings."""

    def __init__(self, sc):
        super().__init__(sc.lab, Path(tempfile.mkdtemp(prefix="awx-jobs-")))
        self.sc = sc

    def site(self, host_models, slice_number=1, slice_count=1):
        hostvars = self.sc.hostvars(host_models, kvm_host_install_packages=False, kvm_host_load_kernel_modules=False)
        return self.run(hostvars, groups={"hypervisors": list(host_models)}, slice_number=slice_number,
                        slice_count=slice_count, timeout=900)


def changed(result):
    """{host: changed count} of a job, every host of its inventory included."""
    return dict((h, result["stats"].get("changed", {}).get(h, 0)) for h in result["inventory"]["all"]["hosts"])


def failed_hosts(result):
    return sorted(set(result["stats"].get("failures", {})) | set(result["stats"].get("dark", {})))


def host_events_name_their_hosts(result):
    hosts = set(result["inventory"]["all"]["hosts"])
    named = [e for e in result["events"] if e["event"] != "playbook_on_stats"]
    assert named, "the job produced host events"
    assert all(e["host"] in hosts for e in named), [e for e in named if e["host"] not in hosts]
    assert [e["event"] for e in result["events"]][-1] == "playbook_on_stats"


def test_1_site_yml_through_runner_converges_then_changes_nothing(jobs):
    first = jobs.site(models())
    assert (first["status"], first["rc"]) == ("successful", 0), first
    host_events_name_their_hosts(first)
    assert sorted(first["stats"]["ok"]) == sorted(HOSTS) and failed_hosts(first) == []
    for host in HOSTS:   # what the stats count is what the events say
        assert changed(first)[host] == sum(1 for e in first["events"] if e["host"] == host and e["changed"]
                                           and e["event"] == "runner_on_ok"), host
    again = jobs.site(models())
    assert (again["status"], again["rc"]) == ("successful", 0), again
    host_events_name_their_hosts(again)
    assert changed(again) == dict((h, 0) for h in HOSTS), again["stats"]


def test_2_a_broken_apply_is_a_failed_event_with_the_rollback_message(jobs):
    sc = jobs.sc
    broken = dict(models(), **{BROKEN: models(dead=True)[BROKEN]})
    sc.lab.link(BROKEN, "eth3", "down")
    try:
        result = jobs.site(broken)
    finally:
        sc.lab.link(BROKEN, "eth3", "up")
    assert result["status"] == "failed" and result["rc"] != 0, result["stats"]
    assert failed_hosts(result) == [BROKEN], result["stats"]
    host_events_name_their_hosts(result)
    failures = [e for e in result["events"] if e["event"] == "runner_on_failed"]
    # The confirmation fails (the block's rescue takes it), then the rescue fails the host with
    # what happened: AWX shows both as failed events of that host.
    assert set(e["host"] for e in failures) == {BROKEN}, failures
    assert failures[0]["task"] == "Fail when the change could not be confirmed", failures
    msg = failures[-1]["msg"] or ""
    assert f"host {BROKEN}: the network change was not confirmed" in msg, msg
    assert "rolled back by itself" in msg and "reachable again on its old network" in msg, msg
    assert [h for h, n in changed(result).items() if n and h != BROKEN] == [], "the other hosts are untouched"
    assert sc.snapshots(BROKEN)[-1]["status"] == "rolled_back"
    assert sc.reachable(BROKEN, HOSTS.index(BROKEN) + 1)


def test_3_two_slices_run_in_parallel_converge_every_host_once(jobs):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda k: jobs.site(models(), slice_number=k, slice_count=2), (1, 2)))
    seen = []
    for number, result in enumerate(results, start=1):
        hosts = result["inventory"]["all"]["hosts"]
        assert hosts == sorted(HOSTS)[number - 1::2], (number, hosts)
        assert result["inventory"]["hypervisors"]["hosts"] == hosts, "the group is cut down to the slice"
        assert (result["status"], result["rc"]) == ("successful", 0), result
        host_events_name_their_hosts(result)
        assert sorted(result["stats"]["ok"]) == hosts
        assert changed(result) == dict((h, 0) for h in hosts)
        seen += hosts
    assert sorted(seen) == sorted(HOSTS) and len(seen) == len(set(seen)), "every host once, none twice"
