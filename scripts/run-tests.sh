#!/usr/bin/env bash
# The whole suite: unit tests and the render check first (they fail fastest), then the lab tiers
# (containers, then VMs). The static checks (lint, sanity, the edge cores, changelog, docs, build,
# validate: about nine minutes of CPU and no lab) run beside the in-band container lab, at the
# lowest CPU and I/O priority, because that lab mostly waits on timers and ssh; they are joined
# before the libvirt stage, whose TCG guests want both cores. Each stage's wall time is printed at
# the end. `make test` runs this after `make setup`.
#   SKIP_LAB=1 scripts/run-tests.sh   everything but the lab tiers (the checks in the foreground)
#   scripts/run-tests.sh --checks F     the static checks alone, "name seconds rc" per line in F
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export PATH=$top/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$top/.tmp/collections
export ANSIBLE_CONFIG=$top/ansible.cfg

# name and make target of each static check, in the order they run
checks=(lint:lint sanity:sanity cores:core-edges changelog:changelog-lint docs:docs-check
        build:build validate:validate-collection)

declare -a names=() secs=() results=()
summary() {
  printf '\n==== stage timings (%s s in all)\n' "$SECONDS"
  for i in "${!names[@]}"; do printf '  %-26s %5ss  rc=%s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"; done
}
finish() { summary; exit "$1"; }

if [ "${1:-}" = --checks ]; then
  times=$2
  : > "$times"
  for check in "${checks[@]}"; do
    printf '\n==== %s: make %s\n' "${check%%:*}" "${check#*:}"
    start=$SECONDS
    make --no-print-directory "${check#*:}"
    rc=$?
    echo "${check%%:*} $((SECONDS - start)) $rc" >> "$times"
    [ "$rc" = 0 ] || exit "$rc"
  done
  exit 0
fi

checks_pid='' checks_log=$top/.tmp/ci/checks.log checks_times=$top/.tmp/ci/checks.times
# join_checks: wait for the background checks, show what they printed, add their rows to the
# timings and stop here if one failed.
join_checks() {
  [ -n "$checks_pid" ] || return 0
  wait "$checks_pid"
  local rc=$? name took check_rc
  checks_pid=''
  printf '\n==== the static checks, run in the background (%s)\n' "$checks_log"
  cat "$checks_log"
  while read -r name took check_rc; do
    names+=("$name (background)"); secs+=("$took"); results+=("$check_rc")
  done < "$checks_times"
  if [ "$rc" != 0 ]; then
    printf '==== a static check FAILED (rc=%s): its output is above and in %s\n' "$rc" "$checks_log"
    finish "$rc"
  fi
}
# checks_ended: true when the background checks have ended (joined then: a failure stops the run
# at the next stage, not at the end).
checks_ended() { [ -n "$checks_pid" ] && ! kill -0 "$checks_pid" 2>/dev/null; }
# shellcheck disable=SC2317  # the EXIT trap's
stop_checks() {
  [ -n "$checks_pid" ] && kill -- "-$checks_pid" 2>/dev/null
  return 0
}
trap stop_checks EXIT

stage() {
  local name=$1; shift
  checks_ended && join_checks
  printf '\n==== %s: %s\n' "$name" "$*"
  local start=$SECONDS
  "$@"
  local rc=$?
  names+=("$name"); secs+=($((SECONDS - start))); results+=("$rc")
  if [ "$rc" != 0 ]; then
    printf '==== %s FAILED (rc=%s)\n' "$name" "$rc"
    [ -n "$checks_pid" ] && printf '==== the static checks were stopped; what they printed: %s\n' "$checks_log"
    finish "$rc"
  fi
}

stage unit        make --no-print-directory unit
stage render      make --no-print-directory render-check
if [ "${SKIP_LAB:-0}" = 1 ]; then
  for check in "${checks[@]}"; do
    stage "${check%%:*}" make --no-print-directory "${check#*:}"
  done
  finish 0
fi

mkdir -p "$top/.tmp/ci"
: > "$checks_times"
# Its own session, so that a failed lab stage can stop it whole (kill -- -PID).
setsid nice -n 19 ionice -c 3 "$0" --checks "$checks_times" > "$checks_log" 2>&1 &
checks_pid=$!
printf '\n==== the static checks (%s) run in the background from here: %s\n' \
  "$(printf '%s ' "${checks[@]%%:*}")" "$checks_log"

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
join_checks
stage libvirt      make --no-print-directory lab-libvirt        # libvirtd in two containers, TCG guests
for scenario in network_containers modules_containers modules_vms network_vms network_vms_swapped; do
  [ -d "molecule/$scenario" ] && stage "$scenario" make --no-print-directory "molecule-$scenario"
done
stage takeover_vms make --no-print-directory lab-takeover-vms   # hand-built Linux bonds and OVS kernel datapath
stage leftovers    make --no-print-directory lab-leftovers
# Not here, for CI's time (each has its last measured run in docs/): make lab-awx (the execution
# environment image built and its jobs on a fresh lab), make lab-change-catalogue-vms.
finish 0
