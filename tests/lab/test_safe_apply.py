"""Safe apply on the container lab, in-band: Ansible runs in the lab's controller namespace and
reaches each host over ssh through the very network it changes, so a broken change really cuts it
off and only the host's own rollback brings it back.

Four hosts as they come from an installer: netplan (cloud-init's DHCP on eth0), ifupdown (a static
eth0 in /etc/network/interfaces), NetworkManager (a DHCP profile on eth0) and Open vSwitch by
ifupdown. In order:
  1. the first migration (the address moves from eth0 to cloudbr0) is commit-confirmed, cloud-init
     stays taken over across a restart;
  2. a good change is confirmed: no timer or unit is left;
  3. a change that moves cloudbr0 to a dead uplink is rolled back by every host as soon as its own
     pings find the confirmation target silent (not by its timer), the play fails saying so,
     verify.yml with the old model passes, ``ovs-vsctl show`` is byte-identical;
  4. ansible-playbook is killed (SIGKILL, with every process under it: its workers run in sessions
     of their own) right after a good change's apply starts: no confirmation comes, and the host's
     timer puts the change back;
  5. five applies in a row (changing, no-op, ...) leave at most keep_snapshots finished snapshots
     and no unit.

Run: make lab-safe-apply (root; brings its own lab up and down).
"""

import json
import subprocess
import time

from inband import APPLY_TIMEOUT, ENV, HOSTS, KEEP, SETTLE_WAIT, STATE, TIMER, address
from measure import kill_tree   # bench/measure.py, on the path inband.py sets


def linux_model(index, uplink="eth0", extra=None):
    """``extra``: cloudbr1's options, a function of the host index."""
    model = {
        "backend": "linux_bridge",
        "ethernets": {"eth0": {}, "eth1": {}},
        "bridges": {
            "cloudbr0": {"uplink": uplink, "addresses": [f"{address(index)}/24"]},
            "cloudbr1": {"uplink": "eth1"},
        },
        "traffic_labels": {"management": "cloudbr0"},
    }
    if uplink != "eth0":
        model["ethernets"][uplink] = {}
    model["bridges"]["cloudbr1"].update(extra(index) if extra else {})
    return model


def ovs_model(index, dead=False, extra=None):
    model = {
        "backend": "openvswitch",
        "ovs": {"datapath_type": "netdev"},
        "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
        "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 100}},
        "bridges": {
            "cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index)}/24"]},
            "cloudbr1": {"uplink": "eth2"},
            "cloudbr100": {"uplink": "bond0", "vlan": 100, "addresses": [f"203.0.113.{10 + index}/24"]},
        },
        "traffic_labels": {"management": "cloudbr0"},
    }
    if dead:    # cloudbr0 (with its VLAN bridge) moves to eth3, whose switch port is down
        del model["bonds"]["bond0"]
        model["bridges"]["cloudbr0"]["uplink"] = "eth3"
        model["bridges"]["cloudbr100"]["uplink"] = "eth3"
        del model["ethernets"]["eth0"], model["ethernets"]["eth1"]
    model["bridges"]["cloudbr1"].update(extra(index) if extra else {})
    return model


def models(dead=False, extra=None):
    """{host: kvm_network} for the four hosts (``dead``: cloudbr0 on the dead eth3)."""
    out = {}
    for index, name in enumerate(HOSTS, start=1):
        if name == "sa-ovs":
            out[name] = ovs_model(index, dead, extra)
        else:
            out[name] = linux_model(index, "eth3" if dead else "eth0", extra)
    return out


