"""Taking hand-built hypervisors over, on the in-band lab of tests/lab/conftest.py (any state the
other lab tests leave: each host is first reset and built by hand, as the seeds show).

Containers (``make test``):

* sa-ovs: seed 000's Open vSwitch host: the guide's ovs-vsctl commands (bridges on the userspace
  datapath, which containers need) and its /etc/network/interfaces, bonds bond0 (eth0, eth1) and
  bond1 (eth2, eth3), cloudbr0 with the address, fake bridge cloudbr100 on VLAN 100. Taken over
  with the model playbooks/adopt.yml writes.
* sa-ifupdown: seed 003's bridge (its network-scripts files as ifupdown writes them: bridge
  ``bro`` on the NIC, forward delay 0, the host's address). Taken over with a model written by hand.
* sa-netplan: an installer's DHCP host (cloud-init's netplan file): adopt.yml says there is no
  bridge to take over and writes nothing.

VMs (INBAND_TIER=vms, ``make lab-takeover-vms``: Linux bonds and 802.1Q need a full kernel):

* cv-netplan: seed 000's netplan file (Linux bonds bond0 and bond1 with their primaries, the
  storage VLAN ``bond100`` on bond0 under cloudbr100). Taken over with the adopted model.
* cv-ifupdown: seed 000's Open vSwitch host on the kernel datapath. Taken over with a model
  written by hand.

Then ``site.yml --check`` reports no network change (only the files changing hands), and
``site.yml`` takes the hosts over while the lab's peer pings them, untagged and on VLAN 100: no ping
lost, no interface taken down (ifindex and carrier changes of every device the same), verify passes,
and a second run changes nothing.
"""

import json
import re

import yaml

from inband import ENV, HOSTS, REPO, TIER, Scenario, address, installed

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
for kind in bridge vlan bond; do
    for dev in $(ip -o link show type "$kind" | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link delete "$dev"; done
done
for nic in eth0 eth1 eth2 eth3; do ip link set dev "$nic" nomaster; ip address flush dev "$nic"; ip link set dev "$nic" up; done
true
"""

# The guide's files, verbatim (.txt: yamllint would ask the netplan one for a space after its commas).
SEED_FILES = REPO / "tests" / "unit" / "fixtures" / "seed000"


def lab_addresses(text):
    """A seed file with the lab's addresses for the host's (ADDRESS, VLAN_ADDRESS) and DNS servers,
    without its gateway (the lab has none) and with its netmask slip 255.255.155.0 (which would not
    come up) corrected."""
    text = re.sub(r"^.*gateway4? 192\.168\.100\.\d+\n", "", text, flags=re.M)
    text = re.sub(r"^.*gateway4?: 192\.168\.100\.\d+\n", "", text, flags=re.M)
    for old, new in (("192.168.100.20", "ADDRESS"), ("10.0.100.20", "VLAN_ADDRESS"), ("255.255.155.0", "255.255.255.0"),
                     ("192.168.100.5", "198.51.100.5"), ("192.168.100.6", "198.51.100.6")):
        text = text.replace(old, new)
    return text


def seed_netplan():
    """Seed 000's netplan file with its optional storage VLAN added (the guide's two parts)."""
    network = yaml.safe_load(lab_addresses((SEED_FILES / "netplan.txt").read_text()))["network"]
    for section, entries in yaml.safe_load(lab_addresses((SEED_FILES / "netplan-vlan.txt").read_text()))[
            "network"].items():
        network.setdefault(section, {}).update(entries)
    return yaml.safe_dump({"network": network}, sort_keys=False)


# Seed 000, "Open vSwitch" on Ubuntu: the guide's commands, then its interfaces file (its ovs_option
# is kept: the bonds' options come from the commands).
SEED_000_OVS = """set -e
ovs-vsctl add-br cloudbr0 DATAPATH_CLOUDBR0
ovs-vsctl add-br cloudbr1 DATAPATH_CLOUDBR1
ovs-vsctl add-bond cloudbr0 bond0 eth0 eth1 bond_mode=active-backup other_config:bond-detect-mode=miimon \
  other_config:bond-miimon-interval=100
ovs-vsctl add-bond cloudbr1 bond1 eth2 eth3 bond_mode=active-backup other_config:bond-detect-mode=miimon \
  other_config:bond-miimon-interval=100
ovs-vsctl add-br cloudbr100 cloudbr0 100
cat > /etc/network/interfaces <<'EOF'
# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
""" + lab_addresses((SEED_FILES / "interfaces-ovs").read_text()).lstrip("\n") + """EOF
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

# Seed 000, "Linux bridge" on Ubuntu: the guide's netplan file with its storage VLAN.
SEED_000_NETPLAN = """set -e
cat > /etc/netplan/50-cloud-init.yaml <<'EOF'
""" + seed_netplan() + """EOF
chmod 600 /etc/netplan/50-cloud-init.yaml
netplan apply
"""

# What cloud-init leaves: the in-band lab's installer state.
CLOUD_INIT_DHCP = installed("netplan", "")

