"""libvirt networks on a real libvirtd (issue 21): playbooks/libvirt_networks.yml against two lab
containers of the `libvirt` flavour (lab/flavours/libvirt: Debian's libvirtd and QEMU), with guests
that are QEMU TCG domains booting the Debian cloud kernel and a busybox initramfs which leases an
address by DHCP, answers ping and pings the lab peer (its console is the domain's serial log).

gn-lb has Linux bridges (netplan) and the NAT, isolated, routed and bridge networks; gn-ovs Open
vSwitch (userspace datapath) and a network with VLAN portgroups; gn-rocks seed 002's layout (its
NIC renamed by MAC, the bridge taking the NIC's name). gn-lb also runs seed 003's forwarding. The tests run in order on one lab
(`make lab-libvirt`; LIBVIRT_LAB_KEEP=1 keeps it up and reuses it).
"""

import base64
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
import xml.etree.ElementTree as ET

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inband import ENV, REPO  # noqa: E402  pylint: disable=wrong-import-position
from cskl_lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position

LAB_ID = os.environ.get("LIBVIRT_LAB", "guestnet")
HOSTS = ("gn-lb", "gn-ovs")    # the hosts with libvirt networks from the start
ROCKS = "gn-rocks"              # seed 002: its NIC renamed peth0, the bridge named eth0
PEER = "198.51.100.254"
GUEST_MAC = "52:54:00:aa:00:01"
GUEST_NAT_ADDRESS = "203.0.113.5"
SERIAL = "/var/log/libvirt/qemu/{}-serial.log"
UNIT_FILE = "/etc/systemd/system/cloudstack-kvm-accept-bridged.service"

MODELS = {
    "gn-lb": {
        "kvm_network_renderer": "netplan",
        "kvm_network": {
            "backend": "linux_bridge",
            "ethernets": {"eth0": {}, "eth1": {}},
            "bridges": {"cloudbr0": {"uplink": "eth0", "addresses": ["198.51.100.11/24"]},
                        "cloudbr1": {"uplink": "eth1"}},
            "traffic_labels": {"management": "cloudbr0", "guest": "cloudbr1"},
        },
    },
    ROCKS: {
        "kvm_network_renderer": "ifupdown",
        "kvm_network": {
            "backend": "linux_bridge",
            "check_cloudstack_port_names": False,
            "ethernets": {"peth0": {"match": {"macaddress": "MAC OF ETH0"}}},   # the lab's, in inventory()
            "bridges": {"eth0": {"uplink": "peth0", "addresses": ["198.51.100.13/24"]}},
            "traffic_labels": {"management": "eth0"},
        },
    },
    "gn-ovs": {
        "kvm_network_renderer": "ifupdown",
        "kvm_network": {
            "backend": "openvswitch",
            "ovs": {"datapath_type": "netdev"},
            "ethernets": {"eth0": {}, "eth1": {}},
            "bridges": {"cloudbr0": {"uplink": "eth0", "addresses": ["198.51.100.12/24"]},
                        "cloudbr1": {"uplink": "eth1"}},
            "traffic_labels": {"management": "cloudbr0", "guest": "cloudbr1"},
        },
    },
}


def nat(**changes):
    network = {"name": "nat0", "kind": "nat", "bridge": "virbr10", "stp": False, "domain": "lab.example",
               "ips": [{"address": "203.0.113.1/26",
                        "dhcp": {"ranges": [{"start": "203.0.113.10", "end": "203.0.113.20"}],
                                 "hosts": [{"mac": GUEST_MAC, "ip": GUEST_NAT_ADDRESS, "name": "g1"}]}}],
               "dns": {"hosts": [{"ip": "203.0.113.1", "names": ["gateway.lab.example"]}]}}
    network.update(changes)
    return network


ISOLATED = {"name": "isolated0", "kind": "isolated", "bridge": "virbr11", "stp": False,
            "ips": [{"address": "203.0.113.65/26",
                     "dhcp": {"ranges": [{"start": "203.0.113.70", "end": "203.0.113.80"}]}}]}
