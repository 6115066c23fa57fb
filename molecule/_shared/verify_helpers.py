"""Verify helpers for lab hosts: read the realised networking from INSIDE a host.

Used by the testinfra tests of every Molecule scenario (import through the scenario's
tests/conftest.py, which puts this directory on sys.path). Each reader takes a testinfra host
and prefers machine-readable output (``ip -j``, ``ovs-vsctl --format=json``); the kernel's
/proc/net/bonding and /proc/net/vlan/config are parsed where they are the reference.

Lab-side actions (cut or restore a data NIC, reboot a host) go through lab/lab, which knows each
tier's method: the switch end of a container's veth, QEMU's ``set_link`` for a VM.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
LAB_CLI = REPO_ROOT / "lab" / "lab"


# --------------------------------------------------------------------------- lab state and hosts
def lab_id() -> str:
    value = os.environ.get("LAB_ID") or os.environ.get("MOLECULE_SCENARIO_NAME")
    if not value:
        raise RuntimeError("LAB_ID is not set (the shared molecule config sets it to the scenario name)")
    return value


def lab_state(lab: str | None = None) -> dict:
    root = Path(os.environ.get("LAB_STATE_DIR") or REPO_ROOT / "lab" / ".state")
    path = root / (lab or lab_id()) / "lab.json"
    if not path.is_file():
        raise RuntimeError(f"lab {lab or lab_id()} is not up: no {path}")
    return json.loads(path.read_text())


@dataclass
class LabHost:
    """One lab host: its name, its lab metadata (NICs, switch ports, addresses) and a testinfra host."""

    name: str
    lab: str
    meta: dict
    host: object = field(repr=False)

    @property
    def tier(self) -> str:
        return self.meta["tier"]

    @property
    def addresses(self) -> dict:
        return self.meta["addresses"]

    def run(self, command: str, *args):
        return self.host.run(command, *args)


def testinfra_host(meta: dict):
    import testinfra  # noqa: PLC0415 (only where testinfra is installed)

    if meta["tier"] == "containers":
        return testinfra.get_host(f"podman://{meta['container']}")
    return testinfra.get_host(
        f"ssh://{meta['ssh_user']}@{meta['ssh_host']}:{meta['ssh_port']}",
        ssh_identity_file=meta["ssh_key"],
        ssh_extra_args=" ".join(_ssh_options(meta)),
        timeout=30,
    )


def _control_path(meta: dict) -> str:
    return str(Path(meta["ssh_key"]).parent / f"cm-{meta['ssh_port']}")


def _ssh_options(meta: dict) -> list[str]:
    """ssh options for a VM: one multiplexed connection per VM (sshd under TCG is slow to
    accept), dropped within seconds when the VM goes away (reboot)."""
    return [
        "-o StrictHostKeyChecking=no", "-o UserKnownHostsFile=/dev/null", "-o IdentitiesOnly=yes",
        "-o LogLevel=ERROR", "-o ControlMaster=auto", "-o ControlPersist=60s",
        f"-o ControlPath={_control_path(meta)}", "-o ServerAliveInterval=2", "-o ServerAliveCountMax=3",
    ]


def close_ssh_master(meta: dict) -> None:
    """Stop the multiplexed ssh connection to a VM (before and after it reboots)."""
    if meta.get("tier") == "vms":
        subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={_control_path(meta)}", "x"],
                       capture_output=True, check=False, timeout=10)


def lab_hosts(lab: str | None = None) -> dict[str, LabHost]:
    """Every host of the lab, by name, with a native testinfra backend (podman exec or ssh)."""
    state = lab_state(lab)
    return {
        name: LabHost(name=name, lab=state["id"], meta=meta, host=testinfra_host(meta))
        for name, meta in sorted(state["hosts"].items(), key=lambda kv: kv[1]["index"])
    }


# --------------------------------------------------------------------------- command helpers
def _check(host, command: str, *args) -> str:
    out = host.run(command, *args)
    if out.rc != 0:
        raise AssertionError(f"`{out.command}` failed ({out.rc}): {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout


def _json(host, command: str, *args):
    text = _check(host, command, *args)
    return json.loads(text) if text.strip() else []


# --------------------------------------------------------------------------- links and addresses
def links(host) -> dict[str, dict]:
    """`ip -j -d link` by name: kind, master, operstate, flags, MAC, MTU, kind-specific data."""
    result = {}
    for link in _json(host, "ip -j -d link show"):
        info = link.get("linkinfo", {})
        result[link["ifname"]] = {
            "kind": info.get("info_kind"),
            "slave_kind": info.get("info_slave_kind"),
            "data": info.get("info_data", {}),
            "slave_data": info.get("info_slave_data", {}),
            "master": link.get("master"),
            "operstate": link.get("operstate"),
            "flags": link.get("flags", []),
            "mac": link.get("address"),
            "mtu": link.get("mtu"),
            "link": link.get("link"),
        }
    return result


def linux_bridges(host) -> dict[str, dict]:
    """Linux bridges: {name: {ports: [...], stp_state, vlan_filtering, operstate, mac}}."""
    all_links = links(host)
    return {
        name: {
            "ports": sorted(n for n, lk in all_links.items() if lk["master"] == name),
            "stp_state": link["data"].get("stp_state"),
            "vlan_filtering": link["data"].get("vlan_filtering"),
            "operstate": link["operstate"],
            "mac": link["mac"],
        }
        for name, link in all_links.items()
        if link["kind"] == "bridge"
    }


def bridge_ports(host, bridge: str) -> list[str]:
    """Ports of a Linux bridge (sorted); fails if `bridge` is not a Linux bridge."""
    bridges = linux_bridges(host)
    assert bridge in bridges, f"{bridge} is not a Linux bridge (bridges: {sorted(bridges)})"
    return bridges[bridge]["ports"]


def addresses(host, ifname: str, family: str | None = None, scope: str = "global") -> list[str]:
    """Addresses of `ifname` as "address/prefix" (global scope unless scope=None)."""
    argv = "ip -j addr show dev %s"
    data = _json(host, argv, ifname)
    found = []
    for link in data:
        for a in link.get("addr_info", []):
            if family and a.get("family") != family:
                continue
            if scope and a.get("scope") != scope:
                continue
            found.append(f"{a['local']}/{a['prefixlen']}")
    return found


def link_state(host, ifname: str) -> dict:
    """One link as links() reports it (kind, master, operstate, flags, ...)."""
    all_links = links(host)
    assert ifname in all_links, f"no link {ifname} (links: {sorted(all_links)})"
    return all_links[ifname]


# --------------------------------------------------------------------------- Linux bonds and VLANs
_BOND_MODES = {
    "load balancing (round-robin)": "balance-rr",
    "fault-tolerance (active-backup)": "active-backup",
    "load balancing (xor)": "balance-xor",
    "fault-tolerance (broadcast)": "broadcast",
    "IEEE 802.3ad Dynamic link aggregation": "802.3ad",
    "transmit load balancing": "balance-tlb",
    "adaptive load balancing": "balance-alb",
}


def parse_proc_bonding(text: str) -> dict:
    """Parse /proc/net/bonding/<bond> into {mode, active, primary, miimon, updelay, downdelay,
    mii_status, lacp_rate, members: {name: {mii_status, link_failure_count, perm_hwaddr}}}."""
    info: dict = {"members": {}}
    member = None
    for raw in text.splitlines():
        if ":" not in raw:
            continue
        key, value = (s.strip() for s in raw.split(":", 1))
        if key == "Slave Interface":
            member = value
            info["members"][member] = {}
            continue
        target = info["members"][member] if member else info
        if key == "Bonding Mode":
            info["mode_text"] = value
            info["mode"] = _BOND_MODES.get(value, value)
        elif key == "Currently Active Slave":
            info["active"] = None if value == "None" else value
        elif key == "Primary Slave":
            info["primary"] = None if value == "None" else value.split()[0]
        elif key == "MII Polling Interval (ms)":
            info["miimon"] = int(value)
        elif key == "Up Delay (ms)":
            info["updelay"] = int(value)
        elif key == "Down Delay (ms)":
            info["downdelay"] = int(value)
        elif key == "LACP rate":
            info["lacp_rate"] = value
        elif key == "MII Status":
            target["mii_status"] = value
        elif key == "Link Failure Count":
            target["link_failure_count"] = int(value)
        elif key == "Permanent HW addr":
            target["perm_hwaddr"] = value
        elif key == "Transmit Hash Policy":
            info["xmit_hash_policy"] = value.split()[0]
    return info


def bond_info(host, bond: str) -> dict:
    """A Linux bond as the kernel reports it in /proc/net/bonding/<bond> (see parse_proc_bonding)."""
    f = host.file(f"/proc/net/bonding/{bond}")
    assert f.exists, f"no Linux bond {bond} (/proc/net/bonding/{bond} is missing)"
    return parse_proc_bonding(f.content_string)


def parse_proc_vlan_config(text: str) -> dict[str, dict]:
    result = {}
    for line in text.splitlines()[2:]:
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            result[parts[0]] = {"vid": int(parts[1]), "parent": parts[2]}
    return result


def vlan_devices(host) -> dict[str, dict]:
    """802.1Q devices from /proc/net/vlan/config: {name: {vid, parent}} ({} without 8021q)."""
    f = host.file("/proc/net/vlan/config")
    return parse_proc_vlan_config(f.content_string) if f.exists else {}


# --------------------------------------------------------------------------- Open vSwitch
def _ovsdb(value):
    """Decode an OVSDB JSON value: ["set", [...]] -> list, ["map", [...]] -> dict, ["uuid", u] -> u."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("set", "map", "uuid", "named-uuid"):
        kind, inner = value
        if kind == "set":
            return [_ovsdb(v) for v in inner]
        if kind == "map":
            return {_ovsdb(k): _ovsdb(v) for k, v in inner}
        return inner
    return value


