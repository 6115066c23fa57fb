"""The change catalogue (tests/lab/changes.yml) on the in-band container lab: from a converged host,
every kind of change an operator makes, each applied by network.yml through commit-confirm and
verified in the same run (kvm_network_verify), then run again (changed=0 on every host), with the
pings the peer lost while it applied. The table goes to .tmp/change-catalogue.json; run
``make lab-change-catalogue WRITE=1`` to put it into docs/disruption.md.

One test per entry, in the file's order (each starts where the previous one left the hosts; a
host that is elsewhere gets the entry's `before` applied first). Shares the lab of
test_safe_apply.py when both run in one pytest call (tests/lab/conftest.py).
"""

import copy
import json
import string
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from inband import HOSTS, LABS, REPO, RENDERERS, TIER, address, recap
from cskl_lab.traffic import Pingers

CATALOGUE = yaml.safe_load((Path(__file__).parent / "changes.yml").read_text())
RESULTS = dict((tier, REPO / ".tmp" / f"change-catalogue-{tier}.json") for tier in ("containers", "vms"))
# Each host's kind: which base model it starts from (changes.yml).
KINDS = {"sa-netplan": "linux_bridge", "sa-ifupdown": "linux_bridge", "sa-nm": "linux_bridge",
         "sa-ovs": "openvswitch", "cv-netplan": "linux_bonds", "cv-ifupdown": "linux_bonds"}
DEFAULT_KINDS = ["linux_bridge", "openvswitch"]
EVERY_RENDERER = dict((h, r) for dummy, renderers in LABS.values() for h, r in renderers.items())


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: mappings merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def substitute(value, names):
    if isinstance(value, dict):
        return dict((string.Template(k).substitute(names), substitute(v, names)) for k, v in value.items())
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, str):
        return string.Template(value).substitute(names)
    return value


def model_of(host, patch):
    kind = KINDS[host]
    index = HOSTS.index(host) + 1
    names = dict(CATALOGUE.get("variables", {}).get(kind, {}), octet=str(10 + index), address=address(index))
    # The MACs the lab gives the NICs of its index-th host (lab/cskl_lab/lab.py, containers and VMs alike).
    names.update((f"mac_eth{n}", f"52:54:00:c5:{index:02x}:{n:02x}") for n in range(4))
    names["cloudbr1_uplink_mac"] = names["mac_" + names["cloudbr1_uplink"]]
    # Substituted first, so that a patch's keys (${cloudbr1_uplink}) meet the base's.
    return merge_patch(substitute(CATALOGUE["bases"][kind], names), substitute(patch or {}, names))


def applies(entry, host):
    return (KINDS[host] in entry.get("kinds", DEFAULT_KINDS)
            and EVERY_RENDERER[host] in entry.get("renderers", ["netplan", "ifupdown", "networkmanager"]))


ENTRIES = [e for e in CATALOGUE["changes"] if any(applies(e, h) for h in HOSTS)]


def test_catalogue_is_well_formed():
    """Every entry applies to some host of some tier, changes something on each, and names are unique."""
    names = [e["name"] for e in CATALOGUE["changes"]]
    assert len(names) == len(set(names)), names
    for entry in CATALOGUE["changes"]:
        assert set(entry.get("kinds", DEFAULT_KINDS)) <= set(CATALOGUE["bases"]), entry["name"]
        hosts = [h for h in KINDS if applies(entry, h)]
        assert hosts, entry["name"]
        for host in [h for h in hosts if h in HOSTS]:
            assert model_of(host, entry.get("before")) != model_of(host, entry["after"]), (entry["name"], host)


