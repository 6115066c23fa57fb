"""bench/converge: how long site.yml and network.yml take against hand-written peers, measured.

A benchmark, not a test: it prints figures (and, with --write, puts the table in
docs/performance.md); nothing here passes or fails on a number.

Two jobs, each on a fresh container lab (ssh through podman exec, forks 20) of every size asked for:

  lb    Linux bridges by netplan: cloudbr0 on eth0 with an address, cloudbr1 on eth1.
        site.yml and network.yml against bench/peers/netplan.yml (a template, generate/apply handlers).
  ovs   seed 000 on Open vSwitch (netdev datapath) by ifupdown: bonds, cloudbr0, cloudbr1, cloudbr100.
        site.yml and network.yml against bench/peers/ovs.yml (one task per object, an ifupdown file
        for the addresses).

For each size, job and repetition the tools take turns (interleaved), each on hosts reset to the
same unconfigured state: first converge, no-op re-run, check mode (--check). Per run: wall time,
modules run per host (bench/callback_plugins/roundtrips.py), the controller's CPU time per host
(ansible-playbook and every process it ran: forks, podman or ssh clients; os.wait4's rusage) and its
peak memory (the resident memory of ansible-playbook and every process under it, sampled every 0.1 s). The table
gives the median of the repetitions and the ratio to the job's peer. --vm adds the lb job on one
VM (QEMU/TCG, ssh).

Run: bench/converge [--sizes 1,5,10,20] [--ovs-sizes SIZES] [--reps 3] [--jobs lb,ovs] [--vm] [--write]   (root)
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))

from cskl_lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position
from benchdoc import put_table  # noqa: E402  pylint: disable=wrong-import-position
from measure import measured  # noqa: E402  pylint: disable=wrong-import-position

ENV = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
           ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".tmp" / "collections"),
           ANSIBLE_FORCE_COLOR="0", ANSIBLE_CALLBACK_PLUGINS=str(REPO / "bench" / "callback_plugins"),
           ANSIBLE_CALLBACKS_ENABLED="roundtrips", ANSIBLE_FORKS="20")
MODES = ("first", "rerun", "check")
FLOOR = ("floor", REPO / "bench" / "peers" / "floor.yml")
TOOLS = {
    "lb": (("site.yml", REPO / "playbooks" / "site.yml"), ("network.yml", REPO / "playbooks" / "network.yml"),
           ("netplan peer", REPO / "bench" / "peers" / "netplan.yml"), FLOOR),
    "ovs": (("site.yml", REPO / "playbooks" / "site.yml"), ("network.yml", REPO / "playbooks" / "network.yml"),
            ("ovs peer", REPO / "bench" / "peers" / "ovs.yml"), FLOOR),
}
PEER = {"lb": "netplan peer", "ovs": "ovs peer"}

# Everything any tool leaves, removed, so that each first converge starts from the same host.
RESET = r"""
for dev in cloudbr100 cloudbr0 cloudbr1 bond0 bond1 eth0 eth1 eth2 eth3; do ifdown --force $dev 2>/dev/null; done
rm -f /etc/netplan/60-cloudstack-kvm.yaml /etc/netplan/60-peer-bridges.yaml
rm -f /etc/network/interfaces.d/cloudstack-kvm /etc/network/interfaces.d/peer-ovs-addresses
rm -f /etc/sysctl.d/60-cloudstack-kvm.conf /etc/modules-load.d/cloudstack-kvm.conf
rm -f /etc/udev/rules.d/60-cloudstack-kvm-bridge-nf.rules
rm -rf /var/lib/cloudstack-kvm /var/backups/cloudstack-kvm /etc/hosts.*~
printf 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n' > /etc/network/interfaces
sed -i '/^198\.51\.100\./d' /etc/hosts
netplan generate 2>/dev/null; networkctl reload 2>/dev/null
for br in cloudbr100 cloudbr0 cloudbr1; do ovs-vsctl --if-exists del-br $br 2>/dev/null; done
for dev in cloudbr0 cloudbr1 cloudbr100 bond0 bond1; do ip link del $dev 2>/dev/null; done
for nic in eth0 eth1 eth2 eth3; do ip address flush dev $nic 2>/dev/null; ip link set $nic up 2>/dev/null; done
true
"""


def address(index):
    return f"198.51.100.{10 + index}"


def host_vars(job, index, vm=False):
    """The same network for the collection (kvm_network) and for the job's peer (peer_*)."""
    if job == "lb":
        bridges = {"cloudbr0": {"uplink": "eth0", "addresses": [f"{address(index)}/24"]}, "cloudbr1": {"uplink": "eth1"}}
        return {"kvm_network_renderer": "netplan",
                "kvm_network": {"backend": "linux_bridge", "ethernets": {"eth0": {}, "eth1": {}},
                                "bridges": bridges, "traffic_labels": {"management": "cloudbr0", "guest": "cloudbr0"}},
                "peer_bridges": bridges}
    datapath = "system" if vm else "netdev"
    return {
        "kvm_network_renderer": "ifupdown",
        "kvm_network": {
            "backend": "openvswitch", "ovs": {"datapath_type": datapath},
            "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}, "eth3": {}},
            "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "lacp": "off", "miimon": 100},
                      "bond1": {"interfaces": ["eth2", "eth3"], "mode": "active-backup", "lacp": "off", "miimon": 100}},
            "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{address(index)}/24"]},
                        "cloudbr1": {"uplink": "bond1"},
                        "cloudbr100": {"uplink": "bond0", "vlan": 100, "addresses": [f"203.0.113.{10 + index}/24"]}},
            "traffic_labels": {"management": "cloudbr0", "guest": "cloudbr0", "public": "cloudbr1",
                               "storage": "cloudbr100"}},
        "peer_datapath_type": datapath,
        "peer_ovs": {"bridges": {"cloudbr0": {"bond": "bond0", "interfaces": ["eth0", "eth1"],
                                              "addresses": [f"{address(index)}/24"]},
                                 "cloudbr1": {"bond": "bond1", "interfaces": ["eth2", "eth3"]}},
                     "fake_bridges": {"cloudbr100": {"parent": "cloudbr0", "vlan": 100,
                                                     "addresses": [f"203.0.113.{10 + index}/24"]}}},
    }


