#!/usr/bin/env bash
# Install everything the collection's development, tests and lab need on a Debian 12 machine:
# Debian packages (bindep.txt), a virtualenv with pinned Python tooling (requirements-dev.txt),
# and a collections path that points at this checkout. Safe to re-run: each step is skipped when
# its input has not changed.
#   scripts/setup.sh            everything
#   scripts/setup.sh --no-apt   Python side only (no root needed)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
want_apt=1
[ "${1:-}" = "--no-apt" ] && want_apt=0

log() { printf '[setup] %s\n' "$*"; }

if [ "$want_apt" = 1 ]; then
  mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/\[.*\]//' bindep.txt | awk 'NF {print $1}')
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    # No recommends: netplan.io and ifupdown are installed only as offline validators (netplan
    # generate --root-dir, ifquery); nothing here applies them to this machine's network.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

py=${PYTHON:-python3}
stamp=.venv/.requirements.sha256
want=$( (cat requirements-dev.txt requirements.txt; "$py" --version 2>&1) | sha256sum | cut -d' ' -f1)
# make_venv DIR: a virtualenv with the pinned requirements in DIR, stamped with their hash.
make_venv() {
  rm -rf "$1"
  "$py" -m venv "$1"
  "$1/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt -r requirements.txt
  echo "$want" > "$1/.requirements.sha256"
}
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # As root (CI, the lab), the venv is kept in the machine's cache by the requirements' hash and
  # .venv points at it: a fresh checkout on the same machine skips the minute pip takes. A
  # virtualenv cannot move, so it is built where it stays.
  cache=${CSKL_VENV_CACHE:-/var/cache/cloudstack-kvm-lab/venvs}
  if [ "$(id -u)" = 0 ] && mkdir -p "$cache" 2>/dev/null; then
    shared=$cache/${want:0:16}
    exec 9> "$cache/.lock"
    flock 9     # one build per hash at a time; the others wait and reuse it
    if [ "$(cat "$shared/.requirements.sha256" 2>/dev/null)" != "$want" ] || [ ! -x "$shared/bin/python" ]; then
      log "creating the shared virtualenv $shared with $($py --version 2>&1)"
      make_venv "$shared"
    fi
    flock -u 9
    exec 9>&-
    rm -rf .venv
    ln -s "$shared" .venv
    log ".venv -> $shared"
  else
    log "creating .venv with $($py --version 2>&1)"
    make_venv .venv
  fi
fi

# A collections path in which cloudstack_kvm.networking is this checkout, so playbooks,
# ansible-doc and unit tests use the working tree without an install step.
coll=.tmp/collections/ansible_collections/cloudstack_kvm
mkdir -p "$coll"
[ -L "$coll/networking" ] || ln -sfn ../../../.. "$coll/networking"
version=$(.venv/bin/ansible --version)
log "ready: ${version%%$'\n'*}"
