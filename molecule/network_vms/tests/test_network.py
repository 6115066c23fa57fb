"""What site.yml left on the VMs, after the side_effect step rebooted them: seed 000 on Linux
bonds/802.1Q/bridges (vm-lb-*) and on Open vSwitch with the kernel datapath (vm-ovs-*), each
persisted by the renderer its name ends with (netplan or ifupdown); traffic to the peer and between
the VMs, untagged and on VLAN 100; loss of bond0's active leg (QEMU monitor set_link) with traffic
continuing on both segments, then restore.

Shared by the scenarios network_vms (vm-lb-netplan, vm-ovs-ifupdown) and network_vms_swapped
(vm-lb-ifupdown, vm-ovs-netplan).

Tests run in file order (pytest -x).
"""

import itertools

import pytest

from verify_helpers import (
    BackgroundPing,
    addresses,
    assert_ping,
    bond_info,
    bridge_ports,
    failover,
    link_state,
    ovs_bond_info,
    ovs_bridges,
    ping,
    vlan_devices,
    wait_for,
)

MARKER = "cloudstack_kvm.networking"


def is_ovs(lab_host):
    return lab_host.name.startswith("vm-ovs-")


def renderer(lab_host):
    name = lab_host.name.rsplit("-", 1)[-1]
    assert name in ("netplan", "ifupdown"), f"{lab_host.name}: host names end with the renderer"
    return name


def test_files_of_the_renderer(lab_host):
    h = lab_host.host
    netplan = h.file("/etc/netplan/60-cloudstack-kvm.yaml")
    ifupdown = h.file("/etc/network/interfaces.d/cloudstack-kvm")
    if renderer(lab_host) == "ifupdown":
        assert ifupdown.exists and MARKER in ifupdown.content_string
        assert not netplan.exists
        assert "source /etc/network/interfaces.d/*" in h.file("/etc/network/interfaces").content_string
    else:
        assert netplan.exists and MARKER in netplan.content_string and netplan.mode == 0o600
        assert not ifupdown.exists


def test_addresses_on_the_bridges_not_the_nics(lab_host):
    h = lab_host.host
    assert addresses(h, "cloudbr0", family="inet") == [f"{lab_host.addresses['untagged_ipv4']}/24"]
    assert addresses(h, "cloudbr100", family="inet") == [f"{lab_host.addresses['vlan_ipv4']}/24"]
    assert addresses(h, "cloudbr1", family="inet") == []
    for nic in ("eth0", "eth1", "eth2", "eth3"):
        assert addresses(h, nic) == []
        if is_ovs(lab_host):
            assert link_state(h, nic)["mac"] == lab_host.meta["macs"][nic]
        else:
            # Linux bond members carry the bond's MAC; the NIC's own is the permanent address.
            bond = "bond0" if nic in ("eth0", "eth1") else "bond1"
            assert bond_info(h, bond)["members"][nic]["perm_hwaddr"] == lab_host.meta["macs"][nic]
    assert addresses(h, "mgmt0", family="inet") == ["10.0.2.15/24"]


def test_linux_bridge_seed(lab_host):
    if is_ovs(lab_host):
        pytest.skip("Open vSwitch host")
    h = lab_host.host
    for bond, members, primary in (("bond0", ["eth0", "eth1"], "eth0"), ("bond1", ["eth2", "eth3"], "eth2")):
        info = bond_info(h, bond)
        assert info["mode"] == "active-backup"
        assert info["miimon"] == 100
        assert info["primary"] == primary
        assert sorted(info["members"]) == members
        assert all(m["mii_status"] == "up" for m in info["members"].values()), info
        assert info["active"] == primary
    assert vlan_devices(h) == {"bond0.100": {"vid": 100, "parent": "bond0"}}
    assert bridge_ports(h, "cloudbr0") == ["bond0"]
    assert bridge_ports(h, "cloudbr1") == ["bond1"]
    assert bridge_ports(h, "cloudbr100") == ["bond0.100"]