def ovs_table(host, table: str, columns: list[str]) -> list[dict]:
    """Rows of an OVS database table (`ovs-vsctl --format=json list`), decoded."""
    data = _json(host, "ovs-vsctl --timeout=10 --format=json --columns=%s list %s", ",".join(columns), table)
    return [{h: _ovsdb(v) for h, v in zip(data["headings"], row)} for row in data.get("data", [])]


def _one(value):
    """OVSDB optional scalar: [] -> None, [x] -> x, x -> x."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def ovs_bridges(host) -> dict[str, dict]:
    """Open vSwitch bridges, real and fake, with their ports.

    {name: {fake, parent, vlan, datapath_type, ports: {port: {tag, trunks, vlan_mode,
    interfaces: {name: type}, bond_mode, lacp, other_config, fake_bridge}}}}
    A fake bridge (ovs-vsctl add-br NAME PARENT VLAN) is a Port with fake_bridge=true: its ports
    are the parent's ports carrying its tag."""
    ifaces = {r["_uuid"]: r for r in ovs_table(host, "Interface", ["_uuid", "name", "type", "link_state", "admin_state"])}
    ports = {
        r["_uuid"]: r
        for r in ovs_table(host, "Port", ["_uuid", "name", "tag", "trunks", "vlan_mode", "interfaces",
                                          "bond_mode", "lacp", "other_config", "fake_bridge"])
    }
    result = {}
    for br in ovs_table(host, "Bridge", ["name", "datapath_type", "ports", "fail_mode"]):
        bports = {}
        for puuid in br["ports"] if isinstance(br["ports"], list) else [br["ports"]]:
            p = ports[puuid]
            members = p["interfaces"] if isinstance(p["interfaces"], list) else [p["interfaces"]]
            bports[p["name"]] = {
                "tag": _one(p["tag"]),
                "trunks": p["trunks"] if isinstance(p["trunks"], list) else [p["trunks"]],
                "vlan_mode": _one(p["vlan_mode"]),
                "interfaces": {ifaces[i]["name"]: ifaces[i]["type"] or "system" for i in members},
                "bond_mode": _one(p["bond_mode"]),
                "lacp": _one(p["lacp"]),
                "other_config": p["other_config"] or {},
                "fake_bridge": bool(p["fake_bridge"]),
            }
        result[br["name"]] = {
            "fake": False, "parent": None, "vlan": None,
            "datapath_type": br["datapath_type"] or "system",
            "ports": bports,
        }
        for pname, port in bports.items():
            if port["fake_bridge"]:
                result[pname] = {
                    "fake": True, "parent": br["name"], "vlan": port["tag"],
                    "datapath_type": br["datapath_type"] or "system",
                    "ports": {n: q for n, q in bports.items()
                              if q["tag"] == port["tag"] and not q["fake_bridge"]},
                }
    return result


