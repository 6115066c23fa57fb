"""Bring labs up and down: the switch, the peer, container hosts and VM hosts.

A lab (id ``ID``) is:
  * ``cskl-ID-sw``       network namespace with bridge ``swbr0``: the top-of-rack switch. No
                         vlan_filtering (this kernel has none), so it is a hub that carries
                         802.1Q-tagged frames between every port: a trunk to each hypervisor.
  * ``cskl-ID-peer``     a small systemd container (same image) on switch port ``peer0`` that
                         answers on 198.51.100.254/24 untagged and 203.0.113.254/24 on VLAN 100,
                         through an Open vSwitch bridge on the userspace datapath (a fake bridge
                         tagged 100). The machine's kernel has no 802.1Q, so the tagging peer
                         cannot be a plain namespace.
  * hosts, all of one tier:
      containers  podman container ``cskl-ID-NAME`` (hostname NAME), systemd as PID 1, network
                  namespace ``cskl-ID-h-NAME`` pre-wired with
                  eth0..eth3 (veth; switch ends ``h<i>e<n>``). No management address: Ansible
                  uses ssh through ``podman exec ... sshd -i`` (container_ssh_args).
      vms         QEMU (TCG) with eth0..eth3 on taps moved into the switch namespace (renamed
                  ``h<i>e<n>``), mgmt0 on QEMU user networking with ssh forwarded from
                  127.0.0.1:<port>, a monitor socket (set_link) and a serial log.
  * in-band labs (``up --inband``) also have ``cskl-ID-ctl``: a network namespace on switch port
                  ``ctl0`` with 198.51.100.250/24, from which Ansible reaches the hosts over the very
                  network it changes (``inventory-inband.yml``: ssh to each host's lab address; the
                  containers run sshd with the lab's key). With ``--dhcp`` a dnsmasq there leases each
                  host's eth0 its lab address, as an installer's DHCP would.
State (PIDs, ports, sockets, disks, the inventory) lives in ``lab/.state/ID/`` (LAB_STATE_DIR).
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import images
from .util import (
    CONTAINERS_CONF,
    LABEL,
    LABEL_ROLE,
    PREFIX,
    REPO_ROOT,
    LabError,
    check_host_name,
    check_lab_id,
    flock,
    ip,
    log,
    netns_list,
    pid_alive,
    podman,
    proc_cmdline,
    run,
    short_hash,
    state_root,
    wait_until,
    yaml_dump,
)

TIERS = ("containers", "vms")
NICS = 4
SWITCH_BRIDGE = "swbr0"
PEER_PORT = "peer0"
MGMT_MAC = "52:54:00:c5:ff:fe"  # matched by the VM image's 10-cskl-mgmt0.link
MAX_HOSTS = {"containers": 60, "vms": 8}
INOTIFY_PER_CONTAINER = 16     # a host container's systemd, user manager, networkd, udev, NetworkManager (measured: about 8)

# Addressing plan (RFC 5737 / RFC 3849 documentation ranges only).
# The controller of an in-band lab, on the untagged segment.
# The peer as an LACP partner (``Lab.lacp_partner``): its bond and the address behind it.
LACP_PARTNER = {"bond": "lb-%s", "ipv6": "2001:db8:ac::254"}     # one bond per host, named by its first leg
CONTROLLER = {"port": "ctl0", "ipv4": "198.51.100.250", "ipv6": "2001:db8:1::fa"}
PEER = {
    "untagged_ipv4": "198.51.100.254",
    "vlan_ipv4": "203.0.113.254",
    "untagged_ipv6": "2001:db8:1::fe",
    "vlan_ipv6": "2001:db8:100::fe",
    "vlan": 100,
}


def container_ssh_args() -> str:
    """ssh options that reach a lab container (the ssh host name is the container's name) with no
    network: ssh's ProxyCommand starts ``sshd -i`` in it through ``podman exec``. A module then costs
    one command over the connection ssh keeps open (ControlPersist), where the podman connection
    makes a mount, a copy and three ``podman exec`` for each: about a quarter of the time and of the
    controller's CPU here. Without PAM: under ``podman exec`` its session setup (logind) waits 10 s
    at every login and every channel; key authentication needs none of it."""
    proxy = f"env CONTAINERS_CONF={CONTAINERS_CONF} podman exec -i %h /usr/sbin/sshd -i -o UsePAM=no"
    return ("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes "
            f"-o LogLevel=ERROR -o {shlex.quote('ProxyCommand=' + proxy)}")


def host_plan(index: int) -> dict:
    """Addresses a scenario may give host number `index` (1-based) on each segment."""
    return {
        "untagged_ipv4": f"198.51.100.{10 + index}",
        "vlan_ipv4": f"203.0.113.{10 + index}",
        "untagged_ipv6": f"2001:db8:1::{10 + index}",
        "vlan_ipv6": f"2001:db8:100::{10 + index}",
    }


CONTAINER_RUN_ARGS = [
    "--systemd=always",
    "--cap-add", "NET_ADMIN,NET_RAW",
    "--device", "/dev/net/tun",
    # Writable /proc/sys: networkd, netplan and bridge sysctls need net.*, which is per network
    # namespace. Note: it also lets container root write host-wide sysctls; lab tests write net.*
    # only.
    "--security-opt", "unmask=/proc/sys",
]
# What a flavour's hosts need beyond that. libvirt: without SYS_PTRACE a restarted libvirtd cannot
# see its own dnsmasq (/proc/PID/exe), and the next network start fails "Address already in use".
FLAVOUR_RUN_ARGS = {"libvirt": ["--cap-add", "SYS_PTRACE"]}


class Lab:
    def __init__(self, lab_id: str):
        self.id = check_lab_id(lab_id)
        self.dir = state_root() / lab_id
        self.state_file = self.dir / "lab.json"
        self.sw = f"{PREFIX}-{lab_id}-sw"
        self.peer_ns = f"{PREFIX}-{lab_id}-peer"
        self.peer_name = f"{PREFIX}-{lab_id}-peer"
        self.ctl_ns = f"{PREFIX}-{lab_id}-ctl"
        self.dnsmasq_pidfile = f"/run/{PREFIX}-{lab_id}-dnsmasq.pid"
        self.tap_prefix = f"{PREFIX}{short_hash(lab_id)}"
        self.state: dict = {}

    # ----------------------------------------------------------------- state
    def load(self) -> dict:
        if not self.state_file.is_file():
            raise LabError(f"lab {self.id!r} is not up (no {self.state_file}); `make lab-up` first")
        self.state = json.loads(self.state_file.read_text())
        return self.state

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True))
        tmp.replace(self.state_file)

    def exists(self) -> bool:
        if self.state_file.exists():
            return True
        return any(n.startswith(f"{PREFIX}-{self.id}-") for n in netns_list())

    def lock(self):
        return flock(state_root() / f".{self.id}.lock")

    def host_netns(self, name: str) -> str:
        return f"{PREFIX}-{self.id}-h-{name}"

    def container_name(self, name: str) -> str:
        return f"{PREFIX}-{self.id}-{name}"

    def qemu_name(self, name: str) -> str:
        return f"{PREFIX}-{self.id}-{name}"

    # ----------------------------------------------------------------- up
    def up(self, tier: str, names: list[str], replace: bool = False, inband: bool = False,
           dhcp: bool = False, flavour: str | None = None) -> dict:
        if tier not in TIERS:
            raise LabError(f"tier {tier!r}: use one of {', '.join(TIERS)}")
        if flavour and tier != "containers":
            raise LabError(f"flavour {flavour!r} is for container hosts (the VM image has no flavours)")
        if flavour and flavour not in images.FLAVOURS:
            raise LabError(f"flavour {flavour!r}: use one of {', '.join(images.FLAVOURS)}")
        if not names:
            raise LabError("a lab needs at least one host")
        if len(names) > MAX_HOSTS[tier]:
            raise LabError(f"at most {MAX_HOSTS[tier]} {tier} hosts fit this machine")
        for name in names:
            check_host_name(name)
        if len(set(names)) != len(names):
            raise LabError(f"duplicate host names in {names}")
        with self.lock():
            if self.exists():
                if not replace:
                    raise LabError(
                        f"lab {self.id!r} is already up; `make lab-down LAB_ID={self.id}` "
                        "(or pass --replace)"
                    )
                self._down_locked()
            t0 = time.monotonic()
            image_dir = images.ensure_built()
            manifest = images.manifest(image_dir)
            self.state = {
                "id": self.id,
                "tier": tier,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "image_key": manifest["key"],
                "image_dir": str(image_dir),
                "kernel": manifest.get("kernel"),
                "switch": {"netns": self.sw, "bridge": SWITCH_BRIDGE},
                "peer": dict(PEER, container=self.peer_name, netns=self.peer_ns, port=PEER_PORT),
                "hosts": {},
                "inventory": str(self.dir / "inventory.yml"),
            }
            if flavour:
                self.state["flavour"] = flavour
            if inband or dhcp:
                self.state["inband"] = dict(CONTROLLER, netns=self.ctl_ns, dhcp=dhcp,
                                            inventory=str(self.dir / "inventory-inband.yml"))
            self.dir.mkdir(parents=True, exist_ok=True)
            self.save()
            try:
                podman_ref = images.podman_image(image_dir)
                self.state["podman_image"] = podman_ref
                self._switch_up()
                if "inband" in self.state:
                    self._controller_up()
                self._peer_start(podman_ref)
                if tier == "containers":
                    host_ref = images.podman_image(images.ensure_flavour(flavour)) if flavour else podman_ref
                    self._containers_up(names, host_ref)
                else:
                    self._vms_up(names, image_dir)
                self._peer_wait()
                if tier == "containers":
                    self._containers_wait(names)
                    self._containers_sshd(names)
                else:
                    self._vms_wait(names)
                if self.state.get("inband", {}).get("dhcp"):
                    self._dhcp_start()
                self.write_inventory()
            except BaseException:
                self.save()
                if os.environ.get("LAB_KEEP_ON_FAILURE") == "1":
                    log(f"LAB_KEEP_ON_FAILURE=1: leaving lab {self.id} up for inspection")
                else:
                    log(f"bring-up of lab {self.id} failed: tearing it down")
                    self._dump_failure_logs()
                    self._down_locked()
                raise
            self.state["up_seconds"] = round(time.monotonic() - t0, 1)
            self.save()
            log(f"lab {self.id} up: {len(names)} {tier} host(s) in {self.state['up_seconds']} s; "
                f"inventory {self.state['inventory']}")
            return self.state

    # ----------------------------------------------------------------- switch + peer
    def _switch_up(self) -> None:
        ip("netns", "add", self.sw)
        ip("-n", self.sw, "link", "set", "lo", "up")
        ip("-n", self.sw, "link", "add", SWITCH_BRIDGE, "type", "bridge",
           "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0", "ageing_time", "3000")
        ip("-n", self.sw, "link", "set", SWITCH_BRIDGE, "up")

    def _wire(self, port: str, netns: str, ifname: str, mac: str | None = None) -> None:
        """A veth from switch port `port` to `ifname` inside `netns` (a hypervisor's NIC)."""
        peer = ["peer", "name", ifname]
        if mac:
            peer += ["address", mac]
        ip("link", "add", port, "netns", self.sw, "type", "veth", *peer, "netns", netns)
        ip("-n", self.sw, "link", "set", port, "master", SWITCH_BRIDGE, "up")

    def _podman_run(self, name: str, hostname: str, netns: str, ref: str, role: str) -> None:
        extra = FLAVOUR_RUN_ARGS.get(self.state.get("flavour"), []) if role == "host" else []
        podman(
            "run", "-d", "--name", name, "--hostname", hostname,
            "--label", f"{LABEL}={self.id}", "--label", f"{LABEL_ROLE}={role}",
            "--network", f"ns:/run/netns/{netns}",
            *CONTAINER_RUN_ARGS, *extra, ref,
            timeout=120,
        )

    def _peer_start(self, ref: str) -> None:
        ip("netns", "add", self.peer_ns)
        self._wire(PEER_PORT, self.peer_ns, "eth0", "52:54:00:c5:fe:00")
        self._podman_run(self.peer_name, "peer", self.peer_ns, ref, "peer")

    def _peer_wait(self) -> None:
        self._container_wait_systemd(self.peer_name)
        p = PEER
        # arp_ignore=1: answer ARP only on the interface that owns the address, so an untagged
        # frame cannot reach the VLAN 100 address (the weak host model would hide tagging bugs).
        script = f"""
set -e
sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
ovs-vsctl --timeout=30 --may-exist add-br peerbr -- set bridge peerbr datapath_type=netdev \
  -- --may-exist add-port peerbr eth0 -- --may-exist add-br peer{p['vlan']} peerbr {p['vlan']}
ip link set eth0 up
ip link set peerbr up
ip link set peer{p['vlan']} up
ip addr replace {p['untagged_ipv4']}/24 dev peerbr
ip addr replace {p['vlan_ipv4']}/24 dev peer{p['vlan']}
ip -6 addr replace {p['untagged_ipv6']}/64 dev peerbr nodad
ip -6 addr replace {p['vlan_ipv6']}/64 dev peer{p['vlan']} nodad
"""
        podman("exec", self.peer_name, "sh", "-c", script, timeout=60)
        self.state["peer"]["ready"] = True

    # ----------------------------------------------------------------- in-band controller
    def _controller_up(self) -> None:
        """The namespace Ansible runs in for in-band tests: on the switch like any hypervisor."""
        ip("netns", "add", self.ctl_ns)
        ip("-n", self.ctl_ns, "link", "set", "lo", "up")
        self._wire(CONTROLLER["port"], self.ctl_ns, "ctl0", "52:54:00:c5:fe:fa")
        ip("-n", self.ctl_ns, "addr", "add", f"{CONTROLLER['ipv4']}/24", "dev", "ctl0")
        ip("-n", self.ctl_ns, "-6", "addr", "add", f"{CONTROLLER['ipv6']}/64", "dev", "ctl0", "nodad")
        # A veth leaves TCP checksums to be filled in later (checksum offload); Open vSwitch's
        # userspace datapath on a container host forwards such frames as they are, and the host's
        # TCP stack drops them: ssh would die once an address moves to an OVS bridge, while ping
        # still works. Real NICs deliver complete checksums, so the controller computes its own.
        run(["ip", "netns", "exec", self.ctl_ns, "ethtool", "-K", "ctl0", "tx", "off"])
        ip("-n", self.ctl_ns, "link", "set", "ctl0", "up")

    def _dhcp_start(self) -> None:
        """dnsmasq in the controller namespace (DHCP only, no DNS): each host's eth0 gets its lab
        address, the way an installer's DHCP network comes up."""
        hosts = []
        for h in self.state["hosts"].values():
            hosts.append(f"--dhcp-host={h['macs']['eth0']},{h['addresses']['untagged_ipv4']}")
        run(["ip", "netns", "exec", self.ctl_ns, "dnsmasq", "--conf-file=/dev/null", "--port=0",
             "--interface=ctl0", "--bind-interfaces", "--dhcp-authoritative",
             "--dhcp-range=198.51.100.100,198.51.100.199,255.255.255.0,10m",
             f"--dhcp-leasefile={self.dir / 'dnsmasq.leases'}", f"--pid-file={self.dnsmasq_pidfile}",
             f"--log-facility={self.dir / 'dnsmasq.log'}", "--log-dhcp", *hosts])
        self.state["inband"]["dnsmasq_pid"] = _read_pid(self.dnsmasq_pidfile)
        self.save()

    def _containers_sshd(self, names: list[str]) -> None:
        """sshd in every container, for the lab's key: in-band labs reach containers over the lab
        switch, the others through ``podman exec ... sshd -i`` (container_ssh_args)."""
        key = self._ssh_key()
        pub = key.with_suffix(".pub").read_text().strip()
        # Lingering keeps root's user manager running: otherwise each ssh login starts it and each
        # logout stops it, and in a container a stop can hang until systemd gives up on it, holding
        # the next login (Ansible's next task) back for a minute or more.
        script = ("set -e; install -d -m 0700 /root/.ssh; printf '%s\n' \"$1\" > /root/.ssh/authorized_keys; "
                  "chmod 0600 /root/.ssh/authorized_keys; ssh-keygen -A; loginctl enable-linger root; "
                  "systemctl enable --now ssh")
        containers = [self.state["hosts"][name]["container"] for name in names]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda container: podman("exec", container, "sh", "-c", script, "sh", pub, timeout=60),
                          containers))
        for name in names:
            self.state["hosts"][name]["ssh_key"] = str(key)
        self.save()

    def ctl_exec(self, command: list[str], timeout: int | None = None, env: dict | None = None):
        """Run ``command`` in the controller namespace of an in-band lab."""
        if not self.state:
            self.load()
        if "inband" not in self.state:
            raise LabError(f"lab {self.id} is not in-band (bring it up with --inband)")
        return run(["ip", "netns", "exec", self.ctl_ns, *command], check=False, timeout=timeout, env=env)

    def answers_ssh(self, name: str, timeout: int = 30) -> bool:
        """Whether host ``name`` of an in-band lab answers ssh on its lab address, from the controller
        namespace (an ssh that hangs, as one may while a switch still sends to the port it learnt
        before, counts as no answer)."""
        h = self.host(name)
        try:
            proc = self.ctl_exec(["ssh", "-i", str(self._ssh_key()), "-o", "StrictHostKeyChecking=no",
                                  "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                                  f"root@{h['addresses']['untagged_ipv4']}", "hostname"], timeout=timeout)
        except LabError:
            return False
        return proc.returncode == 0 and proc.stdout.strip() == name

    # ----------------------------------------------------------------- containers
    @staticmethod
    def _inotify_room(containers: int) -> None:
        """Every container's root is the machine's root (no user namespace), so all their systemds,
        user managers, networkd, udev and NetworkManager share root's inotify instances: the
        kernel's default of 128 runs out at about 15 containers, and then services in them fail
        ("Too many open files") or hang (a user manager that cannot start holds an ssh login back
        for a minute). Raise the limit (not a network setting; back to the default at the
        machine's next boot) to what the lab needs."""
        path = Path("/proc/sys/fs/inotify/max_user_instances")
        wanted = 128 + INOTIFY_PER_CONTAINER * containers
        if int(path.read_text()) < wanted:
            path.write_text(f"{wanted}\n")
            log(f"fs.inotify.max_user_instances raised to {wanted} for {containers} containers")

    def _containers_up(self, names: list[str], ref: str) -> None:
        self._inotify_room(len(names) + 1)      # the peer is a container too
        for index, name in enumerate(names, start=1):
            container = self.container_name(name)
            if podman("container", "exists", container, check=False).returncode == 0:
                raise LabError(f"a podman container named {container!r} already exists; "
                               f"`lab/lab --lab {self.id} down` first")
            netns = self.host_netns(name)
            host = {
                "index": index, "tier": "containers", "container": container, "netns": netns,
                "switch_ports": {}, "macs": {}, "addresses": host_plan(index),
            }
            self.state["hosts"][name] = host
            ip("netns", "add", netns)
            ip("-n", netns, "link", "set", "lo", "up")
            # Open vSwitch's userspace datapath reads its ports with AF_PACKET, so the kernel's
            # own stack on eth0..eth3 still sees every frame and, by default, answers ARP for the
            # bridge's addresses with the NIC's MAC (on a real hypervisor the kernel datapath
            # takes those frames first). Answer ARP only for addresses of the receiving
            # interface, as a hypervisor's bond members effectively do.
            run(["ip", "netns", "exec", netns, "sysctl", "-q",
                 "-w", "net.ipv4.conf.all.arp_ignore=1", "-w", "net.ipv4.conf.default.arp_ignore=1",
                 "-w", "net.ipv4.conf.all.arp_announce=2", "-w", "net.ipv4.conf.default.arp_announce=2"])
            for n in range(NICS):
                port, mac = f"h{index}e{n}", f"52:54:00:c5:{index:02x}:{n:02x}"
                self._wire(port, netns, f"eth{n}", mac)
                host["switch_ports"][f"eth{n}"] = port
                host["macs"][f"eth{n}"] = mac
            self.save()
            log(f"starting container {name}")
            self._podman_run(container, name, netns, ref, "host")

    def _container_wait_systemd(self, name: str, timeout: int = 120) -> str:
        deadline = time.monotonic() + timeout
        while True:
            proc = podman("exec", name, "systemctl", "is-system-running", "--wait",
                          check=False, timeout=timeout)
            status = proc.stdout.strip()
            # Right after a (re)start, systemd's bus may not exist yet: ask again.
            if status or "Failed to connect to bus" not in proc.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if status not in ("running", "degraded"):
            raise LabError(f"container {name}: systemd is {status or proc.stderr.strip()!r}")
        if status == "degraded":
            failed = podman("exec", name, "systemctl", "--failed", "--plain", "--no-legend",
                            check=False).stdout.strip()
            log(f"container {name}: systemd degraded: {failed}")
        return status

    def _containers_wait(self, names: list[str]) -> None:
        for name in names:
            container = self.state["hosts"][name]["container"]
            status = self._container_wait_systemd(container)
            podman("exec", container, "ovs-vsctl", "--timeout=30", "show", timeout=60)
            self.state["hosts"][name]["systemd"] = status
            log(f"container {name}: systemd {status}, Open vSwitch up")

    # ----------------------------------------------------------------- VMs
    def _ssh_key(self) -> Path:
        key = self.dir / "id_ed25519"
        if not key.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"cskl-lab-{self.id}", "-f", key])
        return key

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def _vms_up(self, names: list[str], image_dir: Path) -> None:
        key = self._ssh_key()
        pub_b64 = base64.b64encode(key.with_suffix(".pub").read_bytes().strip()).decode()
        for index, name in enumerate(names, start=1):
            mon = self.dir / f"{name}.mon"
            if len(str(mon)) > 100:
                raise LabError(f"monitor socket path too long for a unix socket: {mon}; set LAB_STATE_DIR shorter")
            disk = self.dir / f"{name}.qcow2"
            serial = self.dir / f"{name}.serial.log"
            pidfile = self.dir / f"{name}.pid"
            for stale in (mon, disk, serial, pidfile):
                stale.unlink(missing_ok=True)
            run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                 "-b", image_dir / "base.qcow2", disk])
            port = self._free_port()
            machine_id = uuid.uuid4().hex
            host = {
                "index": index, "tier": "vms", "qemu_name": self.qemu_name(name),
                "ssh_host": "127.0.0.1", "ssh_port": port, "ssh_user": "root",
                "ssh_key": str(key), "monitor": str(mon), "serial_log": str(serial),
                "disk": str(disk), "pidfile": str(pidfile), "machine_id": machine_id,
                "switch_ports": {}, "macs": {}, "netdevs": {}, "addresses": host_plan(index),
            }
            self.state["hosts"][name] = host
            append = " ".join([
                "root=/dev/nvme0n1", "rw", "console=ttyS0,115200", "net.ifnames=0", "biosdevname=0",
                "panic=10", f"systemd.machine_id={machine_id}", f"systemd.hostname={name}",
                f"cskl.ssh_key={pub_b64}",
            ])
            argv = [
                "qemu-system-x86_64",
                "-name", f"{self.qemu_name(name)},process={self.qemu_name(name)}",
                "-machine", "q35", "-accel", "tcg,tb-size=256", "-cpu", "qemu64", "-smp", "1", "-m", "512",
                "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
                "-kernel", image_dir / "vmlinuz", "-append", append,
                "-drive", f"if=none,id=disk0,file={disk},format=qcow2,cache=unsafe,discard=unmap",
                "-device", "nvme,drive=disk0,serial=cskl0",
                "-device", "virtio-rng-pci",
            ]
            taps = []
            for n in range(NICS):
                tap = f"{self.tap_prefix}{index}t{n}"
                mac = f"52:54:00:c5:{index:02x}:{n:02x}"
                argv += [
                    "-netdev", f"tap,id=d{n},ifname={tap},script=no,downscript=no",
                    "-device", f"virtio-net-pci,netdev=d{n},mac={mac},addr=0x{4 + n:x}",
                ]
                taps.append((n, tap, mac))
            argv += [
                "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
                "-device", f"virtio-net-pci,netdev=mgmt,mac={MGMT_MAC},addr=0x{4 + NICS:x}",
                "-monitor", f"unix:{mon},server,nowait",
                "-serial", f"file:{serial}",
                "-pidfile", pidfile, "-daemonize",
            ]
            log(f"starting VM {name} (ssh 127.0.0.1:{port})")
            run(argv, timeout=60)
            host["pid"] = int(pidfile.read_text().strip())
            self.save()
            # The taps exist now (QEMU holds their fds); move them into the switch.
            for n, tap, mac in taps:
                port_name = f"h{index}e{n}"
                ip("link", "set", tap, "netns", self.sw)
                ip("-n", self.sw, "link", "set", tap, "name", port_name)
                ip("-n", self.sw, "link", "set", port_name, "master", SWITCH_BRIDGE, "up")
                host["switch_ports"][f"eth{n}"] = port_name
                host["macs"][f"eth{n}"] = mac
                host["netdevs"][f"eth{n}"] = f"d{n}"
            self.save()

    def ssh_argv(self, name: str, remote: str | None = None, timeout: int = 10) -> list[str]:
        """ssh to VM `name`; `remote` is one shell command line (quote with shlex.join)."""
        h = self.state["hosts"][name]
        return [
            "ssh", "-q", "-i", h["ssh_key"], "-p", str(h["ssh_port"]),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}",
            "-o", "LogLevel=ERROR",
            f"{h['ssh_user']}@{h['ssh_host']}", *([remote] if remote else []),
        ]

    def _vm_wait(self, name: str, timeout: int = 300, not_boot_id: str | None = None) -> str:
        h = self.state["hosts"][name]
        deadline = time.monotonic() + timeout

        def ready():
            if not pid_alive(h["pid"]):
                raise LabError(f"VM {name}: QEMU (pid {h['pid']}) exited; serial log {h['serial_log']}")
            proc = run(self.ssh_argv(name, "cat /proc/sys/kernel/random/boot_id; "
                                     "systemctl is-system-running --wait"),
                       check=False, timeout=max(5, int(deadline - time.monotonic())))
            lines = proc.stdout.split()
            if len(lines) < 2 or (not_boot_id and lines[0] == not_boot_id):
                return None
            return lines[1] if lines[1] in ("running", "degraded") else None

        status = wait_until(ready, timeout, interval=2, what=f"VM {name} to boot (ssh, systemd)")
        if status == "degraded":
            failed = run(self.ssh_argv(name, "systemctl --failed --plain --no-legend"), check=False).stdout
            log(f"VM {name}: systemd degraded: {failed.strip()}")
        return status

    def _vms_wait(self, names: list[str]) -> None:
        t0 = time.monotonic()
        for name in names:
            status = self._vm_wait(name)
            self.state["hosts"][name]["systemd"] = status
            log(f"VM {name}: systemd {status} after {time.monotonic() - t0:.0f} s")

    def monitor(self, name: str, command: str) -> str:
        """Run one QEMU human-monitor command on VM `name`; returns its output."""
        h = self.state["hosts"][name]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(15)
            s.connect(h["monitor"])

            def until_prompt() -> bytes:
                buf = b""
                while not buf.endswith(b"(qemu) "):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                return buf

            until_prompt()
            s.sendall(command.encode() + b"\n")
            out = until_prompt().decode(errors="replace")
        # Drop the echoed command and the prompt.
        lines = [ln for ln in out.replace("\r", "").split("\n") if ln and not ln.startswith("(qemu)")]
        return "\n".join(ln for ln in lines if command not in ln)

    # ----------------------------------------------------------------- operations on hosts
    def host(self, name: str) -> dict:
        if not self.state:
            self.load()
        if name not in self.state["hosts"]:
            raise LabError(f"lab {self.id} has no host {name!r} (hosts: {', '.join(self.state['hosts'])})")
        return self.state["hosts"][name]

    def link(self, name: str, nic: str, updown: str) -> None:
        """Cut (down) or restore (up) data NIC `nic` of host `name`.

        containers: the switch end of the NIC's veth goes down, so the host sees no carrier.
        vms: QEMU's `set_link` on the NIC, so the guest driver sees the link drop."""
        h = self.host(name)
        if nic not in h["switch_ports"]:
            raise LabError(f"{name} has no data NIC {nic!r} (NICs: {', '.join(h['switch_ports'])})")
        if updown not in ("up", "down"):
            raise LabError("link state must be up or down")
        if h["tier"] == "containers":
            # The leg of a port channel has its switch end in the peer (``lacp_partner``).
            leg = nic in self.state.get("lacp", {}).get(name, {}).get("nics", ())
            ip("-n", self.peer_ns if leg else self.sw, "link", "set", h["switch_ports"][nic], updown)
        else:
            out = self.monitor(name, f"set_link {h['netdevs'][nic]} {'on' if updown == 'up' else 'off'}")
            if out.strip():
                raise LabError(f"QEMU monitor on {name}: {out.strip()}")
        log(f"{name} {nic}: link {updown}")

    def lacp_partner(self, name: str, nics: list[str], on: bool = True) -> None:
        """A real LACP partner for host ``name`` on ``nics`` (the switch side of a port channel): the
        switch ends of those NICs leave the hub for the peer, where an Open vSwitch bond with
        lacp=active and a fast LACP rate (on the userspace datapath) joins them on bridge ``lacpbr``,
        which answers on LACP_PARTNER["ipv6"] (one bond per host, ``lb-`` and the first leg's switch
        port). ``on=False`` puts them back on the hub."""
        h = self.host(name)
        ports = [h["switch_ports"][n] for n in nics]
        partners = self.state.setdefault("lacp", {})
        if on:
            if name in partners:
                raise LabError(f"{name} already has an LACP partner on {', '.join(partners[name]['nics'])}")
            for port in ports:
                ip("-n", self.sw, "link", "set", port, "nomaster")
                ip("-n", self.sw, "link", "set", port, "netns", self.peer_ns)
            bond = LACP_PARTNER["bond"] % ports[0]
            script = f"""
set -e
for port in {' '.join(ports)}; do ip link set "$port" up; done
ovs-vsctl --timeout=30 --may-exist add-br lacpbr -- set bridge lacpbr datapath_type=netdev \
  -- --may-exist add-bond lacpbr {bond} {' '.join(ports)} lacp=active bond_mode=balance-tcp \
     other_config:lacp-time=fast
ip link set lacpbr up
ip -6 addr replace {LACP_PARTNER['ipv6']}/64 dev lacpbr nodad
"""
            podman("exec", self.peer_name, "sh", "-c", script, timeout=60)
            partners[name] = {"nics": list(nics), "ports": ports}
        else:
            if name not in partners:
                return
            podman("exec", self.peer_name, "ovs-vsctl", "--timeout=30", "--if-exists", "del-port", "lacpbr",
                   LACP_PARTNER["bond"] % ports[0], timeout=60)
            for port in ports:
                ip("-n", self.peer_ns, "link", "set", port, "netns", self.sw)
                ip("-n", self.sw, "link", "set", port, "master", SWITCH_BRIDGE, "up")
            del partners[name]
        self.save()
        log(f"{name} {', '.join(nics)}: LACP partner {'on' if on else 'off'}")

    def exec(self, name: str, command: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
        h = self.host(name)
        if h["tier"] == "containers":
            return podman("exec", h["container"], *command, check=False, timeout=timeout)
        return run(self.ssh_argv(name, shlex.join(command)), check=False, timeout=timeout)

    def peer_exec(self, script: str, timeout: int = 120) -> subprocess.CompletedProcess:
        """A shell script on the lab peer (stdout and stderr together in ``stdout``)."""
        return podman("exec", self.peer_name, "sh", "-c", script + " 2>&1", check=False, timeout=timeout)

    def reboot(self, name: str, timeout: int = 300) -> None:
        h = self.host(name)
        if h["tier"] == "containers":
            podman("restart", "-t", "10", h["container"], timeout=120)
            self._container_wait_systemd(h["container"])
        else:
            boot_id = run(self.ssh_argv(name, "cat /proc/sys/kernel/random/boot_id")).stdout.strip()
            run(self.ssh_argv(name, "systemctl reboot"), check=False, timeout=30)
            self._vm_wait(name, timeout=timeout, not_boot_id=boot_id)
        log(f"{name}: rebooted")

    def power_cut(self, name: str, timeout: int = 300) -> None:
        """A VM loses power and comes back: QEMU's ``system_reset`` (no shutdown, no sync), then
        wait until it has booted again."""
        h = self.host(name)
        if h["tier"] != "vms":
            raise LabError(f"{name}: a power cut needs a VM (containers share this machine's kernel)")
        boot_id = run(self.ssh_argv(name, "cat /proc/sys/kernel/random/boot_id")).stdout.strip()
        self.monitor(name, "system_reset")
        self._vm_wait(name, timeout=timeout, not_boot_id=boot_id)
        log(f"{name}: reset (power cut) and booted again")

    # ----------------------------------------------------------------- inventory
    def write_inventory(self) -> Path:
        s = self.state
        hosts = {}
        for name, h in s["hosts"].items():
            hv = {}
            if h["tier"] == "containers":
                hv.update(ansible_connection="ssh", ansible_host=h["container"], ansible_user="root",
                          ansible_ssh_private_key_file=h["ssh_key"], ansible_ssh_common_args=container_ssh_args())
            else:
                hv.update(ansible_connection="ssh", ansible_host=h["ssh_host"], ansible_port=h["ssh_port"],
                          ansible_user=h["ssh_user"], ansible_ssh_private_key_file=h["ssh_key"],
                          ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                                  "-o IdentitiesOnly=yes",
                          lab_monitor=h["monitor"])
            hv.update(ansible_python_interpreter="/usr/bin/python3", lab_index=h["index"],
                      lab_ovs_datapath_type="netdev" if h["tier"] == "containers" else "system",
                      lab_switch_ports=h["switch_ports"], lab_macs=h["macs"], lab_addresses=h["addresses"])
            hosts[name] = hv
        inv = {
            "all": {
                "vars": {
                    "lab_id": s["id"], "lab_tier": s["tier"], "lab_state_file": str(self.state_file),
                    "lab_cli": str(REPO_ROOT / "lab" / "lab"), "lab_peer": dict(PEER),
                    **({"lab_flavour": s["flavour"]} if s.get("flavour") else {}),
                },
                "children": {f"lab_{s['tier']}": {"hosts": {n: None for n in hosts}}},
                "hosts": hosts,
            }
        }
        path = self.dir / "inventory.yml"
        header = (f"# Written by lab/lab up (lab {s['id']}, {s['tier']}); rewritten on every bring-up.\n"
                  "# Containers: ssh through `podman exec -i CONTAINER sshd -i` (no management address on\n"
                  "# their NICs; one exec per connection, where the podman connection costs several per task).\n"
                  "# VMs: ssh to QEMU's user-mode mgmt0 forwarded on 127.0.0.1.\n---\n")
        path.write_text(header + yaml_dump(inv).replace(": null\n", ":\n"))
        if "inband" in s:
            key = str(self._ssh_key())
            for name, hv in hosts.items():
                h = s["hosts"][name]
                for k in ("ansible_port", "lab_monitor"):
                    hv.pop(k, None)
                if h["tier"] == "vms":
                    hv["lab_monitor"] = h["monitor"]
                hv.update(ansible_connection="ssh", ansible_host=h["addresses"]["untagged_ipv4"], ansible_user="root",
                          ansible_ssh_private_key_file=key,
                          ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                                  "-o IdentitiesOnly=yes -o ConnectTimeout=5")
            inv["all"]["vars"]["lab_ctl_netns"] = self.ctl_ns
            Path(s["inband"]["inventory"]).write_text(
                f"# Written by lab/lab up (lab {s['id']}, {s['tier']}, in-band): run Ansible in netns {self.ctl_ns}\n"
                "# (lab/lab ctl -- ansible-playbook ...); it reaches each host on its lab address over the\n"
                "# lab switch, through the network the collection configures.\n---\n"
                + yaml_dump(inv).replace(": null\n", ":\n"))
        return path

    # ----------------------------------------------------------------- down
    def down(self) -> None:
        with self.lock():
            self._down_locked()

    def _dump_failure_logs(self) -> None:
        for name, h in self.state.get("hosts", {}).items():
            if h.get("serial_log") and Path(h["serial_log"]).exists():
                tail = Path(h["serial_log"]).read_text(errors="replace").splitlines()[-25:]
                log(f"VM {name} serial log (last lines):\n" + "\n".join(tail))
            if h.get("container"):
                proc = podman("logs", "--tail", "25", h["container"], check=False)
                if proc.stdout.strip():
                    log(f"container {name} log (last lines):\n{proc.stdout}")

    def _down_locked(self) -> None:
        try:
            self.state = json.loads(self.state_file.read_text()) if self.state_file.is_file() else {}
        except (OSError, ValueError):
            self.state = {}
        # 1. QEMU processes: recorded PIDs and any process whose -name is this lab's.
        marker = f"{PREFIX}-{self.id}-"
        pids = set()
        for h in self.state.get("hosts", {}).values():
            for pid in [h.get("pid")] + [_read_pid(h.get("pidfile"))]:
                if pid:
                    pids.add(pid)
        pids |= set(qemu_pids(marker))
        kill_qemus(pids, marker)
        kill_dnsmasqs(marker)
        # 2. Containers labelled with this lab.
        names = podman("ps", "-a", "--filter", f"label={LABEL}={self.id}", "--format", "{{.Names}}",
                       check=False).stdout.split()
        if names:
            log(f"removing containers: {' '.join(names)}")
            podman("rm", "-f", "-t", "3", *names, check=False, timeout=180)
        # 3. Network namespaces (deleting the switch namespace removes every veth and tap in it).
        for ns in netns_list():
            if ns.startswith(marker):
                ip("netns", "del", ns, check=False)
        # 4. Taps or veths left in the machine's namespace by an interrupted bring-up.
        for link in _host_links():
            if link.startswith(self.tap_prefix):
                ip("link", "del", link, check=False)
        _umount_leftovers(f"/run/netns/{marker}")
        # 5. State (disks, sockets, logs, inventory).
        if self.dir.is_dir():
            shutil.rmtree(self.dir, ignore_errors=True)
        log(f"lab {self.id}: down")


def _read_pid(path) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError, TypeError):
        return None