class Bench:
    def __init__(self, lab, names, vm=False):
        self.lab = lab
        self.names = names
        self.vm = vm
        self.dir = Path(tempfile.mkdtemp(prefix="converge-"))

    def reset(self):
        with ThreadPoolExecutor(max_workers=min(len(self.names), 8)) as pool:
            list(pool.map(lambda n: self.lab.exec(n, ["sh", "-c", RESET], timeout=120), self.names))

    def inventory(self, job):
        hosts = {}
        for index, name in enumerate(self.names, start=1):
            hosts[name] = dict(host_vars(job, index, self.vm), kvm_host_install_packages=False,
                               kvm_host_load_kernel_modules=self.vm)
        path = self.dir / f"inv-{job}.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    def play(self, playbook, inventory, check=False):
        """One ansible-playbook run: (seconds, modules per host, peak MiB, controller CPU seconds per host)."""
        counts = self.dir / f"roundtrips-{time.monotonic_ns()}.log"
        argv = ["ansible-playbook", "-i", self.lab.state["inventory"], "-i", str(inventory), str(playbook)]
        if check:
            argv.append("--check")
        log = self.dir / f"play-{time.monotonic_ns()}.log"
        env = dict(ENV, BENCH_ROUNDTRIPS_LOG=str(counts))
        run = measured(argv, env, log, REPO)
        rc, seconds = run["rc"], run["seconds"]
        if rc != 0:
            raise SystemExit(f"{playbook.name} failed (rc={rc}); the whole output: {log}\n"
                             + log.read_text()[-3000:])
        lines = counts.read_text().splitlines() if counts.exists() else []
        per_host = [sum(1 for line in lines if line.split("\t")[0] == name) for name in self.names]
        return seconds, statistics.median(per_host), run["peak_mib"], run["cpu"] / len(self.names)

    def job(self, job, reps):
        inventory = self.inventory(job)
        results = {}
        for rep in range(reps):
            for tool, playbook in TOOLS[job]:
                self.reset()
                for mode in MODES:
                    figures = self.play(playbook, inventory, check=(mode == "check"))
                    results.setdefault((tool, mode), []).append(figures)
                    print(f"[converge] {job} x{len(self.names)}{' vm' if self.vm else ''} rep {rep + 1} {tool} "
                          f"{mode}: {figures[0]:.1f} s, {figures[1]:g} modules/host, {figures[2]:.0f} MiB, "
                          f"{figures[3]:.2f} s CPU/host",
                          flush=True)
        self.reset()
        return results


def run(job, size, reps, vm=False):
    lab = Lab("converge_vm" if vm else "converge")
    names = [f"{'cv' if vm else 'cc'}{i}" for i in range(1, size + 1)]
    lab.up("vms" if vm else "containers", names, replace=True)
    try:
        return Bench(lab, names, vm).job(job, reps)
    finally:
        lab.down()


