#!/usr/bin/env bash
# Build a lab flavour: the lab's container image plus the packages and settings one kind of test
# needs (lab/flavours/NAME/), cached by the base image's key and a hash of the flavour's recipe.
# The base images' recipe (lab/images/) is not touched, so a flavour never rebuilds them.
#
#   lab/flavours/build.sh NAME            build unless cached; prints the output directory
#   lab/flavours/build.sh NAME --key      print the flavour's key and exit
#   lab/flavours/build.sh NAME --force    rebuild even if cached
#
# A flavour directory holds packages.txt (installed with --no-install-recommends), optionally
# customize.sh (run inside the root with the base kernel's version as its argument, no network)
# and guest/ (copied to /var/lib/cskl-guest; the base kernel's vmlinuz and its virtio network
# modules are put beside it, for guests a test boots inside a lab host).
# Output, in $LAB_CACHE_DIR/flavours/NAME/<key>/: rootfs.tar.zst, manifest.json.
# Safety as in lab/images/build.sh: package scripts run in private mount, network and PID
# namespaces with a policy-rc.d that starts nothing; only apt's downloads see the network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${LAB_CACHE_DIR:-/var/cache/cloudstack-kvm-lab}

log() { printf '[lab-flavour %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

name=${1:-}
if [ -z "$name" ] || [ ! -f "$here/$name/packages.txt" ]; then
  die "usage: $0 NAME [--key|--force] (NAME a directory of $here with a packages.txt)"
fi
flavour=$here/$name
mode=build
case "${2:-}" in
  --key) mode=key ;;
  --force) mode=force ;;
  "") ;;
  *) die "usage: $0 NAME [--key|--force]" ;;
esac

base_key=$("$top/lab/images/build.sh" --key)
flavour_key() {
  (cd "$flavour" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
   cat "$here/build.sh" "$top/lab/lib/in-root.sh" | sha256sum; echo "base=$base_key") | sha256sum | cut -c1-16
}
key=$(flavour_key)
if [ "$mode" = key ]; then echo "$key"; exit 0; fi
[ "$(id -u)" = 0 ] || die "must run as root (chroot, namespaces)"
out=$cache/flavours/$name/$key
if [ "$mode" = build ] && [ -f "$out/manifest.json" ]; then
  log "cached: $out"
  echo "$out"
  exit 0
fi

base_dir=$("$top/lab/images/build.sh" | tail -n 1)
kver=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["kernel"])' "$base_dir/manifest.json")
mkdir -p "$cache/flavours/$name" "$cache/tmp"
work=$(mktemp -d "$cache/tmp/flavour.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

# in_root, no_services (isolated from this machine, as lab/images/build.sh does).
# shellcheck source=/dev/null
. "$top/lab/lib/in-root.sh"

t0=$(date +%s)
root=$work/rootfs
mkdir -p "$root"
log "extracting the base container image ($base_key)"
zstd -dc "$base_dir/rootfs.tar.zst" | tar -x --numeric-owner --xattrs --xattrs-include='*' -C "$root"
no_services "$root"

packages=$(sed -e 's/#.*//' "$flavour/packages.txt" | awk 'NF' | paste -sd' ' -)
log "downloading: $packages (and linux-image-$kver for the guests)"
# shellcheck disable=SC2016,SC2086  # expanded in the chroot; one word per package
in_root "$root" --net /bin/sh -ec '
  kver=$1; shift
  apt-get -qq update
  apt-get -qq install --download-only --no-install-recommends "$@"
  mkdir -p /var/tmp/kernel && cd /var/tmp/kernel && apt-get -qq download "linux-image-$kver"
' flavour "$kver" $packages > "$work/download.log" 2>&1 || { tail -n 30 "$work/download.log" >&2; die "download failed"; }
log "installing (isolated namespaces, no network)"
# shellcheck disable=SC2086  # one word per package
in_root "$root" apt-get -qq install --no-install-recommends -y $packages > "$work/install.log" 2>&1 ||
  { tail -n 30 "$work/install.log" >&2; die "package installation failed"; }

if [ -d "$flavour/guest" ]; then
  guest=$root/var/lib/cskl-guest
  mkdir -p "$guest"
  cp -a "$flavour/guest/." "$guest/"
  kernel=$root/var/tmp/guest-kernel   # inside the root: depmod runs there (the machine may lack it)
  mkdir -p "$kernel"
  dpkg-deb --fsys-tarfile "$root"/var/tmp/kernel/linux-image-*.deb | tar -x -C "$kernel"
  cp "$kernel/boot/vmlinuz-$kver" "$guest/vmlinuz"
  # The guest's network driver and what it depends on (virtio itself is modular in this kernel):
  # modules.dep and the candidate modules; customize.sh picks the closure.
  mods=$(find "$kernel" -type d -path "*/modules/$kver" | head -n 1)
  [ -d "$kernel/lib/modules/$kver" ] || { mkdir -p "$kernel/lib/modules"; ln -s "../..${mods#"$kernel"}" "$kernel/lib/modules/$kver"; }
  in_root "$root" depmod -b /var/tmp/guest-kernel "$kver"   # the package ships no modules.dep
  (cd "$mods" && find . \( -name modules.dep -o -path './kernel/drivers/virtio/*' -o -name 'virtio_net.ko*' \
     -o -name 'net_failover.ko*' -o -name 'failover.ko*' \) -print) |
    while read -r path; do install -D -m 0644 "$mods/$path" "$guest/modules/$kver/$path"; done
fi
rm -rf "$root/var/tmp/kernel" "$root/var/tmp/guest-kernel"
if [ -f "$flavour/customize.sh" ]; then
  cp "$flavour/customize.sh" "$root/usr/local/sbin/cskl-flavour-customize"
  in_root "$root" /usr/local/sbin/cskl-flavour-customize "$kver"
  rm -f "$root/usr/local/sbin/cskl-flavour-customize"
fi
in_root "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d"
# shellcheck disable=SC2016  # dpkg-query's own format
in_root "$root" dpkg-query -W -f '${Package}=${Version}\n' > "$work/packages.lock"
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -c . | zstd -q -T0 -3 -o "$work/rootfs.tar.zst"
t1=$(date +%s)

python3 - "$work" "$name" "$key" "$base_key" "$kver" "$((t1 - t0))" <<'PY'
import json, sys, time
work, name, key, base_key, kver, seconds = sys.argv[1:]
pkgs = dict(line.split("=", 1) for line in open(f"{work}/packages.lock").read().split())
json.dump({"flavour": name, "key": key, "base_key": base_key, "kernel": kver,
           "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seconds": int(seconds),
           "packages": pkgs}, open(f"{work}/manifest.json", "w"), indent=1, sort_keys=True)
PY
mkdir -p "$out.new"
mv "$work/rootfs.tar.zst" "$work/packages.lock" "$out.new/"
mv "$work/manifest.json" "$out.new/"   # last: its presence marks a complete flavour
rm -rf "$out"
mv "$out.new" "$out"
find "$cache/flavours/$name" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
log "built $out in $((t1 - t0)) s"
echo "$out"