def qemu_pids(marker: str) -> list[int]:
    """QEMU processes whose -name starts with `marker` (only processes the lab started)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = proc_cmdline(int(entry))
        if not argv or "qemu-system" not in os.path.basename(argv[0]):
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg == "-name" and argv[i + 1].startswith(marker):
                found.append(int(entry))
    return found


def kill_qemus(pids, marker: str) -> None:
    mine = []
    for pid in pids:
        argv = proc_cmdline(pid)
        # Never signal a PID that is not one of our QEMUs (a recorded PID may have been reused).
        if any(a.startswith(marker) for a in argv) and "qemu-system" in os.path.basename(argv[0] if argv else ""):
            mine.append(pid)
    for pid in mine:
        log(f"stopping QEMU pid {pid}")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while mine and time.monotonic() < deadline:
        mine = [p for p in mine if pid_alive(p)]
        time.sleep(0.2)
    for pid in mine:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def dnsmasq_pids(marker: str) -> list[int]:
    """dnsmasq processes of in-band labs (their --pid-file names the lab: cskl-ID-dnsmasq.pid)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = proc_cmdline(int(entry))
        if argv and os.path.basename(argv[0]) == "dnsmasq" and any(
                a.startswith(f"--pid-file=/run/{marker}") for a in argv):
            found.append(int(entry))
    return found


