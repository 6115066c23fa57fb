"""Traffic through a change, seen from the lab peer: every address pinged every 10 ms while
something runs, then packets sent and lost and the longest gap between two answers.

Used by bench/disruption (figures) and tests/lab/test_change_catalogue.py (the change catalogue's
disruption column).
"""

from __future__ import annotations

import re
import time

INTERVAL = 0.01


def stats(log: str) -> dict:
    """{sent, lost, gap} from ``ping -D -i 0.01`` output; gap is the longest silence in seconds.
    The last packet, sent just before ping was stopped, is not counted lost when its answer had no
    time to come (ping counts it transmitted and not received)."""
    answers = [(float(m.group(1)), int(m.group(2)))
               for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from .*?icmp_seq=(\d+)", log, re.M)]
    times = [when for when, seq in answers]
    summary = re.search(r"(\d+) packets transmitted, (\d+) received", log)
    sent, received = (int(summary.group(1)), int(summary.group(2))) if summary else (0, len(times))
    lost = sent - received
    if lost and answers and max(seq for when, seq in answers) == sent - 1:
        lost -= 1       # the one in flight when ping stopped
    gap = max((b - a for a, b in zip(times, times[1:])), default=0.0)
    return {"sent": sent, "lost": lost, "gap": round(gap, 3)}


class Pingers:
    """``with Pingers(lab, {"host": "198.51.100.11"}) as p: ...``; then ``p.results`` is
    {host: stats}. The pings start a second before the body and stop ``settle`` seconds after it;
    ``interval``: seconds between two pings to one address (a fleet of many hosts takes a longer one)."""

    def __init__(self, lab, targets: dict, settle: float = 2.0, interval: float = INTERVAL):
        self.lab = lab
        self.targets = dict(targets)
        self.settle = settle
        self.interval = interval
        self.results: dict = {}

    def _log(self, name: str) -> str:
        return f"/tmp/cskl-ping-{name}.log"

    def __enter__(self):
        starts = "; ".join(f"(ping -n -D -i {self.interval} -W 1 {address} > {self._log(name)} 2>&1 & "
                           f"echo $! > {self._log(name)}.pid)" for name, address in self.targets.items())
        self.lab.peer_exec("rm -f /tmp/cskl-ping-*; " + starts)
        time.sleep(1)
        return self

    def __exit__(self, *exc):
        time.sleep(self.settle)
        self.lab.peer_exec("for p in /tmp/cskl-ping-*.pid; do kill -INT $(cat $p); done; sleep 0.5")
        for name in self.targets:
            self.results[name] = stats(self.lab.peer_exec(f"cat {self._log(name)}").stdout)
        return False
