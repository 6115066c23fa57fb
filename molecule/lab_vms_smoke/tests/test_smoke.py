"""Lab self-test on the VM tier: Linux bond + 802.1Q + bridges, traffic, failover, reboot.

Tests run in file order (pytest -x): configuration, traffic, loss of the active leg (QEMU
monitor set_link), then a reboot after which the systemd-networkd configuration must be back.
"""

import itertools
from concurrent.futures import ThreadPoolExecutor

from verify_helpers import (
    addresses,
    assert_ping,
    bond_info,
    bridge_ports,
    failover,
    linux_bridges,
    ping,
    reboot,
    vlan_devices,
    wait_for,
)


def check_topology(lab_host):
    h = lab_host.host
    bond = bond_info(h, "bond0")
    assert bond["mode"] == "active-backup"
    assert bond["miimon"] == 100
    assert bond["primary"] == "eth0"
    assert set(bond["members"]) == {"eth0", "eth1"}
    assert all(m["mii_status"] == "up" for m in bond["members"].values())
    assert bond["active"] == "eth0"
    assert vlan_devices(h) == {"bond0.100": {"vid": 100, "parent": "bond0"}}
    assert bridge_ports(h, "cloudbr0") == ["bond0"]
    assert bridge_ports(h, "cloudbr100") == ["bond0.100"]
    assert addresses(h, "cloudbr0", family="inet") == [f"{lab_host.addresses['untagged_ipv4']}/24"]
    assert addresses(h, "cloudbr100", family="inet") == [f"{lab_host.addresses['vlan_ipv4']}/24"]


def check_traffic(lab_host, lab_peer):
    assert_ping(lab_host.host, lab_peer["untagged_ipv4"], interface="cloudbr0")
    assert_ping(lab_host.host, lab_peer["vlan_ipv4"], interface="cloudbr100")


def test_kernel_features(lab_host):
    h = lab_host.host
    assert h.run("uname -r").stdout.strip().endswith("-cloud-amd64")
    assert h.file("/sys/module/bonding").exists
    assert h.file("/sys/module/8021q").exists
    # The OVS kernel datapath works on this kernel: a bridge of datapath_type=system gets a
    # kernel datapath (ovs-system), which the machine's own kernel could not provide.
    assert h.file("/sys/module/openvswitch").exists
    out = h.run("ovs-vsctl --timeout=30 add-br labdpcheck -- set bridge labdpcheck datapath_type=system"
                " && ovs-dpctl show && ovs-vsctl --timeout=30 del-br labdpcheck")
    assert out.rc == 0, out.stderr
    assert "system@ovs-system" in out.stdout


def test_management_nic_is_out_of_band(lab_host):
    h = lab_host.host
    assert addresses(h, "mgmt0", family="inet") == ["10.0.2.15/24"]
    assert "mgmt0" not in {p for b in linux_bridges(h).values() for p in b["ports"]}


def test_topology(lab_host):
    check_topology(lab_host)


def test_ping_peer_untagged_and_vlan(lab_host, lab_peer):
    check_traffic(lab_host, lab_peer)


def test_vlan_is_isolated(lab_host, lab_peer):
    result = ping(lab_host.host, lab_peer["vlan_ipv4"], count=2, interface="cloudbr0", wait=1)
    assert result["received"] == 0


def test_ping_between_hosts(lab_hosts):
    assert len(lab_hosts) >= 2, "the smoke scenario needs two hosts"
    for a, b in itertools.permutations(lab_hosts.values(), 2):
        assert_ping(a.host, b.addresses["untagged_ipv4"], interface="cloudbr0")
        assert_ping(a.host, b.addresses["vlan_ipv4"], interface="cloudbr100")


def test_failover_active_leg_lost(lab_host, lab_peer):
    result = failover(lab_host, "bond0", lab_peer["vlan_ipv4"], ovs=False, interface="cloudbr100")
    assert (result["before"], result["after"]) == ("eth0", "eth1")
    assert result["transmitted"] and result["lost"] < result["transmitted"] / 2, result
    # primary_reselect=always: eth0 is active again once its link is back.
    wait_for(lambda: bond_info(lab_host.host, "bond0")["active"] == "eth0", timeout=10, what="eth0 active again")


def test_reboot_persists(lab_hosts, lab_peer):
    """Both VMs reboot at once (two fit the two cores); the networkd files bring it all back."""
    with ThreadPoolExecutor(max_workers=len(lab_hosts)) as pool:
        list(pool.map(reboot, lab_hosts.values()))
    for lab_host in lab_hosts.values():
        check_topology(lab_host)
        check_traffic(lab_host, lab_peer)
    a, b = list(lab_hosts.values())[:2]
    assert_ping(a.host, b.addresses["vlan_ipv4"], interface="cloudbr100")
