"""Taking hand-built hypervisors over, on the in-band lab of tests/lab/conftest.py (any state the
other lab tests leave: each host is first reset and built by hand, as the seeds show):

* sa-ovs: seed 000's Open vSwitch host: the guide's ovs-vsctl commands (bridges on the userspace
  datapath, which containers need) and its /etc/network/interfaces, bonds bond0 (eth0, eth1) and
  bond1 (eth2, eth3), cloudbr0 with the address, fake bridge cloudbr100 on VLAN 100. Taken over
  with the model playbooks/adopt.yml writes.
* sa-ifupdown: seed 003's bridge (its network-scripts files as ifupdown writes them: bridge
  ``bro`` on the NIC, forward delay 0, the host's address). Taken over with a model written by hand.
* sa-netplan: an installer's DHCP host (cloud-init's netplan file): adopt.yml says there is no
  bridge to take over and writes nothing.

Then ``site.yml --check`` reports no network change (only the files changing hands), and
``site.yml`` takes the hosts over while the lab's peer pings them, untagged and on VLAN 100: no ping
lost, no interface taken down (ifindex and carrier changes of every device the same), verify passes.
The VM half (seed 000's netplan host: Linux bonds and the VLAN 100 device) needs a kernel with
bonding: ``make lab-takeover-vms``.
"""

import json
import re

import yaml

from inband import ENV, HOSTS, Scenario, address

OVS, BRIDGE, DHCP = "sa-ovs", "sa-ifupdown", "sa-netplan"

# Everything the collection or an earlier test left, gone: the host as its installer left it,
# without its address.
RESET = r"""set +e
# root's user manager stays (in these containers a stopping one can hang new ssh logins for 90 s:
# its cgroup's empty notice never comes), so the test's short ssh sessions do not start and stop it.
loginctl enable-linger root
systemctl stop 'cloudstack-kvm-*' >/dev/null 2>&1
ifdown --force -a --exclude=lo >/dev/null 2>&1
rm -f /etc/netplan/60-cloudstack-kvm.yaml /etc/network/interfaces.d/* /etc/cloud/cloud.cfg.d/99-cloudstack-kvm-network.cfg
rm -rf /var/lib/cloudstack-kvm/safe-apply /run/network/ifstate*
for br in $(ovs-vsctl list-br 2>/dev/null); do ovs-vsctl --if-exists del-br "$br"; done
for dev in $(ip -o link show type bridge | awk -F': ' '{print $2}'); do ip link delete "$dev"; done
for nic in eth0 eth1 eth2 eth3; do ip link set dev "$nic" nomaster; ip address flush dev "$nic"; ip link set dev "$nic" up; done
true
"""

# Seed 000, "Open vSwitch" on Ubuntu: the guide's commands, then its interfaces file (lab addresses;
# its netmask 255.255.155.0 is a slip that would not come up, corrected; its ovs_option is kept:
# the bonds' options come from the commands).
SEED_000_OVS = r"""set -e
ovs-vsctl add-br cloudbr0 -- set bridge cloudbr0 datapath_type=netdev
ovs-vsctl add-br cloudbr1 -- set bridge cloudbr1 datapath_type=netdev
ovs-vsctl add-bond cloudbr0 bond0 eth0 eth1 bond_mode=active-backup other_config:bond-detect-mode=miimon other_config:bond-miimon-interval=100
ovs-vsctl add-bond cloudbr1 bond1 eth2 eth3 bond_mode=active-backup other_config:bond-detect-mode=miimon other_config:bond-miimon-interval=100
ovs-vsctl add-br cloudbr100 cloudbr0 100
cat > /etc/network/interfaces <<'EOF'
# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
iface eth0 inet manual
iface eth1 inet manual
iface eth2 inet manual
iface eth3 inet manual

auto cloudbr0
allow-ovs cloudbr0
iface cloudbr0 inet static
  address ADDRESS
  netmask 255.255.255.0
  dns-nameserver 198.51.100.5
  ovs_type OVSBridge
  ovs_ports bond0

allow-cloudbr0 bond0
iface bond0 inet manual
  ovs_bridge cloudbr0
  ovs_type OVSBond
  ovs_bonds eth0 eth1
  ovs_option bond_mode=active-backup other_config:miimon=100

auto cloudbr1
allow-ovs cloudbr1
iface cloudbr1 inet manual

allow-cloudbr1 bond1
iface bond1 inet manual
  ovs_bridge cloudbr1
  ovs_type OVSBond
  ovs_bonds eth2 eth3
  ovs_option bond_mode=active-backup other_config:miimon=100

auto cloudbr100
allow-cloudbr0 cloudbr100
iface cloudbr100 inet static
  address VLAN_ADDRESS
  netmask 255.255.255.0
  ovs_type OVSIntPort
  ovs_bridge cloudbr0
  ovs_options tag=100
EOF
ifup cloudbr0
ifup cloudbr1
ifup cloudbr100
"""

