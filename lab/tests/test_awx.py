"""The AWX job helper offline: slicing as AWX slices, the private data directory as AWX lays it out."""

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cskl_lab import awx  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = {"kvm-c": {"x": 3}, "kvm-a": {"x": 1}, "kvm-e": {"x": 5}, "kvm-b": {"x": 2}, "kvm-d": {"x": 4}}


def test_slices_take_every_nth_host_by_name_and_cover_each_host_once():
    slices = [awx.slice_hosts(HOSTS, k, 2) for k in (1, 2)]
    assert slices == [["kvm-a", "kvm-c", "kvm-e"], ["kvm-b", "kvm-d"]]
    for count in (1, 2, 3, 4, 5):
        every = [h for k in range(1, count + 1) for h in awx.slice_hosts(HOSTS, k, count)]
        assert sorted(every) == sorted(HOSTS), count


def test_disabled_hosts_are_in_no_slice_and_do_not_count():
    hosts = dict(HOSTS, **{"kvm-a": {"awx_enabled": False}})
    assert awx.slice_hosts(hosts, 1, 2) == ["kvm-b", "kvm-d"]
    assert awx.effective_slice_count(hosts, 10) == 4 and awx.effective_slice_count(hosts, 2) == 2
    with pytest.raises(ValueError, match="slice 3 of 2"):
        awx.slice_hosts(hosts, 3, 2)


def test_groups_are_cut_down_to_the_slice_and_hostvars_carry_only_its_hosts():
    data = awx.script_data(HOSTS, groups={"rack1": ["kvm-a", "kvm-b"], "rack2": ["kvm-c", "kvm-d", "kvm-e"]},
                           group_vars={"all": {"v": 1}, "rack2": {"w": 2}}, slice_number=2, slice_count=2)
    assert data["all"] == {"hosts": ["kvm-b", "kvm-d"], "children": ["rack1", "rack2"], "vars": {"v": 1}}
    assert data["rack1"]["hosts"] == ["kvm-b"] and data["rack2"] == {"hosts": ["kvm-d"], "children": [], "vars": {"w": 2}}
    assert data["_meta"]["hostvars"] == {"kvm-b": {"x": 2}, "kvm-d": {"x": 4}}


def test_the_private_data_dir_is_laid_out_as_awx_does(tmp_path):
    inventory = awx.script_data(HOSTS, slice_number=1, slice_count=3)
    root = awx.private_data_dir(tmp_path / "job", inventory, "KEY", tmp_path / "collections", {"kvm_x": 1})
    script = root / "inventory" / "hosts"
    assert script.stat().st_mode & stat.S_IXUSR
    printed = subprocess.run([str(script)], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert json.loads(printed) == inventory, "ansible runs the script and reads the slice's JSON"
    assert (root / "project" / "playbooks" / "site.yml").is_file()
    assert yaml.safe_load((root / "env" / "extravars").read_text()) == {"kvm_x": 1}
    envvars = yaml.safe_load((root / "env" / "envvars").read_text())
    assert envvars["ANSIBLE_COLLECTIONS_PATH"] == str(tmp_path / "collections")
    assert (root / "env" / "ssh_key").read_text() == "KEY\n"
    assert stat.S_IMODE((root / "env" / "ssh_key").stat().st_mode) == 0o600
    assert yaml.safe_load((root / "env" / "settings").read_text())["job_timeout"] == 1800


def test_a_slice_with_no_host_fails_without_running(tmp_path):
    hosts = {"kvm-a": {"awx_enabled": False}}
    root = awx.private_data_dir(tmp_path / "job", awx.script_data(hosts), "KEY", tmp_path / "c")
    result = awx.run_job(root, "playbooks/site.yml")
    assert result["status"] == "failed" and "no host" in result["msg"] and result["events"] == []


def test_a_job_in_an_image_is_read_back_from_runners_artifacts(tmp_path):
    events = tmp_path / "artifacts" / "7" / "job_events"
    events.mkdir(parents=True)
    written = [
        {"counter": 2, "event": "runner_on_ok", "event_data": {"host": "kvm-a", "task": "Apply", "res": {"changed": True}}},
        {"counter": 1, "event": "playbook_on_start", "event_data": {}},
        {"counter": 3, "event": "runner_on_failed",
         "event_data": {"host": "kvm-b", "task": "Confirm", "res": {"msg": "host kvm-b: rolled back"}}},
        {"counter": 4, "event": "playbook_on_stats",
         "event_data": {"ok": {"kvm-a": 3}, "changed": {"kvm-a": 1}, "failures": {"kvm-b": 1}}},
    ]
    for event in written:
        (events / f"{event['counter']}-x.json").write_text(json.dumps(event))
    (tmp_path / "artifacts" / "7" / "status").write_text("failed")
    (tmp_path / "artifacts" / "7" / "rc").write_text("2")
    result = awx.artifacts_summary(tmp_path, "7")
    assert (result["status"], result["rc"]) == ("failed", 2)
    assert [e["event"] for e in result["events"]] == ["runner_on_ok", "runner_on_failed", "playbook_on_stats"]
    assert result["events"][1] == {"event": "runner_on_failed", "host": "kvm-b", "task": "Confirm", "changed": False,
                                   "failed": True, "msg": "host kvm-b: rolled back"}
    assert result["stats"]["failures"] == {"kvm-b": 1} and result["stats"]["dark"] == {}
