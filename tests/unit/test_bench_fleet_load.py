"""bench/fleet_load's fleet and the measurement it shares with bench/converge (bench/measure.py),
without a lab: the fleet's composition, that every model it applies (good and broken) passes the
controller's validation (so a broken host is cut off by the network, never refused by the
controller), how each broken model differs from the good one, and what ``measured`` reports for
real processes."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "lab"))

import fleet_load  # noqa: E402  pylint: disable=wrong-import-position
from measure import kill_tree, measured, process_tree  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._front_door import validate  # noqa: E402


def test_the_fleet_has_every_system_and_one_broken_host_of_three_kinds():
    hosts = fleet_load.fleet(20)
    assert list(hosts) == [f"fl{i:02d}" for i in range(1, 21)]
    counts = dict((kind, list(hosts.values()).count(kind)) for kind in set(hosts.values()))
    assert counts == {"netplan": 8, "ifupdown": 4, "networkmanager": 4, "ovs": 4}
    broken = fleet_load.broken_hosts(hosts)
    assert sorted(hosts[h] for h in broken) == ["netplan", "networkmanager", "ovs"]
    assert broken == {"fl05": fleet_load.DEAD_UPLINK, "fl15": fleet_load.WRONG_ADDRESS, "fl19": fleet_load.DEAD_UPLINK}
    assert list(fleet_load.fleet(5).values()) == ["netplan", "netplan", "ifupdown", "networkmanager", "ovs"]


@pytest.mark.parametrize("kind", ["netplan", "ifupdown", "networkmanager", "ovs"])
@pytest.mark.parametrize("breakage", [None, fleet_load.DEAD_UPLINK, fleet_load.WRONG_ADDRESS])
def test_every_model_the_fleet_applies_is_valid(kind, breakage):
    model = validate(fleet_load.model(kind, 7, breakage), host="fl07")
    assert model["traffic_labels"]["management"] == "cloudbr0"


def test_a_dead_uplink_moves_cloudbr0_to_eth3_and_a_mistyped_address_only_the_address():
    good = fleet_load.model("netplan", 3)
    assert good["bridges"]["cloudbr0"] == {"uplink": "eth0", "addresses": ["198.51.100.13/24"]}
    dead = fleet_load.model("netplan", 3, fleet_load.DEAD_UPLINK)
    assert dead["bridges"]["cloudbr0"] == {"uplink": "eth3", "addresses": ["198.51.100.13/24"]}
    assert "eth0" not in dead["ethernets"]
    wrong = fleet_load.model("networkmanager", 3, fleet_load.WRONG_ADDRESS)
    assert wrong["bridges"]["cloudbr0"]["addresses"] == ["198.51.100.163/24"]
    assert dict(wrong, bridges=good["bridges"]) == good
    ovs = fleet_load.model("ovs", 3, fleet_load.DEAD_UPLINK)
    assert "bonds" not in ovs and ovs["bridges"]["cloudbr100"]["uplink"] == "eth3"


def test_the_recap_is_read_per_host():
    out = ("PLAY RECAP ****\nfl01                       : ok=30   changed=0    unreachable=0    failed=0    skipped=3\n"
           "fl05                       : ok=12   changed=2    unreachable=1    failed=0    skipped=1\n")
    assert fleet_load.recap(out) == {"fl01": (0, 0, 0), "fl05": (2, 1, 0)}


def test_measured_reports_the_exit_status_wall_time_and_cpu_of_the_whole_tree(tmp_path):
    burn = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"
    run = measured(["sh", "-c", f"sh -c '{burn}'; exit 3"], None, tmp_path / "log", tmp_path)
    assert run["rc"] == 3
    assert run["cpu"] > 0.05, "the child's CPU time is counted"
    assert run["seconds"] >= run["cpu"] * 0.5
    run = measured(["sh", "-c", "echo hello"], None, tmp_path / "log", tmp_path)
    assert run["rc"] == 0 and (tmp_path / "log").read_text() == "hello\n"


def test_measured_kills_a_run_past_its_timeout(tmp_path):
    started = time.monotonic()
    run = measured(["sh", "-c", "sleep 30 & wait"], None, tmp_path / "log", tmp_path, timeout=1)
    assert run["rc"] == -9
    assert time.monotonic() - started < 10


def test_kill_tree_reaches_a_child_in_a_session_of_its_own(tmp_path):
    """As ansible-playbook's workers (os.setsid): killing the process group would leave it running."""
    pidfile = tmp_path / "pid"
    proc = subprocess.Popen(["sh", "-c", f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 60' & sleep 60 & wait"],
                            start_new_session=True)
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    own_session = int(pidfile.read_text())
    assert own_session in process_tree(proc.pid)
    kill_tree(proc.pid)
    assert proc.wait(timeout=10) == -9
    deadline = time.monotonic() + 10
    while running(own_session):
        assert time.monotonic() < deadline, "the child in its own session is still running"
        time.sleep(0.05)


def running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