# Seed 003's bridge (ifcfg-em1 BRIDGE=bro, ifcfg-bro TYPE=Bridge DELAY=0, BOOTPROTO "your
# preference": static here) as ifupdown says it.
SEED_003_BRIDGE = r"""set -e
cat > /etc/network/interfaces <<'EOF'
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback

iface eth0 inet manual

auto bro
iface bro inet static
    address ADDRESS/24
    bridge_ports eth0
    bridge_fd 0
EOF
ifup bro
"""

# What cloud-init leaves (tests/lab/inband.py INSTALLED["netplan"]).
CLOUD_INIT_DHCP = r"""set -e
cat > /etc/netplan/50-cloud-init.yaml <<'EOF'
# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.
network:
    version: 2
    ethernets:
        eth0:
            dhcp4: true
EOF
chmod 600 /etc/netplan/50-cloud-init.yaml
netplan apply
"""

# The model a user writes for seed 003's bridge, from the guide.
HAND_WRITTEN_BRO = {
    "backend": "linux_bridge",
    "renderer": "ifupdown",
    "ethernets": {"eth0": {}},
    "bridges": {"bro": {"uplink": "eth0", "addresses": [f"{address(HOSTS.index(BRIDGE) + 1)}/24"],
                        "forward_delay": 0}},
    "traffic_labels": {"management": "bro"},
}

DEVICES = {OVS: ("eth0", "eth1", "eth2", "eth3", "cloudbr0", "cloudbr1", "cloudbr100"), BRIDGE: ("eth0", "bro")}
PING = re.compile(r"(\d+) packets transmitted, (\d+) received")


def build(sc, host, script):
    sc.sh(host, RESET)
    index = HOSTS.index(host) + 1
    sc.sh(host, script.replace("VLAN_ADDRESS", f"203.0.113.{10 + index}").replace("ADDRESS", address(index)))
    # The lab switch learnt the host's MAC on the port it used before, and the peer has its old MACs:
    # a frame out of the new port, and ARP from the new devices (untagged and on VLAN 100).
    sc.sh(host, "ping -c 2 -W 1 198.51.100.254 >/dev/null 2>&1; ping -c 2 -W 1 203.0.113.254 >/dev/null 2>&1; true")


def links(sc, host):
    """{device: (ifindex, carrier changes)}: a device taken down and up, or re-created, changes them."""
    out = {}
    for name in DEVICES[host]:
        text = sc.sh(host, f"cat /sys/class/net/{name}/ifindex /sys/class/net/{name}/carrier_changes")
        out[name] = tuple(int(v) for v in text.split())
    return out


class Pinger:
    """Pings from the lab's peer, every 0.2 s, while the takeover runs."""

    def __init__(self, lab, targets):
        self.lab = lab
        self.targets = targets
        for target in targets:     # each path works before the takeover (and the peer's ARP is fresh)
            proc = lab.peer_exec(f"ping -n -c 3 -i 0.2 -w 10 {target}")
            assert proc.returncode == 0, f"{target} does not answer the peer before the takeover: {proc.stdout}"
        for n, target in enumerate(targets):
            proc = lab.peer_exec(f"rm -f /tmp/takeover-{n}.txt; (ping -n -i 0.2 {target} > /tmp/takeover-{n}.txt "
                                 f"2>&1 & echo $! > /tmp/takeover-{n}.pid)")
            assert proc.returncode == 0, proc.stdout

    def stop(self):
        """{target: (sent, received)}."""
        out = {}
        for n, target in enumerate(self.targets):
            text = self.lab.peer_exec(f"kill -INT $(cat /tmp/takeover-{n}.pid); sleep 1; cat /tmp/takeover-{n}.txt").stdout
            found = PING.search(text)
            assert found, text[-2000:]
            out[target] = (int(found.group(1)), int(found.group(2)))
        return out