OVS_DEVICES = ("eth0", "eth1", "eth2", "eth3", "cloudbr0", "cloudbr1", "cloudbr100")
LINUX_DEVICES = ("eth0", "eth1", "eth2", "eth3", "bond0", "bond1", "bond100", "cloudbr0", "cloudbr1", "cloudbr100")
USERSPACE = "-- set bridge NAME datapath_type=netdev"     # containers: no Open vSwitch kernel datapath
if TIER == "containers":
    OVS, BRIDGE, DHCP, LINUX = "sa-ovs", "sa-ifupdown", "sa-netplan", None
    SEED_000_OVS = SEED_000_OVS.replace("DATAPATH_CLOUDBR0", USERSPACE.replace("NAME", "cloudbr0")).replace(
        "DATAPATH_CLOUDBR1", USERSPACE.replace("NAME", "cloudbr1"))
    DEVICES = {OVS: OVS_DEVICES, BRIDGE: ("eth0", "bro")}
    ADOPTED, HAND_WRITTEN = OVS, BRIDGE
else:
    OVS, BRIDGE, DHCP, LINUX = "cv-ifupdown", None, None, "cv-netplan"
    SEED_000_OVS = SEED_000_OVS.replace("DATAPATH_CLOUDBR0", "").replace("DATAPATH_CLOUDBR1", "")
    DEVICES = {LINUX: LINUX_DEVICES, OVS: OVS_DEVICES}
    ADOPTED, HAND_WRITTEN = LINUX, OVS


def index_of(host):
    return HOSTS.index(host) + 1


def ovs_model():
    """The Open vSwitch host's model, as adopt.yml writes it and as a user writes it from the guide."""
    model = {"backend": "openvswitch", "renderer": "ifupdown"}
    if TIER == "containers":
        model["ovs"] = {"datapath_type": "netdev"}
    model.update({
        "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
        "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup"},
                  "bond1": {"interfaces": ["eth2", "eth3"], "mode": "active-backup"}},
        # (its DNS server: from the interfaces file's dns-nameserver, which the network does not show)
        "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index_of(OVS))}/24"],
                                 "nameservers": {"addresses": ["198.51.100.5"]}},
                    "cloudbr1": {"uplink": "bond1"},
                    "cloudbr100": {"uplink": "bond0", "vlan": 100,
                                   "addresses": [f"203.0.113.{10 + index_of(OVS)}/24"]}},
        "traffic_labels": {"management": "cloudbr0"}})
    return model


def linux_model():
    """Seed 000's netplan host, adopted: its bonds monitor nothing (the guide's file has no
    mii-monitor-interval), its VLAN device keeps the guide's name."""
    return {
        "backend": "linux_bridge", "renderer": "netplan",
        "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
        "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 0, "primary": "eth0"},
                  "bond1": {"interfaces": ["eth2", "eth3"], "mode": "active-backup", "miimon": 0, "primary": "eth2"}},
        "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index_of(LINUX))}/24"],
                                 "nameservers": {"addresses": ["198.51.100.5", "198.51.100.6"],
                                                 "search": ["mycloud.local"]}},
                    "cloudbr1": {"uplink": "bond1"},
                    "cloudbr100": {"uplink": "bond0", "vlan": 100, "vlan_interface": "bond100",
                                   "addresses": [f"203.0.113.{10 + index_of(LINUX)}/24"]}},
        "traffic_labels": {"management": "cloudbr0"}}


PING = re.compile(r"(\d+) packets transmitted, (\d+) received")
APPLY_TASK = "Apply the host network (files, configuration that would fight them, links, Open vSwitch)"


def build(sc, host, script):
    sc.sh(host, RESET)
    index = index_of(host)
    sc.sh(host, script.replace("VLAN_ADDRESS", f"203.0.113.{10 + index}").replace("ADDRESS", address(index)))
    # A VM whose installer's DHCP lease went (networkd drops it when the hand-built file goes live)
    # has its transient hostname fall back to localhost.
    sc.sh(host, f'[ "$(hostname)" = {host} ] || hostname {host}')
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


def bro_model(hand_written):
    """Seed 003's bridge: as adopt.yml writes it, or as a user writes it from the guide (DELAY=0)."""
    bridge = {"uplink": "eth0", "addresses": [f"{address(index_of(BRIDGE))}/24"]}
    if hand_written:
        bridge["forward_delay"] = 0
    return {"backend": "linux_bridge", "renderer": "ifupdown", "ethernets": {"eth0": {}}, "bridges": {"bro": bridge},
            "traffic_labels": {"management": "bro"}}


# {host: (how it is built by hand, the bridge verify pings through, the targets the peer pings)}
def cases():
    if TIER == "containers":
        return {OVS: (SEED_000_OVS, "cloudbr0", [address(index_of(OVS)), f"203.0.113.{10 + index_of(OVS)}"]),
                BRIDGE: (SEED_003_BRIDGE, "bro", [address(index_of(BRIDGE))])}
    return {LINUX: (SEED_000_NETPLAN, "cloudbr0", [address(index_of(LINUX)), f"203.0.113.{10 + index_of(LINUX)}"]),
            OVS: (SEED_000_OVS, "cloudbr0", [address(index_of(OVS)), f"203.0.113.{10 + index_of(OVS)}"])}


