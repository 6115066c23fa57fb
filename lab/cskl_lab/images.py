"""The lab images: built by lab/images/build.sh into the cache, imported into podman on demand."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .util import LABEL, LAB_ROOT, LabError, cache_root, env_with_podman, flock, log, podman, run

BUILD = LAB_ROOT / "images" / "build.sh"
FLAVOUR_BUILD = LAB_ROOT / "flavours" / "build.sh"
IMAGE_REPO = "localhost/cskl-lab"
# Flavours: the container image plus what one kind of test needs (lab/flavours/NAME/).
FLAVOURS = ("libvirt",)


def recipe_key() -> str:
    return run([BUILD, "--key"], timeout=60).stdout.strip()


def image_dir(key: str | None = None) -> Path:
    return cache_root() / "images" / (key or recipe_key())


def ensure_built(force: bool = False) -> Path:
    """Build the images for the current recipe unless the cache has them. Returns their dir."""
    with flock(cache_root() / ".build.lock"):
        argv = [str(BUILD)] + (["--force"] if force else [])
        # Stream the build log: a build from scratch takes a minute or two.
        proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            raise LabError("image build failed (see the log above); fix and re-run `make lab-images`")
        out = Path(proc.stdout.strip().splitlines()[-1])
    if not (out / "manifest.json").is_file():
        raise LabError(f"image build reported {out}, which has no manifest.json")
    return out


def ensure_flavour(name: str) -> Path:
    """Build flavour `name` (and the base images it starts from) unless cached. Returns its dir."""
    if name not in FLAVOURS:
        raise LabError(f"flavour {name!r}: use one of {', '.join(FLAVOURS)}")
    with flock(cache_root() / ".build.lock"):
        proc = subprocess.run([str(FLAVOUR_BUILD), name], stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            raise LabError(f"flavour {name} build failed (see the log above); fix and re-run "
                           f"`lab/flavours/build.sh {name}`")
        out = Path(proc.stdout.strip().splitlines()[-1])
    if not (out / "manifest.json").is_file():
        raise LabError(f"flavour build reported {out}, which has no manifest.json")
    return out


def manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def podman_image(directory: Path) -> str:
    """Import the container image of `directory` into podman (once per recipe key)."""
    about = manifest(directory)
    key = about["key"]
    repo = f"{IMAGE_REPO}-{about['flavour']}" if about.get("flavour") else IMAGE_REPO
    ref = f"{repo}:{key}"
    with flock(cache_root() / ".podman-import.lock"):
        if podman("image", "exists", ref, check=False).returncode == 0:
            return ref
        log(f"importing {directory / 'rootfs.tar.zst'} into podman as {ref}")
        zstd = subprocess.Popen(["zstd", "-dc", str(directory / "rootfs.tar.zst")], stdout=subprocess.PIPE)
        imp = subprocess.run(
            [
                "podman", "import",
                "--change", 'CMD ["/sbin/init"]',
                "--change", "STOPSIGNAL=SIGRTMIN+3",
                "--change", f"LABEL {LABEL}.image={key}",
                "-", ref,
            ],
            stdin=zstd.stdout, capture_output=True, text=True, env=env_with_podman(), check=False,
        )
        zstd.stdout.close()
        zstd.wait()
        if imp.returncode != 0 or zstd.returncode != 0:
            raise LabError(f"podman import failed: {imp.stderr.strip()}")
        # Older lab images are unreachable once the recipe changed: drop those no container uses.
        listing = podman("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"reference={repo}")
        for old in listing.stdout.split():
            if old != ref:
                podman("rmi", old, check=False)
        return ref
