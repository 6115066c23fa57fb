#!/usr/bin/env bash
# Render seed 000 on both backends for every system with playbooks/render.yml (controller only),
# then check the output with the real tools: `netplan generate --root-dir` for netplan files and
# `ifquery` for ifupdown files. Nothing touches this machine's network: netplan only writes
# under the scratch root, ifquery only parses.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/out}
cd "$top"
ansible-playbook -i examples/inventory/seed000.yml playbooks/render.yml -e "kvm_network_render_dir=$out"

fail=0
for host in lb-ubuntu ovs-ubuntu; do
  root=$(mktemp -d)
  cp -a "$out/$host/etc" "$root/"
  if scripts/netplan-generate-offline.sh "$root" 2> "$root/err"; then
    echo "netplan generate accepts $host ($(find "$root/run" -type f | wc -l) files generated)"
  else
    echo "netplan generate REJECTS $host:"; cat "$root/err"; fail=1
  fi
  rm -rf "$root"
done
for host in lb-debian ovs-debian; do
  f=$out/$host/etc/network/interfaces.d/cloudstack-kvm
  ifaces=$(ifquery -i "$f" --list --allow auto; ifquery -i "$f" --list --allow ovs 2>/dev/null || true)
  while read -r i; do
    ifquery -i "$f" "$i" > /dev/null || { echo "ifquery cannot parse $i in $f"; fail=1; }
  done < <(awk '$1 == "iface" {print $2}' "$f" | sort -u)
  [ -n "$ifaces" ] || { echo "ifquery lists no interface in $f"; fail=1; }
  echo "ifquery parses $host: $(wc -w <<< "$ifaces") auto/ovs interfaces"
done
for host in lb-ubuntu lb-debian lb-el9 lb-el7 ovs-ubuntu ovs-debian ovs-el9 ovs-el7; do
  [ -n "$(find "$out/$host" -type f)" ] || { echo "nothing rendered for $host"; fail=1; }
done
for host in ovs-ubuntu ovs-debian ovs-el9 ovs-el7; do
  grep -q 'add-br cloudbr100 cloudbr0 100' "$out/$host/ovs-vsctl.txt" || { echo "$host: no fake bridge in ovs-vsctl.txt"; fail=1; }
done

# A bad model must fail on the controller with a message naming host, object and fix.
bad=$(mktemp -d)
cat > "$bad/inv.yml" <<'YAML'
all:
  hosts:
    badhost:
      kvm_network_renderer: netplan
      kvm_network:
        backend: linux_bridge
        ethernets: {eth0: {}}
        bridges: {cloudbr0: {uplink: eth0, vlan: 5000}}
YAML
if ansible-playbook -i "$bad/inv.yml" playbooks/render.yml -e "kvm_network_render_dir=$bad/out" > "$bad/log" 2>&1; then
  echo "render.yml accepted a bad model"; fail=1
elif ! grep -q 'host badhost: bridge cloudbr0: vlan 5000 is outside 1-4094' "$bad/log"; then
  echo "render.yml failed without the expected message:"; cat "$bad/log"; fail=1
elif [ -e "$bad/out" ]; then
  echo "render.yml wrote output for a bad model"; fail=1
else
  echo "a bad model fails with: $(grep -o 'host badhost: bridge cloudbr0: vlan 5000[^.]*' "$bad/log" | head -1)"
fi
rm -rf "$bad"
exit $fail
