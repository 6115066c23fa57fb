# shellcheck shell=bash
# Sourced by the image builds that come after the base images (lab/flavours/build.sh,
# ee/build.sh): running commands inside an image root, isolated from this machine.
# (lab/images/build.sh keeps its own copy: it is the base images' recipe, and editing it to source
# this file would rebuild every base image.)

# Run a command inside an image root, in fresh mount/net/pid namespaces, with /proc, /sys, /dev
# and /run of its own. Usage: in_root ROOT [--net] CMD...
#   --net keeps the machine's network namespace (only for apt downloads: no maintainer script
#   runs in that mode).
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

# A policy-rc.d that forbids starting services while packages are installed into ROOT.
no_services() {
  printf '#!/bin/sh\n# image build: never start services\nexit 101\n' > "$1/usr/sbin/policy-rc.d"
  chmod 0755 "$1/usr/sbin/policy-rc.d"
}
