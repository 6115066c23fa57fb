#!/usr/bin/env bash
# Fetch Open vSwitch's userspace tools (ovsdb-server, ovsdb-tool, ovs-vsctl and the schema) for
# the functional unit tests (tests/unit/plugins/modules/test_ovs_functional.py), without
# installing anything on this machine:
#   apt-get download openvswitch-common openvswitch-switch (+ any shared-library package they
#   need that is not installed) -> dpkg-deb -x into a cache directory.
# Nothing is started here; the tests run only ovsdb-server (never ovs-vswitchd), on a unix socket
# inside a temporary directory, so no network device of this machine is touched.
#   tests/unit/tools/fetch-ovs-binaries.sh [DEST]     default DEST: <collection>/.tmp/ovs-bin
# Afterwards DEST/usr/bin/ovs-vsctl, DEST/usr/sbin/ovsdb-server, DEST/usr/bin/ovsdb-tool,
# DEST/usr/share/openvswitch/vswitch.ovsschema exist, and DEST/lib holds extra shared libraries
# (the tests set LD_LIBRARY_PATH=DEST/lib). Safe to re-run: a complete cache is left alone.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
dest=${1:-$top/.tmp/ovs-bin}
log() { printf '[fetch-ovs-binaries] %s\n' "$*"; }

need=(usr/bin/ovs-vsctl usr/bin/ovsdb-tool usr/sbin/ovsdb-server usr/share/openvswitch/vswitch.ovsschema)
complete() {
  local f
  for f in "${need[@]}"; do [ -e "$dest/$f" ] || return 1; done
  [ -f "$dest/.complete" ]
}
if complete; then
  log "cached in $dest"
  exit 0
fi

if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "fetch-ovs-binaries: needs apt-get and dpkg-deb (Debian/Ubuntu)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$dest"
mkdir -p "$dest/lib"
dest=$(cd "$dest" && pwd)

cd "$work"
log "apt-get download openvswitch-common openvswitch-switch"
apt-get download -q openvswitch-common openvswitch-switch >/dev/null 2>&1 \
  || { echo "fetch-ovs-binaries: apt-get download failed (is an apt mirror reachable? run apt-get update)" >&2; exit 1; }

# Shared-library dependencies (lib*) that are not installed here: download and unpack them too.
extra=()
for deb in openvswitch-common_*.deb; do
  while read -r dep; do
    name=${dep%% *}
    name=${name%%:*}
    case "$name" in lib*) ;; *) continue ;; esac
    dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed' && continue
    extra+=("$name")
  done < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/^ *//')
done
if [ ${#extra[@]} -gt 0 ]; then
  log "apt-get download ${extra[*]} (not installed here)"
  apt-get download -q "${extra[@]}" >/dev/null 2>&1 \
    || { echo "fetch-ovs-binaries: apt-get download ${extra[*]} failed" >&2; exit 1; }
fi

mkdir -p root
for deb in ./*.deb; do
  dpkg-deb -x "$deb" root
done
cp -a root/usr "$dest/"
# Libraries from the extra packages, wherever their package put them.
find root -name 'lib*.so*' \( -type f -o -type l \) -path '*/lib/*' -exec cp -a {} "$dest/lib/" \;

export LD_LIBRARY_PATH="$dest/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for b in usr/bin/ovs-vsctl usr/bin/ovsdb-tool usr/sbin/ovsdb-server; do
  if ldd "$dest/$b" | grep -q 'not found'; then
    echo "fetch-ovs-binaries: $b still misses libraries:" >&2
    ldd "$dest/$b" | grep 'not found' >&2
    exit 1
  fi
done
"$dest/usr/bin/ovs-vsctl" --version | head -1 > "$dest/VERSION"
touch "$dest/.complete"
log "ready: $(cat "$dest/VERSION") in $dest"