def kill_dnsmasqs(marker: str) -> None:
    for pid in dnsmasq_pids(marker):
        log(f"stopping dnsmasq pid {pid}")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while dnsmasq_pids(marker) and time.monotonic() < deadline:
        time.sleep(0.1)


def _host_links() -> list[str]:
    out = run(["ip", "-o", "link", "show"], timeout=30).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]


def _umount_leftovers(prefix: str) -> None:
    try:
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    for line in mounts:
        target = line.split()[4]
        if target.startswith(prefix):
            run(["umount", "-l", target], check=False)
            Path(target).unlink(missing_ok=True)


def known_labs() -> list[str]:
    """Every lab id with something on this machine: state, namespaces, containers or QEMUs."""
    ids = set()
    root = state_root()
    if root.is_dir():
        ids |= {p.name for p in root.iterdir() if p.is_dir() and (p / "lab.json").exists()}
    for ns in netns_list():
        if ns.startswith(f"{PREFIX}-"):
            ids.add(ns.split("-")[1])
    out = podman("ps", "-a", "--filter", f"label={LABEL}", "--format", f'{{{{index .Labels "{LABEL}"}}}}',
                 check=False).stdout
    ids |= set(out.split())
    for pid in qemu_pids(f"{PREFIX}-"):
        argv = proc_cmdline(pid)
        name = argv[argv.index("-name") + 1]
        ids.add(name.split("-")[1])
    return sorted(i for i in ids if i)


