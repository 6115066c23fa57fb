#!/usr/bin/env bash
# The whole suite, in the order that fails fastest: unit tests, render check, lint, sanity,
# collection build, then the lab tiers (containers, then VMs). Each stage's wall time is
# printed at the end. `make test` runs this after `make setup`.
#   SKIP_LAB=1 scripts/run-tests.sh   everything but the lab tiers
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export PATH=$top/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$top/.tmp/collections
export ANSIBLE_CONFIG=$top/ansible.cfg

declare -a names=() secs=() results=()
stage() {
  local name=$1; shift
  printf '\n==== %s: %s\n' "$name" "$*"
  local start=$SECONDS
  "$@"
  local rc=$?
  names+=("$name"); secs+=($((SECONDS - start))); results+=("$rc")
  if [ "$rc" != 0 ]; then
    printf '==== %s FAILED (rc=%s)\n' "$name" "$rc"
    summary
    exit "$rc"
  fi
}
summary() {
  printf '\n==== stage timings\n'
  for i in "${!names[@]}"; do printf '  %-19s %5ss  rc=%s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"; done
}

stage unit        make --no-print-directory unit
stage render      make --no-print-directory render-check
stage lint        make --no-print-directory lint
stage sanity      make --no-print-directory sanity
stage cores       make --no-print-directory core-edges    # the oldest and newest ansible-core, Python 3.6
stage changelog   make --no-print-directory changelog-lint
stage docs        make --no-print-directory docs-check
stage build       make --no-print-directory build
stage validate    make --no-print-directory validate-collection
if [ "${SKIP_LAB:-0}" != 1 ]; then
  # The lab tiers: the lab's own unit tests (its smoke scenarios, `make lab-test`, are left to lab
  # changes: network_containers and the VM scenarios below bond, tag, fail over and reboot on the
  # same substrate through the collection), safe apply in-band on four containers (commit-confirm,
  # rollbacks, a killed controller), the change catalogue on the same lab (every kind of change,
  # applied, re-run and verified; its VM part is `make lab-change-catalogue-vms`) and site.yml as
  # AWX runs it (ansible-runner jobs, two slices), site.yml with the oldest and the newest
  # ansible-core, rollout.yml's waves stopped by a real rollback, then the collection on it:
  # site.yml on five containers, the modules' integration targets (containers, one VM), then
  # site.yml on two pairs of VMs (seed 000 with Linux bonds and with the OVS kernel datapath, by
  # netplan and by ifupdown; reboot and failover), and seed 000's hand-built hosts taken over on two
  # VMs (Linux bonds, 802.1Q, the OVS kernel datapath). One VM lab at a time: two VMs fill the
  # two cores under TCG.
  stage lab          make --no-print-directory lab-unit
  stage safe_apply   make --no-print-directory lab-safe-apply     # + the change catalogue, runner jobs
  stage libvirt      make --no-print-directory lab-libvirt        # libvirtd in two containers, TCG guests
  for scenario in network_containers modules_containers modules_vms network_vms network_vms_swapped; do
    [ -d "molecule/$scenario" ] && stage "$scenario" make --no-print-directory "molecule-$scenario"
  done
  stage takeover_vms make --no-print-directory lab-takeover-vms   # hand-built Linux bonds and OVS kernel datapath
  stage leftovers    make --no-print-directory lab-leftovers
  # Not here, for CI's time (each has its last measured run in docs/): make lab-awx (the execution
  # environment image built and its jobs on a fresh lab), make lab-change-catalogue-vms.
fi
summary