def parse_ovs_bond_show(text: str) -> dict:
    """Parse `ovs-appctl bond/show <bond>`: {mode, lacp_status, updelay, downdelay, active,
    members: {name: {enabled, active, may_enable}}} (handles "slave" and "member" wording)."""
    info: dict = {"members": {}, "active": None}
    member = None
    for raw in text.splitlines():
        line = raw.strip()
        m = re.match(r"^(?:member|slave) (\S+): (enabled|disabled)", line)
        if m:
            member = m.group(1)
            info["members"][member] = {"enabled": m.group(2) == "enabled", "active": False}
            continue
        if member and line in ("active member", "active slave"):
            info["members"][member]["active"] = True
            info["active"] = member
            continue
        if member and line.startswith("may_enable:"):
            info["members"][member]["may_enable"] = line.split(":", 1)[1].strip() == "true"
            continue
        if ":" in line and not raw.startswith(" "):
            key, value = (s.strip() for s in line.split(":", 1))
            if key == "bond_mode":
                info["mode"] = value
            elif key == "lacp_status":
                info["lacp_status"] = value
            elif key in ("updelay", "downdelay"):
                info[key] = int(value.split()[0])
            elif key in ("active member mac", "active slave mac"):
                m = re.search(r"\((\S+)\)", value)
                if m and m.group(1) != "none":
                    info["active"] = m.group(1)
    return info


