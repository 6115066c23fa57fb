#!/usr/bin/env bash
# netplan generate --root-dir ROOT, offline: netplan only writes under ROOT. It refuses
# `openvswitch:` keys unless /usr/bin/ovs-vsctl exists (it never runs it during generate); when
# Open vSwitch is not installed here, a private mount namespace overlays /usr/bin with a
# placeholder that only this one command sees.
set -euo pipefail
root=$1
if [ -e /usr/bin/ovs-vsctl ]; then
  exec netplan generate --root-dir "$root"
fi
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
printf '#!/bin/sh\necho "placeholder for netplan generate only" >&2\nexit 1\n' > "$fake/ovs-vsctl"
chmod 755 "$fake/ovs-vsctl"
# shellcheck disable=SC2016  # $1 expands in the inner shell, which gets the paths as arguments
unshare --mount --propagation private sh -c \
  'mount -t overlay overlay -o lowerdir="$1":/usr/bin /usr/bin && shift && exec netplan generate --root-dir "$1"' \
  sh "$fake" "$root"
