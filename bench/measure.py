"""What one controller run costs: its wall time, the CPU time of ansible-playbook and of everything
it ran (forks, ssh or podman clients), and the peak resident memory of that process tree. Used by
bench/converge and bench/fleet_load."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path


def process_tree(pid):
    """``pid`` and every process under it (from /proc's parent links)."""
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo.extend(c for c in children.get(current, []) if c not in tree)
    return tree


def kill_tree(pid):
    """SIGKILL ``pid`` and every process under it, as when the controller's machine dies. Its
    process group is not enough: ansible-playbook's workers start sessions of their own
    (WorkerProcess._detach calls os.setsid), and a worker left alive carries its host's task on.
    The tree is stopped first, until no new process appears under it, then killed."""
    stopped = set()
    while True:
        tree = process_tree(pid)
        if tree <= stopped:
            break
        for process in tree - stopped:
            _signal(process, signal.SIGSTOP)
        stopped |= tree
    for process in stopped:
        _signal(process, signal.SIGKILL)


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


class PeakMemory(threading.Thread):
    """The peak of the summed resident memory of a process and all its descendants."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    def _tree_rss(self):
        total = 0
        for pid in process_tree(self.pid):
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
    process (with every process under it) is killed after ``timeout`` seconds, and rc is then -9."""
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(cwd),
                                start_new_session=True)
        sampler = PeakMemory(proc.pid)
        sampler.start()
        killer = threading.Timer(timeout, kill_tree, (proc.pid,))
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
