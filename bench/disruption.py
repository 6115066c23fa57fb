"""bench/disruption: what a network change costs the traffic of a hypervisor, measured.

A benchmark, not a test: it prints figures (and, with --write, puts the table in
docs/disruption.md); nothing here passes or fails on a number.

An in-band container lab (Ansible in the lab's controller namespace, over the lab switch): one host
per renderer (netplan, ifupdown, NetworkManager) plus an Open vSwitch host (ifupdown), each started
as an installer leaves it (its address on eth0). The lab peer pings every host's address every
10 ms while, one phase at a time, network.yml runs on all hosts at once:

  (iii) migration   the first run: the address moves from eth0 to cloudbr0 (commit-confirmed)
  (i)   no-op       the same model again
  (ii)  unrelated   an address added to cloudbr1
  (v)   repair      an address removed by hand from cloudbr1, repaired by the next run
  (iv)  broken      cloudbr0 moved to a dead uplink, until the host has rolled itself back

For each host and phase: packets sent and lost, the longest gap between two answers, whether
every bridge kept its MAC address (and the old and new one when not), and (broken) the seconds from the change being live to the host's
rollback (the timer is TIMER seconds). --vm adds a VM (QEMU/TCG) whose first run moves its address from
eth0 to a bond (eth0+eth1) and a bridge.

Run: bench/disruption [--vm] [--write]   (root; brings its own lab up and down)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))

from cskl_lab.installed import installed  # noqa: E402  pylint: disable=wrong-import-position
from cskl_lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position
from cskl_lab.traffic import Pingers  # noqa: E402  pylint: disable=wrong-import-position
from benchdoc import put_table  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = {"d-netplan": "netplan", "d-ifupdown": "ifupdown", "d-nm": "networkmanager", "d-ovs": "ifupdown"}
TIMER = 30
# A VM on TCG applies the first migration (bond + bridge) in one to two minutes, depending on
# the machine's other load: twice the role's default timer, so that the proof is not cut short.
VM_TIMER = 240
ENV = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
           ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".tmp" / "collections"),
           ANSIBLE_FORCE_COLOR="0")
PHASES = ("migration", "no-op", "unrelated", "repair", "broken")


def address(index):
    return f"198.51.100.{10 + index}"


def model(name, index, cloudbr1=None, dead=False, vm=False):
    if name == "d-ovs":
        m = {"backend": "openvswitch", "ovs": {"datapath_type": "netdev"},
             "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}},
             "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 100}},
             "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index)}/24"]},
                         "cloudbr1": {"uplink": "eth2"}}}
        if dead:
            m["ethernets"] = {"eth2": {}, "eth3": {}}
            m["bonds"] = {}
            m["bridges"]["cloudbr0"]["uplink"] = "eth3"
    else:
        m = {"backend": "linux_bridge", "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}},
             "bridges": {"cloudbr0": {"uplink": "eth0", "addresses": [f"{address(index)}/24"]},
                         "cloudbr1": {"uplink": "eth1"}}}
        if vm:
            m["bonds"] = {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 100}}
            m["bridges"]["cloudbr0"]["uplink"] = "bond0"
            m["bridges"]["cloudbr1"]["uplink"] = "eth2"
        if dead:
            m["ethernets"]["eth3"] = {}
            m["bridges"]["cloudbr0"]["uplink"] = "eth3"
    m["traffic_labels"] = {"management": "cloudbr0"}
    if cloudbr1:
        m["bridges"]["cloudbr1"]["addresses"] = [cloudbr1 % index]
    return m


class Bench:
    def __init__(self, lab, hosts, renderers, vm=False):
        self.lab = lab
        self.hosts = hosts
        self.renderers = renderers
        self.vm = vm
        self.timer = VM_TIMER if vm else TIMER
        self.dir = Path(tempfile.mkdtemp(prefix="disruption-"))

    def sh(self, host, script):
        return self.lab.exec(host, ["sh", "-c", script], timeout=120).stdout

    def macs(self, host):
        """{bridge: MAC address} of the host's cloudbr* devices."""
        out = self.sh(host, "ip -j link show 2>/dev/null || echo '[]'")
        return dict((link["ifname"], link.get("address")) for link in json.loads(out or "[]")
                    if link["ifname"].startswith("cloudbr"))

    def healed(self, host):
        """Seconds from the change being live (or armed) to the host's rollback, for the last snapshot."""
        out = self.sh(host, "m=$(ls -d /var/lib/cloudstack-kvm/safe-apply/*/ 2>/dev/null | tail -n 1); "
                            "[ -n \"$m\" ] && cat \"${m}manifest.json\" || echo '{}'")
        history = dict((h["status"], h["at"]) for h in json.loads(out or "{}").get("history", []))
        if "rolled_back" not in history:
            return None
        return round(history["rolled_back"] - history.get("applied", history.get("armed", 0)), 1)

    def inventory(self, **kw):
        hosts = {}
        for index, name in enumerate(self.hosts, start=1):
            hosts[name] = dict(kvm_network=model(name, index, vm=self.vm and name.startswith("d-vm"), **kw),
                               kvm_network_renderer=self.renderers[name], kvm_network_confirm_timeout=self.timer,
                               kvm_network_confirm_targets=[], kvm_host_install_packages=False)
        path = self.dir / f"inv-{time.monotonic_ns()}.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    def play(self, inventory, expect_ok=True):
        argv = ["ip", "netns", "exec", self.lab.ctl_ns, "ansible-playbook", "-i", self.lab.state["inband"]["inventory"],
                "-i", str(inventory), str(REPO / "playbooks" / "network.yml"), "-e", "kvm_network_verify=false"]
        # Each run its own ssh ControlPath directory: a master left by the previous run (ControlPersist)
        # may be dead after that run's network change.
        env = dict(ENV, ANSIBLE_SSH_CONTROL_PATH_DIR=str(self.dir / f"cp-{time.monotonic_ns()}"))
        proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=False, timeout=900)
        log = self.dir / f"play-{time.monotonic_ns()}.log"
        log.write_text(proc.stdout)
        if expect_ok and proc.returncode != 0:
            raise SystemExit(f"network.yml failed (the whole output: {log}):\n{proc.stdout[-4000:]}")
        return proc.returncode

    def measure(self, phase, inventory, expect_ok=True, before=None, settle=2):
        """Ping every host every 10 ms from the peer while network.yml runs; one row per host."""
        macs = dict((h, self.macs(h)) for h in self.hosts)
        targets = dict((h, address(i)) for i, h in enumerate(self.hosts, start=1))
        with Pingers(self.lab, targets, settle=settle) as pings:
            if before:
                before()
            started = time.monotonic()
            rc = self.play(inventory, expect_ok)
            if not expect_ok:       # until every host answers again after its rollback
                deadline = time.monotonic() + 3 * self.timer + 60
                while time.monotonic() < deadline and not all(
                        self.sh(h, f"ls {'/var/lib/cloudstack-kvm/safe-apply'}/*/rollback.json 2>/dev/null | wc -l").strip()
                        not in ("", "0") for h in self.hosts):
                    time.sleep(1)
        rows = []
        for host in self.hosts:
            rows.append(dict(pings.results[host], host=host, phase=phase,
                             renderer=self.renderers[host], macs=mac_changes(macs[host], self.macs(host)),
                             seconds=round(time.monotonic() - started, 1), rc=rc,
                             healed=None if expect_ok else self.healed(host)))
        return rows