class Catalogue:
    """What the hosts run now, and the rows measured so far."""

    def __init__(self, scenario):
        self.sc = scenario
        self.current = {}
        self.rows = []

    def play(self, models, limit, verify=True):
        inventory = self.sc.inventory(models, kvm_network_verify=verify, kvm_network_verify_fail=True)
        return self.sc.play("network.yml", inventory, limit=",".join(limit))

    def last_snapshots(self, hosts):
        """{host: its newest snapshot's manifest, or {}}, read from every host at once."""
        def last(host):
            snaps = self.sc.snapshots(host)
            return host, (snaps[-1] if snaps else {})
        with ThreadPoolExecutor(len(hosts)) as pool:
            return dict(pool.map(last, hosts))

    def run(self, entry):
        hosts = [h for h in HOSTS if applies(entry, h)]
        before = dict((h, model_of(h, entry.get("before"))) for h in hosts)
        after = dict((h, model_of(h, entry["after"])) for h in hosts)
        elsewhere = [h for h in hosts if self.current.get(h) != before[h]]
        if elsewhere:
            rc, out = self.play(before, elsewhere)
            assert rc == 0, f"{entry['name']}: the state before could not be applied:\n{out[-6000:]}"
            self.current.update((h, before[h]) for h in elsewhere)
        snapshots = dict((h, snap.get("id")) for h, snap in self.last_snapshots(hosts).items())
        targets = dict((h, address(HOSTS.index(h) + 1)) for h in hosts)
        started = time.monotonic()
        with Pingers(self.sc.lab, targets, settle=1) as pings:
            rc, out = self.play(after, hosts)
        seconds = round(time.monotonic() - started, 1)
        assert rc == 0, f"{entry['name']}: the change failed:\n{out[-8000:]}"
        self.current.update(after)
        ran = recap(out)
        rerun_rc, rerun = self.play(after, hosts, verify=False)   # verified by the run before
        assert rerun_rc == 0, f"{entry['name']}: the re-run failed:\n{rerun[-6000:]}"
        again = recap(rerun)
        last = self.last_snapshots(hosts)
        for host in hosts:
            assert ran[host][0] > 0, f"{entry['name']}: {host} reported no change:\n{out[-4000:]}"
            assert again[host] == (0, 0, 0), f"{entry['name']}: {host} re-run {again[host]}:\n{rerun[-6000:]}"
            snap = last[host]
            assert snap.get("id") != snapshots[host] and snap["status"] == "confirmed", (entry["name"], host, snap)
            self.rows.append(dict(pings.results[host], change=entry["name"], host=host, renderer=RENDERERS[host],
                                  backend=after[host]["backend"], kind=KINDS[host], tier=TIER, seconds=seconds,
                                  disruptive=bool(snap.get("disruption", {}).get("disruptive"))))


@pytest.fixture(scope="module")
def catalogue(scenario):
    cat = Catalogue(scenario)
    yield cat
    RESULTS[TIER].parent.mkdir(parents=True, exist_ok=True)
    RESULTS[TIER].write_text(json.dumps(cat.rows, indent=1))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_change(catalogue, entry):
    catalogue.run(entry)


def table(rows):
    """The docs/disruption.md table of the catalogue's rows."""
    order = [e["name"] for e in CATALOGUE["changes"]]
    lines = ["| change | host (tier, backend, renderer) | sent | lost | longest gap (s) | run (s) | path to Ansible touched |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in sorted(rows, key=lambda r: (order.index(r["change"]), r["tier"], r["host"])):
        lines.append(f"| {r['change']} | {r['host']} ({r['tier']}, {r['backend']}, {r['renderer']}) | {r['sent']} | "
                     f"{r['lost']} | {r['gap']} | {r['seconds']} | {'yes' if r['disruptive'] else 'no'} |")
    return "\n".join(lines)


if __name__ == "__main__":      # python tests/lab/test_change_catalogue.py [--write]: the table of the last run
    import sys
    sys.path.insert(0, str(REPO / "bench"))
    from benchdoc import put_table
    rows = [r for path in RESULTS.values() if path.exists() for r in json.loads(path.read_text())]
    text = table(rows)
    print(text)
    if "--write" in sys.argv:
        put_table(REPO / "docs" / "disruption.md", text,
                  "make lab-change-catalogue lab-change-catalogue-vms WRITE=1", marker="catalogue")
