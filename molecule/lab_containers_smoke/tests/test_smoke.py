"""Lab self-test on the container tier: OVS bond + fake VLAN bridge, traffic, failover.

Tests run in file order (pytest -x): configuration, traffic, loss of the active leg.
"""

import itertools

import pytest

from verify_helpers import (
    addresses,
    assert_ping,
    failover,
    link_state,
    ovs_bond_info,
    ovs_bridges,
    ping,
)


def test_systemd_and_ovs_userspace(lab_host):
    h = lab_host.host
    assert h.run("systemctl is-system-running").stdout.strip() in ("running", "degraded")
    assert h.service("openvswitch-switch").is_running


def test_ovs_bridges_bond_and_fake_bridge(lab_host):
    bridges = ovs_bridges(lab_host.host)
    br = bridges["cloudbr0"]
    assert br["datapath_type"] == "netdev"
    assert not br["fake"]
    bond = br["ports"]["bond0"]
    assert sorted(bond["interfaces"]) == ["eth0", "eth1"]
    assert bond["bond_mode"] == "active-backup"
    assert bond["tag"] is None
    fake = bridges["cloudbr100"]
    assert fake["fake"] and fake["parent"] == "cloudbr0" and fake["vlan"] == 100
    assert br["ports"]["cloudbr100"]["tag"] == 100


def test_ovs_bond_state(lab_host):
    info = ovs_bond_info(lab_host.host, "bond0")
    assert info["mode"] == "active-backup"
    assert set(info["members"]) == {"eth0", "eth1"}
    assert all(m["enabled"] for m in info["members"].values())
    assert info["active"] in ("eth0", "eth1")


def test_no_management_address_on_data_nics(lab_host):
    for nic in ("eth0", "eth1", "eth2", "eth3"):
        assert addresses(lab_host.host, nic) == []
        assert link_state(lab_host.host, nic)["mac"] == lab_host.meta["macs"][nic]


def test_bridge_addresses(lab_host):
    assert addresses(lab_host.host, "cloudbr0", family="inet") == [f"{lab_host.addresses['untagged_ipv4']}/24"]
    assert addresses(lab_host.host, "cloudbr100", family="inet") == [f"{lab_host.addresses['vlan_ipv4']}/24"]


def test_ping_peer_untagged_and_vlan(lab_host, lab_peer):
    assert_ping(lab_host.host, lab_peer["untagged_ipv4"], interface="cloudbr0")
    assert_ping(lab_host.host, lab_peer["vlan_ipv4"], interface="cloudbr100")


def test_ping_between_hosts(lab_hosts):
    assert len(lab_hosts) >= 2, "the smoke scenario needs two hosts"
    for a, b in itertools.permutations(lab_hosts.values(), 2):
        assert_ping(a.host, b.addresses["untagged_ipv4"], interface="cloudbr0")
        assert_ping(a.host, b.addresses["vlan_ipv4"], interface="cloudbr100")


def test_vlan_is_isolated(lab_host, lab_peer):
    """The VLAN 100 address is not reachable untagged (the hub carries tags, it does not strip them)."""
    result = ping(lab_host.host, lab_peer["vlan_ipv4"], count=2, interface="cloudbr0", wait=1)
    assert result["received"] == 0


@pytest.mark.parametrize("target_key,interface", [("vlan_ipv4", "cloudbr100")])
def test_failover_active_leg_lost(lab_host, lab_peer, target_key, interface):
    result = failover(lab_host, "bond0", lab_peer[target_key], ovs=True, interface=interface)
    assert result["after"] != result["before"]
    # Traffic kept flowing across the failover (a few packets may be lost while OVS notices).
    assert result["transmitted"] and result["lost"] < result["transmitted"] / 2, result
    assert_ping(lab_host.host, lab_peer["untagged_ipv4"], interface="cloudbr0")
