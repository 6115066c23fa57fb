#!/usr/bin/env bash
# Build the execution environment image with ansible-builder on podman, offline:
#   1. the base image localhost/cskl-ee-base (Debian 12 by debootstrap: Python, pip, ssh, this
#      machine's CA certificates), cached by a hash of ee/base/ and built only when that changes;
#   2. the build context in .tmp/ee: ee/execution-environment.yml, this collection's tarball and
#      the collections it depends on (galaxy.yml) copied from the PyPI ansible package's folders,
#      with a requirements.yml naming them (Galaxy is not reachable from here);
#   3. ansible-builder build -> localhost/cskl-ee:current (and :<collection version>).
#
#   ee/build.sh            build (the base image only when its recipe changed)
#   ee/build.sh --base     the base image only
# Safety as in lab/images/build.sh: package scripts run in private mount, network and PID
# namespaces with a policy-rc.d that starts nothing; only apt's downloads see the network.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cache=${LAB_CACHE_DIR:-/var/cache/cloudstack-kvm-lab}
suite=bookworm
export CONTAINERS_CONF=$top/lab/containers.conf   # the machine's default fails on rlimits
# shellcheck source=/dev/null
. "$top/lab/lib/in-root.sh"

log() { printf '[ee %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, podman)"

base_key=$( (cd ee/base && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
             sha256sum < "$top/lab/lib/in-root.sh"; echo "suite=$suite") | sha256sum | cut -c1-16)
base_image=localhost/cskl-ee-base:$base_key

build_base() {
  local mirror work root include
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  mkdir -p "$cache/debs" "$cache/tmp"
  work=$(mktemp -d "$cache/tmp/ee.XXXXXX")
  # shellcheck disable=SC2064  # $work is fixed now
  trap "rm -rf --one-file-system '$work'" RETURN
  root=$work/rootfs
  include=$(sed -e 's/#.*//' ee/base/packages.txt | awk 'NF' | paste -sd, -)
  log "base image: debootstrap $suite ($include)"
  debootstrap --variant=minbase --foreign --merged-usr --cache-dir="$cache/debs" --include="$include" \
    "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  no_services "$root"
  in_root "$root" /debootstrap/debootstrap --second-stage >> "$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap second stage failed"; }
  # pip and apt inside the image reach their indexes through this machine's TLS proxy: its CA.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  in_root "$root" update-ca-certificates > /dev/null
  install -m 0755 ee/base/apt-dnf "$root/usr/local/bin/apt-dnf"
  in_root "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d" "$root"/var/cache/apt/archives/*.deb
  log "base image: podman import $base_image"
  tar -C "$root" --numeric-owner -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$base_image" >/dev/null
}

if ! podman image exists "$base_image"; then
  build_base
else
  log "base image cached: $base_image"
fi
podman tag "$base_image" localhost/cskl-ee-base:current
[ "${1:-}" = --base ] && exit 0

# The build context: the EE definition, the collections as folders, this collection's tarball.
ctx=$top/.tmp/ee
rm -rf "$ctx"
mkdir -p "$ctx/collections"
cp ee/execution-environment.yml "$ctx/"
.venv/bin/ansible-galaxy collection build --force --output-path "$ctx/collections" . >/dev/null
tarball=$(basename "$(ls "$ctx"/collections/cloudstack_kvm-networking-*.tar.gz)")
version=${tarball#cloudstack_kvm-networking-}
version=${version%.tar.gz}
site=$(.venv/bin/python -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__file__))' 2>/dev/null ||
       .venv/bin/python -c 'import ansible, os; print(os.path.join(os.path.dirname(os.path.dirname(ansible.__file__)), "ansible_collections"))')
{
  echo "---"
  echo "# Written by ee/build.sh: offline sources for the collections (galaxy.yml's dependencies)."
  echo "collections:"
  for dep in $(.venv/bin/python -c 'import yaml; print(" ".join(sorted(yaml.safe_load(open("galaxy.yml"))["dependencies"])))'); do
    ns=${dep%%.*}; name=${dep#*.}
    [ -d "$site/$ns/$name" ] || die "collection $dep is not in the ansible package ($site/$ns/$name)"
    cp -a "$site/$ns/$name" "$ctx/collections/$dep"
    printf '  - name: /build/collections/%s\n    type: dir\n' "$dep"
  done
  printf '  - name: /build/collections/%s\n    type: file\n' "$tarball"
} > "$ctx/requirements.yml"

log "ansible-builder build: localhost/cskl-ee:$version"
started=$SECONDS
.venv/bin/ansible-builder build --file "$ctx/execution-environment.yml" --context "$ctx/context" \
  --container-runtime podman --tag "localhost/cskl-ee:$version" --tag localhost/cskl-ee:current \
  --extra-build-cli-args '--network host' -v 2 > "$ctx/build.log" 2>&1 ||
  { tail -n 40 "$ctx/build.log" >&2; die "ansible-builder build failed (the whole log: $ctx/build.log)"; }
size=$(podman image inspect localhost/cskl-ee:current --format '{{.Size}}')
log "built localhost/cskl-ee:$version in $((SECONDS - started)) s, $((size / 1000000)) MB"
