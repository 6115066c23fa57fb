"""Small helpers shared by the lab: commands, logging, names, locks.

Every object the lab creates carries the prefix ``cskl-`` (network namespaces, podman labels,
QEMU ``-name``) or ``cskl`` (interface names), so tear-down finds exactly its own objects.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PREFIX = "cskl"
LAB_ROOT = Path(__file__).resolve().parent.parent  # .../lab
REPO_ROOT = LAB_ROOT.parent
CONTAINERS_CONF = LAB_ROOT / "containers.conf"
LABEL = "io.cskl.lab"
LABEL_ROLE = "io.cskl.role"

LAB_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
HOST_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")


class LabError(Exception):
    """A lab operation failed; the message says what and how to recover."""


def log(msg: str) -> None:
    print(f"[lab {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def state_root() -> Path:
    return Path(os.environ.get("LAB_STATE_DIR") or LAB_ROOT / ".state")


def cache_root() -> Path:
    return Path(os.environ.get("LAB_CACHE_DIR") or "/var/cache/cloudstack-kvm-lab")


def env_with_podman() -> dict:
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def run(argv, *, check=True, capture=True, timeout=None, input=None, env=None, quiet=False):
    """Run argv (never a shell string). Returns CompletedProcess; raises LabError on failure."""
    argv = [str(a) for a in argv]
    try:
        proc = subprocess.run(
            argv,
            check=False,
            capture_output=capture,
            text=True,
            timeout=timeout,
            input=input,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {' '.join(argv)}") from exc
    except FileNotFoundError as exc:
        raise LabError(f"command not found: {argv[0]} (run scripts/setup.sh)") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip() if capture else ""
        raise LabError(f"command failed ({proc.returncode}): {' '.join(argv)}\n{detail}")
    if not quiet and capture and proc.returncode != 0 and not check:
        pass
    return proc


def podman(*args, check=True, timeout=120, capture=True):
    return run(["podman", *args], check=check, timeout=timeout, env=env_with_podman(), capture=capture)


def ip(*args, check=True):
    return run(["ip", *args], check=check, timeout=30)


def ip_json(*args):
    out = run(["ip", "-j", *args], timeout=30).stdout
    return json.loads(out) if out.strip() else []


def netns_list() -> list[str]:
    out = run(["ip", "netns", "list"], timeout=30).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def short_hash(text: str, n: int = 4) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:n]


def check_lab_id(lab_id: str) -> str:
    if not LAB_ID_RE.match(lab_id):
        raise LabError(
            f"lab id {lab_id!r}: use 1-32 characters a-z, 0-9 and '_' (no '-': it separates "
            "the parts of the lab's namespace names)"
        )
    return lab_id


def check_host_name(name: str) -> str:
    if not HOST_RE.match(name) or len(name) > 32:
        raise LabError(f"host name {name!r}: use a-z, 0-9 and '-', start with a letter, <= 32 chars")
    return name


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, podman, QEMU taps)")


@contextmanager
def flock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def proc_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except LabError as exc:
            last_exc = exc
        time.sleep(interval)
    raise LabError(f"timed out after {timeout:.0f}s waiting for {what}" + (f": {last_exc}" if last_exc else ""))


def yaml_dump(data, indent: int = 0) -> str:
    """Emit YAML for dicts, lists and scalars (strings JSON-quoted, which YAML accepts)."""
    pad = "  " * indent
    lines = []
    if isinstance(data, dict):
        if not data:
            return pad + "{}\n"
        for key, value in data.items():
            if isinstance(value, (dict, list)) and value:
                lines.append(f"{pad}{key}:\n{yaml_dump(value, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(value)}\n")
        return "".join(lines)
    if isinstance(data, list):
        if not data:
            return pad + "[]\n"
        for value in data:
            if isinstance(value, (dict, list)) and value:
                inner = yaml_dump(value, indent + 1).lstrip()
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {_scalar(value)}\n")
        return "".join(lines)
    return pad + _scalar(data) + "\n"


def _scalar(value) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))
