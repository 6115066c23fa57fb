"""What one controller run costs: its wall time, the CPU time of ansible-playbook and of everything
it ran (forks, ssh or podman clients), and the peak resident memory of that process tree. Used by
bench/converge and bench/fleet_load."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path


class PeakMemory(threading.Thread):
    """The peak of the summed resident memory of a process and all its descendants."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    @staticmethod
    def _children():
        parent_of = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parent_of[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        return parent_of

    def _tree_rss(self):
        parent_of = self._children()
        tree = {self.pid}
        grew = True
        while grew:
            grew = False
            for pid, ppid in parent_of.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        total = 0
        for pid in tree:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def run(self):
        while not self.done.is_set():
            self.peak_kib = max(self.peak_kib, self._tree_rss())
            self.done.wait(0.1)


def measured(argv, env, log, cwd, timeout=1800):
    """Run ``argv`` with its output in ``log``: {rc, seconds, cpu, peak_mib}. ``cpu`` is the user and
    system seconds of the process and of every descendant reaped under it (os.wait4's rusage); an
    ssh ControlMaster that outlives its client is not counted, nor is what runs on the hosts. The
    process (and its process group) is killed after ``timeout`` seconds, and rc is then -9."""
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(cwd),
                                start_new_session=True)
        sampler = PeakMemory(proc.pid)
        sampler.start()
        killer = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
        killer.start()
        try:
            status, usage = os.wait4(proc.pid, 0)[1:]
        finally:
            killer.cancel()
            sampler.done.set()
            sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)     # reaped here, not by Popen
    return {"rc": proc.returncode, "seconds": time.monotonic() - started,
            "cpu": usage.ru_utime + usage.ru_stime, "peak_mib": sampler.peak_kib / 1024.0}
