#!/usr/bin/env bash
# Build the lab images from Debian packages, cached by a hash of their recipe (this directory).
#
#   lab/images/build.sh            build if the cache has no image for the current recipe
#   lab/images/build.sh --key      print the recipe key and exit
#   lab/images/build.sh --force    rebuild even if cached
#
# Output, in $LAB_CACHE_DIR/images/<key>/ (default /var/cache/cloudstack-kvm-lab):
#   rootfs.tar.zst   systemd container root (podman import)
#   base.qcow2       VM disk (ext4 on the whole disk, no partition table, no bootloader)
#   vmlinuz          the Debian cloud kernel the VM boots with -kernel
#   manifest.json    key, kernel version, package versions, build time
# A debootstrap of packages.txt is cached separately ($LAB_CACHE_DIR/debootstrap/<pkgkey>.tar.zst)
# so a change to the customisation alone does not download and install the packages again.
#
# Safety: every package maintainer script and every command run inside the image root runs in
# private mount, network and PID namespaces (unshare), with a policy-rc.d that forbids starting
# services: nothing the packages do (Open vSwitch, NetworkManager, ifupdown, netplan) can reach
# the machine's own network, and every mount made during the build vanishes with its namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE_DIR:-/var/cache/cloudstack-kvm-lab}
suite=${LAB_SUITE:-bookworm}

log() { printf '[lab-images %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The recipe key: every file of this directory (names and contents) and the suite.
recipe_key() {
  (cd "$here" && find . -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z |
     xargs -0 sha256sum; echo "suite=$suite") | sha256sum | cut -c1-16
}
packages_key() {
  (sed -e 's/#.*//' "$here/packages.txt" | awk 'NF' | LC_ALL=C sort; echo "suite=$suite") |
    sha256sum | cut -c1-16
}

mode=build
case "${1:-}" in
  --key) recipe_key; exit 0 ;;
  --force) mode=force ;;
  "") ;;
  *) die "usage: $0 [--key|--force]" ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mkfs)"
for tool in debootstrap unshare chroot zstd mkfs.ext4 qemu-img dpkg-deb; do
  command -v "$tool" >/dev/null || die "missing $tool (run scripts/setup.sh: bindep.txt [lab])"
done

key=$(recipe_key)
out=$cache/images/$key
if [ "$mode" = build ] && [ -f "$out/manifest.json" ]; then
  log "cached: $out"
  echo "$out"
  exit 0
fi