def rows_of(job, size, results, where):
    rows = []
    for (tool, mode), figures in results.items():
        rows.append({"job": job, "hosts": size, "where": where, "tool": tool, "mode": mode,
                     "seconds": statistics.median(f[0] for f in figures),
                     "spread": (min(f[0] for f in figures), max(f[0] for f in figures)),
                     "modules": statistics.median(f[1] for f in figures),
                     "peak": max(f[2] for f in figures),
                     "cpu": statistics.median(f[3] for f in figures) if all(len(f) > 3 for f in figures) else None})
    for row in rows:
        peer = [r for r in rows if r["tool"] == PEER[job] and r["mode"] == row["mode"]]
        row["ratio"] = row["seconds"] / peer[0]["seconds"] if peer and peer[0]["seconds"] else None
    return rows


def table(rows, reps):
    lines = [f"| job | hosts | tool | mode | median s (min-max of {reps}) | x peer | modules per host | "
             "controller CPU s per host | peak MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = {t: i for i, t in enumerate(["site.yml", "network.yml", "netplan peer", "ovs peer", "floor"])}
    for r in sorted(rows, key=lambda r: (r["job"], r["where"], r["hosts"], order[r["tool"]], MODES.index(r["mode"]))):
        ratio = "" if r["tool"] == PEER[r["job"]] or r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(f"| {r['job']} | {r['hosts']}{' ' + r['where'] if r['where'] != 'containers' else ''} | "
                     f"{r['tool']} | {r['mode']} | {r['seconds']:.1f} ({r['spread'][0]:.1f}-{r['spread'][1]:.1f}) | "
                     f"{ratio} | {r['modules']:g} | {'' if r['cpu'] is None else format(r['cpu'], '.2f')} | "
                     f"{r['peak']:.0f} |")
    return "\n".join(lines)


LINE = re.compile(r"^\[converge\] (\w+) x(\d+)( vm)? rep \d+ (.+) (first|rerun|check): ([\d.]+) s, ([\d.]+) modules/host, "
                  r"(\d+) MiB(?:, ([\d.]+) s CPU/host)?$")


def rows_from_logs(paths):
    """The rows of the ``[converge]`` lines that earlier runs printed (a run cut short prints no
    table, but every figure it measured)."""
    results = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            m = LINE.match(line.strip())
            if m:
                job, size, vm, tool, mode = m.group(1), int(m.group(2)), bool(m.group(3)), m.group(4), m.group(5)
                figures = (float(m.group(6)), float(m.group(7)), float(m.group(8)))
                if m.group(9):
                    figures += (float(m.group(9)),)
                results.setdefault((job, size, vm), {}).setdefault((tool, mode), []).append(figures)
    rows = []
    for (job, size, vm), found in sorted(results.items()):
        rows += rows_of(job, size, found, "VM" if vm else "containers")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    p.add_argument("--sizes", default="1,5,10,20", help="container hosts per lab, comma-separated")
    p.add_argument("--reps", type=int, default=3, help="repetitions (the table gives their median)")
    p.add_argument("--jobs", default="lb,ovs", help="lb, ovs or both")
    p.add_argument("--ovs-sizes", default=None, help="container hosts for the ovs job (default: --sizes)")
    p.add_argument("--vm", action="store_true", help="also the lb job on one VM over ssh")
    p.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    p.add_argument("--from-log", nargs="+", metavar="LOG", help="no run: the table of the figures these saved "
                   "outputs of bench/converge printed")
    args = p.parse_args()
    if args.from_log:
        rows = rows_from_logs(args.from_log)
        text = table(rows, "the runs")
        print(text)
        if args.write:
            put_table(REPO / "docs" / "performance.md", text, " ".join(["bench/converge"] + sys.argv[1:]))
        return
    rows = []
    sizes = {"lb": args.sizes, "ovs": args.ovs_sizes or args.sizes}
    for job in args.jobs.split(","):
        for size in [int(s) for s in sizes[job].split(",") if s]:
            rows += rows_of(job, size, run(job, size, args.reps), "containers")
    if args.vm:
        rows += rows_of("lb", 1, run("lb", 1, args.reps, vm=True), "VM")
    text = table(rows, args.reps)
    print(text)
    if args.write:
        put_table(REPO / "docs" / "performance.md", text, " ".join(["bench/converge"] + sys.argv[1:]))


if __name__ == "__main__":
    main()
