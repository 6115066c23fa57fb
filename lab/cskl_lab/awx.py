"""A job run the way AWX runs one, without AWX: a private data directory laid out as AWX's task
runner lays it out, handed to ansible-runner's Python API, and job slicing as AWX's sliced job
templates do it. Used by tests/lab/test_runner_jobs.py and bench/slices.

The private data directory (ansible-runner's input, as AWX writes it for a job):

    project/            the project checkout: playbooks/ of this repository
    inventory/hosts     an executable script that prints the job's inventory as JSON (AWX writes
                        its inventory, or one slice of it, this way)
    env/extravars       the job's extra variables (YAML)
    env/envvars         environment for ansible-playbook (collections path, no colour, ...)
    env/settings        runner settings (job and idle timeouts)
    env/ssh_key         the machine credential's private key: runner loads it into an ssh-agent
                        for the run and never writes it into the artifacts
    collections/        this collection, installed from the built tarball (AWX installs a
                        project's collections into the job's own directory)

Slicing (AWX's sliced job templates): the inventory's enabled hosts sorted by name; slice k of N
gets hosts k-1, k-1+N, k-1+2N, ...; every group is cut down to the slice's hosts; a slice left with
no host fails without running.

``python -m cskl_lab.awx run DIR PLAYBOOK [IDENT]`` runs one job and prints its summary as JSON
(the lab tests run it inside an in-band lab's controller namespace, where the hosts are reached).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .util import env_with_podman, run

REPO = Path(__file__).resolve().parents[2]
# Job events that concern one host (runner_on_*, runner_item_on_*, runner_retry).
HOST_EVENT_PREFIXES = ("runner_on_", "runner_item_on_", "runner_retry")


def slice_hosts(hostvars: dict, slice_number: int, slice_count: int) -> list[str]:
    """The hosts of slice ``slice_number`` (1-based) of ``slice_count``: enabled hosts sorted by
    name, every ``slice_count``-th from ``slice_number - 1``. A host is disabled by the host
    variable ``awx_enabled: false`` (AWX's host ``enabled`` flag)."""
    if not 1 <= slice_number <= slice_count:
        raise ValueError(f"slice {slice_number} of {slice_count} does not exist")
    enabled = sorted(name for name, hvars in hostvars.items() if (hvars or {}).get("awx_enabled", True))
    return enabled[slice_number - 1::slice_count]


def effective_slice_count(hostvars: dict, slice_count: int) -> int:
    """AWX launches no more slices than the inventory has enabled hosts."""
    return max(1, min(slice_count, sum(1 for hvars in hostvars.values() if (hvars or {}).get("awx_enabled", True))))


def script_data(hostvars: dict, groups: dict | None = None, group_vars: dict | None = None,
                slice_number: int = 1, slice_count: int = 1) -> dict:
    """The inventory AWX's inventory script prints for one slice: ``all`` and every group with
    their hosts (cut down to the slice's), children and vars, and every host's variables under
    ``_meta.hostvars``. ``groups`` is {group: [hosts]}, ``group_vars`` {group: {var: value}}."""
    hosts = slice_hosts(hostvars, slice_number, slice_count)
    chosen = set(hosts)
    data = {"all": {"hosts": hosts, "children": sorted(groups or {}), "vars": (group_vars or {}).get("all", {})}}
    for group, members in sorted((groups or {}).items()):
        data[group] = {"hosts": sorted(h for h in members if h in chosen), "children": [],
                       "vars": (group_vars or {}).get(group, {})}
    data["_meta"] = {"hostvars": {name: hostvars[name] or {} for name in hosts}}
    return data


def install_collection(dest: Path) -> Path:
    """This collection built into a tarball and installed under ``dest`` (offline: the tarball
    has no dependency that needs Galaxy here, ``--no-deps``). Returns the collections path."""
    build = dest / "build"
    build.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}")
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(build), str(REPO)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    tarball = next(build.glob("cloudstack_kvm-networking-*.tar.gz"))
    path = dest / "collections"
    subprocess.run(["ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", str(path), str(tarball)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return path


def private_data_dir(root: Path, inventory: dict, ssh_key: str, collections: Path | None,
                     extravars: dict | None = None, job_timeout: int = 1800) -> Path:
    """Lay out ``root`` as AWX lays out a job's private data directory (see the module's text);
    ``inventory`` is what :func:`script_data` returns; ``collections`` None for a job run in an
    execution environment (the image has the collections and ansible). Returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    project = root / "project"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(REPO / "playbooks", project / "playbooks")
    inv = root / "inventory"
    inv.mkdir(exist_ok=True)
    script = inv / "hosts"
    script.write_text("#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n"
                      f"print({json.dumps(json.dumps(inventory))})\n")
    script.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR)
    env = root / "env"
    env.mkdir(exist_ok=True)
    (env / "extravars").write_text(yaml.safe_dump(extravars or {}))
    envvars = {"ANSIBLE_FORCE_COLOR": "False", "ANSIBLE_NOCOLOR": "True",
               "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False",
               "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null"}
    if collections is not None:
        envvars.update(ANSIBLE_COLLECTIONS_PATH=str(collections), PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}")
    (env / "envvars").write_text(yaml.safe_dump(envvars))
    (env / "settings").write_text(yaml.safe_dump({"job_timeout": job_timeout, "idle_timeout": 600,
                                                  "suppress_ansible_output": True}))
    key = env / "ssh_key"
    key.write_text(ssh_key if ssh_key.endswith("\n") else ssh_key + "\n")
    key.chmod(0o600)
    return root


def summary(status: str, rc, events) -> dict:
    """What a test checks of a finished job: status, rc, the per-host stats (the
    playbook_on_stats event's) and the host events (event, host, task, changed, failed, msg)."""
    out, stats = [], {}
    for event in events:
        data = event.get("event_data", {})
        if event.get("event", "").startswith(HOST_EVENT_PREFIXES):
            res = data.get("res") or {}
            out.append({"event": event["event"], "host": data.get("host"), "task": data.get("task"),
                        "changed": bool(res.get("changed")), "failed": event["event"].endswith("_failed"),
                        "msg": res.get("msg") if isinstance(res.get("msg"), str) else None})
        elif event.get("event") == "playbook_on_stats":
            keys = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed")
            stats = dict((k, data.get(k) or {}) for k in keys)
            out.append({"event": "playbook_on_stats", "host": None, "task": None, "changed": False,
                        "failed": False, "msg": None})
    return {"status": status, "rc": rc, "stats": stats, "events": out}


def artifacts_summary(root: Path, ident: str) -> dict:
    """:func:`summary` of a job from what runner left in ``root``/artifacts/``ident`` (a job run
    inside an execution environment, whose runner wrote them there)."""
    art = root / "artifacts" / ident
    events = [json.loads(p.read_text()) for p in (art / "job_events").glob("*.json")]
    events.sort(key=lambda e: e.get("counter", 0))
    rc = (art / "rc").read_text().strip() if (art / "rc").exists() else None
    status = (art / "status").read_text().strip() if (art / "status").exists() else "unknown"
    return summary(status, int(rc) if rc not in (None, "") else None, events)


def run_job(root: Path, playbook: str, ident: str = "1") -> dict:
    """Run ``playbook`` (relative to project/) on the private data directory ``root`` with
    ansible-runner's Python API; returns :func:`summary`. A job whose inventory has no host fails
    without running (a slice that --limit or disabled hosts left empty)."""
    inventory = json.loads(subprocess.run([str(root / "inventory" / "hosts")], check=True, stdout=subprocess.PIPE,
                                          universal_newlines=True).stdout)
    if not inventory["all"]["hosts"]:
        return {"status": "failed", "rc": None, "stats": {}, "events": [],
                "msg": "the job's inventory (slice) has no host: nothing to run on"}
    # Imported here: only the process that runs a job needs it (the lab tests import this module too).
    import ansible_runner  # pylint: disable=import-outside-toplevel
    runner = ansible_runner.run(private_data_dir=str(root), playbook=playbook, ident=ident, quiet=True)
    return summary(runner.status, runner.rc, runner.events)


class LabJobs:
    """Jobs on an in-band lab (``lab/lab up --inband``), as AWX would run them: each job gets its
    own private data directory under ``workdir`` and runs in the lab's controller namespace, over
    ssh with the lab's key as the machine credential."""

    # What the lab's inventory gives a job besides the key (the credential's): how to reach a host.
    CONNECTION = ("ansible_connection", "ansible_host", "ansible_user", "ansible_python_interpreter")
    SSH_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5"

    def __init__(self, lab, workdir: Path, image: str | None = None):
        """``image``: run each job in that execution environment (podman, in the controller
        namespace) instead of this checkout's ansible-runner and the collection's tarball."""
        self.lab = lab
        self.dir = Path(workdir)
        self.image = image
        self.collections = None if image else install_collection(self.dir)
        self.key = (lab.dir / "id_ed25519").read_text()
        hosts = yaml.safe_load(Path(lab.state["inband"]["inventory"]).read_text())["all"]["hosts"]
        self.connection = dict((name, dict([(k, v) for k, v in hvars.items() if k in self.CONNECTION],
                                           ansible_ssh_common_args=self.SSH_ARGS))
                               for name, hvars in hosts.items())
        self.count = 0

    def run(self, hostvars: dict, playbook: str = "playbooks/site.yml", groups: dict | None = None,
            slice_number: int = 1, slice_count: int = 1, timeout: int = 1800) -> dict:
        """One job (one slice of ``slice_count``) of ``playbook`` on ``hostvars`` ({host: vars},
        the connection added); :func:`summary` with the job's ``inventory`` and ``seconds``."""
        self.count += 1
        full = dict((name, dict(self.connection[name], **(hvars or {}))) for name, hvars in hostvars.items())
        inventory = script_data(full, groups=groups, slice_number=slice_number, slice_count=slice_count)
        root = private_data_dir(self.dir / f"job{self.count}", inventory, self.key, self.collections)
        started = time.monotonic()
        if self.image:
            result = self._run_in_image(root, playbook, timeout)
        else:
            env = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}", PYTHONPATH=str(REPO / "lab"))
            proc = self.lab.ctl_exec([str(REPO / ".venv" / "bin" / "python"), "-m", "cskl_lab.awx", "run", str(root),
                                      playbook, str(self.count)], timeout=timeout, env=env)
            if proc.returncode != 0:
                raise RuntimeError(f"job {self.count} could not run: {proc.stdout}{proc.stderr}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        seconds = time.monotonic() - started
        result.update(inventory=inventory, seconds=seconds, private_data_dir=str(root))
        return result

    def _run_in_image(self, root: Path, playbook: str, timeout: int) -> dict:
        """ansible-runner inside the image, as AWX runs a job in its execution environment: the
        private data directory mounted at /runner, the container in the lab's controller
        namespace (where the hosts are reached)."""
        proc = run(["podman", "run", "--rm", "--network", f"ns:/run/netns/{self.lab.ctl_ns}", "--user", "0",
                    "-v", f"{root}:/runner:Z", self.image,
                    "ansible-runner", "run", "/runner", "-p", playbook, "--ident", str(self.count)],
                   check=False, timeout=timeout, env=env_with_podman())
        if not (root / "artifacts" / str(self.count) / "status").exists():
            raise RuntimeError(f"job {self.count} did not run in {self.image}: {proc.stdout}{proc.stderr}")
        return artifacts_summary(root, str(self.count))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "run":
        print("usage: python -m cskl_lab.awx run PRIVATE_DATA_DIR PLAYBOOK [IDENT]", file=sys.stderr)
        return 2
    result = run_job(Path(argv[1]), argv[2], argv[3] if len(argv) > 3 else "1")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