ROUTED = {"name": "scratch", "kind": "routed", "bridge": "virbr12", "stp": False,
          "ips": [{"address": "203.0.113.193/27"}]}
BRIDGED = {"name": "lan", "kind": "bridge", "bridge": "cloudbr1"}


def ovs(vlan_200=200):
    return {"name": "ovsnet", "kind": "openvswitch", "bridge": "cloudbr1",
            "portgroups": [{"name": "vlan-100", "vlan": 100, "default": True},
                           {"name": "vlan-200", "vlan": vlan_200}]}


class GuestLab:
    def __init__(self, lab):
        self.lab = lab
        self.dir = Path(tempfile.mkdtemp(prefix="libvirt-lab-"))

    def sh(self, host, script, check=True, timeout=120):
        proc = self.lab.exec(host, ["sh", "-c", script], timeout=timeout)
        if check:
            assert proc.returncode == 0, f"{host}: {script}: {proc.stdout}{proc.stderr}"
        return proc.stdout

    def inventory(self, networks, **extra):
        hosts = {}
        for host, model in copy.deepcopy(MODELS).items():
            if host == ROCKS:
                model["kvm_network"]["ethernets"]["peth0"]["match"]["macaddress"] = \
                    self.lab.state["hosts"][ROCKS]["macs"]["eth0"]
            # lab containers come with every package and cannot load kernel modules
            hosts[host] = dict(model, kvm_network_confirm_timeout=30, kvm_host_install_packages=False,
                               kvm_host_load_kernel_modules=False, **extra)
            if host in networks:
                hosts[host]["kvm_libvirt_networks"] = networks[host]
        path = self.dir / f"inventory-{time.monotonic_ns()}.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    def play(self, playbook, inventory, *args):
        """(exit status, the json callback's document or None, the raw output)."""
        argv = ["ansible-playbook", "-i", self.lab.state["inventory"], "-i", str(inventory),
                str(REPO / "playbooks" / playbook), *args]
        env = dict(ENV, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
        try:
            document = json.loads(proc.stdout)
        except ValueError:
            document = None
        return proc.returncode, document, proc.stdout + proc.stderr

    def networks(self, inventory, *args, expect_rc=0):
        """Run playbooks/libvirt_networks.yml: the module's result per host (.results), the play's
        stats (.stats) and its output (.output)."""
        rc, document, output = self.play("libvirt_networks.yml", inventory, *args)
        assert rc == expect_rc, output[-6000:]
        if document is None:
            return SimpleNamespace(results={}, stats={}, output=output)
        results = {}
        for play in document["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"].endswith("Bring the host's libvirt networks to kvm_libvirt_networks"):
                    results.update(task["hosts"])
        return SimpleNamespace(results=results, stats=document["stats"], output=output)

    def net_names(self, host):
        out = self.sh(host, "virsh -q net-list --all --name")
        return sorted(n for n in out.split() if n != "default")

    def dnsmasq_pid(self, host, network):
        return self.sh(host, f"cat /run/libvirt/network/{network}.pid").strip()

    # -- guests ---------------------------------------------------------------------------------
    def start_guest(self, host, name, interfaces, ping=None, static=None):
        """A diskless TCG domain; `interfaces` are (network, portgroup or None, mac or None); `static`
        an ADDRESS/PREFIX for its first NIC instead of DHCP."""
        cmdline = ("console=ttyS0 panic=-1" + (f" cskl.ping={ping}" if ping else "")
                   + (f" cskl.ip={static}" if static else ""))
        nics = ""
        for network, portgroup, mac in interfaces:
            source = f"<source network='{network}'" + (f" portgroup='{portgroup}'" if portgroup else "") + "/>"
            nics += ("<interface type='network'>" + source + (f"<mac address='{mac}'/>" if mac else "")
                     + "<model type='virtio'/></interface>")
        xml = (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>192</memory><vcpu>1</vcpu>"
               "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>/var/lib/cskl-guest/vmlinuz</kernel>"
               f"<initrd>/var/lib/cskl-guest/initrd.img</initrd><cmdline>{cmdline}</cmdline></os>"
               "<on_poweroff>destroy</on_poweroff><on_crash>destroy</on_crash>"
               f"<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{nics}"
               f"<serial type='file'><source path='{SERIAL.format(name)}'/><target port='0'/></serial>"
               "<memballoon model='none'/></devices></domain>")
        encoded = base64.b64encode(xml.encode()).decode()
        self.sh(host, f"echo {encoded} | base64 -d > /tmp/{name}.xml && virsh -q define /tmp/{name}.xml"
                      f" && virsh -q start {name}")

    def guest_devs(self, host, name):
        """{network: [target dev, ...]} of a running domain."""
        root = ET.fromstring(self.sh(host, f"virsh dumpxml {name}"))
        devs = {}
        for iface in root.findall("./devices/interface"):
            devs.setdefault(iface.find("source").get("network"), []).append(iface.find("target").get("dev"))
        return devs

    def console(self, host, name):
        return self.sh(host, f"cat {SERIAL.format(name)} 2>/dev/null || true")

    def wait_console(self, host, name, text, after=0, timeout=240):
        """Wait until the guest's console has `text` after character `after`; the console."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.console(host, name)
            if text in out[after:]:
                return out
            assert time.monotonic() < deadline, f"guest {name} on {host} never printed {text!r}:\n{out[-3000:]}"
            time.sleep(2)

    def master_of(self, host, dev):
        data = json.loads(self.sh(host, f"ip -j link show dev {dev}"))
        return data[0].get("master")


@pytest.fixture(scope="module")
def guestnet():
    lab = Lab(LAB_ID)
    keep = os.environ.get("LIBVIRT_LAB_KEEP")
    reuse = keep and lab.state_file.exists()
    if reuse:
        lab.load()
    else:
        lab.up("containers", list(HOSTS) + [ROCKS], replace=True, flavour="libvirt")
    gl = GuestLab(lab)
    try:
        if not reuse:
            # netplan's backend, as the installer of an Ubuntu server leaves it
            gl.sh("gn-lb", "systemctl enable -q --now systemd-networkd")
            rc, document, output = gl.play("site.yml", gl.inventory({}))
            assert rc == 0 and document["stats"], output[-6000:]
            for host in HOSTS:
                gl.sh(host, "systemctl is-active -q libvirtd || systemctl start libvirtd")
        yield gl
    finally:
        if not keep:
            lab.down()


def test_a_check_run_changes_nothing(guestnet):
    inventory = guestnet.inventory({"gn-lb": [nat(), ISOLATED, ROUTED, BRIDGED], "gn-ovs": [ovs()]})
    run = guestnet.networks(inventory, "--check", "--diff")
    for host in HOSTS:
        assert run.stats[host]["changed"] >= 1, run.output[-4000:]
        assert guestnet.net_names(host) == [], f"--check defined networks on {host}"
    assert sorted(run.results["gn-lb"]["networks"]) == ["isolated0", "lan", "nat0", "scratch"]
    assert all(e["action"] == "created" for e in run.results["gn-lb"]["networks"].values())
    assert "virbr10" in run.output, "the diff shows the network XML to be defined"


def test_b_networks_defined_started_then_unchanged(guestnet):
    inventory = guestnet.inventory({"gn-lb": [nat(), ISOLATED, ROUTED, BRIDGED], "gn-ovs": [ovs()]})
    guestnet.networks(inventory)
    assert guestnet.net_names("gn-lb") == ["isolated0", "lan", "nat0", "scratch"]
    assert guestnet.net_names("gn-ovs") == ["ovsnet"]
    for host, names in (("gn-lb", ("nat0", "isolated0", "scratch", "lan")), ("gn-ovs", ("ovsnet",))):
        for name in names:
            info = guestnet.sh(host, f"virsh net-info {name}")
            assert "Active:         yes" in info and "Autostart:      yes" in info, info
    isolated = ET.fromstring(guestnet.sh("gn-lb", "virsh net-dumpxml isolated0"))
    assert isolated.find("forward") is None, "an isolated network has no <forward>"
    assert ET.fromstring(guestnet.sh("gn-lb", "virsh net-dumpxml nat0")).find("forward").get("mode") == "nat"
    # libvirt's defaults (uuid, mac, the <ip> of a bridge network...) are no difference; site.yml
    # runs the same role (kvm_libvirt) after the host network, and verifies the host
    run = guestnet.networks(inventory)
    assert all(run.stats[h]["changed"] == 0 for h in HOSTS), run.output[-4000:]
    rc, document, output = guestnet.play("site.yml", inventory)
    assert rc == 0, output[-6000:]
    assert all(document["stats"][h]["changed"] == 0 for h in HOSTS + (ROCKS,)), output[-6000:]
    ran = [task["task"]["name"] for play in document["plays"] for task in play["tasks"]
           if set(task["hosts"]) == set(HOSTS) and not any(r.get("skipped") for r in task["hosts"].values())]
    assert any(name.endswith("Bring the host's libvirt networks to kvm_libvirt_networks") for name in ran), ran


def test_c_nat_guest_leases_and_reaches_out(guestnet):
    guestnet.start_guest("gn-lb", "g1", [("nat0", None, GUEST_MAC), ("isolated0", None, None)], ping=PEER)
    console = guestnet.wait_console("gn-lb", "g1", f"CSKL-PING-OK {PEER}")
    # the static DHCP host, its router the NAT network's address; the isolated network gives no router
    assert f"CSKL-LEASE eth0 {GUEST_NAT_ADDRESS}/26 router 203.0.113.1" in console, console[-3000:]
    assert "CSKL-LEASE eth1 203.0.113.7" in console or "CSKL-LEASE eth1 203.0.113.8" in console, console[-3000:]
    assert "router none" in [line for line in console.splitlines() if "CSKL-LEASE eth1" in line][0]
    guestnet.sh("gn-lb", f"ping -c 2 -W 2 {GUEST_NAT_ADDRESS}")


def test_d_live_updates_keep_guests_attached(guestnet):
    dev = guestnet.guest_devs("gn-lb", "g1")["nat0"][0]
    # a static DHCP host and a portgroup's VLAN: dnsmasq re-reads its hosts file (same PID)
    before_pid = guestnet.dnsmasq_pid("gn-lb", "nat0")
    with_host = nat()
    with_host["ips"][0]["dhcp"]["hosts"].append({"mac": "52:54:00:aa:00:02", "ip": "203.0.113.6", "name": "g2"})
    inventory = guestnet.inventory({"gn-lb": [with_host, ISOLATED, ROUTED, BRIDGED], "gn-ovs": [ovs(201)]})
    run = guestnet.networks(inventory, "--diff")
    entry = run.results["gn-lb"]["networks"]["nat0"]
    assert (entry["action"], [u["section"] for u in entry["updates"]]) == ("updated", ["ip-dhcp-host"]), run.output[-4000:]
    assert run.results["gn-ovs"]["networks"]["ovsnet"]["action"] == "updated"
    assert guestnet.dnsmasq_pid("gn-lb", "nat0") == before_pid, "adding a DHCP host restarted dnsmasq"
    stored = ET.fromstring(guestnet.sh("gn-ovs", "virsh net-dumpxml --inactive ovsnet"))
    tags = {pg.get("name"): pg.find("./vlan/tag").get("id") for pg in stored.findall("portgroup")}
    assert tags == {"vlan-100": "100", "vlan-200": "201"}
    # a DHCP range: libvirt restarts dnsmasq itself (bridge_driver.c, networkUpdate: ranges are on
    # its command line), the bridge and the guests' taps stay
    wider = copy.deepcopy(with_host)
    wider["ips"][0]["dhcp"]["ranges"] = [{"start": "203.0.113.10", "end": "203.0.113.30"}]
    inventory = guestnet.inventory({"gn-lb": [wider, ISOLATED, ROUTED, BRIDGED], "gn-ovs": [ovs(201)]})
    run = guestnet.networks(inventory, "--diff")
    entry = run.results["gn-lb"]["networks"]["nat0"]
    assert entry["action"] == "updated", run.output[-4000:]
    assert sorted(u["command"] for u in entry["updates"]) == ["add-last", "delete"]
    assert guestnet.master_of("gn-lb", dev) == "virbr10"
    live = ET.fromstring(guestnet.sh("gn-lb", "virsh net-dumpxml nat0"))
    assert [(r.get("start"), r.get("end")) for r in live.findall("./ip/dhcp/range")] == [("203.0.113.10", "203.0.113.30")]
    assert [h.get("ip") for h in live.findall("./ip/dhcp/host")] == [GUEST_NAT_ADDRESS, "203.0.113.6"]
    run = guestnet.networks(inventory)
    assert all(run.stats[h]["changed"] == 0 for h in HOSTS), run.output[-4000:]
    guestnet.sh("gn-lb", f"ping -c 2 -W 2 {GUEST_NAT_ADDRESS}")


def test_e_restart_refused_without_consent_then_guest_plugged_back(guestnet):
    dev = guestnet.guest_devs("gn-lb", "g1")["nat0"][0]
    changed_nat = nat(domain="guests.example")
    changed_nat["ips"][0]["dhcp"]["ranges"] = [{"start": "203.0.113.10", "end": "203.0.113.30"}]
    changed_nat["ips"][0]["dhcp"]["hosts"].append({"mac": "52:54:00:aa:00:02", "ip": "203.0.113.6", "name": "g2"})
    networks = {"gn-lb": [changed_nat, ISOLATED, ROUTED, BRIDGED], "gn-ovs": [ovs(201)]}
    run = guestnet.networks(guestnet.inventory(networks), expect_rc=2)
    for needed in ("nat0", f"g1 ({dev})", "kvm_libvirt_allow_restart"):
        assert needed in run.output, run.output[-4000:]
    stored = ET.fromstring(guestnet.sh("gn-lb", "virsh net-dumpxml --inactive nat0"))
    assert stored.find("domain").get("name") == "lab.example", "a refused restart changed the definition"
    seen = len(guestnet.console("gn-lb", "g1"))
    run = guestnet.networks(guestnet.inventory(networks, kvm_libvirt_allow_restart=True))
    entry = run.results["gn-lb"]["networks"]["nat0"]
    assert entry["action"] == "restarted", run.output[-4000:]
    assert [(r["domain"], r["dev"], r["bridge"]) for r in entry["reattached"]] == [("g1", dev, "virbr10")]
    assert guestnet.master_of("gn-lb", dev) == "virbr10"
    guestnet.sh("gn-lb", f"ping -c 2 -W 2 {GUEST_NAT_ADDRESS}")
    guestnet.wait_console("gn-lb", "g1", f"CSKL-PING-OK {PEER}", after=seen, timeout=60)
    assert guestnet.sh("gn-lb", "virsh domstate g1").strip() == "running"


def test_f_ovs_guest_gets_port_with_portgroup_tag(guestnet):
    guestnet.start_guest("gn-ovs", "g3", [("ovsnet", "vlan-200", None), ("ovsnet", None, None)])
    tagged, default = guestnet.guest_devs("gn-ovs", "g3")["ovsnet"]
    for dev, tag in ((tagged, "201"), (default, "100")):
        assert guestnet.sh("gn-ovs", f"ovs-vsctl port-to-br {dev}").strip() == "cloudbr1"
        assert guestnet.sh("gn-ovs", f"ovs-vsctl get Port {dev} tag").strip() == tag
    guestnet.sh("gn-ovs", "virsh -q destroy g3 && virsh -q undefine g3")


def test_g_dropped_network_removed_and_bad_list_refused(guestnet):
    changed_nat = nat(domain="guests.example")
    changed_nat["ips"][0]["dhcp"]["ranges"] = [{"start": "203.0.113.10", "end": "203.0.113.30"}]
    changed_nat["ips"][0]["dhcp"]["hosts"].append({"mac": "52:54:00:aa:00:02", "ip": "203.0.113.6", "name": "g2"})
    kept = {"gn-lb": [changed_nat, ISOLATED, BRIDGED], "gn-ovs": [ovs(201)]}
    run = guestnet.networks(guestnet.inventory(kept))
    assert run.results["gn-lb"]["networks"]["scratch"]["action"] == "removed", run.output[-4000:]
    assert guestnet.net_names("gn-lb") == ["isolated0", "lan", "nat0"]
    assert guestnet.sh("gn-lb", "ip link show virbr12 >/dev/null 2>&1 && echo present || echo absent").strip() == "absent"
    # an unknown bridge fails on the controller, naming it; the host keeps its networks
    bad = dict(kept, **{"gn-lb": kept["gn-lb"] + [{"name": "lan2", "kind": "bridge", "bridge": "cloudbr9"}]})
    run = guestnet.networks(guestnet.inventory(bad), expect_rc=2)
    assert "cloudbr9" in run.output and "lan2" in run.output, run.output[-4000:]
    assert guestnet.net_names("gn-lb") == ["isolated0", "lan", "nat0"]
    guestnet.sh("gn-lb", "virsh -q destroy g1 && virsh -q undefine g1")


def test_h_seed_003_bridged_guests_forwarded_through_a_dropping_firewall(guestnet):
    """forwarding.accept_bridged and .ip (seed 003): a guest on cloudbr1 behind a firewall whose
    FORWARD policy drops (bridged frames pass FORWARD with bridge-nf-call-iptables=1) is cut off,
    then reaches the peer once site.yml put the one rule in; the user's own rules are untouched."""
    networks = {"gn-lb": [BRIDGED], "gn-ovs": [ovs(201)]}
    # the user's firewall: FORWARD drops by default, and one rule of their own
    guestnet.sh("gn-lb", "iptables -w -P FORWARD DROP && iptables -w -A FORWARD -s 203.0.113.99/32 -j DROP")
    cut_off = guestnet.inventory(networks, kvm_host_bridge_nf_call="1")
    rc, document, output = guestnet.play("site.yml", cut_off)
    assert rc == 0, output[-6000:]
    user_rules = guestnet.sh("gn-lb", "iptables -w -S FORWARD")
    guestnet.start_guest("gn-lb", "g5", [("lan", None, None)], ping=PEER, static="198.51.100.31/24")
    console = guestnet.wait_console("gn-lb", "g5", "CSKL-READY", timeout=240)
    deadline = time.monotonic() + 60
    while console.count(f"CSKL-PING-FAIL {PEER}") < 6:     # 12 s of pings, none answered
        assert time.monotonic() < deadline, console[-3000:]
        time.sleep(2)
        console = guestnet.console("gn-lb", "g5")
    assert f"CSKL-PING-OK {PEER}" not in console, "the dropping firewall let the guest through"

    model = copy.deepcopy(MODELS)
    model["gn-lb"]["kvm_network"]["forwarding"] = {"ip": True, "accept_bridged": True}
    forwarded = guestnet.inventory(networks, kvm_host_bridge_nf_call="1")
    text = yaml.safe_load(forwarded.read_text())
    text["all"]["hosts"]["gn-lb"]["kvm_network"] = model["gn-lb"]["kvm_network"]
    forwarded.write_text(yaml.safe_dump(text))
    # --check says it would change the host, and changes nothing
    rc, document, output = guestnet.play("site.yml", forwarded, "--check", "--diff")
    assert rc == 0 and document["stats"]["gn-lb"]["changed"] >= 1, output[-6000:]
    assert guestnet.sh("gn-lb", "iptables -w -S FORWARD") == user_rules
    assert guestnet.sh("gn-lb", f"test -e {UNIT_FILE} && echo present || echo absent").strip() == "absent"
    seen = len(guestnet.console("gn-lb", "g5"))
    rc, document, output = guestnet.play("site.yml", forwarded)
    assert rc == 0, output[-6000:]
    assert document["stats"]["gn-lb"]["changed"] >= 1
    guestnet.wait_console("gn-lb", "g5", f"CSKL-PING-OK {PEER}", after=seen, timeout=60)
    rules = guestnet.sh("gn-lb", "iptables -w -S FORWARD").splitlines()
    assert rules[1] == "-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT", rules
    assert [r for r in rules if "physdev" not in r] == user_rules.splitlines(), "another rule of the firewall changed"
    assert guestnet.sh("gn-lb", "systemctl is-enabled cloudstack-kvm-accept-bridged.service").strip() == "enabled"
    assert "net.ipv4.ip_forward=1" in guestnet.sh("gn-lb", "cat /etc/sysctl.d/60-cloudstack-kvm.conf")
    assert guestnet.sh("gn-lb", "sysctl -n net.ipv4.ip_forward").strip() == "1"
    # the unit puts it back (at boot, after the firewall loaded its rules): here, after a flush
    guestnet.sh("gn-lb", "iptables -w -D FORWARD -m physdev --physdev-is-bridged -j ACCEPT"
                         " && systemctl restart cloudstack-kvm-accept-bridged.service")
    assert guestnet.sh("gn-lb", "iptables -w -S FORWARD").count("--physdev-is-bridged") == 1
    rc, document, output = guestnet.play("site.yml", forwarded)
    assert rc == 0 and all(document["stats"][h]["changed"] == 0 for h in HOSTS), output[-6000:]

    # dropped from the model: the rule and the unit go, the user's rules stay (and bridge-nf-call
    # back to the role's default, as the other tests run)
    rc, document, output = guestnet.play("site.yml", guestnet.inventory(networks))
    assert rc == 0, output[-6000:]
    assert guestnet.sh("gn-lb", "iptables -w -S FORWARD") == user_rules
    assert guestnet.sh("gn-lb", f"test -e {UNIT_FILE} && echo present || echo absent").strip() == "absent"
    assert "ip_forward" not in guestnet.sh("gn-lb", "cat /etc/sysctl.d/60-cloudstack-kvm.conf")
    guestnet.sh("gn-lb", "virsh -q destroy g5 && virsh -q undefine g5")


def test_i_seed_002_the_bridge_takes_the_nics_name(guestnet):
    """The fixture's site.yml renamed gn-rocks' eth0 (matched by MAC) to peth0 and made the bridge
    eth0 with the address; a guest on that bridge reaches the peer through it."""
    links = {link["ifname"]: link for link in json.loads(guestnet.sh(ROCKS, "ip -d -j link show"))}
    mac = guestnet.lab.state["hosts"][ROCKS]["macs"]["eth0"]
    assert links["peth0"]["address"] == mac and links["peth0"].get("master") == "eth0"
    assert links["eth0"]["linkinfo"]["info_kind"] == "bridge"
    assert links["peth0"]["promiscuity"] >= 1, "a bridge port is promiscuous"
    addresses = json.loads(guestnet.sh(ROCKS, "ip -j address show dev eth0"))[0]["addr_info"]
    assert "198.51.100.13" in [a["local"] for a in addresses]
    guestnet.sh(ROCKS, f"ping -c 2 -W 2 -I eth0 {PEER}")
    guestnet.sh(ROCKS, "systemctl is-active -q libvirtd || systemctl start libvirtd")
    networks = {ROCKS: [{"name": "rocks-lan", "kind": "bridge", "bridge": "eth0"}]}
    run = guestnet.networks(guestnet.inventory(networks))
    assert run.results[ROCKS]["networks"]["rocks-lan"]["action"] == "created", run.output[-4000:]
    guestnet.start_guest(ROCKS, "g6", [("rocks-lan", None, None)], ping=PEER, static="198.51.100.33/24")
    guestnet.wait_console(ROCKS, "g6", f"CSKL-PING-OK {PEER}")
    rc, document, output = guestnet.play("site.yml", guestnet.inventory(networks))
    assert rc == 0 and document["stats"][ROCKS]["changed"] == 0, output[-6000:]
    guestnet.sh(ROCKS, "virsh -q destroy g6 && virsh -q undefine g6")