def ovs_bond_info(host, bond: str) -> dict:
    """An OVS bond as ovs-vswitchd reports it (ovs-appctl bond/show; see parse_ovs_bond_show)."""
    return parse_ovs_bond_show(_check(host, "ovs-appctl bond/show %s", bond))


def active_member(host, bond: str, ovs: bool = False) -> str | None:
    return (ovs_bond_info(host, bond) if ovs else bond_info(host, bond)).get("active")


# --------------------------------------------------------------------------- traffic
_PING_RE = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


def ping(host, target: str, count: int = 3, interface: str | None = None,
         interval: float = 0.2, wait: int = 2) -> dict:
    """Ping `target` from inside `host`: {transmitted, received, loss, ok, output}."""
    cmd = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", str(wait)]
    if interface:
        cmd += ["-I", interface]
    out = host.run(" ".join(["%s"] * (len(cmd) + 1)), *cmd, target)
    m = _PING_RE.search(out.stdout)
    sent, received = (int(m.group(1)), int(m.group(2))) if m else (count, 0)
    return {"transmitted": sent, "received": received, "loss": sent - received,
            "ok": received > 0 and out.rc == 0, "output": out.stdout + out.stderr}


def assert_ping(host, target: str, interface: str | None = None, count: int = 3, retries: int = 3):
    """Ping must succeed (a few tries: the first packets may be spent on ARP / MAC learning)."""
    last = None
    for attempt in range(1, retries + 1):
        last = ping(host, target, count=count, interface=interface)
        if last["received"] == last["transmitted"] or attempt == retries:
            break
        time.sleep(1)
    assert last["ok"], f"ping {target} via {interface or 'any'} failed:\n{last['output']}"
    return last


class BackgroundPing:
    """Ping in a thread while something happens (e.g. a link is cut): .result after .join()."""

    def __init__(self, host, target: str, seconds: float, interface: str | None = None, interval: float = 0.2):
        self.result = None
        count = max(1, int(seconds / interval))
        self._args = (host, target)
        self._kwargs = {"count": count, "interface": interface, "interval": interval, "wait": 1}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        self.result = ping(*self._args, **self._kwargs)

    def __enter__(self):
        self._thread.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        self._thread.join(timeout=120)


