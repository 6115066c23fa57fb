"""Offline tests of the lab's verify-helper parsers, on output recorded from lab hosts.

Run: make lab-unit (or .venv/bin/python -m pytest lab/tests)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "molecule" / "_shared"))

import verify_helpers as vh  # noqa: E402  pylint: disable=wrong-import-position

PROC_BONDING = """Ethernet Channel Bonding Driver: v6.1.0-50-cloud-amd64

Bonding Mode: fault-tolerance (active-backup)
Primary Slave: eth0 (primary_reselect always)
Currently Active Slave: eth1
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 200
Peer Notification Delay (ms): 0

Slave Interface: eth1
MII Status: up
Speed: Unknown
Duplex: Unknown
Link Failure Count: 0
Permanent HW addr: 52:54:00:c5:01:01
Slave queue ID: 0

Slave Interface: eth0
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 1
Permanent HW addr: 52:54:00:c5:01:00
Slave queue ID: 0
"""

PROC_BONDING_LACP = """Ethernet Channel Bonding Driver: v6.1.0-50-cloud-amd64

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer3+4 (1)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP active: on
LACP rate: fast
"""

VLAN_CONFIG = """VLAN Dev name\t | VLAN ID
Name-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD
bond0.100      | 100  | bond0
bond1.200      | 200  | bond1
"""

OVS_BOND_SHOW = """---- bond0 ----
bond_mode: active-backup
bond may use recirculation: no, Recirc-ID : -1
bond-hash-basis: 0
lb_output action: disabled, bond-id: -1
updelay: 0 ms
downdelay: 0 ms
lacp_status: off
lacp_fallback_ab: false
active-backup primary: <none>
active member mac: 52:54:00:c5:01:01(eth1)

member eth0: disabled
  may_enable: false

member eth1: enabled
  active member
  may_enable: true
"""

OVS_BOND_SHOW_OLD = """---- bond1 ----
bond_mode: balance-slb
updelay: 100 ms
downdelay: 0 ms
lacp_status: negotiated
active slave mac: 00:0c:29:aa:bb:03(eth2)

slave eth2: enabled
\tactive slave
\tmay_enable: true

slave eth3: enabled
\tmay_enable: true
"""


def test_parse_proc_bonding_active_backup():
    info = vh.parse_proc_bonding(PROC_BONDING)
    assert info["mode"] == "active-backup"
    assert info["active"] == "eth1"
    assert info["primary"] == "eth0"
    assert (info["miimon"], info["updelay"], info["downdelay"]) == (100, 0, 200)
    assert info["members"]["eth0"] == {"mii_status": "down", "link_failure_count": 1,
                                       "perm_hwaddr": "52:54:00:c5:01:00"}
    assert info["members"]["eth1"]["mii_status"] == "up"
    assert info["mii_status"] == "up"


def test_parse_proc_bonding_lacp_without_members():
    info = vh.parse_proc_bonding(PROC_BONDING_LACP)
    assert info["mode"] == "802.3ad"
    assert info["lacp_rate"] == "fast"
    assert info["xmit_hash_policy"] == "layer3+4"
    assert info["members"] == {}
    assert "active" not in info


def test_parse_proc_vlan_config():
    assert vh.parse_proc_vlan_config(VLAN_CONFIG) == {
        "bond0.100": {"vid": 100, "parent": "bond0"},
        "bond1.200": {"vid": 200, "parent": "bond1"},
    }
    assert not vh.parse_proc_vlan_config("")


def test_parse_ovs_bond_show_member_wording():
    info = vh.parse_ovs_bond_show(OVS_BOND_SHOW)
    assert info["mode"] == "active-backup"
    assert info["active"] == "eth1"
    assert info["lacp_status"] == "off"
    assert info["members"] == {
        "eth0": {"enabled": False, "active": False, "may_enable": False},
        "eth1": {"enabled": True, "active": True, "may_enable": True},
    }


def test_parse_ovs_bond_show_slave_wording():
    info = vh.parse_ovs_bond_show(OVS_BOND_SHOW_OLD)
    assert info["mode"] == "balance-slb"
    assert info["updelay"] == 100
    assert info["active"] == "eth2"
    assert info["members"]["eth2"]["active"] and not info["members"]["eth3"]["active"]


def test_ovsdb_decoding():
    assert vh._ovsdb(["set", []]) == []  # pylint: disable=protected-access
    assert vh._ovsdb(["uuid", "u1"]) == "u1"  # pylint: disable=protected-access
    assert vh._ovsdb(["map", [["bond-detect-mode", "carrier"]]]) == {"bond-detect-mode": "carrier"}  # pylint: disable=protected-access
    assert vh._ovsdb(["set", [["uuid", "a"], ["uuid", "b"]]]) == ["a", "b"]  # pylint: disable=protected-access
    assert vh._ovsdb(100) == 100  # pylint: disable=protected-access
    assert vh._one([]) is None and vh._one([5]) == 5 and vh._one("x") == "x"  # pylint: disable=protected-access
