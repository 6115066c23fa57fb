"""lab/lab: the command line of the lab. Run `lab/lab --help`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import images
from .images import FLAVOURS
from .lab import TIERS, Lab, down_all, known_labs, leftovers
from .util import LabError, log, require_root

DEFAULT_LAB = {"containers": "ct", "vms": "vm"}
DEFAULT_PREFIX = {"containers": "ct", "vms": "vm"}


def _lab_id(args, tier: str | None = None) -> str:
    if args.lab:
        return args.lab
    if os.environ.get("LAB_ID"):
        return os.environ["LAB_ID"]
    if tier:
        return DEFAULT_LAB[tier]
    labs = known_labs()
    if len(labs) == 1:
        return labs[0]
    raise LabError(f"say which lab with --lab (labs up: {', '.join(labs) or 'none'})")


def cmd_images(args) -> int:
    out = images.ensure_built(force=args.force)
    if args.flavour:
        out = images.ensure_flavour(args.flavour)
    ref = images.podman_image(out)
    m = images.manifest(out)
    print(json.dumps({"dir": str(out), "podman_image": ref, "key": m["key"], "kernel": m["kernel"]}, indent=1))
    return 0


def cmd_up(args) -> int:
    tier = args.tier
    if args.names:
        names = [n for n in args.names.split(",") if n]
    else:
        names = [f"{args.prefix or DEFAULT_PREFIX[tier]}{i}" for i in range(1, args.hosts + 1)]
    lab = Lab(_lab_id(args, tier))
    state = lab.up(tier, names, replace=args.replace, inband=args.inband, dhcp=args.dhcp, flavour=args.flavour)
    if args.json:
        print(json.dumps(state, indent=1, sort_keys=True))
    else:
        print(state["inventory"])
    return 0


def cmd_down(args) -> int:
    if args.all or not (args.lab or os.environ.get("LAB_ID")):
        down_all()
        left = leftovers()
    else:
        lab_id = _lab_id(args)
        Lab(lab_id).down()
        left = leftovers(lab_id)
    if any(left.values()):
        log(f"WARNING: still present: {left}")
        return 1
    return 0


def cmd_status(args) -> int:
    labs = [args.lab] if args.lab else known_labs()
    report = {"labs": {}, "leftovers": leftovers()}
    for lab_id in labs:
        lab = Lab(lab_id)
        if not lab.state_file.is_file():
            report["labs"][lab_id] = {
                "error": f"objects on this machine but no state in {lab.dir} (another checkout's lab, "
                         f"or an interrupted run: `lab/lab --lab {lab_id} down` removes them)"}
            continue
        st = lab.load()
        hosts = {}
        for name, h in st["hosts"].items():
            proc = lab.exec(name, ["systemctl", "is-system-running"], timeout=20)
            hosts[name] = {"tier": h["tier"], "systemd": proc.stdout.strip() or proc.stderr.strip()[:80]}
            if h["tier"] == "vms":
                hosts[name].update(pid=h.get("pid"), ssh_port=h["ssh_port"])
        report["labs"][lab_id] = {"tier": st["tier"], "inventory": st["inventory"], "hosts": hosts}
    if args.json:
        print(json.dumps(report, indent=1, sort_keys=True))
    else:
        for lab_id, info in report["labs"].items():
            if "error" in info:
                print(f"lab {lab_id}: {info['error']}")
                continue
            print(f"lab {lab_id} ({info['tier']}), inventory {info['inventory']}")
            for name, h in info["hosts"].items():
                extra = f" pid {h['pid']} ssh 127.0.0.1:{h['ssh_port']}" if h["tier"] == "vms" else ""
                print(f"  {name:16} systemd {h['systemd']}{extra}")
        if not report["labs"]:
            print("no lab is up")
        left = {k: v for k, v in report["leftovers"].items() if v}
        print("lab objects on this machine: " + (json.dumps(left) if left else "none"))
    return 0


def cmd_link(args) -> int:
    Lab(_lab_id(args)).link(args.host, args.nic, args.state)
    return 0


def cmd_lacp(args) -> int:
    Lab(_lab_id(args)).lacp_partner(args.host, args.nics, on=args.state == "on")
    return 0


def cmd_reboot(args) -> int:
    Lab(_lab_id(args)).reboot(args.host, timeout=args.timeout)
    return 0


def cmd_power_cut(args) -> int:
    Lab(_lab_id(args)).power_cut(args.host, timeout=args.timeout)
    return 0


def cmd_exec(args) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    proc = Lab(_lab_id(args)).exec(args.host, command, timeout=args.timeout)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


def cmd_ctl(args) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    proc = Lab(_lab_id(args)).ctl_exec(command, timeout=args.timeout)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


def cmd_monitor(args) -> int:
    lab = Lab(_lab_id(args))
    lab.load()
    print(lab.monitor(args.host, " ".join(args.command)))
    return 0


def cmd_leftovers(args) -> int:
    left = leftovers(args.lab)
    print(json.dumps(left, indent=1))
    return 1 if any(left.values()) else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="lab/lab",
        description="Simulated KVM hypervisors on this machine: systemd containers or QEMU VMs "
        "wired to a switch namespace. Needs root.",
    )
    p.add_argument("--lab", help="lab id (default: $LAB_ID, or ct / vm by tier)")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("images", help="build (or reuse) the cached images and import the container image")
    s.add_argument("--force", action="store_true", help="rebuild even when cached")
    s.add_argument("--flavour", choices=FLAVOURS, help="also build (or reuse) this flavour and import it instead")
    s.set_defaults(func=cmd_images)

    s = sub.add_parser("up", help="bring a lab up and write its Ansible inventory")
    s.add_argument("--tier", choices=TIERS, default=os.environ.get("LAB_TIER", "containers"))
    s.add_argument("--hosts", type=int, default=int(os.environ.get("LAB_HOSTS", "2")))
    s.add_argument("--names", default=os.environ.get("LAB_NAMES"), help="comma-separated host names")
    s.add_argument("--prefix", help="host name prefix when --names is not given (default ct / vm)")
    s.add_argument("--replace", action="store_true", help="tear down a lab of the same id first")
    s.add_argument("--json", action="store_true", help="print the lab state as JSON")
    s.add_argument("--inband", action="store_true",
                   help="add the controller namespace (Ansible over the lab switch) and inventory-inband.yml")
    s.add_argument("--dhcp", action="store_true", help="in-band, with a DHCP server leasing each eth0 its address")
    s.add_argument("--flavour", choices=FLAVOURS, default=os.environ.get("LAB_FLAVOUR") or None,
                   help="container hosts from a flavour of the image (lab/flavours/NAME: libvirt = libvirtd, QEMU)")
    s.set_defaults(func=cmd_up)

    s = sub.add_parser("down", help="tear a lab down (all labs without --lab / $LAB_ID)")
    s.add_argument("--all", action="store_true")
    s.set_defaults(func=cmd_down)

    s = sub.add_parser("status", help="labs, hosts and leftovers")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("link", help="cut or restore a host's data NIC")
    s.add_argument("host")
    s.add_argument("nic", help="eth0..eth3")
    s.add_argument("state", choices=("up", "down"))
    s.set_defaults(func=cmd_link)

    s = sub.add_parser("lacp", help="make the peer a host's LACP partner (lacp=active) on NICs, or put them back")
    s.add_argument("host")
    s.add_argument("state", choices=("on", "off"))
    s.add_argument("nics", nargs="+", help="eth0..eth3 (the port channel's legs)")
    s.set_defaults(func=cmd_lacp)

    s = sub.add_parser("reboot", help="reboot a host and wait until it is back")
    s.add_argument("host")
    s.add_argument("--timeout", type=int, default=300)
    s.set_defaults(func=cmd_reboot)

    s = sub.add_parser("power-cut", help="reset a VM without shutting it down (QEMU system_reset), wait until it is back")
    s.add_argument("host")
    s.add_argument("--timeout", type=int, default=300)
    s.set_defaults(func=cmd_power_cut)

    s = sub.add_parser("exec", help="run a command on a host (podman exec / ssh)")
    s.add_argument("host")
    s.add_argument("--timeout", type=int, default=120)
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_exec)

    s = sub.add_parser("ctl", help="run a command in an in-band lab's controller namespace")
    s.add_argument("--timeout", type=int, default=None)
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_ctl)

    s = sub.add_parser("monitor", help="send a QEMU monitor command to a VM")
    s.add_argument("host")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_monitor)

    s = sub.add_parser("leftovers", help="list lab objects still on this machine (exit 1 if any)")
    s.set_defaults(func=cmd_leftovers)

    args = p.parse_args(argv)
    try:
        require_root()
        return args.func(args)
    except LabError as exc:
        log(f"ERROR: {exc}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130
