"""What the role kvm_network left on each container host: the bridges, ports and addresses of its
case, the collection's files and nothing else of it, and traffic to the peer through the bridges.

Hosts (molecule.yml): net-netplan and net-ifupdown (Linux bridge), net-ovs-ifupdown and
net-ovs-netplan (seed 000 on Open vSwitch, userspace datapath).
"""

import pytest

from verify_helpers import addresses, assert_ping, bridge_ports, link_state, ovs_bond_info, ovs_bridges

MARKER = "cloudstack_kvm.networking"
OVS_HOSTS = ("net-ovs-ifupdown", "net-ovs-netplan")
NETPLAN_HOSTS = ("net-netplan", "net-ovs-netplan")


def read(lab_host, path):
    f = lab_host.host.file(path)
    assert f.exists, f"{lab_host.name}: {path} is missing"
    return f


def test_files_of_the_renderer(lab_host):
    h = lab_host.host
    if lab_host.name in NETPLAN_HOSTS:
        f = read(lab_host, "/etc/netplan/60-cloudstack-kvm.yaml")
        assert f.mode == 0o600
        assert MARKER in f.content_string
        assert not h.file("/etc/network/interfaces.d/cloudstack-kvm").exists
    else:
        f = read(lab_host, "/etc/network/interfaces.d/cloudstack-kvm")
        assert MARKER in f.content_string
        assert "source /etc/network/interfaces.d/*" in read(lab_host, "/etc/network/interfaces").content_string
        assert not h.file("/etc/netplan/60-cloudstack-kvm.yaml").exists
        # Backups of files in interfaces.d never land where `source interfaces.d/*` reads them.
        assert h.run("ls /etc/network/interfaces.d").stdout.split() == ["cloudstack-kvm"]


@pytest.mark.parametrize("bridge", ["cloudbr0"])
def test_host_address_on_the_bridge_not_the_nic(lab_host, bridge):
    assert addresses(lab_host.host, bridge, family="inet") == [f"{lab_host.addresses['untagged_ipv4']}/24"]
    for nic in ("eth0", "eth1", "eth2", "eth3"):
        assert addresses(lab_host.host, nic) == []
        assert link_state(lab_host.host, nic)["mac"] == lab_host.meta["macs"][nic]


def test_linux_bridges(lab_host):
    if lab_host.name in OVS_HOSTS:
        pytest.skip("Open vSwitch host")
    assert bridge_ports(lab_host.host, "cloudbr0") == ["eth0"]
    if lab_host.name == "net-ifupdown":
        assert bridge_ports(lab_host.host, "cloudbr1") == ["eth1"]


def test_ovs_seed_topology(lab_host):
    if lab_host.name not in OVS_HOSTS:
        pytest.skip("Linux bridge host")
    bridges = ovs_bridges(lab_host.host)
    assert sorted(bridges) == ["cloudbr0", "cloudbr1", "cloudbr100"]
    for name in ("cloudbr0", "cloudbr1"):
        assert bridges[name]["datapath_type"] == "netdev"
        assert not bridges[name]["fake"]
    assert sorted(bridges["cloudbr0"]["ports"]["bond0"]["interfaces"]) == ["eth0", "eth1"]
    assert sorted(bridges["cloudbr1"]["ports"]["bond1"]["interfaces"]) == ["eth2", "eth3"]
    fake = bridges["cloudbr100"]
    assert (fake["fake"], fake["parent"], fake["vlan"]) == (True, "cloudbr0", 100)
    assert addresses(lab_host.host, "cloudbr100", family="inet") == [f"{lab_host.addresses['vlan_ipv4']}/24"]
    for bond in ("bond0", "bond1"):
        info = ovs_bond_info(lab_host.host, bond)
        assert info["mode"] == "active-backup"
        other = bridges["cloudbr0" if bond == "bond0" else "cloudbr1"]["ports"][bond]["other_config"]
        assert other.get("bond-miimon-interval") == "100"


def test_ping_peer_through_the_bridges(lab_host, lab_peer):
    assert_ping(lab_host.host, lab_peer["untagged_ipv4"], interface="cloudbr0")
    if lab_host.name in OVS_HOSTS:
        assert_ping(lab_host.host, lab_peer["vlan_ipv4"], interface="cloudbr100")
