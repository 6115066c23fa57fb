#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kvm_network_snapshot
short_description: Confirm, roll back or list the network snapshots a safe apply takes
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - M(cloudstack_kvm.networking.kvm_network_apply) with O(cloudstack_kvm.networking.kvm_network_apply#module:safe_apply=true)
    saves everything a change writes or removes (files with their mode and owner, the managed Open vSwitch
    rows) in a snapshot on the host, arms a systemd timer that rolls the change back, and applies it. This
    module is the other half of that commit-confirm.
  - O(action=confirm) - the action plugin drops the connection and gets a new one (the proof that the
    controller still reaches the host; only a connection made after the change went live counts), asking
    again while the host cannot be reached or is still applying the change, for up to O(reconnect_timeout)
    seconds. M(cloudstack_kvm.networking.kvm_network_apply) does the same in its own task with its
    O(cloudstack_kvm.networking.kvm_network_apply#module:confirm) option. Then the host pings each of O(targets); when all
    answer, the rollback timers are stopped, the snapshot is confirmed and RV(applied) holds what the apply
    did; when one does not, the host rolls back at once (detached from the connection) and the module
    fails saying which target did not answer and what was restored. A confirmation that comes after the host
    has rolled back fails and says so, as does one for an apply that failed (the host rolled back at once).
  - O(action=rollback) - undo a change now (the last snapshot by default, or O(id)), also a confirmed one -
    the saved files are written back, the interfaces the change re-activated are re-activated with their old
    definitions by the same activation code the apply uses, NetworkManager profiles the change switched off
    are switched on again, and the managed Open vSwitch rows are written back under their own UUIDs. The
    rollback runs as a transient systemd service, so a connection it cuts does not stop it.
  - O(action=status) - one snapshot (O(id), or the last one); O(action=list) - all of them.
  - Finished snapshots beyond O(keep_snapshots) are removed, oldest first; armed ones never are.
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
attributes:
  action:
    support: full
    description: Has an action plugin, which makes the new connections of O(action=confirm) on the controller.
  check_mode:
    support: full
    details:
      - O(action=status) and O(action=list) run as usual; O(action=confirm) and O(action=rollback) report
        what they would do (the snapshot, the targets) and change nothing.
  diff_mode:
    support: none
options:
  action:
    description: What to do.
    type: str
    choices: [confirm, rollback, status, list]
    required: true
  id:
    description:
      - The snapshot, as RV(cloudstack_kvm.networking.kvm_network_apply#module:safe_apply.id) or
        RV(snapshots) give it. Required for O(action=confirm); the last snapshot otherwise.
    type: str
  targets:
    description:
      - With O(action=confirm), the addresses (or host names) the host must reach for the change to be kept,
        each optionally through a bridge (C(ping -I BRIDGE)). Empty - the new connection is the only proof.
    type: list
    elements: dict
    default: []
    suboptions:
      target:
        description: Address or host name.
        type: str
        required: true
      bridge:
        description: The interface to ping through.
        type: str
      count:
        description:
          - How many pings at most, one a second; the first answer ends the probe (a target that
            answers costs a round trip, a silent one C(count) seconds).
        type: int
        default: 3
  reconnect_timeout:
    description:
      - With O(action=confirm), how long to keep trying - a new connection to the host (the proof that the
        controller still reaches it over its new network), and again while the host is still applying the
        change. Each host of a play confirms as soon as it answers, so a host that cannot be reached does not
        hold the others back. With ssh, keepalives end a session the change cuts off within about ten seconds.
      - Leave it below the host's confirmation timeout (the confirmation needs a few seconds too). When no
        connection comes, the task fails with RV(reason=unreachable) and the host rolls back when its timer
        fires.
    type: int
    default: 110
  apply_timeout:
    description:
      - With O(action=confirm), how long the host may still be applying the change (as
        M(cloudstack_kvm.networking.kvm_network_apply)'s O(cloudstack_kvm.networking.kvm_network_apply#module:apply_timeout)).
        While the host answers that it is, its confirmation timer has not started, so the
        O(reconnect_timeout) window starts again from each such answer, up to this many seconds more. A
        slow host (an emulated one, a busy one) is then not rolled back while it is still applying.
      - V(0) counts the apply time against O(reconnect_timeout).
    type: int
    default: 0
  pending_wait:
    description:
      - With O(action=confirm), how long the call waits on the host for a change that is still being applied
        before it answers C(pending) (and the controller asks again over a new connection). The host watches
        the apply's status itself and answers as soon as the change is live, so a slow host is not kept busy by
        a new connection and module start every second.
      - A call whose ssh connection was made before the change went live (the host dates it by its sshd process)
        never confirms - such a connection proves nothing, as a change that took away the address Ansible
        connects to leaves it standing - it answers C(pending), and the next connection confirms. A connection
        that does not cross the host's network (podman, local) proves nothing either way; there the waiting call
        confirms.
      - V(0) answers at once.
    type: int
    default: 15
  lock_timeout:
    description:
      - With O(action=rollback), seconds to wait for a C(kvm_network_apply) that is changing the host (it
        holds the host's apply lock) before failing with its pid, start time and controller. Never two
        writers.
    type: int
    default: 60
  keep_snapshots:
    description: How many finished snapshots to keep.
    type: int
    default: 5
  state_dir:
    description: Where the snapshots are (as for M(cloudstack_kvm.networking.kvm_network_apply)).
    type: path
    default: /var/lib/cloudstack-kvm/safe-apply
  root_dir:
    description: For tests - the host's files are taken below this directory.
    type: path
    default: /
notes:
  - The role C(cloudstack_kvm.networking.kvm_network) runs O(action=confirm) after every armed apply, and
    C(playbooks/rollback.yml) runs O(action=rollback).
seealso:
  - module: cloudstack_kvm.networking.kvm_network_apply
'''

EXAMPLES = r'''
- name: Apply under commit-confirm
  cloudstack_kvm.networking.kvm_network_apply:
    renderer: "{{ desired.renderer }}"
    files: "{{ desired.rendered.files }}"
    owned: "{{ desired.rendered.owned }}"
    ovs_state: "{{ desired.rendered.ovs_state }}"
    model: "{{ desired.model }}"
    safe_apply: true
    confirm_timeout: 120
  register: applied

- name: Reach the host over a new connection, then keep the change if the gateway answers
  cloudstack_kvm.networking.kvm_network_snapshot:
    action: confirm
    id: "{{ applied.safe_apply.id }}"
    targets:
      - {target: 192.168.100.1, bridge: cloudbr0}
  when: applied.safe_apply.armed

- name: Undo the last change
  cloudstack_kvm.networking.kvm_network_snapshot:
    action: rollback
'''

RETURN = r'''
snapshot:
  description: The snapshot acted on or asked for.
  returned: except with O(action=list)
  type: dict
  contains:
    id:
      description: The snapshot's id (its time, UTC, and the process that took it).
      type: str
    status:
      description: C(armed), C(applied) (waiting for the confirmation), C(confirmed) or C(rolled_back).
      type: str
    created:
      description: When it was taken (seconds since the epoch).
      type: float
    path:
      description: Its directory on the host.
      type: str
    files:
      description: The files it saved.
      type: list
      elements: str
    interfaces:
      description: The interfaces the change re-activated.
      type: list
      elements: str
    ovs:
      description: Whether it saved Open vSwitch rows.
      type: bool
    history:
      description: Every status it had, with when and details (for example the rollback's errors).
      type: list
      elements: dict
  sample:
    id: 20261202T101500-4242
    status: confirmed
    files: [/etc/netplan/60-cloudstack-kvm.yaml]
    interfaces: [cloudbr0, eth0]
rollback:
  description: What a rollback did - C(files) (C(restored), C(removed)), C(interfaces) re-activated, C(commands)
    run, C(ovs_operations) (Open vSwitch rows written back), C(macs_restored) (Open vSwitch bridges whose MAC
    was set back to the one saved in the snapshot), C(announced) (addresses announced by gratuitous ARP)
    and C(errors).
  returned: when the module rolled back
  type: dict
snapshots:
  description: Every snapshot on the host, oldest first (the same keys as RV(snapshot)).
  returned: with O(action=list)
  type: list
  elements: dict
pruned:
  description: The ids of the finished snapshots removed to keep O(keep_snapshots).
  returned: with O(action=confirm)
  type: list
  elements: str
reason:
  description: Why a confirmation failed - C(targets) (a target did not answer, to the confirmation or to the host's
    own pings right after the change; the host rolled back at once),
    C(late) (the host had rolled back already, the confirmation came after its timeout), C(apply_failed)
    (the change failed on the host, which rolled back at once; C(msg) has the apply's error), C(unreachable)
    (no new connection within O(reconnect_timeout); the host rolls back when its timer fires), C(pending)
    (the host was still applying the change at the deadline) or C(status).
  returned: when O(action=confirm) fails
  type: str
  sample: late
applied:
  description: What the detached apply did, as M(cloudstack_kvm.networking.kvm_network_apply) returns it
    (RV(cloudstack_kvm.networking.kvm_network_apply#module:files),
    RV(cloudstack_kvm.networking.kvm_network_apply#module:activated), ...; without the diff).
  returned: with O(action=confirm), when the host applied the change (also when the apply failed)
  type: dict
attempts:
  description: How many connections the confirmation took (see O(reconnect_timeout)).
  returned: with O(action=confirm)
  type: int
  sample: 3
units:
  description: The snapshot's systemd units still loaded after a confirmation (none is expected).
  returned: with O(action=confirm)
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import probe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import safe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure


def argument_spec():
    return dict(
        action=dict(type='str', required=True, choices=['confirm', 'rollback', 'status', 'list']),
        id=dict(type='str'),
        targets=probe.targets_argument_spec(bridge_required=False),
        reconnect_timeout=dict(type='int', default=110),  # the action plugin's
        apply_timeout=dict(type='int', default=0),         # the action plugin's
        lock_timeout=dict(type='int', default=60),
        pending_wait=dict(type='int', default=15),
        keep_snapshots=dict(type='int', default=5),
        state_dir=dict(type='path', default=snapshots.STATE_DIR),
        root_dir=dict(type='path', default='/'),
    )


def pick(root, params):
    """The snapshot O(id) names, or the last one."""
    ids = snapshots.snapshot_ids(root, params['state_dir'])
    sid = params['id'] or (ids[-1] if ids else None)
    if sid is None:
        raise ModuleFailure('there is no snapshot on this host (%s is empty): nothing was applied under safe apply '
                            'here yet' % params['state_dir'])
    if sid not in ids:
        raise ModuleFailure('snapshot %s is not on this host. Fix: use one of %s' % (sid, ', '.join(ids) or 'none'))
    return snapshots.Snapshot.load(root, sid, params['state_dir'])


def run(module):
    params = module.params
    root = Root(params['root_dir'])
    if params['keep_snapshots'] < 1:
        raise ModuleFailure('keep_snapshots must be at least 1, not %d' % params['keep_snapshots'])
    if params['pending_wait'] < 0:
        raise ModuleFailure('pending_wait must be 0 or more seconds, not %d' % params['pending_wait'])
    if params['action'] == 'list':
        ids = snapshots.snapshot_ids(root, params['state_dir'])
        return {'changed': False, 'snapshots': [snapshots.Snapshot.load(root, i, params['state_dir']).summary()
                                                for i in ids]}
    if params['action'] == 'confirm' and not params['id']:
        raise ModuleFailure('action confirm needs the id of the snapshot (safe_apply.id of kvm_network_apply)')
    problems = probe.target_problems(params['targets'], 'targets')
    if problems:
        raise ModuleFailure('; '.join(problems))
    snap = pick(root, params)
    if params['action'] == 'status':
        return {'changed': False, 'snapshot': snap.summary(), 'rollback': snap.read_json('rollback.json')}
    if params['action'] == 'confirm':
        if module.check_mode:
            return {'changed': snap.status == 'applied', 'snapshot': snap.summary(), 'pruned': [], 'units': []}
        return safe.confirm(module, snap, params['targets'], params['keep_snapshots'], wait=params['pending_wait'])
    # rollback
    if snap.status == 'rolled_back':
        return {'changed': False, 'snapshot': snap.summary(), 'rollback': snap.read_json('rollback.json'),
                'msg': 'snapshot %s was rolled back already' % snap.id}
    if module.check_mode:
        return {'changed': True, 'snapshot': snap.summary()}
    # Never two writers: an apply that is changing the host finishes first (it holds the lock).
    with snapshots.HostLock(root, params['state_dir']).acquire(params['lock_timeout']):
        report = safe.rollback_now(module, snap, undo=True)
    snap = snapshots.Snapshot.load(root, snap.id, params['state_dir'])
    if snap.status != 'rolled_back':
        raise ModuleFailure('snapshot %s was not rolled back (%s)' % (snap.id, safe.describe(report)),
                            snapshot=snap.summary(), rollback=report)
    return {'changed': True, 'snapshot': snap.summary(), 'rollback': report,
            'msg': 'rolled back to snapshot %s: %s' % (snap.id, safe.describe(report))}


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except ModuleFailure as exc:
        module.fail_json(msg=exc.msg, **exc.kwargs)
    # The apply's warnings, kept on the host until its confirmation, are this call's warnings.
    for warning in result.pop('warnings', []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
