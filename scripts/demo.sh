#!/usr/bin/env bash
# The README's main command (make demo): set everything up, bring up a lab of two simulated
# hypervisors (systemd containers on this machine, NICs wired to a simulated top-of-rack switch),
# run playbooks/site.yml on them (one Linux bridge host by netplan, one Open vSwitch host with
# seed 000's bonds and VLAN fake bridge by ifupdown), and show the verify summary.
# Nothing touches this machine's own network: every host lives in its own network namespace.
#   DEMO_LAB=demo   lab id (several labs can coexist)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
lab_id=${DEMO_LAB:-demo}
export PATH=$top/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$top/.tmp/collections
export ANSIBLE_CONFIG=$top/ansible.cfg

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Setting up (Debian packages, virtualenv, lab images: the first run builds them, later runs reuse the cache)"
scripts/setup.sh
lab/lab images

say "Bringing up lab '$lab_id': two hypervisors, a switch, a peer at 198.51.100.254 (VLAN 100: 203.0.113.254)"
inventory=$(lab/lab --lab "$lab_id" up --tier containers --hosts 2 | tail -n 1)

say "Running playbooks/site.yml (prepare, configure, verify)"
ansible-playbook -i "$inventory" -i examples/demo playbooks/site.yml

say "Running it again: nothing changes"
ansible-playbook -i "$inventory" -i examples/demo playbooks/site.yml > "$top/.tmp/demo-rerun.log"
grep -A4 '^PLAY RECAP' "$top/.tmp/demo-rerun.log"

say "The verify summary (playbooks/verify.yml: the realised network, compared with the model)"
ansible-playbook -i "$inventory" -i examples/demo playbooks/verify.yml

cat <<EOF

The lab '$lab_id' is still up. Look around:
  podman exec -it cskl-$lab_id-ct1 brctl show                       # Linux bridge host (netplan)
  podman exec -it cskl-$lab_id-ct1 cat /etc/netplan/60-cloudstack-kvm.yaml
  podman exec -it cskl-$lab_id-ct2 ovs-vsctl show                   # Open vSwitch host (ifupdown)
  podman exec -it cskl-$lab_id-ct2 ovs-appctl bond/show bond0
  podman exec -it cskl-$lab_id-ct2 cat /etc/network/interfaces.d/cloudstack-kvm
  ansible-playbook -i $inventory -i examples/demo playbooks/verify.yml
Tear it down (leaves nothing behind):
  make lab-down LAB_ID=$lab_id
EOF
