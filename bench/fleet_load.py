"""bench/fleet-load: a fleet of in-band container hosts converged by site.yml in one run, then three
of them given broken models in the next run, measured and checked (issue 23's load).

A benchmark that also checks what it measures: it prints figures (and, with --write, puts its
tables in docs/performance.md), and it exits non-zero, naming the host and what went wrong, when
the fleet does not behave as the collection promises. Nothing passes or fails on a number of
seconds.

The lab: SIZE (20) container hosts, in-band (Ansible runs in the lab's controller namespace and
reaches each host over ssh through the very network it changes, forks 20), as installers leave
them: netplan with cloud-init's DHCP, ifupdown with a static eth0, NetworkManager with a DHCP
profile (two fifths, one fifth, one fifth), and Open vSwitch by ifupdown (one fifth: a bond,
cloudbr0, cloudbr1 and a VLAN 100 bridge). Every host's confirmation timer is TIMER seconds.

  converge  site.yml on every host: each address moves from eth0 to cloudbr0, commit-confirmed.
            Every host changed, confirmed, reachable.
  broken    site.yml again with the same models, except three hosts (a netplan, a NetworkManager
            and an Open vSwitch host) whose models cut them off: cloudbr0 moved to eth3, whose
            switch port is down (netplan, Open vSwitch), or the management address mistyped
            (NetworkManager). The lab peer pings every host every PING_INTERVAL s throughout.
            Each broken host rolls itself back (at once when its own pings right after the change
            fail, else when its timer fires) and answers again; every
            other host reports changed=0, failed=0, no ping lost, no new snapshot, its bridges'
            ifindex unchanged.
  verify    verify.yml with the good models on every host: the healed hosts are as they were.

Per run: wall time, the controller's CPU time (ansible-playbook and everything it ran: forks, ssh;
not what runs on the hosts) in total and per host, modules run per host
(bench/callback_plugins/roundtrips.py), the controller's peak memory. Per broken host: when its
rollback started (at once, when its own pings failed, or when its timer fired) and when it had
healed (from its snapshot's history), when it answered ssh again, and its longest ping gap.

Run: bench/fleet-load [--size 20] [--timer 60] [--write]   (root; brings its own lab up and down;
make lab-fleet-load)
"""

import argparse
import json
import os
import re
import statistics
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
from measure import measured  # noqa: E402  pylint: disable=wrong-import-position

LAB_ID = "fleet_load"
PEER = "198.51.100.254"
PING_INTERVAL = 0.1
STATE = "/var/lib/cloudstack-kvm/safe-apply"
ENV = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
           ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".tmp" / "collections"),
           ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="20",
           ANSIBLE_CALLBACK_PLUGINS=str(REPO / "bench" / "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="roundtrips")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# How a broken host's model cuts it off (see ``model``).
DEAD_UPLINK, WRONG_ADDRESS = "cloudbr0 on a dead uplink", "management address mistyped"


def address(index):
    return f"198.51.100.{10 + index}"


def fleet(size):
    """{host: kind} in inventory order: netplan, ifupdown, networkmanager or ovs (by ifupdown)."""
    fifth = size // 5
    kinds = ["netplan"] * (size - 3 * fifth) + ["ifupdown"] * fifth + ["networkmanager"] * fifth + ["ovs"] * fifth
    return dict((f"fl{index:02d}", kind) for index, kind in enumerate(kinds, start=1))


def broken_hosts(hosts):
    """{host: how its model cuts it off}: the middle netplan, NetworkManager and Open vSwitch host."""
    out = {}
    for kind, breakage in (("netplan", DEAD_UPLINK), ("networkmanager", WRONG_ADDRESS), ("ovs", DEAD_UPLINK)):
        of_kind = [h for h, k in hosts.items() if k == kind]
        out[of_kind[len(of_kind) // 2]] = breakage
    return out


def model(kind, index, breakage=None):
    """The host's kvm_network; ``breakage`` (DEAD_UPLINK, WRONG_ADDRESS) cuts the host off."""
    addr = address(150 + index) if breakage == WRONG_ADDRESS else address(index)
    if kind == "ovs":
        m = {"backend": "openvswitch", "ovs": {"datapath_type": "netdev"},
             "ethernets": {"eth0": {}, "eth1": {}, "eth2": {}},
             "bonds": {"bond0": {"interfaces": ["eth0", "eth1"], "mode": "active-backup", "miimon": 100}},
             "bridges": {"cloudbr0": {"uplink": "bond0", "addresses": [f"{addr}/24"]},
                         "cloudbr1": {"uplink": "eth2"},
                         "cloudbr100": {"uplink": "bond0", "vlan": 100, "addresses": [f"203.0.113.{10 + index}/24"]}}}
        if breakage == DEAD_UPLINK:
            m["ethernets"] = {"eth2": {}, "eth3": {}}
            del m["bonds"]
            m["bridges"]["cloudbr0"]["uplink"] = m["bridges"]["cloudbr100"]["uplink"] = "eth3"
    else:
        uplink = "eth3" if breakage == DEAD_UPLINK else "eth0"
        m = {"backend": "linux_bridge", "ethernets": {uplink: {}, "eth1": {}},
             "bridges": {"cloudbr0": {"uplink": uplink, "addresses": [f"{addr}/24"]}, "cloudbr1": {"uplink": "eth1"}}}
    m["traffic_labels"] = {"management": "cloudbr0"}
    return m


def recap(out):
    """{host: (changed, unreachable, failed)} from an ansible-playbook run's PLAY RECAP."""
    return dict((m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4)))) for m in RECAP.finditer(out))