def json_play(sc, playbook, inventory, check=False, limit=None):
    """The play's results per task and host (ansible.posix.json callback)."""
    argv = sc.argv(playbook, inventory, limit=limit) + (["--check", "--diff"] if check else [])
    env = dict(ENV, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    proc = sc.lab.ctl_exec(argv[4:], timeout=900, env=env)
    text = proc.stdout
    return proc.returncode, json.loads(text[text.index("{"):]), proc.stderr


def task_results(report, task_name):
    """{host: result} of the task called ``task_name`` (in a role: ``ROLE : NAME``)."""
    names = []
    for play in report["plays"]:
        for task in play["tasks"]:
            names.append(task["task"]["name"])
            if task["task"]["name"].split(" : ")[-1] == task_name:
                return task["hosts"]
    raise AssertionError(f"no task {task_name!r} ran; tasks: {names}")


def test_hand_built_hosts_are_taken_over_without_a_bounce(scenario):
    sc: Scenario = scenario
    build(sc, OVS, SEED_000_OVS)
    build(sc, BRIDGE, SEED_003_BRIDGE)
    build(sc, DHCP, CLOUD_INIT_DHCP)
    for host in (OVS, BRIDGE, DHCP):
        assert sc.wait_reachable(host), f"{host} built by hand is not reachable"

    # The inventory: the lab's safe apply settings, no model; adopt.yml writes them beside it.
    # (containers: no packages to install, no kernel modules to load)
    hosts = sc.hostvars({OVS: {}, BRIDGE: {}}, kvm_host_install_packages=False, kvm_host_load_kernel_modules=False,
                        kvm_network_verify_fail=True)
    for host, bridge in ((OVS, "cloudbr0"), (BRIDGE, "bro")):
        del hosts[host]["kvm_network"], hosts[host]["kvm_network_renderer"]
        hosts[host]["kvm_network_verify_traffic"] = [{"bridge": bridge, "target": "198.51.100.254"}]
    hosts[DHCP] = {}
    inventory = sc.dir / "takeover" / "hosts.yml"
    inventory.parent.mkdir()
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    rc, out = sc.play("adopt.yml", inventory, limit=",".join((OVS, BRIDGE, DHCP)),
                      extra_vars={"kvm_network_adopt_dir": str(inventory.parent / "host_vars")})
    assert rc == 0, out[-6000:]
    adopted = yaml.safe_load((inventory.parent / "host_vars" / OVS / "kvm_network.yml").read_text())["kvm_network"]
    assert adopted == {
        "backend": "openvswitch", "renderer": "ifupdown", "ovs": {"datapath_type": "netdev"},
        "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
        "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup"},
                  "bond1": {"interfaces": ["eth2", "eth3"], "mode": "active-backup"}},
        "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(HOSTS.index(OVS) + 1)}/24"]},
                    "cloudbr1": {"uplink": "bond1"},
                    "cloudbr100": {"uplink": "bond0", "vlan": 100,
                                   "addresses": [f"203.0.113.{10 + HOSTS.index(OVS) + 1}/24"]}},
        "traffic_labels": {"management": "cloudbr0"}}, adopted
    assert not (inventory.parent / "host_vars" / DHCP).exists(), "no bridge: nothing to take over, nothing written"
    assert f"host {DHCP}: no model written: no bridge" in out
    bro = inventory.parent / "host_vars" / BRIDGE / "kvm_network.yml"
    assert yaml.safe_load(bro.read_text())["kvm_network"] == {
        "backend": "linux_bridge", "renderer": "ifupdown", "ethernets": {"eth0": {}},
        "bridges": {"bro": {"uplink": "eth0", "addresses": [f"{address(HOSTS.index(BRIDGE) + 1)}/24"]}},
        "traffic_labels": {"management": "bro"}}
    # The bridge host is taken over with a model written by hand instead (from the guide: DELAY=0).
    bro.write_text(yaml.safe_dump({"kvm_network": HAND_WRITTEN_BRO}))

    limit = f"{OVS},{BRIDGE}"
    rc, report, err = json_play(sc, "site.yml", inventory, check=True, limit=limit)
    assert rc == 0, err[-3000:]
    for host, result in task_results(report, "Apply the host network (files, configuration that would fight "
                                              "them, links, Open vSwitch)").items():
        assert result["changed"] is True, (host, "the files change hands")
        assert result["activated"]["reasons"] == {} and result["activated"]["adopted"], (host, result["activated"])
        assert result["activated"]["commands"] == [], (host, "nothing taken down or up")
        assert not result.get("ovs", {}).get("changed"), (host, result.get("ovs"))
        assert "/etc/network/interfaces" in result["files"]["written"], host

    before = dict((h, links(sc, h)) for h in (OVS, BRIDGE))
    targets = [address(HOSTS.index(OVS) + 1), f"203.0.113.{10 + HOSTS.index(OVS) + 1}",
               address(HOSTS.index(BRIDGE) + 1)]
    pinger = Pinger(sc.lab, targets)
    try:
        rc, out = sc.play("site.yml", inventory, limit=limit)
    finally:
        pings = pinger.stop()
    assert rc == 0, out[-6000:]
    for target, (sent, received) in pings.items():
        assert sent > 20 and received == sent, f"{target}: {sent - received} of {sent} pings lost during the takeover"
    for host in (OVS, BRIDGE):
        assert links(sc, host) == before[host], f"{host}: an interface was taken down or re-created"
        snaps = sc.snapshots(host)
        assert [s["status"] for s in snaps] == ["confirmed"], (host, "the takeover is commit-confirmed")
    assert "# iface cloudbr0 inet static" in sc.sh(OVS, "cat /etc/network/interfaces")
    assert "ovs_type OVSBridge" in sc.sh(OVS, "cat /etc/network/interfaces.d/cloudstack-kvm")
    rc, out = sc.play("verify.yml", inventory, limit=limit)
    assert rc == 0, out[-6000:]
    rc, out = sc.play("site.yml", inventory, limit=limit)
    assert rc == 0, out[-6000:]
    for host in (OVS, BRIDGE):
        assert re.search(rf"^{host}\s+:.*changed=0\b", out, re.M), (host, out[-3000:])