def test_ovs_seed_kernel_datapath(lab_host):
    if not is_ovs(lab_host):
        pytest.skip("Linux bridge host")
    h = lab_host.host
    bridges = ovs_bridges(h)
    assert sorted(bridges) == ["cloudbr0", "cloudbr1", "cloudbr100"]
    for name in ("cloudbr0", "cloudbr1"):
        assert bridges[name]["datapath_type"] == "system"
        assert not bridges[name]["fake"]
    assert sorted(bridges["cloudbr0"]["ports"]["bond0"]["interfaces"]) == ["eth0", "eth1"]
    assert sorted(bridges["cloudbr1"]["ports"]["bond1"]["interfaces"]) == ["eth2", "eth3"]
    fake = bridges["cloudbr100"]
    assert (fake["fake"], fake["parent"], fake["vlan"]) == (True, "cloudbr0", 100)
    for bond in ("bond0", "bond1"):
        info = ovs_bond_info(h, bond)
        assert info["mode"] == "active-backup"
        assert info["active"] in {"bond0": ("eth0", "eth1"), "bond1": ("eth2", "eth3")}[bond], info
        assert all(m["enabled"] for m in info["members"].values()), info
    # The kernel datapath carries the bridges (no Linux bond or 802.1Q device is involved).
    dp = h.run("ovs-dpctl show")
    assert dp.rc == 0 and "system@ovs-system" in dp.stdout, dp.stdout + dp.stderr
    for port in ("cloudbr0", "cloudbr1", "cloudbr100", "eth0", "eth1", "eth2", "eth3"):
        assert f": {port}" in dp.stdout, dp.stdout
    assert vlan_devices(h) == {}
    assert not h.file("/proc/net/bonding/bond0").exists


def test_ping_peer_untagged_and_vlan(lab_host, lab_peer):
    assert_ping(lab_host.host, lab_peer["untagged_ipv4"], interface="cloudbr0")
    assert_ping(lab_host.host, lab_peer["vlan_ipv4"], interface="cloudbr100")


def test_vlan_is_isolated(lab_host, lab_peer):
    assert ping(lab_host.host, lab_peer["vlan_ipv4"], count=2, interface="cloudbr0", wait=1)["received"] == 0


def test_ping_between_hosts(lab_hosts):
    assert len(lab_hosts) == 2, sorted(lab_hosts)
    for a, b in itertools.permutations(lab_hosts.values(), 2):
        assert_ping(a.host, b.addresses["untagged_ipv4"], interface="cloudbr0")
        assert_ping(a.host, b.addresses["vlan_ipv4"], interface="cloudbr100")


def test_failover_active_leg_lost(lab_host, lab_peer):
    """The active member of bond0 is cut (QEMU monitor set_link off); the peer stays reachable
    through cloudbr0 and cloudbr100 while bond0 moves; the member is restored and rejoins."""
    h = lab_host.host
    ovs = is_ovs(lab_host)
    with BackgroundPing(h, lab_peer["untagged_ipv4"], seconds=10, interface="cloudbr0") as untagged:
        result = failover(lab_host, "bond0", lab_peer["vlan_ipv4"], ovs=ovs, interface="cloudbr100", timeout=30)
    assert {result["before"], result["after"]} == {"eth0", "eth1"}, result
    assert result["transmitted"] and result["lost"] < result["transmitted"] / 2, result
    ping0 = untagged.result
    assert ping0 and ping0["loss"] < ping0["transmitted"] / 2, ping0
    if not ovs:
        # primary eth0 (primary_reselect always): eth0 is active again once its link is back.
        wait_for(lambda: bond_info(h, "bond0")["active"] == "eth0", timeout=15, what="eth0 active again")
    assert_ping(h, lab_peer["untagged_ipv4"], interface="cloudbr0")
    assert_ping(h, lab_peer["vlan_ipv4"], interface="cloudbr100")
