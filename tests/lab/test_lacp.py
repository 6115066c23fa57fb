"""LACP with a real partner, on the in-band lab of tests/lab/conftest.py: the lab's peer becomes the
switch side of a port channel (``Lab.lacp_partner``: Open vSwitch, lacp=active, fast rate) on a
host's eth2 and eth3, and the collection gives the host bond1 on them with LACP and a fast rate.

* containers (``make test``): sa-ovs, an Open vSwitch bond (balance-tcp, lacp: active) on the
  userspace datapath.
* VMs (INBAND_TIER=vms, ``make lab-lacp-vms``): cv-netplan, a Linux 802.3ad bond by netplan, and
  cv-ifupdown, an Open vSwitch bond on the kernel datapath by ifupdown.

Checked as users check it: ``ovs-appctl lacp/show`` says negotiated, each leg current and
attached, with the other side's system id as its partner; for the Linux bond /proc/net/bonding
names the partner's MAC and every leg is in the active aggregator. Then one leg is cut while the
peer pings the host every 0.2 s through the bond: the bond goes on with the other leg, and the
pings lost are printed (docs/lacp.md records them); the leg comes back and is attached again.
"""

import re
import time

import pytest

from inband import HOSTS, TIER, Scenario, address
from test_takeover import Pinger

LEGS = ["eth2", "eth3"]
PARTNER_IPV6 = "2001:db8:ac::254"


def index_of(host):
    return HOSTS.index(host) + 1


def ipv6_of(host):
    return "2001:db8:ac::%d" % index_of(host)


def ovs_lacp_model(host):
    model = {
        "backend": "openvswitch",
        "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
        "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 100},
                  "bond1": {"interfaces": LEGS, "mode": "balance-tcp", "lacp": "active", "lacp_rate": "fast"}},
        "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index_of(host))}/24"]},
                    "cloudbr1": {"uplink": "bond1", "addresses": [f"{ipv6_of(host)}/64"]}},
        "traffic_labels": {"management": "cloudbr0"},
    }
    if TIER == "containers":
        model["ovs"] = {"datapath_type": "netdev"}
    return model


def linux_lacp_model(host):
    return {
        "backend": "linux_bridge",
        "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
        "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 100},
                  "bond1": {"interfaces": LEGS, "mode": "802.3ad", "lacp_rate": "fast", "miimon": 100,
                            "xmit_hash_policy": "layer3+4"}},
        "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index_of(host))}/24"]},
                    "cloudbr1": {"uplink": "bond1", "addresses": [f"{ipv6_of(host)}/64"]}},
        "traffic_labels": {"management": "cloudbr0"},
    }


CASES = {"sa-ovs": ovs_lacp_model} if TIER == "containers" else {"cv-netplan": linux_lacp_model,
                                                                 "cv-ifupdown": ovs_lacp_model}


def lacp_show(run, bond):
    """(status, sys_id, {member: (state words, partner sys_id)}, text) of ``ovs-appctl lacp/show``."""
    text = run(f"ovs-appctl lacp/show {bond}")
    status = re.search(r"^\s*status: (.+)$", text, re.M)
    sys_id = re.search(r"^\s*sys_id: (\S+)$", text, re.M)
    members = {}
    for block in re.split(r"^(?=member: )", text, flags=re.M)[1:]:
        head = re.match(r"member: (\S+): (.*)$", block, re.M)
        partner = re.search(r"^\s*partner sys_id: (\S+)$", block, re.M)
        members[head.group(1)] = (head.group(2).split(), partner.group(1) if partner else None)
    return (status.group(1).strip() if status else None), (sys_id.group(1) if sys_id else None), members, text


def proc_bonding(text):
    """(partner MAC, active aggregator id, {leg: (aggregator id, MII status)}) of /proc/net/bonding."""
    partner = re.search(r"^\s*Partner Mac Address: (\S+)$", text, re.M)
    active = re.search(r"Active Aggregator Info:\s*\n\s*Aggregator ID: (\d+)", text)
    legs = {}
    for block in re.split(r"^(?=Slave Interface: )", text, flags=re.M)[1:]:
        name = re.match(r"Slave Interface: (\S+)", block).group(1)
        aggregator = re.search(r"^Aggregator ID: (\d+)$", block, re.M)
        mii = re.search(r"^MII Status: (\S+)$", block, re.M)
        legs[name] = (aggregator.group(1) if aggregator else None, mii.group(1) if mii else None)
    return (partner.group(1).lower() if partner else None), (active.group(1) if active else None), legs


