# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Safe apply: a network change the host commits only when the controller confirms it.

Like a router's commit-confirm, in steps the host carries out by itself:

1. ``commit_confirm`` (in kvm_network_apply): the change is planned (check mode); nothing to do
   means no snapshot, no timer. Otherwise a snapshot saves every file the change writes or
   removes and the managed Open vSwitch rows, with the code the host needs to act alone (the
   module's payload and a small runner).
2. A transient systemd timer (``...-watchdog-ID``) is armed to roll the host back; then the change
   is handed to a transient service (``...-apply-ID``) that starts ``APPLY_DELAY`` seconds later,
   detached from the SSH session, and the module returns the plan at once. Its answer must reach
   the controller before the change can cut the connection: otherwise the controller would only
   hear from the host once it had rolled back, and under the linear strategy every other host of
   the play would wait for that too, past their own timers.
3. When the apply is done, the service arms the confirmation timer (``...-confirm-ID``, the
   confirmation timeout from now) and drops the watchdog. An apply that fails rolls back at once.
4. The controller proves the host is reachable over a new connection and the host pings the
   confirmation targets (``confirm``, kvm_network_snapshot; its action plugin reconnects and asks
   again while the change is still being applied): only then the timers are stopped and the
   snapshot is confirmed. Otherwise the timer fires and ``rollback`` (the same runner) puts the
   snapshot back with the apply's own activation code (``rollback.Rollback``).

Status changes happen under the snapshot's lock, so a late confirmation and the rollback cannot
both win. Everything the host runs on its own goes through ``main`` (``runner.py apply|rollback``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import json
import os
import sys
import time
import traceback

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command, probe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import disruption as paths
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import macs
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import boot
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import whole_host
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.applier import SYSTEMS
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm.rollback import Rollback
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.runner import Runner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    C_LOCALE,
    SBIN_DIRS,
    ModuleFailure,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import restore as ovs_restore

UNIT_PREFIX = 'cloudstack-kvm'
# Seconds between the module's answer and the start of the detached apply: the answer (a few
# kilobytes) is back on the controller long before.
APPLY_DELAY = 2
# Seconds more a bridge that gets its address by DHCP has to answer the host's own pings after a
# change: a DHCP client's first DISCOVER may go unanswered while the uplink settles.
DHCP_WAIT = 20
# How long the detached apply may take before the watchdog rolls it back (the confirmation
# timeout comes on top).
APPLY_TIMEOUT = 300
RUNNER = '''# Written by cloudstack_kvm.networking: runs this snapshot's apply or rollback without the controller.
import sys
sys.path.insert(0, %r)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import safe
sys.exit(safe.main(sys.argv[1:]))
'''


class HostModule(object):
    """What the collection's code needs of an AnsibleModule, for the processes systemd starts on
    the host without Ansible (the detached apply and the rollback)."""

    check_mode = False
    _diff = True

    def __init__(self, params):
        self.params = params
        self.warnings = []

    def run_command(self, args, environ_update=None, cwd=None, **kwargs):
        if (self.params.get('root_dir') or '/') != '/':
            # Files below a scratch root, commands on the real host: never in a detached run.
            raise ModuleFailure('refusing to run %s: this snapshot was taken below root_dir %s, whose commands would '
                                'act on the real host' % (args[0], self.params['root_dir']))
        return command.spawn(args, environ_update, cwd, kwargs.get('before_communicate_callback'))

    def get_bin_path(self, name, required=False, opt_dirs=None):
        dirs = list(opt_dirs or []) + os.environ.get('PATH', '').split(os.pathsep) + SBIN_DIRS
        for directory in dirs:
            path = os.path.join(directory, name)
            if directory and os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        if required:
            raise ModuleFailure('%s was not found on the host' % name)
        return None

    def warn(self, warning):
        self.warnings.append(warning)


class Units(object):
    """The transient systemd units of one snapshot: two rollback timers, the detached apply, a
    rollback run on demand. Names: ``cloudstack-kvm-KIND-ID``."""

    def __init__(self, runner, sid):
        self.runner = runner
        self.sid = sid

    def name(self, kind):
        return '%s-%s-%s' % (UNIT_PREFIX, kind, self.sid)

    def _systemd_run(self):
        try:
            return self.runner.bin('systemd-run')
        except ModuleFailure:
            raise ModuleFailure('safe apply needs systemd on the host (systemd-run was not found): the host must be '
                                'able to roll itself back without the controller. Fix: set kvm_network_safe_apply: '
                                'false on hosts without systemd')

    def arm(self, kind, seconds, argv):
        """A timer that runs ``argv`` in ``seconds`` unless stopped."""
        self.runner.run([self._systemd_run(), '--unit=%s' % self.name(kind), '--on-active=%ds' % max(1, int(seconds)),
                         '--timer-property=AccuracySec=1s', '--description=cloudstack_kvm.networking rollback of %s'
                         % self.sid, '--property=CollectMode=inactive-or-failed', '--quiet'] + argv,
                        'arming the rollback timer %s' % self.name(kind))

    def start_later(self, kind, seconds, argv):
        """Run ``argv`` as a transient service ``seconds`` from now (a transient timer starts it)."""
        self.runner.run([self._systemd_run(), '--unit=%s' % self.name(kind), '--on-active=%ds' % max(1, int(seconds)),
                         '--timer-property=AccuracySec=100ms', '--description=cloudstack_kvm.networking %s of %s'
                         % (kind, self.sid), '--property=CollectMode=inactive-or-failed', '--quiet'] + argv,
                        'starting the detached %s %s' % (kind, self.name(kind)))

    def run_detached(self, kind, argv):
        """Run ``argv`` as a transient service and wait for it; the service goes on if this process
        (or its SSH session) goes away. Returns the exit status."""
        rc, out, err = self.runner.read([self._systemd_run(), '--unit=%s' % self.name(kind), '--wait', '--collect',
                                         '--quiet', '--description=cloudstack_kvm.networking %s of %s'
                                         % (kind, self.sid)] + argv)
        return rc

    def stop(self, *kinds):
        """Stop the named units (timers and services); those not loaded are fine."""
        systemctl = self.runner.bin('systemctl')
        names = []
        for kind in kinds:
            names += [self.name(kind) + '.timer', self.name(kind) + '.service'] \
                if kind in ('watchdog', 'confirm', 'apply') else [self.name(kind) + '.service']
        self.runner.read([systemctl, 'stop'] + names)
        self.runner.read([systemctl, 'reset-failed'] + names)

    def loaded(self):
        """The snapshot's units systemd still knows."""
        systemctl = self.runner.bin('systemctl')
        rc, out, err = self.runner.read([systemctl, 'list-units', '--all', '--plain', '--no-legend',
                                         '%s-*-%s.*' % (UNIT_PREFIX, self.sid)])
        return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def payload_root():
    """Where the code runs from: the module's payload zip (or, outside Ansible, the directory that
    holds ``ansible_collections``)."""
    here = os.path.abspath(__file__)
    marker = os.sep + 'ansible_collections' + os.sep
    return here[:here.index(marker)]


def _runner_argv(snap, action):
    return [sys.executable, os.path.join(snap.dir, 'runner.py'), action, snap.dir]


def _prepare(snap):
    """Put the code the host needs to act alone into the snapshot."""
    source = payload_root()
    target = source
    if os.path.isfile(source):
        # Written and synced like every file of the snapshot: the boot rollback after a power cut
        # runs this code, so it must be on disk, not only in the page cache (a plain copy was lost
        # when the power went within the kernel's 30 s writeback delay, and the rollback failed).
        target = os.path.join(snap.dir, 'payload.zip')
        with open(source, 'rb') as fh:
            host_files.write_atomic(None, target, fh.read(), '0600')
    host_files.write_atomic(None, os.path.join(snap.dir, 'runner.py'), RUNNER % target, '0700')


def _module_params(params):
    return dict((k, v) for k, v in params.items() if not k.startswith('_ansible'))


# --- the module side ------------------------------------------------------------------------------

def disruption_of(module, planned, addresses, readings, client=None):
    """Whether ``planned`` touches the path Ansible connects through (``disruption.analyse``), from
    the network the plan read (``readings``: read now only when the plan did not need it)."""
    if not addresses:
        return None
    return paths.analyse(readings.live(client), module.params['model'], addresses, planned)


def commit_confirm(module, planned, disruption):
    """Hand what ``planned`` (the check-mode plan) says to the host under commit-confirm; returns
    the plan as the result, with ``safe_apply`` telling the controller what to confirm. The real
    run's result comes with the confirmation."""
    params = module.params
    root = host_files.Root(params['root_dir'])
    base = params['state_dir']
    runner = Runner(module)
    paths = planned['files']['written'] + planned['files']['created'] + planned['files']['removed']
    ovs_rows = None
    if whole_host.uses_ovs(params):
        client = whole_host.ovs_client(module)
        names = set(params['ovs_state']['bridges']) | set(planned['activated']['reasons'])
        ovs_rows = ovs_restore.save(ovs_restore.read_raw(client), names)
    info = {'renderer': params['renderer'], 'backend': params['model']['backend'], 'root_dir': root.root_dir,
            'base': base, 'interfaces': sorted(planned['activated']['reasons']), 'conflicts': planned['conflicts'],
            'confirm_timeout': params['confirm_timeout'], 'disruption': disruption,
            # NICs renamed live: a rollback names them back.
            'renames': planned['activated'].get('renamed') or [],
            # The Open vSwitch bridges' MACs: a rollback that writes their rows back sets them again.
            'macs': macs.current_macs(root, sorted(names)) if ovs_rows is not None else {}}
    try:
        boot_units = boot.install(module, root, runner, base, sys.executable)
    except (IOError, OSError, ValueError) as exc:
        raise ModuleFailure('safe apply could not install its boot rollback units (%s), which roll an unconfirmed '
                            'change back after a power cut: nothing was changed' % exc)
    snap = snapshots.Snapshot.create(root, paths, info, ovs_rows, _module_params(params), base)
    _prepare(snap)
    units = Units(runner, snap.id)
    units.arm('watchdog', params['apply_timeout'] + params['confirm_timeout'], _runner_argv(snap, 'rollback'))
    units.start_later('apply', APPLY_DELAY, _runner_argv(snap, 'apply'))
    result = dict(planned)
    result['safe_apply'] = {'armed': True, 'id': snap.id, 'path': os.path.join(base, snap.id),
                            'confirm_timeout': params['confirm_timeout'], 'disruption': disruption,
                            'starts_in': APPLY_DELAY, 'units': [units.name('watchdog') + '.timer',
                                                                units.name('apply') + '.timer'],
                            'boot_units_installed': boot_units}
    return result


def rollback_now(module, snap, undo=False):
    """Roll ``snap`` back now, detached (a connection that drops meanwhile does not stop it);
    ``undo`` also rolls back a confirmed change. Returns the rollback's report."""
    runner = Runner(module)
    if not os.path.exists(os.path.join(snap.dir, 'runner.py')):
        _prepare(snap)
    Units(runner, snap.id).run_detached('rollback', _runner_argv(snap, 'undo' if undo else 'rollback'))
    return snap.read_json('rollback.json') or {'errors': ['the rollback ended without a report']}


def describe(report):
    """One line for a rollback report."""
    if not report:
        return 'no report'
    parts = ['nothing had been applied, nothing was re-activated'] if report.get('nothing_applied') else []
    files = report.get('files') or {}
    if files.get('restored') or files.get('removed'):
        parts.append('files restored: %s' % ', '.join(files.get('restored', []) + files.get('removed', [])))
    if report.get('interfaces'):
        parts.append('re-activated: %s' % ', '.join(report['interfaces']))
    if report.get('ovs_operations'):
        parts.append('Open vSwitch rows restored')
    if report.get('errors'):
        parts.append('errors: %s' % '; '.join(report['errors']))
    return '; '.join(parts) or 'nothing differed'


def _not_waiting(snap):
    """The failure for a snapshot that is no longer waiting for a confirmation."""
    status = snap.status
    outcome = snap.read_json('result.json') or {}
    if status == 'rolled_back' and outcome.get('failed'):
        return ModuleFailure('%s. Nothing of the change was kept: the host rolled back to snapshot %s (%s)' % (
            (outcome.get('msg') or 'the apply failed').rstrip('. '), snap.id, describe(snap.read_json('rollback.json'))),
            snapshot=snap.summary(), rollback=snap.read_json('rollback.json'), reason=outcome.get('reason') or 'apply_failed',
            applied=dict((k, v) for k, v in outcome.items() if k not in ('failed', 'msg', 'warnings', 'diff')))
    return ModuleFailure('snapshot %s is %s, not waiting for a confirmation%s' % (
        snap.id, status, ': the host rolled back before the confirmation came (raise '
        'kvm_network_confirm_timeout if the controller needs longer to reconnect)'
        if status == 'rolled_back' else ''), snapshot=snap.summary(),
        reason='late' if status == 'rolled_back' else 'status')


PENDING_POLL = 0.25    # seconds between two looks at an apply still running (confirm's wait)


def _reload(snap):
    snap.manifest = snapshots.Snapshot.load(snap.root, snap.id, snap.base).manifest
    return snap


def _wait_while_armed(snap, seconds):
    """Give the apply up to ``seconds`` to finish, watching its status here on the host: cheaper
    than the controller asking again over a new connection, which on a slow host costs more CPU
    than the apply it is waiting for, and it confirms as soon as the change is live."""
    deadline = time.monotonic() + seconds
    while snap.status == 'armed' and time.monotonic() < deadline:
        time.sleep(PENDING_POLL)
        _reload(snap)
    return snap


def connection_made_at(proc='/proc', pid=None):
    """When the connection this call came over was made (seconds since the epoch): the start of the
    nearest sshd ancestor, the process OpenSSH runs for each connection (its multiplexed sessions,
    Ansible's ControlPersist ones too, share it). None when the call did not come over ssh."""
    try:
        with open(os.path.join(proc, 'stat')) as fh:
            booted = next(int(line.split()[1]) for line in fh if line.startswith('btime '))
        ticks = float(os.sysconf('SC_CLK_TCK'))
        pid = pid or os.getpid()
        for dummy in range(64):    # at most so many parents: a loop in /proc cannot hold the call
            with open(os.path.join(proc, str(pid), 'stat')) as fh:
                stat = fh.read()
            name, fields = stat[stat.index('(') + 1:stat.rindex(')')], stat[stat.rindex(')') + 2:].split()
            if name in ('sshd', 'sshd-session'):
                return booted + int(fields[19]) / ticks      # field 22, starttime, in clock ticks since boot
            pid = int(fields[1])
            if pid <= 1:
                return None
    except (IOError, OSError, ValueError, IndexError, StopIteration):
        return None
    return None


def _live_at(snap):
    """When the change went live (its ``applied`` status)."""
    return next((h['at'] for h in reversed(snap.manifest.get('history', [])) if h.get('status') == 'applied'), None)


def confirm(module, snap, targets, keep, wait=0):
    """Confirm ``snap`` when every target answers; otherwise roll back now. Returns the result:
    ``pending`` (nothing done) while the change is still being applied after ``wait`` seconds, and
    when this call's ssh connection was made before the change went live: such a connection proves
    nothing (a change that removed the address Ansible connects to leaves it standing), so the
    controller must ask again over a new one."""
    # Not over ssh (podman, a local connection): the connection does not cross the network the
    # change touches, so its age proves nothing either way.
    made = connection_made_at()
    runner = Runner(module)
    _wait_while_armed(snap, wait)
    if snap.status == 'armed':
        return {'changed': False, 'pending': True, 'snapshot': snap.summary(),
                'msg': 'snapshot %s: the change is still being applied' % snap.id}
    if snap.status != 'applied':
        raise _not_waiting(snap)
    live = _live_at(snap)
    if made is not None and live is not None and made < live:
        return {'changed': False, 'pending': True, 'snapshot': snap.summary(),
                'msg': 'snapshot %s: the change is live, but this connection was made before it was; a new '
                       'connection must prove the host is still reachable' % snap.id}
    failed = [r['reason'] for r in probe.probes(module, targets) if not r['answered']]
    lock = snap.lock()
    try:
        _reload(snap)
        if snap.status != 'applied':
            raise _not_waiting(snap)
        if not failed:
            Units(runner, snap.id).stop('watchdog', 'confirm')
            snap.set_status('confirmed', targets=[t['target'] for t in targets])
            snap.drop_runtime()
    finally:
        lock.close()
    if failed:
        report = rollback_now(module, snap)
        raise ModuleFailure('after the change the host could not reach its confirmation targets (%s), so it rolled '
                            'back to snapshot %s (%s)' % ('; '.join(failed), snap.id, describe(report)),
                            rollback=report, reason='targets',
                            snapshot=snapshots.Snapshot.load(snap.root, snap.id, snap.base).summary())
    pruned = snapshots.prune(snap.root, keep, snap.base)
    outcome = snap.read_json('result.json') or {}
    return {'changed': True, 'snapshot': snap.summary(), 'pruned': pruned, 'units': Units(runner, snap.id).loaded(),
            'applied': dict((k, v) for k, v in outcome.items() if k not in ('warnings', 'diff')),
            'warnings': outcome.get('warnings', [])}


# --- what systemd runs -----------------------------------------------------------------------------

def _first_target_not_answering(module, params):
    """Why the first confirmation target (kvm_network_apply's ``confirm.targets``) that does not
    answer the host right after the change did not ('' when all answered). Each gets the time its
    bridge needs to settle; the first silent one decides."""
    ping = probe.find_ping(module)
    bridges = (params.get('model') or {}).get('bridges') or {}
    for target in (params.get('confirm') or {}).get('targets') or []:
        within = _settle_seconds(bridges.get(target.get('bridge')) or {})
        answer = probe.first_answer(module, target['target'], target.get('bridge'), within=within, ping=ping)
        if not answer['answered']:
            return answer['reason']
    return ''


def _settle_seconds(bridge):
    """How long a target through ``bridge`` (the model's) may take to answer right after a change:
    probe.SETTLE_WAIT, twice the forward delay more with STP (its ports forward only after listening
    and learning), DHCP_WAIT more when the bridge gets its address by DHCP."""
    stp = 2 * (bridge.get('forward_delay') or 0) if bridge.get('stp') else 0
    dhcp = DHCP_WAIT if bridge.get('dhcp4') or bridge.get('dhcp6') else 0
    return probe.SETTLE_WAIT + stp + dhcp


def _apply(snap):
    params = snap.read_json('params.json')
    module = HostModule(params)
    try:
        result, warnings = whole_host.run(module)
        result['warnings'] = warnings + module.warnings
    except Exception as exc:  # pylint: disable=broad-except  # recorded for the confirmation, then rolled back
        result = whole_host.failure(exc) or {'msg': 'the apply failed: %s\n%s' % (exc, traceback.format_exc())}
        result['failed'] = True
    live_at = time.time()
    if not result.get('failed'):
        # The host's own proof first: a change after which it cannot reach its confirmation targets
        # is put back now, not when the timer fires (the controller's confirmation pings them again).
        unreachable = _first_target_not_answering(module, params)
        if unreachable:
            result.update(failed=True, reason='targets', msg='after the change the host could not reach its '
                          'confirmation targets (%s)' % unreachable)
    snap.write_json('result.json', result)
    if result.get('failed'):
        # Nothing half-applied waits for a timer: put everything back now.
        if result.get('reason') == 'targets':
            return _rollback(snap, cause='its confirmation targets did not answer', from_apply=True, live_at=live_at)
        return _rollback(snap, cause='the apply failed', from_apply=True,
                         nothing_applied=bool(result.get('nothing_applied')))
    runner = Runner(module)
    units = Units(runner, snap.id)
    lock = snap.lock()
    try:
        _reload(snap)
        if snap.status == 'armed':
            units.arm('confirm', params['confirm_timeout'], _runner_argv(snap, 'rollback'))
            units.stop('watchdog')
            snap.set_status('applied')
    finally:
        lock.close()
    return 0


@contextlib.contextmanager
def _held(snap):
    """``(params, module)`` of what systemd runs for ``snap``, under the snapshot's lock, with its
    manifest read again (a confirmation or another rollback may have come first)."""
    params = snap.read_json('params.json') or {}
    lock = snap.lock()
    try:
        _reload(snap)
        yield params, HostModule(params)
    finally:
        lock.close()


def _rollback(snap, undo=False, cause=None, from_apply=False, nothing_applied=False, live_at=None):
    """The timers' rollback (of a change not confirmed), or with ``undo`` the on-demand one (of a
    confirmed change); ``from_apply``: run by the apply service itself, which must not stop itself;
    ``nothing_applied``: the apply failed before changing the network (a ``netplan generate`` that
    refused the files), so only files go back and nothing is re-activated; ``live_at``: when the
    change went live, for a rollback the host's own pings started (kept in the history)."""
    with _held(snap) as (params, module):
        if snap.status == 'rolled_back' or (snap.status == 'confirmed' and not undo):
            return 0
        started = time.time()    # when the timer fired (the restore itself takes a while on a slow host)
        units = Units(Runner(module), snap.id)
        if not from_apply:
            units.stop('apply')
        rollback = Rollback(module, snap.root, snap, params, SYSTEMS, guard=not undo)
        report = rollback.files_only() if nothing_applied else rollback.execute()
        report['nothing_applied'] = nothing_applied
        snap.write_json('rollback.json', report)
        details = dict((k, v) for k, v in (('cause', cause), ('live_at', live_at)) if v)
        snap.set_status('rolled_back', errors=report['errors'], on_demand=undo, started=started, **details)
        units.stop('watchdog', 'confirm')
        snap.drop_runtime()
    snapshots.prune(snap.root, params.get('keep_snapshots', 5), snap.base)
    return 0


def _boot(snap):
    """Before the network starts: the files of a change still pending go back (``boot.py``)."""
    with _held(snap) as (params, module):
        if snap.status not in snapshots.PENDING:
            snap.unmark(snapshots.PENDING_MARKER)
            return
        report = Rollback(module, snap.root, snap, params, SYSTEMS, guard=True).files_only()
        snap.write_json('rollback.json', report)
        finish = boot.needs_services(snap)
        if finish:
            snap.mark(boot.FINISH_MARKER)
        snap.set_status('rolled_back', errors=report['errors'], at_boot=True, cause=boot.CAUSE, finishing=finish)
        if not finish:
            snap.drop_runtime()


def _boot_finish(snap):
    """Once the network services run: the rest of a boot rollback (``boot.py``)."""
    with _held(snap) as (params, module):
        report = Rollback(module, snap.root, snap, params, SYSTEMS, guard=True).services(
            snap.read_json('rollback.json') or {})
        snap.write_json('rollback.json', report)
        snap.unmark(boot.FINISH_MARKER)
        snap.set_status('rolled_back', errors=report['errors'], at_boot=True, finished=True)
        snap.drop_runtime()


def _at_boot(phase, directory):
    """``runner.py boot|boot-finish STATE_DIR``: every snapshot that ``phase`` has work for."""
    marker = boot.PHASES[phase]
    for name in sorted(os.listdir(directory)):
        if not os.path.exists(os.path.join(directory, name, marker)):
            continue
        with open(os.path.join(directory, name, 'manifest.json')) as fh:
            manifest = json.load(fh)
        snap = snapshots.Snapshot.load(host_files.Root(manifest['root_dir']), manifest['id'], manifest['base'])
        (_boot if phase == 'boot' else _boot_finish)(snap)
    return 0


def main(argv):
    """``runner.py apply|rollback|undo SNAPSHOT_DIR`` or ``runner.py boot|boot-finish STATE_DIR``,
    run by systemd."""
    action, directory = argv
    os.environ.update(C_LOCALE)
    if action in boot.PHASES:
        return _at_boot(action, directory)
    with open(os.path.join(directory, 'manifest.json')) as fh:
        manifest = json.load(fh)
    snap = snapshots.Snapshot.load(host_files.Root(manifest['root_dir']), manifest['id'], manifest['base'])
    return _apply(snap) if action == 'apply' else _rollback(snap, undo=(action == 'undo'))
