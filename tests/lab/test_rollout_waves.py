"""playbooks/rollout.yml with real rollbacks, on the in-band lab of tests/lab/conftest.py (any
state the other lab tests leave): waves of 1, 1 and 2 hosts. The canary (sa-netplan) takes the
change (an address on cloudbr1) and confirms it; the second wave's host (sa-ifupdown) gets a model
that moves cloudbr0 to a dead uplink, so it loses Ansible and rolls itself back; the rollout stops
there. The canary stays converged, the third wave (sa-nm, sa-ovs) is never touched (no new
snapshot, no address), and the summary names each host. The stand-in version of this, with
maintenance steps, is tests/unit/test_rollout.py.
"""

import json
import time

from inband import HOSTS, TIMER
from test_safe_apply import models

CANARY, BROKEN, UNTOUCHED = "sa-netplan", "sa-ifupdown", ("sa-nm", "sa-ovs")


def with_address(index):
    return {"addresses": [f"2001:db8:16::{index}/64"]}


def test_a_rollback_in_the_second_wave_stops_the_rollout(scenario):
    sc = scenario
    rc, out = sc.play("network.yml", sc.inventory(models()))      # a known start
    assert rc == 0, out[-6000:]
    before = dict((h, [s["id"] for s in sc.snapshots(h)]) for h in HOSTS)
    wanted = models(extra=with_address)
    wanted[BROKEN] = models(dead=True, extra=with_address)[BROKEN]
    # The waves go in inventory order: the canary first, the broken host alone in the second.
    assert list(HOSTS) == [CANARY, BROKEN] + list(UNTOUCHED)
    sc.lab.link(BROKEN, "eth3", "down")     # the switch port of its new uplink is dead
    try:
        rc, out = sc.play("rollout.yml", sc.inventory(wanted), extra_vars={"kvm_network_rollout_waves": [1, 1, 2]})
        # The broken host rolls back by itself (its timer may still be running when the play
        # ends) and is reachable again.
        deadline = time.monotonic() + TIMER + 60
        while not sc.reachable(BROKEN, HOSTS.index(BROKEN) + 1):
            assert time.monotonic() < deadline, f"{BROKEN} did not come back within its timer + 60 s"
            time.sleep(2)
    finally:
        sc.lab.link(BROKEN, "eth3", "up")
    assert rc != 0, out[-6000:]
    assert "rollout stopped after a wave that went wrong:" in out, out[-6000:]
    assert f"changed: {CANARY}" in out and f"rolled back: {BROKEN}" in out, out[-6000:]
    assert "not reached: " + ", ".join(sorted(UNTOUCHED)) in out, out[-6000:]
    # The canary keeps its change, confirmed.
    canary = sc.snapshots(CANARY)[-1]
    assert canary["id"] not in before[CANARY] and canary["status"] == "confirmed", canary
    assert "2001:db8:16::1/64" in sc.sh(CANARY, "ip -brief address show dev cloudbr1")
    # The broken host's change is rolled back: the snapshot says so, no address.
    broken = sc.snapshots(BROKEN)[-1]
    assert broken["id"] not in before[BROKEN] and broken["status"] == "rolled_back", json.dumps(broken)[:2000]
    assert "2001:db8:16::" not in sc.sh(BROKEN, "ip -brief address show dev cloudbr1")
    # The last wave was never touched.
    for host in UNTOUCHED:
        assert [s["id"] for s in sc.snapshots(host)] == before[host], host
        assert "2001:db8:16::" not in sc.sh(host, "ip -brief address show dev cloudbr1"), host
