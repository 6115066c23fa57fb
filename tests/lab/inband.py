"""The in-band container lab the lab tests share (tests/lab/conftest.py brings it up once per
pytest run): four hosts as their installers left them, reached by Ansible over ssh from the lab's
controller namespace through the very network it changes. netplan (cloud-init's DHCP on eth0),
ifupdown (a static eth0), NetworkManager (a DHCP profile on eth0) and Open vSwitch by ifupdown.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / ".tmp" / "collections"))     # the checkout, as scripts/setup.sh links it

from cskl_lab.installed import installed  # noqa: E402  pylint: disable=wrong-import-position
# How long a host's own ping waits for a target after a change (the lab's bridges: no STP, no DHCP).
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.probe import SETTLE_WAIT  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# INBAND_TIER=vms: the same on QEMU/TCG VMs (a full kernel: Linux bonds, 802.1Q), for the VM part
# of the change catalogue (make lab-change-catalogue-vms); the safe apply tests are the containers'.
TIER = os.environ.get("INBAND_TIER", "containers")
LABS = {
    "containers": (os.environ.get("SAFE_APPLY_LAB", "safe_apply"),
                   {"sa-netplan": "netplan", "sa-ifupdown": "ifupdown", "sa-nm": "networkmanager", "sa-ovs": "ifupdown"}),
    "vms": ("catalogue_vms", {"cv-netplan": "netplan", "cv-ifupdown": "ifupdown"}),
}
LAB_ID, RENDERERS = LABS[TIER]
HOSTS = tuple(RENDERERS)
# kvm_network_confirm_timeout for these tests (TCG needs longer to reconnect and ping)
TIMER = 30 if TIER == "containers" else 90
APPLY_TIMEOUT = 300  # kvm_network_apply's apply_timeout default (the watchdog's share before the apply ends)
KEEP = 2
STATE = "/var/lib/cloudstack-kvm/safe-apply"
ENV = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
           ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".tmp" / "collections"),
           ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")


RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def recap(out):
    """{host: (changed, unreachable, failed)} from an ansible-playbook run's PLAY RECAP."""
    return dict((m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4)))) for m in RECAP.finditer(out))


def address(index):
    return f"198.51.100.{10 + index}"


class Scenario:
    def __init__(self, lab):
        self.lab = lab
        self.dir = Path(tempfile.mkdtemp(prefix="inband-lab-"))

    @staticmethod
    def hostvars(host_models, **extra):
        """{host: its variables}: the model, its renderer and the lab tests' safe apply settings."""
        hosts = {}
        for name, model in host_models.items():
            hosts[name] = dict(kvm_network=model, kvm_network_renderer=RENDERERS[name],
                               kvm_network_confirm_timeout=TIMER, kvm_network_keep_snapshots=KEEP,
                               kvm_network_verify_traffic=[{"bridge": "cloudbr0", "target": "198.51.100.254"}],
                               **extra)
        return hosts

    def inventory(self, host_models, **extra):
        hosts = self.hostvars(host_models, **extra)
        path = self.dir / f"models-{time.monotonic_ns()}.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        return path

    def argv(self, playbook, inventory, limit=None, extra_vars=None):
        argv = ["ip", "netns", "exec", self.lab.ctl_ns, "ansible-playbook",
                "-i", self.lab.state["inband"]["inventory"], "-i", str(inventory), str(REPO / "playbooks" / playbook)]
        return argv + (["--limit", limit] if limit else []) + (["-e", json.dumps(extra_vars)] if extra_vars else [])

    def play(self, playbook, inventory, limit=None, timeout=600, venv=None, extra_vars=None):
        """``venv``: another virtualenv's ansible-playbook (another ansible-core), with its own
        community collections; ``extra_vars``: a dict given with -e."""
        env = dict(ENV, PATH=f"{venv}/bin:{ENV['PATH']}") if venv else ENV
        proc = subprocess.run(self.argv(playbook, inventory, limit, extra_vars), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
        return proc.returncode, proc.stdout

    def sh(self, host, script, check=True):
        proc = self.lab.exec(host, ["sh", "-c", script], timeout=120)
        if check:
            assert proc.returncode == 0, f"{host}: {script}: {proc.stdout}{proc.stderr}"
        return proc.stdout

    def snapshots(self, host):
        """The host's snapshot manifests, oldest first."""
        out = self.sh(host, f"for m in {STATE}/*/manifest.json; do [ -f \"$m\" ] && cat \"$m\" && echo; done; true")
        decoder = json.JSONDecoder()
        found, pos = [], 0
        out = out.strip()
        while pos < len(out):
            doc, pos = decoder.raw_decode(out, pos)
            found.append(doc)
            while pos < len(out) and out[pos].isspace():
                pos += 1
        return sorted(found, key=lambda m: m["id"])

    def units(self, host, settle=30):
        """The collection's transient units still on the host (the boot rollback's two persistent
        units are meant to stay). The rollback's service writes its status, then stops the other
        units and exits: the units are given ``settle`` seconds to go."""
        deadline = time.monotonic() + settle
        while True:
            out = self.sh(host, "systemctl list-units --all --plain --no-legend 'cloudstack-kvm-*'")
            left = [line.split()[0] for line in out.splitlines()
                    if line.strip() and not line.split()[0].startswith("cloudstack-kvm-boot-rollback")]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(1)

    def wait_reachable(self, host, seconds=60):
        """Whether ``host`` answers in-band on its lab address within ``seconds``."""
        deadline = time.monotonic() + seconds
        while not self.lab.answers_ssh(host):
            if time.monotonic() > deadline:
                return False
            time.sleep(1)
        return True

    def reachable(self, host, index):
        """Whether ``host`` answers ssh on its lab address (number ``index`` of the lab plan)."""
        assert address(index) == self.lab.host(host)["addresses"]["untagged_ipv4"], (host, index)
        return self.lab.answers_ssh(host)


def prepare(sc):
    """The hosts as their installers left them, reached in-band on eth0: netplan with cloud-init's
    DHCP, ifupdown with a static address, NetworkManager with a DHCP profile."""
    for index, host in enumerate(HOSTS, start=1):
        sc.sh(host, installed(RENDERERS[host], address(index)))
    deadline = time.monotonic() + (60 if TIER == "containers" else 600)   # TCG boots slowly under load
    for index, host in enumerate(HOSTS, start=1):
        while not sc.reachable(host, index):
            assert time.monotonic() < deadline, f"{host} is not reachable in-band on {address(index)}"
            time.sleep(1)
