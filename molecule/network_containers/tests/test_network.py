"""What site.yml left on each container host: the bridges, ports and addresses of its case, the
collection's files and nothing else of it, and traffic to the peer through the bridges.

Hosts (molecule.yml): net-netplan, net-ifupdown and net-nm (Linux bridge by netplan, ifupdown and
NetworkManager), net-ovs-ifupdown and net-ovs-netplan (seed 000 on Open vSwitch, userspace
datapath). Tests run in file order: files,
state, traffic to the peer, traffic between the hosts, loss of bond0's active leg (OVS hosts).
"""

import itertools

import pytest

from verify_helpers import (
    BackgroundPing,
    addresses,
    assert_ping,
    bridge_ports,
    failover,
    link_state,
    ovs_bond_info,
    ovs_bridges,
)

MARKER = "cloudstack_kvm.networking"
OVS_HOSTS = ("net-ovs-ifupdown", "net-ovs-netplan")
NETPLAN_HOSTS = ("net-netplan", "net-ovs-netplan")
NM_HOST = "net-nm"
NM_DIR = "/etc/NetworkManager/system-connections"


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
    elif lab_host.name == NM_HOST:
        listing = h.run(f"ls {NM_DIR}").stdout.split()
        # Backups (FILE.PID.DATE~, e.g. of the cloudbr1 profile the side effect removed and
        # restored) stay beside the file: NetworkManager ignores names ending in ~.
        names = sorted(n for n in listing if not n.endswith("~"))
        assert names == [f"cloudstack-kvm-{i}.nmconnection" for i in ("cloudbr0", "cloudbr1", "eth0", "eth1")]
        assert all(n.startswith("cloudstack-kvm-") for n in listing), listing
        for name in names:
            f = read(lab_host, f"{NM_DIR}/{name}")
            assert f.mode == 0o600 and MARKER in f.content_string
        assert not h.file("/etc/netplan/60-cloudstack-kvm.yaml").exists
        assert not h.file("/etc/network/interfaces.d/cloudstack-kvm").exists
    else:
        f = read(lab_host, "/etc/network/interfaces.d/cloudstack-kvm")
        assert MARKER in f.content_string
        assert "source /etc/network/interfaces.d/*" in read(lab_host, "/etc/network/interfaces").content_string
        assert not h.file("/etc/netplan/60-cloudstack-kvm.yaml").exists
        # Backups of files in interfaces.d never land where `source interfaces.d/*` reads them.
        assert h.run("ls /etc/network/interfaces.d").stdout.split() == ["cloudstack-kvm"]


def test_host_preparation(lab_host):
    """kvm_host's one kvm_host_prepare call: its files, /etc/hosts, the services of the case."""
    h = lab_host.host
    ovs = lab_host.name in OVS_HOSTS
    sysctl = read(lab_host, "/etc/sysctl.d/60-cloudstack-kvm.conf").content_string
    assert MARKER in sysctl
    for key in ("iptables", "ip6tables", "arptables"):
        assert f"net.bridge.bridge-nf-call-{key}=0" in sysctl.splitlines()
        live = h.file(f"/proc/sys/net/bridge/bridge-nf-call-{key}")
        # The containers share this machine's kernel: the file is there only while it has
        # br_netfilter loaded, which the containers cannot change. Both cases are checked.
        if live.exists:
            assert live.content_string.strip() == "0"
        else:
            assert not h.file("/sys/module/br_netfilter").exists
    modules = read(lab_host, "/etc/modules-load.d/cloudstack-kvm.conf").content_string.splitlines()
    assert ("openvswitch" if ovs else "bridge") in modules
    assert "br_netfilter" in read(lab_host, "/etc/udev/rules.d/60-cloudstack-kvm-bridge-nf.rules").content_string
    short = h.run("hostname -s").stdout.strip()
    entries = [line.split() for line in read(lab_host, "/etc/hosts").content_string.splitlines() if line.strip()]
    assert [lab_host.addresses["untagged_ipv4"], short] in entries, entries
    assert not [e for e in entries if e[0] == "127.0.1.1" and short in e[1:]]
    # No CloudStack agent at converge: no bridge module blacklist, not even on Open vSwitch hosts.
    assert not h.file("/etc/modprobe.d/cloudstack-kvm-bridge-blacklist.conf").exists
    for service in (["openvswitch-switch"] if ovs else []) + (["NetworkManager"] if lab_host.name == NM_HOST else []):
        assert h.service(service).is_running and h.service(service).is_enabled, service


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
    if lab_host.name in ("net-ifupdown", NM_HOST):
        assert bridge_ports(lab_host.host, "cloudbr1") == ["eth1"]


def test_networkmanager_runs_the_profiles(lab_host):
    """net-nm: kvm_host started and enabled NetworkManager; the collection's profiles are active
    on their devices, the ports as the bridges' ports."""
    if lab_host.name != NM_HOST:
        pytest.skip("not a NetworkManager host")
    h = lab_host.host
    service = h.service("NetworkManager")
    assert service.is_running and service.is_enabled
    out = h.check_output("nmcli --terse --fields NAME,DEVICE,STATE connection show --active")
    active = dict((name, (device, state)) for name, device, state in (line.split(":") for line in out.splitlines()))
    for device in ("cloudbr0", "cloudbr1", "eth0", "eth1"):
        assert active.get(f"cloudstack-kvm-{device}") == (device, "activated"), active


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


def test_ping_between_hosts(lab_hosts):
    """Every host reaches every other through cloudbr0; the two OVS hosts also through cloudbr100
    (VLAN 100 across the lab switch)."""
    hosts = list(lab_hosts.values())
    assert len(hosts) == 5, sorted(lab_hosts)
    for a, b in itertools.permutations(hosts, 2):
        assert_ping(a.host, b.addresses["untagged_ipv4"], interface="cloudbr0")
    ovs = [h for h in hosts if h.name in OVS_HOSTS]
    for a, b in itertools.permutations(ovs, 2):
        assert_ping(a.host, b.addresses["vlan_ipv4"], interface="cloudbr100")


def test_failover_active_leg_lost(lab_host, lab_peer):
    """OVS hosts: the switch end of bond0's active member goes down; the peer stays reachable
    through cloudbr0 (untagged) and cloudbr100 (VLAN 100) while bond0 moves to the other member;
    the member is restored and rejoins."""
    if lab_host.name not in OVS_HOSTS:
        pytest.skip("Linux bridge host (no bond on the container tier)")
    h = lab_host.host
    with BackgroundPing(h, lab_peer["untagged_ipv4"], seconds=10, interface="cloudbr0") as untagged:
        result = failover(lab_host, "bond0", lab_peer["vlan_ipv4"], ovs=True, interface="cloudbr100")
    assert {result["before"], result["after"]} == {"eth0", "eth1"}, result
    assert result["transmitted"] and result["lost"] < result["transmitted"] / 2, result
    ping0 = untagged.result
    assert ping0 and ping0["loss"] < ping0["transmitted"] / 2, ping0
    # Restored: both members enabled, traffic on both segments.
    members = ovs_bond_info(h, "bond0")["members"]
    assert sorted(members) == ["eth0", "eth1"] and all(m["enabled"] for m in members.values()), members
    assert_ping(h, lab_peer["untagged_ipv4"], interface="cloudbr0")
    assert_ping(h, lab_peer["vlan_ipv4"], interface="cloudbr100")