def down_all() -> None:
    for lab_id in known_labs():
        try:
            Lab(lab_id).down()
        except LabError as exc:  # e.g. a malformed id from a foreign object: sweep below
            log(f"lab {lab_id}: {exc}")
    # Final sweep by prefix, whatever the ids.
    kill_qemus(qemu_pids(f"{PREFIX}-"), f"{PREFIX}-")
    kill_dnsmasqs(f"{PREFIX}-")
    names = podman("ps", "-a", "--filter", f"label={LABEL}", "--format", "{{.Names}}", check=False).stdout.split()
    if names:
        podman("rm", "-f", "-t", "3", *names, check=False, timeout=180)
    for ns in netns_list():
        if ns.startswith(f"{PREFIX}-"):
            ip("netns", "del", ns, check=False)
    for link in _host_links():
        if link.startswith(PREFIX):
            ip("link", "del", link, check=False)
    _umount_leftovers(f"/run/netns/{PREFIX}-")


def leftovers(lab_id: str | None = None) -> dict:
    """What of the lab `lab_id` (of every lab when None) is still on this machine."""
    marker = f"{PREFIX}-{lab_id}-" if lab_id else f"{PREFIX}-"
    link_prefix = f"{PREFIX}{short_hash(lab_id)}" if lab_id else PREFIX
    label = f"label={LABEL}={lab_id}" if lab_id else f"label={LABEL}"
    return {
        "netns": [n for n in netns_list() if n.startswith(marker)],
        "links": [link for link in _host_links() if link.startswith(link_prefix)],
        "containers": podman("ps", "-a", "--filter", label, "--format", "{{.Names}}",
                             check=False).stdout.split(),
        "qemu_pids": qemu_pids(marker),
        "dnsmasq_pids": dnsmasq_pids(marker),
        "mounts": [ln.split()[4] for ln in Path("/proc/self/mountinfo").read_text().splitlines()
                   if ln.split()[4].startswith(f"/run/netns/{marker}")],
    }