def test_1_first_migration_is_commit_confirmed(scenario):
    sc = scenario
    rc, out = sc.play("network.yml", sc.inventory(models()))
    assert rc == 0, out
    for index, host in enumerate(HOSTS, start=1):
        snaps = sc.snapshots(host)
        assert [s["status"] for s in snaps] == ["confirmed"], (host, snaps)
        assert [h["status"] for h in snaps[0]["history"]] == ["armed", "applied", "confirmed"]
        assert snaps[0]["disruption"]["disruptive"] is True, "the address moved from eth0 to cloudbr0"
        assert sc.units(host) == [], (host, "no unit is left after a confirmation")
        assert sc.reachable(host, index)
    # Taken over from the installers' configuration.
    taken = sc.sh("sa-netplan", "cat /etc/netplan/50-cloud-init.yaml /etc/cloud/cloud.cfg.d/99-cloudstack-kvm-network.cfg")
    assert "dhcp4" not in taken and "network: {config: disabled}" in taken
    assert "# iface eth0 inet static" in sc.sh("sa-ifupdown", "cat /etc/network/interfaces")
    assert sc.sh("sa-nm", "nmcli -g connection.autoconnect connection show 'Wired connection 1'").strip() == "no"
    # ... and it stays so across a restart (netplan's configuration comes back, no DHCP on eth0).
    sc.lab.reboot("sa-netplan")
    deadline = time.monotonic() + 60
    while not sc.reachable("sa-netplan", 1):
        assert time.monotonic() < deadline, "sa-netplan is not reachable after the restart"
        time.sleep(1)
    assert "198.51.100.11/24" in sc.sh("sa-netplan", "ip -br addr show cloudbr0")
    assert "inet " not in sc.sh("sa-netplan", "ip -4 addr show eth0")
    rc, out = sc.play("verify.yml", sc.inventory(models()))
    assert rc == 0, out


def test_2_a_good_change_is_confirmed_and_leaves_nothing(scenario):
    sc = scenario
    rc, out = sc.play("network.yml", sc.inventory(models(extra=lambda i: {"addresses": [f"2001:db8:2::{10 + i}/64"]})))
    assert rc == 0, out
    for host in HOSTS:
        snaps = sc.snapshots(host)
        assert snaps[-1]["status"] == "confirmed" and len(snaps) <= KEEP, (host, snaps)
        assert sc.units(host) == []
    rc, out = sc.play("network.yml", sc.inventory(models()))
    assert rc == 0, out


def test_3_a_change_that_cuts_the_host_off_is_rolled_back_by_the_host(scenario):
    sc = scenario
    show = sc.sh("sa-ovs", "ovs-vsctl show")
    for host in HOSTS:
        sc.lab.link(host, "eth3", "down")
    try:
        rc, out = sc.play("network.yml", sc.inventory(models(dead=True)))
    finally:
        for host in HOSTS:
            sc.lab.link(host, "eth3", "up")
    assert rc != 0
    for index, host in enumerate(HOSTS, start=1):
        assert f"host {host}: the network change was not confirmed: " in out, out
        last = sc.snapshots(host)[-1]
        rolled_back = last["history"][-1]
        assert last["status"] == "rolled_back" and rolled_back["status"] == "rolled_back", (host, last)
        # The host's own pings right after the change: it never waited for its timer ("applied").
        assert "applied" not in [h["status"] for h in last["history"]], (host, last)
        assert rolled_back["cause"] == "its confirmation targets did not answer", (host, rolled_back)
        assert rolled_back["started"] - rolled_back["live_at"] <= SETTLE_WAIT + 5, (host, rolled_back)
        assert sc.units(host) == []
        assert sc.reachable(host, index)
    said = dict((chunk.split(":", 1)[0], chunk) for chunk in out.split("Action failed: host ")[1:])
    for host in HOSTS:
        assert "and is reachable again on its old network" in said.get(host, ""), (host, out)
    assert sc.sh("sa-ovs", "ovs-vsctl show") == show, "the Open vSwitch database is exactly as before"
    report = sc.dir / "report"
    rc, out = sc.play("verify.yml", sc.inventory(models(), kvm_network_verify_report_dir=str(report)))
    assert rc == 0, out
    page = (report / "index.html").read_text()
    assert f"{len(HOSTS)} hosts, verified" in page and f"{len(HOSTS)} in sync." in page, page[:2000]
    for host in HOSTS:   # each with its diagram and the rollback just seen
        assert f'data-host="{host}"' in page and (report / f"{host}.dot").is_file()
        assert ">cloudbr0</text>" in (report / f"{host}.svg").read_text()
    assert page.count("rolled_back)") >= len(HOSTS), "the last apply, rolled back, is on the page"
    # The same report with the model the hosts refused: every host drifts, its diagram says where.
    rc, out = sc.play("verify.yml", sc.inventory(models(dead=True), kvm_network_verify_report_dir=str(report),
                                                 kvm_network_verify_fail=False))
    assert rc == 0, out
    page = (report / "index.html").read_text()
    assert f"{len(HOSTS)} drift" in page and page.count('data-state="drift"') == len(HOSTS)
    assert "bridge cloudbr0: " in page and 'color="#c62828"' in (report / "sa-netplan.dot").read_text()