def mac_changes(before, after):
    """"kept" when every bridge there before and after has the same MAC, else what changed."""
    changed = ["%s %s -> %s" % (br, before[br], after[br]) for br in sorted(before)
               if br in after and before[br] != after[br]]
    return "; ".join(changed) if changed else "kept"


def prepare(bench, lab):
    """The hosts as installers leave them: the address on eth0 (DHCP for netplan and NetworkManager)."""
    for index, host in enumerate(bench.hosts, start=1):
        bench.sh(host, installed(bench.renderers[host], address(index)))
    deadline = time.monotonic() + 90
    for index in range(1, len(bench.hosts) + 1):
        while "1 received" not in lab.peer_exec(f"ping -c 1 -W 1 {address(index)}").stdout:
            if time.monotonic() > deadline:
                raise SystemExit(f"host {index} does not answer on {address(index)}")
            time.sleep(1)


def run(hosts, vm):
    lab = Lab("disruption_vm" if vm else "disruption")
    names = list(hosts)
    lab.up("vms" if vm else "containers", names, replace=True, inband=True, dhcp=True)
    try:
        bench = Bench(lab, names, hosts, vm)
        prepare(bench, lab)
        rows = bench.measure("migration", bench.inventory())
        rows += bench.measure("no-op", bench.inventory())
        rows += bench.measure("unrelated", bench.inventory(cloudbr1="2001:db8:2::%d/64"))

        def remove_addresses():    # from cloudbr1: removing cloudbr0's would cut the in-band controller off
            for index, host in enumerate(names, start=1):
                bench.sh(host, f"ip address del 2001:db8:2::{index}/64 dev cloudbr1")
        rows += bench.measure("repair", bench.inventory(cloudbr1="2001:db8:2::%d/64"), before=remove_addresses)
        for host in names:
            lab.link(host, "eth3", "down")
        rows += bench.measure("broken", bench.inventory(cloudbr1="2001:db8:2::%d/64", dead=True), expect_ok=False)
        return rows
    finally:
        lab.down()


def table(rows):
    lines = ["| phase | host (renderer) | sent | lost | longest gap (s) | bridge MACs | run (s) | healed (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in sorted(rows, key=lambda r: (PHASES.index(r["phase"]), r["host"])):
        healed = "" if r.get("healed") is None else r["healed"]
        lines.append(f"| {r['phase']} | {r['host']} ({r['renderer']}) | {r['sent']} | {r['lost']} | {r['gap']} | "
                     f"{r['macs']} | {r['seconds']} | {healed} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    p.add_argument("--vm", action="store_true", help="also a VM: first migration from eth0 to bond + bridge")
    p.add_argument("--write", action="store_true", help="put the table into docs/disruption.md")
    args = p.parse_args()
    rows = run(HOSTS, vm=False)
    if args.vm:
        rows += run({"d-vm": "netplan"}, vm=True)
    text = table(rows)
    print(text)
    if args.write:
        put_table(REPO / "docs" / "disruption.md", text, f"bench/disruption{' --vm' if args.vm else ''}")


if __name__ == "__main__":
    main()
