#!/usr/bin/env bash
# Build the collection tarball and install it offline (no Galaxy: dependencies come from the
# PyPI ansible package already in the virtualenv), then check that ansible-doc finds a module and
# a filter in the installed copy.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/.tmp/build
rm -rf "$work"; mkdir -p "$work/collections"
cd "$top"
ansible-galaxy collection build --output-path "$work" --force .
tarball=$(ls "$work"/cloudstack_kvm-networking-*.tar.gz)
ansible-galaxy collection install --offline --no-deps --force -p "$work/collections" "$tarball"
ANSIBLE_COLLECTIONS_PATH=$work/collections ansible-galaxy collection list cloudstack_kvm.networking -p "$work/collections"
ANSIBLE_COLLECTIONS_PATH=$work/collections ansible-doc -t filter cloudstack_kvm.networking.kvm_network_render > /dev/null
if tar -tzf "$tarball" | grep -qE '(^|/)(\.venv|\.tmp|out|lab/\.state)/'; then
  echo "the tarball carries build or lab state"; exit 1
fi
echo "built and installed offline: $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