mirror=${LAB_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$cache/images" "$cache/debootstrap" "$cache/debs" "$cache/tmp"
work=$(mktemp -d "$cache/tmp/build.XXXXXX")
cleanup() {
  # Nothing is mounted here: all build mounts lived in private mount namespaces.
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# Run a command inside an image root, in fresh mount/net/pid namespaces, with /proc, /sys, /dev
# and /run of its own. Usage: in_root ROOT [--net] CMD...
#   --net keeps the machine's network namespace (only for apt downloads; no package is
#   configured and no maintainer script runs in that mode).
in_root() {
  local root=$1; shift
  local net=--net
  if [ "${1:-}" = --net ]; then net=; shift; fi
  # shellcheck disable=SC2016
  unshare --mount --propagation private --pid --fork --kill-child $net -- /bin/sh -ec '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys" 2>/dev/null || true
    mount -t tmpfs -o mode=755 tmpfs "$root/run"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
  ' in_root "$root" "$@"
}

no_services() {
  printf '#!/bin/sh\n# cskl-lab image build: never start services\nexit 101\n' > "$1/usr/sbin/policy-rc.d"
  chmod 0755 "$1/usr/sbin/policy-rc.d"
}

t0=$(date +%s)
root=$work/rootfs
mkdir -p "$root"
pkey=$(packages_key)
base_tar=$cache/debootstrap/$pkey.tar.zst
if [ -f "$base_tar" ]; then
  log "debootstrap cached ($pkey), extracting"
  zstd -dc "$base_tar" | tar -x --numeric-owner --xattrs --xattrs-include='*' -C "$root"
else
  include=$(sed -e 's/#.*//' "$here/packages.txt" | awk 'NF' | paste -sd, -)
  log "debootstrap $suite from $mirror (first stage: download and unpack)"
  debootstrap --variant=minbase --foreign --merged-usr --cache-dir="$cache/debs" \
    --include="$include" "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap first stage failed"; }
  no_services "$root"
  log "debootstrap second stage (configure packages, isolated namespaces)"
  in_root "$root" /debootstrap/debootstrap --second-stage >> "$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; tail -n 30 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null;
      die "debootstrap second stage failed"; }
  rm -f "$root"/var/cache/apt/archives/*.deb
  log "caching the debootstrap as $base_tar"
  tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -c . | zstd -q -T0 -3 -o "$base_tar.tmp"
  mv "$base_tar.tmp" "$base_tar"
fi
no_services "$root"
t1=$(date +%s)

# The VM kernel: the cloud flavour has virtio, NVMe and ext4 built in (no initramfs needed) and
# ships bonding, 8021q and openvswitch as modules. apt only downloads here (no maintainer
# scripts run); the package is unpacked with tar so merged-/usr symlinks survive.
log "downloading the Debian cloud kernel"
# shellcheck disable=SC2016  # the script runs in the chroot, its variables expand there
in_root "$root" --net /bin/sh -ec '
  apt-get -qq update
  pkg=$(apt-cache depends linux-image-cloud-amd64 | awk "/Depends: linux-image-[0-9]/ {print \$2; exit}")
  cd /tmp && apt-get -qq download "$pkg" && mkdir -p /var/tmp/kernel && mv /tmp/*.deb /var/tmp/kernel/
' > "$work/kernel.log" 2>&1 || { cat "$work/kernel.log" >&2; die "kernel download failed"; }
kdeb=$(ls "$root"/var/tmp/kernel/linux-image-*.deb)
mv "$kdeb" "$work/"
rm -rf "$root/var/tmp/kernel"
kdeb=$work/$(basename "$kdeb")

log "customising (common)"
cp -a "$here/files/common/." "$root/"
cp "$here/customize.sh" "$root/usr/local/sbin/cskl-customize"
in_root "$root" /usr/local/sbin/cskl-customize common

# Package inventory for the manifest (before the flavours diverge).
# shellcheck disable=SC2016  # dpkg-query's own format, not shell variables
in_root "$root" dpkg-query -W -f '${Package}=${Version}\n' > "$work/packages.lock"

log "container flavour"
ct=$work/ct
cp -a "$root" "$ct"
cp -a "$here/files/container/." "$ct/"
in_root "$ct" /usr/local/sbin/cskl-customize container
rm -f "$ct/usr/local/sbin/cskl-customize" "$ct/usr/sbin/policy-rc.d"
tar -C "$ct" --numeric-owner --xattrs --xattrs-include='*' -c . | zstd -q -T0 -3 -o "$work/rootfs.tar.zst"
rm -rf --one-file-system "$ct"

log "VM flavour"
vm=$root
cp -a "$here/files/vm/." "$vm/"
in_root "$vm" /usr/local/sbin/cskl-customize vm
dpkg-deb --fsys-tarfile "$kdeb" | tar -x --keep-directory-symlink -C "$vm"
kver=$(basename "$kdeb" | sed -E 's/^linux-image-([^_]+)_.*/\1/')
depmod -b "$vm" "$kver" 2>/dev/null || in_root "$vm" depmod "$kver"
cp "$vm/boot/vmlinuz-$kver" "$work/vmlinuz"
rm -f "$vm/usr/local/sbin/cskl-customize" "$vm/usr/sbin/policy-rc.d"
truncate -s 3G "$work/base.raw"
mkfs.ext4 -q -F -L cskl-root -E root_owner=0:0 -d "$vm" "$work/base.raw"
qemu-img convert -O qcow2 "$work/base.raw" "$work/base.qcow2"
rm -f "$work/base.raw"
t2=$(date +%s)

python3 - "$work" "$key" "$kver" "$suite" "$mirror" "$((t1 - t0))" "$((t2 - t0))" <<'EOF'
import json, sys, time
work, key, kver, suite, mirror, t_boot, t_all = sys.argv[1:]
pkgs = dict(line.split("=", 1) for line in open(f"{work}/packages.lock").read().split())
json.dump({"key": key, "kernel": kver, "suite": suite, "mirror": mirror,
           "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "seconds": {"debootstrap": int(t_boot), "total": int(t_all)},
           "packages": pkgs}, open(f"{work}/manifest.json", "w"), indent=1, sort_keys=True)
EOF
mkdir -p "$out.new"
mv "$work/rootfs.tar.zst" "$work/base.qcow2" "$work/vmlinuz" "$work/packages.lock" "$out.new/"
mv "$work/manifest.json" "$out.new/"   # last: its presence marks a complete image set
rm -rf "$out"
mv "$out.new" "$out"
# Keep only the current recipe's images (older keys are unreachable).
find "$cache/images" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
log "built $out in $((t2 - t0)) s (debootstrap $((t1 - t0)) s, kernel $kver)"
echo "$out"