class Problems(list):
    """What went wrong, named by host; the run exits non-zero with them at the end."""

    def check(self, ok, what):
        if not ok:
            self.append(what)
            print(f"[fleet-load] PROBLEM: {what}", flush=True)
        return ok


class Fleet:
    def __init__(self, lab, hosts, timer):
        self.lab = lab
        self.hosts = hosts
        self.index = dict((h, i) for i, h in enumerate(hosts, start=1))
        self.timer = timer
        self.dir = Path(tempfile.mkdtemp(prefix="fleet-load-"))
        self.problems = Problems()
        self.runs = []

    def sh(self, host, script):
        proc = self.lab.exec(host, ["sh", "-c", script], timeout=120)
        if proc.returncode != 0:
            raise SystemExit(f"{host}: {script[:200]}: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def prepare(self):
        """Every host as its installer left it, answering in-band on its lab address."""
        for host, kind in self.hosts.items():
            self.sh(host, installed("ifupdown" if kind == "ovs" else kind, address(self.index[host])))
        deadline = time.monotonic() + 120
        for host in self.hosts:
            while not self.lab.answers_ssh(host):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{host} does not answer in-band on {address(self.index[host])}")
                time.sleep(1)

    def inventory(self, broken=None):
        hosts = {}
        for host, kind in self.hosts.items():
            hosts[host] = {
                "kvm_network": model(kind, self.index[host], (broken or {}).get(host)),
                "kvm_network_renderer": "ifupdown" if kind == "ovs" else kind,
                "kvm_network_confirm_timeout": self.timer,
                "kvm_network_verify_traffic": [{"bridge": "cloudbr0", "target": PEER}],
                "kvm_host_install_packages": False, "kvm_host_load_kernel_modules": False,
            }
        path = self.dir / f"inventory-{time.monotonic_ns()}.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    def play(self, phase, playbook, inventory):
        """One measured ansible-playbook run in the controller namespace: (rc, output)."""
        stamp = time.monotonic_ns()
        counts, log = self.dir / f"roundtrips-{stamp}.log", self.dir / f"{phase}-{stamp}.log"
        argv = ["ip", "netns", "exec", self.lab.ctl_ns, "ansible-playbook",
                "-i", self.lab.state["inband"]["inventory"], "-i", str(inventory), str(REPO / "playbooks" / playbook)]
        # Each run its own ssh ControlPath directory: a master kept from the last run (ControlPersist)
        # may be dead after that run's network change.
        env = dict(ENV, BENCH_ROUNDTRIPS_LOG=str(counts), ANSIBLE_SSH_CONTROL_PATH_DIR=str(self.dir / f"cp-{stamp}"))
        run = measured(argv, env, log, REPO, timeout=1800)
        out = log.read_text()
        lines = counts.read_text().splitlines() if counts.exists() else []
        modules = statistics.median(sum(1 for line in lines if line.split("\t")[0] == h) for h in self.hosts)
        self.runs.append(dict(run, phase=phase, playbook=playbook, modules=modules, hosts=len(self.hosts)))
        print(f"[fleet-load] {phase}: {playbook} rc={run['rc']} {run['seconds']:.1f} s, controller CPU "
              f"{run['cpu']:.1f} s ({run['cpu'] / len(self.hosts):.2f} s per host), {modules:g} modules per host, "
              f"peak {run['peak_mib']:.0f} MiB; the whole output: {log}", flush=True)
        return run["rc"], out

    def snapshots(self, host):
        """{snapshot id: manifest} of the host's safe apply snapshots."""
        out = self.sh(host, f"for m in {STATE}/*/manifest.json; do [ -f \"$m\" ] && cat \"$m\" && echo; done; true")
        decoder, found, pos, out = json.JSONDecoder(), {}, 0, out.strip()
        while pos < len(out):
            doc, pos = decoder.raw_decode(out, pos)
            found[doc["id"]] = doc
            while pos < len(out) and out[pos].isspace():
                pos += 1
        return found

    def links(self, host):
        """{bridge: (ifindex, carrier changes)} of the host's cloudbr* devices."""
        out = self.sh(host, "for d in /sys/class/net/cloudbr*; do [ -e \"$d\" ] && echo \"${d##*/} "
                            "$(cat $d/ifindex) $(cat $d/carrier_changes)\"; done; true")
        return dict((f[0], (f[1], f[2])) for f in (line.split() for line in out.splitlines()) if len(f) == 3)

    def converge(self):
        p = self.problems
        rc, out = self.play("converge", "site.yml", self.inventory())
        p.check(rc == 0, f"converge: site.yml failed (rc={rc})")
        result = recap(out)
        for host in self.hosts:
            changed, unreachable, failed = result.get(host, (0, 1, 1))
            p.check(changed > 0 and not unreachable and not failed,
                    f"converge: {host} changed={changed} unreachable={unreachable} failed={failed}")
            statuses = [s["status"] for s in self.snapshots(host).values()]
            p.check(statuses == ["confirmed"], f"converge: {host}'s snapshots are {statuses}, not one confirmed")

    def broken_run(self, broken):
        p = self.problems
        steady = [h for h in self.hosts if h not in broken]
        before = dict((h, (set(self.snapshots(h)), self.links(h))) for h in steady)
        dead = [h for h, b in broken.items() if b == DEAD_UPLINK]
        for host in dead:
            self.lab.link(host, "eth3", "down")     # the switch port of the new uplink is dead
        healed_at = {}
        try:
            targets = dict((h, address(self.index[h])) for h in self.hosts)
            with Pingers(self.lab, targets, interval=PING_INTERVAL) as pings:
                rc, out = self.play("broken", "site.yml", self.inventory(broken))
                ended = time.time()
                # Each broken host heals by itself: it answers again at the latest once its timer
                # has fired (each host is asked in turn, so one that stays away delays no other's time).
                deadline = time.monotonic() + self.timer + 120
                while len(healed_at) < len(broken) and time.monotonic() < deadline:
                    for host in broken:
                        if host not in healed_at and self.lab.answers_ssh(host, timeout=10):
                            healed_at[host] = time.time()
                    time.sleep(1)
        finally:
            for host in dead:
                self.lab.link(host, "eth3", "up")
        p.check(rc != 0, "broken: site.yml succeeded although three hosts were cut off")
        result = recap(out)
        for host in steady:
            changed, unreachable, failed = result.get(host, (None, None, None))
            p.check((changed, unreachable, failed) == (0, 0, 0),
                    f"broken: {host} (good model) changed={changed} unreachable={unreachable} failed={failed}")
            lost = pings.results[host]["lost"]
            p.check(lost == 0, f"broken: {host} (good model) lost {lost} pings (longest gap "
                               f"{pings.results[host]['gap']} s)")
            snaps, links = before[host]
            p.check(set(self.snapshots(host)) == snaps, f"broken: {host} (good model) has a new snapshot")
            now = self.links(host)
            p.check(now == links, f"broken: {host} (good model) bridges changed: {links} -> {now}")
        heals = []
        for host, breakage in broken.items():
            changed, unreachable, failed = result.get(host, (None, None, None))
            p.check(bool(unreachable or failed), f"broken: {host} was not reported failed or unreachable")
            p.check(host in healed_at, f"broken: {host} did not answer within its timer + 120 s")
            snaps = sorted(self.snapshots(host).values(), key=lambda s: s["id"])
            last = snaps[-1] if snaps else {}
            history = dict((h["status"], h) for h in last.get("history", []))
            p.check(last.get("status") == "rolled_back", f"broken: {host}'s last snapshot is {last.get('status')}")
            rolled = history.get("rolled_back", {})
            # When the change went live: "applied" (it then waited for its confirmation), or the
            # rollback's own live_at (the host's pings failed before it ever waited).
            applied = rolled.get("live_at") or history.get("applied", history.get("armed", {})).get("at")
            fired = rolled.get("started", rolled.get("at"))
            started = round(fired - applied, 1) if fired and applied else None
            p.check(started is not None and started <= self.timer + 10,
                    f"broken: {host} did not roll back by itself within its timer ({started} s after the change)")
            heals.append({
                "host": host, "kind": self.hosts[host], "breakage": breakage,
                # A host whose own pings fail rolls back at once; one cut off from the controller
                # waits for its timer.
                "by": "its timer" if started is not None and started >= self.timer else "itself at once (its pings failed)",
                "started": started,
                "healed": round(rolled["at"] - applied, 1) if rolled.get("at") and applied else None,
                "after_play": round(healed_at[host] - ended, 1) if host in healed_at else None,
                "gap": pings.results[host]["gap"], "lost": pings.results[host]["lost"],
            })
            print(f"[fleet-load] healed: {json.dumps(heals[-1])}", flush=True)
        return heals

    def verify(self):
        rc, out = self.play("verify", "verify.yml", self.inventory())
        self.problems.check(rc == 0, f"verify: verify.yml failed (rc={rc}): {out[-2000:]}")


def tables(runs, heals, timer, up_seconds):
    lines = ["| run | playbook | hosts | wall s | controller CPU s | CPU s per host | modules per host | peak MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        lines.append(f"| {r['phase']} | {r['playbook']} | {r['hosts']} | {r['seconds']:.1f} | {r['cpu']:.1f} | "
                     f"{r['cpu'] / r['hosts']:.2f} | {r['modules']:g} | {r['peak_mib']:.0f} |")
    lines += ["", f"Broken hosts (timer {timer} s; seconds from the change being applied):", "",
              "| host | system | broken by | rolled back by | rollback started | healed | answered ssh, s after the play | "
              "longest ping gap s |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for h in heals:
        lines.append(f"| {h['host']} | {h['kind']} | {h['breakage']} | {h['by']} | {h['started']} | {h['healed']} | "
                     f"{h['after_play']} | {h['gap']} |")
    lines += ["", f"Lab bring-up: {up_seconds} s."]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    p.add_argument("--size", type=int, default=20, help="container hosts (at least 5)")
    p.add_argument("--timer", type=int, default=60, help="kvm_network_confirm_timeout of every host")
    p.add_argument("--write", action="store_true", help="put the tables into docs/performance.md")
    p.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    args = p.parse_args()
    if args.size < 5:
        p.error("--size: at least 5 hosts (one of each kind, and a netplan host besides)")
    hosts = fleet(args.size)
    lab = Lab(LAB_ID)
    up_seconds = lab.up("containers", list(hosts), replace=True, inband=True, dhcp=True)["up_seconds"]
    try:
        run = Fleet(lab, hosts, args.timer)
        run.prepare()
        run.converge()
        heals = run.broken_run(broken_hosts(hosts))
        run.verify()
    finally:
        if not args.keep:
            lab.down()
    text = tables(run.runs, heals, args.timer, up_seconds)
    print(text)
    if run.problems:
        raise SystemExit("the fleet did not behave:\n  " + "\n  ".join(run.problems))
    if args.write:
        put_table(REPO / "docs" / "performance.md", text, " ".join(["bench/fleet-load"] + sys.argv[1:]),
                  marker="fleet-load")


if __name__ == "__main__":
    main()