# --------------------------------------------------------------------------- lab actions
def lab_cli(*args: str, lab: str | None = None, timeout: int = 400) -> str:
    argv = [str(LAB_CLI), "--lab", lab or lab_id(), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def set_link(lab_host: LabHost, nic: str, up: bool) -> None:
    """Cut (up=False) or restore a data NIC the way its tier allows: container -> the switch end
    of its veth goes down (the host sees NO-CARRIER); VM -> QEMU monitor `set_link dN off`."""
    lab_cli("link", lab_host.name, nic, "up" if up else "down", lab=lab_host.lab)


@contextmanager
def link_cut(lab_host: LabHost, nic: str):
    """Cut a data NIC for the duration of the block; always restored."""
    set_link(lab_host, nic, up=False)
    try:
        yield
    finally:
        set_link(lab_host, nic, up=True)


def reboot(lab_host: LabHost, timeout: int = 300) -> None:
    """Reboot a host and wait until systemd is up again (VM: a real reboot; container: restart)."""
    close_ssh_master(lab_host.meta)
    lab_cli("reboot", lab_host.name, "--timeout", str(timeout), lab=lab_host.lab, timeout=timeout + 60)
    close_ssh_master(lab_host.meta)


def wait_for(predicate, timeout: float = 30, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def failover(lab_host: LabHost, bond: str, target: str, *, ovs: bool, interface: str | None = None,
             timeout: float = 20) -> dict:
    """Cut the bond's active member, prove traffic to `target` survives, restore the member.

    Returns {before, after, lost, transmitted}. Fails if the bond does not move to another member
    within `timeout` or if `target` stops answering once it has."""
    host = lab_host.host
    before = active_member(host, bond, ovs=ovs)
    assert before, f"{lab_host.name}: {bond} has no active member"
    with BackgroundPing(host, target, seconds=8, interface=interface) as bg, link_cut(lab_host, before):
        after = wait_for(lambda: (a := active_member(host, bond, ovs=ovs)) not in (None, before) and a,
                         timeout=timeout, what=f"{bond} on {lab_host.name} to leave {before}")
        assert_ping(host, target, interface=interface)
    result = bg.result or {}
    # The restored member must rejoin the bond before the next test.
    if ovs:
        wait_for(lambda: ovs_bond_info(host, bond)["members"].get(before, {}).get("enabled"),
                 timeout=timeout, what=f"{before} to rejoin {bond} on {lab_host.name}")
    else:
        wait_for(lambda: bond_info(host, bond)["members"].get(before, {}).get("mii_status") == "up",
                 timeout=timeout, what=f"{before} to rejoin {bond} on {lab_host.name}")
    return {"before": before, "after": after, "lost": result.get("loss"),
            "transmitted": result.get("transmitted")}


def journal_tail(host, lines: int = 40) -> str:
    out = host.run("journalctl --no-pager -n %s", str(lines))
    return out.stdout


_DIAG = r"""
echo '## links'; ip -br link; echo '## addresses'; ip -br addr; echo '## neighbours'; ip neigh
for b in /proc/net/bonding/*; do [ -e "$b" ] && { echo "## $b"; cat "$b"; }; done
if command -v ovs-vsctl >/dev/null && ovs-vsctl --timeout=3 show >/dev/null 2>&1; then
  echo '## ovs-vsctl show'; ovs-vsctl --timeout=3 show
  for b in $(ovs-appctl bond/list 2>/dev/null | awk 'NR > 1 {print $1}'); do
    echo "## bond/show $b"; ovs-appctl bond/show "$b"; done
  for br in $(ovs-vsctl --timeout=3 list-br); do echo "## fdb/show $br"; ovs-appctl fdb/show "$br"; done
  echo '## ovs-vswitchd.log'; tail -n 20 /var/log/openvswitch/ovs-vswitchd.log 2>/dev/null
fi
"""


def diagnostics(lab_host: LabHost) -> str:
    """Everything worth reading when a network test fails on a host (best effort)."""
    out = lab_host.host.run("sh -c %s", _DIAG)
    return out.stdout + out.stderr


def switch_diagnostics(lab: str | None = None) -> str:
    """The lab switch's view: its ports and the MAC addresses it learned on each."""
    state = lab_state(lab)
    sw = state["switch"]["netns"]
    parts = []
    for argv in (["ip", "-n", sw, "-br", "link"],
                 ["ip", "netns", "exec", sw, "bridge", "fdb", "show", "br", state["switch"]["bridge"]]):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
        parts.append(f"## {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    return "\n".join(parts)