def expected_model(host, hand_written=False):
    if host == OVS:
        return ovs_model()
    if host == BRIDGE:
        return bro_model(hand_written)
    return linux_model()


def test_hand_built_hosts_are_taken_over_without_a_bounce(scenario):
    sc: Scenario = scenario
    taken = cases()
    for host, (script, dummy, dummy) in taken.items():
        build(sc, host, script)
    if DHCP:
        build(sc, DHCP, CLOUD_INIT_DHCP)
    for host in list(taken) + ([DHCP] if DHCP else []):
        # (containers: a login can wait up to 90 s for root's user manager, stopping as the last
        # session of the installer-state checks ended, see RESET)
        assert sc.wait_reachable(host, 150 if TIER == "containers" else 300), f"{host} built by hand is not reachable"

    # The inventory: the lab's safe apply settings, no model; adopt.yml writes them beside it
    # (no packages to install, no kernel modules to load: the lab images have them).
    hosts = sc.hostvars(dict((h, {}) for h in taken), kvm_host_install_packages=False,
                        kvm_host_load_kernel_modules=False, kvm_network_verify_fail=True)
    for host, (dummy, bridge, dummy) in taken.items():
        del hosts[host]["kvm_network"], hosts[host]["kvm_network_renderer"]
        hosts[host]["kvm_network_verify_traffic"] = [{"bridge": bridge, "target": "198.51.100.254"}]
    if DHCP:
        hosts[DHCP] = {}
    inventory = sc.dir / "takeover" / "hosts.yml"
    inventory.parent.mkdir()
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    rc, out = sc.play("adopt.yml", inventory, limit=",".join(hosts),
                      extra_vars={"kvm_network_adopt_dir": str(inventory.parent / "host_vars")})
    assert rc == 0, out[-6000:]
    for host in taken:
        written = inventory.parent / "host_vars" / host / "kvm_network.yml"
        assert yaml.safe_load(written.read_text())["kvm_network"] == expected_model(host), (host, written.read_text())
    if DHCP:
        assert not (inventory.parent / "host_vars" / DHCP).exists(), "no bridge: nothing to take over, nothing written"
        assert f"host {DHCP}: no model written: no bridge" in out
    # One host is taken over with a model written by hand instead.
    (inventory.parent / "host_vars" / HAND_WRITTEN / "kvm_network.yml").write_text(
        yaml.safe_dump({"kvm_network": expected_model(HAND_WRITTEN, hand_written=True)}))

    limit = ",".join(taken)
    rc, report, err = json_play(sc, "site.yml", inventory, check=True, limit=limit)
    assert rc == 0, err[-3000:]
    for host, result in task_results(report, APPLY_TASK).items():
        assert result["changed"] is True, (host, "the files change hands")
        assert result["activated"]["reasons"] == {} and result["activated"]["adopted"], (host, result["activated"])
        # (netplan: only netplan generate, which checks the files and writes networkd's for the next boot)
        commands = [[c[0].rsplit("/", 1)[-1]] + c[1:] for c in result["activated"]["commands"]]
        assert commands in ([], [["netplan", "generate"]]), (host, "nothing taken down or up", commands)
        assert not result.get("ovs", {}).get("changed"), (host, result.get("ovs"))
        assert result["files"]["written"], (host, "the user's file gives its definitions up")

    before = dict((h, links(sc, h)) for h in taken)
    pinger = Pinger(sc.lab, [t for dummy, dummy, targets in taken.values() for t in targets])
    try:
        rc, out = sc.play("site.yml", inventory, limit=limit, timeout=1200)
    finally:
        pings = pinger.stop()
    assert rc == 0, out[-6000:]
    for target, (sent, received) in pings.items():
        assert sent > 20 and received == sent, f"{target}: {sent - received} of {sent} pings lost during the takeover"
    for host in taken:
        assert links(sc, host) == before[host], f"{host}: an interface was taken down or re-created"
        snaps = sc.snapshots(host)
        assert [s["status"] for s in snaps] == ["confirmed"], (host, "the takeover is commit-confirmed")
    assert "# iface cloudbr0 inet static" in sc.sh(OVS, "cat /etc/network/interfaces")
    assert "ovs_type OVSBridge" in sc.sh(OVS, "cat /etc/network/interfaces.d/cloudstack-kvm")
    if LINUX:
        left = yaml.safe_load(sc.sh(LINUX, "cat /etc/netplan/50-cloud-init.yaml"))
        assert left == {"network": {"version": 2}}, left
        assert "bond100" in sc.sh(LINUX, "cat /etc/netplan/60-cloudstack-kvm.yaml")
    rc, out = sc.play("verify.yml", inventory, limit=limit, timeout=1200)
    assert rc == 0, out[-6000:]
    rc, out = sc.play("site.yml", inventory, limit=limit, timeout=1200)
    assert rc == 0, out[-6000:]
    for host in taken:
        assert re.search(rf"^{host}\s+:.*changed=0\b", out, re.M), (host, out[-3000:])