def test_4_the_host_heals_when_the_controller_is_killed(scenario):
    sc = scenario
    before = len(sc.snapshots("sa-netplan"))
    # A change the host's own pings pass (one more address on cloudbr1): only the confirmation,
    # which dies with the controller, is missing, so the timer must roll it back.
    good = models(extra=lambda i: {"addresses": [f"2001:db8:4::{10 + i}/64"]})
    proc = subprocess.Popen(sc.argv("network.yml", sc.inventory(good), limit="sa-netplan"), env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            snaps = sc.snapshots("sa-netplan")
            if len(snaps) > before:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "the apply did not start"
            time.sleep(0.2)
        kill_tree(proc.pid)     # the controller is gone, in the middle of the apply
        proc.wait(timeout=30)
        deadline = time.monotonic() + 3 * TIMER + 30
        while sc.snapshots("sa-netplan")[-1]["status"] != "rolled_back":
            last = sc.snapshots("sa-netplan")[-1]
            assert time.monotonic() < deadline, (last["status"], last["history"], sc.units("sa-netplan"))
            time.sleep(1)
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
    last = sc.snapshots("sa-netplan")[-1]
    history = dict((h["status"], h["at"]) for h in last["history"])
    # Where the kill lands is up to the machine's timing: after the detached apply ran (it goes on
    # without the controller) the confirmation timer rolls back; before it, the watchdog armed with
    # the snapshot does (apply timeout + confirmation timeout). Either way within its own limit.
    if "applied" in history:
        assert history["rolled_back"] - history["applied"] <= TIMER + 10, history
    else:
        assert history["rolled_back"] - history["armed"] <= APPLY_TIMEOUT + TIMER + 10, history
    assert sc.units("sa-netplan") == []
    assert sc.reachable("sa-netplan", 1)
    rc, out = sc.play("verify.yml", sc.inventory(models()), limit="sa-netplan")
    assert rc == 0, out


def test_5_applies_in_a_row_leave_bounded_snapshots_and_no_unit(scenario):
    sc = scenario
    for step in range(5):
        # changing (a new address on cloudbr1), then a no-op (the same again), ...
        octet = 100 + 10 * (step // 2)
        rc, out = sc.play("network.yml", sc.inventory(models(extra=lambda i, o=octet: {"addresses": [f"2001:db8:2::{o + i}/64"]})))
        assert rc == 0, out
    for host in HOSTS:
        snaps = sc.snapshots(host)
        finished = [s for s in snaps if s["status"] in ("confirmed", "rolled_back")]
        assert len(finished) <= KEEP and len(snaps) == len(finished), (host, [s["status"] for s in snaps])
        assert sc.units(host) == []


def test_6_two_applies_at_once_take_turns(scenario):
    """Two network.yml runs started together on one host, each giving cloudbr1 another address: the
    second waits for the first to be confirmed (the host's apply lock and pending check), then plans
    on what it left and is confirmed in turn. Both succeed, the snapshots never overlap, and the host
    ends with the later one's address only."""
    sc = scenario
    host = "sa-ifupdown"
    procs = []
    for octet in (31, 32):
        inventory = sc.inventory({host: models(extra=lambda i, o=octet: {"addresses": [f"2001:db8:3::{o}/64"]})[host]})
        env = dict(ENV, ANSIBLE_SSH_CONTROL_PATH_DIR=str(sc.dir / f"cp-{octet}"))
        procs.append(subprocess.Popen(sc.argv("network.yml", inventory, limit=host), env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, universal_newlines=True))
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    first, second = sc.snapshots(host)[-2:]
    for snap in (first, second):
        assert snap["status"] == "confirmed", (snap["id"], snap["history"])
    confirmed = dict((h["status"], h["at"]) for h in first["history"])["confirmed"]
    armed = dict((h["status"], h["at"]) for h in second["history"])["armed"]
    assert armed >= confirmed, "the second change was armed before the first was confirmed"
    later = json.loads(sc.sh(host, f"cat {STATE}/{second['id']}/params.json"))["model"]["bridges"]["cloudbr1"]
    earlier = json.loads(sc.sh(host, f"cat {STATE}/{first['id']}/params.json"))["model"]["bridges"]["cloudbr1"]
    on_host = sc.sh(host, "ip -6 -o addr show dev cloudbr1 scope global")
    assert later["addresses"][0].split("/")[0] in on_host and earlier["addresses"][0].split("/")[0] not in on_host
    assert sc.units(host) == []
