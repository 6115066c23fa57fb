"""site.yml in AWX's job slices: wall time of 1, 2 and 4 slices run as parallel jobs.

An in-band container lab of ``--hosts`` hosts, each as an installer leaves it (a static address on
eth0 by ifupdown), reached over ssh from the lab's controller namespace. For each slice count, in
turn and ``--reps`` times: the hosts are reset to that installed state, then site.yml converges
them (first) and runs again (rerun, a no-op), each time as that many ansible-runner jobs at once,
each from its own private data directory with its slice of the inventory (lab/cskl_lab/awx.py).
The figure is the wall time until the last slice ends (the median of the repetitions), beside
the slowest slice's own time and the hosts per slice.
"""

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))
sys.path.insert(0, str(REPO / "bench"))

from cskl_lab import awx  # noqa: E402  pylint: disable=wrong-import-position
from cskl_lab.installed import installed  # noqa: E402  pylint: disable=wrong-import-position
from cskl_lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position
from benchdoc import put_table  # noqa: E402  pylint: disable=wrong-import-position
from converge import RESET  # noqa: E402  pylint: disable=wrong-import-position


def address(index):
    return f"198.51.100.{10 + index}"


def hostvars(names):
    out = {}
    for index, name in enumerate(names, start=1):
        out[name] = {
            "kvm_network_renderer": "ifupdown", "kvm_network_confirm_timeout": 60,
            "kvm_host_install_packages": False, "kvm_host_load_kernel_modules": False,
            "kvm_network": {"backend": "linux_bridge", "ethernets": {"eth0": {}, "eth1": {}},
                            "bridges": {"cloudbr0": {"uplink": "eth0", "addresses": [f"{address(index)}/24"]},
                                        "cloudbr1": {"uplink": "eth1"}},
                            "traffic_labels": {"management": "cloudbr0"}},
        }
    return out


class Bench:
    def __init__(self, lab, names):
        self.lab = lab
        self.names = names
        self.jobs = awx.LabJobs(lab, Path(tempfile.mkdtemp(prefix="slices-")))
        self.vars = hostvars(names)

    def reset(self):
        def one(item):
            index, name = item
            self.lab.exec(name, ["sh", "-c", RESET + installed("ifupdown", address(index))], timeout=120)
        with ThreadPoolExecutor(max_workers=min(len(self.names), 8)) as pool:
            list(pool.map(one, enumerate(self.names, start=1)))

    def sliced(self, count):
        """(wall seconds, slowest slice's seconds, hosts per slice) of one sliced run."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(lambda k: self.jobs.run(self.vars, groups={"hypervisors": self.names},
                                                            slice_number=k, slice_count=count), range(1, count + 1)))
        wall = time.monotonic() - started
        for result in results:
            if result["status"] != "successful":
                raise SystemExit(f"a slice failed: {result['private_data_dir']}: {result['stats']}")
        return wall, max(r["seconds"] for r in results), [len(r["inventory"]["all"]["hosts"]) for r in results]


def table(rows, hosts, reps):
    one = dict((mode, wall) for count, mode, wall, _slowest, _per in rows if count == 1)
    lines = [f"| slices | hosts per slice | mode | wall s (median of {reps}) | x one job | slowest slice s |",
             "| --- | --- | --- | --- | --- | --- |"]
    for count, mode, wall, slowest, per in rows:
        lines.append(f"| {count} | {'/'.join(str(n) for n in per)} | {mode} | {wall:.1f} | "
                     f"{wall / one[mode]:.2f} | {slowest:.1f} |")
    return f"{hosts} hosts, site.yml, each slice an ansible-runner job:\n\n" + "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    p.add_argument("--hosts", type=int, default=8)
    p.add_argument("--slices", default="1,2,4")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--write", action="store_true", help="put the table into docs/awx.md")
    args = p.parse_args()
    names = [f"sl{i:02d}" for i in range(1, args.hosts + 1)]
    lab = Lab("slices")
    lab.up("containers", names, replace=True, inband=True)
    try:
        bench = Bench(lab, names)
        figures = {}
        for rep in range(args.reps):
            for count in [int(c) for c in args.slices.split(",")]:
                bench.reset()
                for mode in ("first", "rerun"):
                    wall, slowest, per = bench.sliced(count)
                    figures.setdefault((count, mode), []).append((wall, slowest, per))
                    print(f"[slices] rep {rep + 1} {count} slice(s) {mode}: {wall:.1f} s (slowest slice {slowest:.1f} s)",
                          flush=True)
    finally:
        lab.down()
    rows = [(count, mode, statistics.median(f[0] for f in runs), statistics.median(f[1] for f in runs), runs[0][2])
            for (count, mode), runs in figures.items()]
    text = table(rows, args.hosts, args.reps)
    print(text)
    if args.write:
        put_table(REPO / "docs" / "awx.md", text, " ".join(["bench/slices"] + sys.argv[1:]))


if __name__ == "__main__":
    main()