class Side:
    """The host's side of one port channel and the peer's, read the way users read them."""

    def __init__(self, sc, host):
        self.sc = sc
        self.host = host
        self.partner_bond = "lb-" + sc.lab.host(host)["switch_ports"][LEGS[0]]
        self.linux = CASES[host] is linux_lacp_model

    def peer(self, cmd):
        proc = self.sc.lab.peer_exec(cmd)
        assert proc.returncode == 0, proc.stdout
        return proc.stdout

    def state(self):
        """(negotiated on both sides, {leg: attached on the host}, what was read)."""
        p_status, peer_id, p_members, p_text = lacp_show(self.peer, self.partner_bond)
        # Only the legs in the aggregation name their partner (a cut leg is "defaulted detached",
        # its partner all zeros).
        p_attached = [partner for words, partner in p_members.values() if "attached" in words]
        peer_ok = p_status == "active negotiated" and bool(p_attached)
        if self.linux:
            text = self.sc.sh(self.host, "cat /proc/net/bonding/bond1")
            partner, active, legs = proc_bonding(text)
            attached = dict((leg, legs.get(leg, (None, None))[0] == active and legs[leg][1] == "up") for leg in LEGS)
            host_ok = partner == (peer_id or "").lower() and "802.3ad" in text
            host_id = None
        else:
            status, host_id, members, text = lacp_show(lambda c: self.sc.sh(self.host, c), "bond1")
            attached = dict((leg, "attached" in members.get(leg, ([], None))[0]) for leg in LEGS)
            host_ok = status == "active negotiated" and all(
                partner == peer_id for words, partner in members.values() if "attached" in words)
        if host_id is not None:
            peer_ok = peer_ok and all(partner == host_id for partner in p_attached)
        return host_ok and peer_ok, attached, f"{self.host}:\n{text}\npeer {self.partner_bond}:\n{p_text}"

    def wait(self, attached, seconds=60):
        deadline = time.monotonic() + seconds
        while True:
            negotiated, legs, text = self.state()
            if negotiated and legs == attached:
                return text
            assert time.monotonic() < deadline, f"expected {attached} within {seconds} s:\n{text}"
            time.sleep(1)


@pytest.mark.parametrize("host", sorted(CASES))
def test_bond_negotiates_with_a_real_partner_and_survives_a_cut_leg(scenario, host):
    sc: Scenario = scenario
    inventory = sc.inventory({host: CASES[host](host)})
    if CASES[host] is linux_lacp_model:
        # QEMU's virtio NICs report no speed, and an 802.3ad bond keeps a leg whose speed and duplex
        # it cannot read down ("failed to get link speed/duplex"); a real NIC reports them.
        sc.sh(host, "; ".join(f"ethtool -s {leg} speed 10000 duplex full" for leg in LEGS))
    sc.lab.lacp_partner(host, LEGS)
    try:
        rc, out = sc.play("network.yml", inventory, limit=host, timeout=1200)
        assert rc == 0, out[-6000:]
        side = Side(sc, host)
        text = side.wait({LEGS[0]: True, LEGS[1]: True})
        assert "lacp_time: fast" in text or "LACP rate: fast" in text, text
        rc, out = sc.play("verify.yml", inventory, limit=host, timeout=1200)
        assert rc == 0, out[-6000:]

        # The leg the peer's pings come in on is cut: the port channel goes on with the other.
        pinger = Pinger(sc.lab, [ipv6_of(host)])
        try:
            counters = f"cat /sys/class/net/{LEGS[0]}/statistics/rx_packets /sys/class/net/{LEGS[1]}/statistics/rx_packets"
            first = [int(v) for v in sc.sh(host, counters).split()]
            time.sleep(3)
            second = [int(v) for v in sc.sh(host, counters).split()]
            cut, kept = LEGS if second[0] - first[0] >= second[1] - first[1] else reversed(LEGS)
            sc.lab.link(host, cut, "down")
            time.sleep(8)
        finally:
            pings = pinger.stop()
        sent, received = pings[ipv6_of(host)]
        side.wait({cut: False, kept: True}, seconds=10)
        lost = sent - received
        print(f"{host}: LACP leg {cut} (the one carrying the pings) cut: {lost} of {sent} pings lost (0.2 s apart)")
        # Containers: both ends of the leg lose carrier at once. VMs: the guest's NIC loses its link
        # (QEMU set_link), the switch side learns it from LACP alone (fast rate: 3 s without LACPDUs).
        bound = 10 if TIER == "containers" else 20
        assert lost <= bound, f"{host}: {lost} of {sent} pings lost when {cut} was cut (more than {bound / 5} s)"
        sc.lab.link(host, cut, "up")
        side.wait({LEGS[0]: True, LEGS[1]: True})
    finally:
        for leg in LEGS:
            sc.lab.link(host, leg, "up")
        sc.lab.lacp_partner(host, LEGS, on=False)
