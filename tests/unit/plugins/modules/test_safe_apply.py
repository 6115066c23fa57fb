# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe apply (commit-confirm) end to end in a temporary root: kvm_network_apply with
safe_apply, the confirmation and the rollbacks of kvm_network_snapshot.

systemd is played by the fake: a ``systemd-run --wait`` unit (a rollback now) runs its runner in
this process, through the same fake for every command; a timer is kept until the test fires it
(the detached apply two seconds after the module's answer, the host's rollback when no
confirmation comes) or ``systemctl stop`` drops it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import copy
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from unittest import mock

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import safe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots
from ansible_collections.cloudstack_kvm.networking.plugins.modules import kvm_network_apply, kvm_network_snapshot
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.test_kvm_network_apply import (
    CONVERGED,
    DEBIAN_INTERFACES,
    IFDOWN,
    IFUP,
    IP,
    IP_READS,
    NETPLAN,
    NOTHING,
    SBIN,
    SEED_MODEL,
    SEED_NETPLAN,
    TWO_BRIDGES,
    HostFake,
    args_for,
    bin_path,
    live_json,
    model_of,
    put,
    read,
    renamed_model,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import run_module

STATE = '/var/lib/cloudstack-kvm/safe-apply'
PING = SBIN + 'ping'
SYSTEMD_RUN = SBIN + 'systemd-run'
SYSTEMCTL = SBIN + 'systemctl'


class SafeHost(HostFake):
    """A host with systemd: transient units recorded, ``--wait`` ones run in this process."""

    def __init__(self):
        super(SafeHost, self).__init__()
        self.timers = {}
        self.units = []

    def __call__(self, module, args, **kwargs):
        name = os.path.basename(args[0])
        if name == 'systemd-run':
            self.calls.append({'argv': list(args), 'kwargs': kwargs})
            unit = [a for a in args if a.startswith('--unit=')][0][len('--unit='):]
            runner = list(args[args.index(sys.executable):])
            self.units.append(unit)
            if '--wait' in args:
                return safe.main(runner[2:]), '', ''
            self.timers[unit] = runner
            return 0, '', ''
        if name == 'systemctl':
            self.calls.append({'argv': list(args), 'kwargs': kwargs})
            if args[1] == 'stop':
                for unit in args[2:]:
                    self.timers.pop(unit.rsplit('.', 1)[0], None)
            if args[1] == 'list-units':
                return 0, ''.join('%s.timer loaded active waiting x\n' % t for t in sorted(self.timers)), ''
            return 0, '', ''
        return super(SafeHost, self).__call__(module, args, **kwargs)

    def fire(self, kind):
        """The timer of ``kind`` runs out: systemd starts its rollback."""
        unit = [u for u in self.timers if u.startswith('cloudstack-kvm-%s-' % kind)][0]
        runner = self.timers.pop(unit)
        with playing(self):
            return safe.main(runner[2:])

    def systemd(self):
        return [c['argv'] for c in self.calls if os.path.basename(c['argv'][0]) in ('systemd-run', 'systemctl')]


# The real one (conftest.py makes every call here look made now, whatever runs pytest).
DATED_BY_SSHD = safe.connection_made_at


def live(fake, state=CONVERGED):
    links, addrs, routes = state
    for argv, out in zip(IP_READS, (links, addrs, routes, '[]')):
        fake.expect(argv=argv, stdout=out, repeat=True)
    return fake


@contextlib.contextmanager
def playing(fake, environ=None):
    """Every command, in the module and in what systemd runs, answered by ``fake``."""

    def host_run(self, argv, **kwargs):
        return fake(self, argv, **kwargs)
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path), \
            mock.patch.object(safe.HostModule, 'run_command', host_run), \
            mock.patch.object(safe.HostModule, 'get_bin_path', bin_path), \
            mock.patch.dict(os.environ, environ or {}, clear=False):
        if environ is None:
            os.environ.pop('SSH_CONNECTION', None)
        yield


def run(main, args, fake, check_mode=False, environ=None):
    with playing(fake, environ):
        result, fake = run_module(main, args, run_command=fake, check_mode=check_mode, diff=True)
    return result


def safe_args(model, root, **extra):
    args = args_for(model, 'ifupdown', root, safe_apply=True, confirm_timeout=30, apply_timeout=60,
                    keep_snapshots=2, drift=True)
    args.update(extra)
    return args


FIRST_APPLY = ([IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1'])
# The rollback of the first apply: the new interfaces go down with the new definitions, eth0 comes
# back with the installer's.
ROLLBACK = ([IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'cloudbr0'], [IFDOWN, '--force', 'eth1'],
            [IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'])


@pytest.fixture
def debian(tmp_path):
    put(tmp_path, '/etc/network/interfaces', DEBIAN_INTERFACES)
    return tmp_path


def handed_over(root, model=None, environ=None):
    """The module's part: plan, snapshot, timers; the apply itself not started yet."""
    fake = live(SafeHost(), NOTHING)
    for argv in FIRST_APPLY:
        fake.expect(argv=argv)
    result = run(kvm_network_apply.main, safe_args(model or model_of(TWO_BRIDGES), root), fake, environ=environ)
    assert not result.get('failed'), result.get('msg')
    return result, fake


def first_apply(root, model=None, environ=None):
    """The module's part, then the detached apply (its timer fires)."""
    result, fake = handed_over(root, model, environ)
    assert fake.fire('apply') == 0
    return result, fake


def manifest(root, sid):
    with open(os.path.join(str(root), STATE.lstrip('/'), sid, 'manifest.json')) as fh:
        return json.load(fh)


def snapshot_ids(root):
    directory = os.path.join(str(root), STATE.lstrip('/'))
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if os.path.isdir(os.path.join(directory, n)))   # not apply.lock


def test_a_change_is_snapshotted_armed_applied_detached_and_waits_for_the_confirmation(debian):
    result, fake = handed_over(debian)
    sa = result['safe_apply']
    assert sa['armed'] is True and sa['confirm_timeout'] == 30 and sa['starts_in'] == 2
    # The module answers with the plan, before anything changes (its answer must reach the controller
    # before the change can cut the connection).
    assert result['changed'] is True and result['files']['created'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    assert result['activated']['commands'] == [list(a) for a in FIRST_APPLY]
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') is None
    assert manifest(debian, sa['id'])['status'] == 'armed'
    assert [a for a in fake.argvs if a[0] in (IFUP, IFDOWN)] == []
    assert fake.fire('apply') == 0
    assert 'bridge_ports eth0' in read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    m = manifest(debian, sa['id'])
    assert m['status'] == 'applied'
    assert sorted(f['path'] for f in m['files']) == ['/etc/network/interfaces',
                                                     '/etc/network/interfaces.d/cloudstack-kvm']
    assert [f['existed'] for f in sorted(m['files'], key=lambda f: f['path'])] == [True, False]
    assert m['interfaces'] == ['cloudbr0', 'cloudbr1', 'eth0', 'eth1']
    systemd = fake.systemd()
    # The watchdog is armed before anything changes, then the apply is started by a timer of its own
    # two seconds later, then the confirmation timer replaces the watchdog.
    assert systemd[0][:3] == [SYSTEMD_RUN, '--unit=cloudstack-kvm-watchdog-%s' % sa['id'], '--on-active=90s']
    assert systemd[1][:3] == [SYSTEMD_RUN, '--unit=cloudstack-kvm-apply-%s' % sa['id'], '--on-active=2s']
    assert systemd[2][:3] == [SYSTEMD_RUN, '--unit=cloudstack-kvm-confirm-%s' % sa['id'], '--on-active=30s']
    assert [SYSTEMCTL, 'stop', 'cloudstack-kvm-watchdog-%s.timer' % sa['id'],
            'cloudstack-kvm-watchdog-%s.service' % sa['id']] in systemd
    assert list(fake.timers) == ['cloudstack-kvm-confirm-%s' % sa['id']]
    assert fake.unused() == []


def test_no_confirmation_means_the_host_rolls_back_by_itself(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    for argv in ROLLBACK:
        fake.expect(argv=argv)
    assert fake.fire('confirm') == 0
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') is None
    m = manifest(debian, sid)
    assert m['status'] == 'rolled_back'
    ran = [a for a in fake.argvs if a[0] in (IFUP, IFDOWN)]
    assert ran[len(FIRST_APPLY):] == list(ROLLBACK), ran
    assert fake.timers == {}, 'no timer is left'
    report = json.load(open(os.path.join(str(debian), STATE.lstrip('/'), sid, 'rollback.json')))
    assert report['files'] == {'restored': ['/etc/network/interfaces'],
                               'removed': ['/etc/network/interfaces.d/cloudstack-kvm']}
    assert report['errors'] == []
    assert not os.path.exists(os.path.join(str(debian), STATE.lstrip('/'), sid, 'runner.py'))
    # A late confirmation is refused and says why.
    late = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian)}, fake)
    assert late['failed'] is True and 'rolled back before the confirmation came' in late['msg']


def test_the_watchdog_undoes_an_apply_that_never_finished(debian):
    # The detached apply is cut off half way (the files written, nothing brought up): the watchdog's
    # rollback sees what differs and puts it back.
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    m = manifest(debian, sid)
    m['status'] = 'armed'
    with open(os.path.join(str(debian), STATE.lstrip('/'), sid, 'manifest.json'), 'w') as fh:
        json.dump(m, fh)
    fake.timers['cloudstack-kvm-watchdog-%s' % sid] = fake.timers.pop('cloudstack-kvm-confirm-%s' % sid)
    for argv in ROLLBACK:
        fake.expect(argv=argv)
    assert fake.fire('watchdog') == 0
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert manifest(debian, sid)['status'] == 'rolled_back'


def test_confirmed_when_the_targets_answer_then_nothing_is_left(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '3', '-I', 'cloudbr0', '198.51.100.254'], stdout='3 received')
    confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                'targets': [{'target': '198.51.100.254', 'bridge': 'cloudbr0'}]},
                    fake)
    assert not confirmed.get('failed'), confirmed.get('msg')
    assert confirmed['changed'] is True and confirmed['snapshot']['status'] == 'confirmed'
    assert confirmed['units'] == [] and fake.timers == {}
    assert not os.path.exists(os.path.join(str(debian), STATE.lstrip('/'), sid, 'runner.py'))
    # The next run has nothing to change: no snapshot, no timer, no unit.
    rerun = run(kvm_network_apply.main, safe_args(model_of(TWO_BRIDGES), debian), live(SafeHost()))
    assert rerun['changed'] is False and rerun['safe_apply'] == {'armed': False, 'would_arm': False}
    assert snapshot_ids(debian) == [sid]


def test_a_target_that_does_not_answer_rolls_back_at_once(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '3', '198.51.100.1'], rc=1,
                stdout='3 packets transmitted, 0 received, 100% packet loss')
    for argv in ROLLBACK:
        fake.expect(argv=argv)
    failed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                             'targets': [{'target': '198.51.100.1'}]}, fake)
    assert failed['failed'] is True
    assert ('could not reach its confirmation targets (none of 3 pings to 198.51.100.1 answered), so it rolled back'
            in failed['msg'])
    assert 'rolled back to snapshot %s' % sid in failed['msg']
    assert failed['snapshot']['status'] == 'rolled_back'
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert fake.timers == {}


def armed_with_targets(root, targets, model=None):
    """kvm_network_apply with confirm.targets (as the role calls it): the apply not started yet."""
    fake = live(SafeHost(), NOTHING)
    for argv in FIRST_APPLY:
        fake.expect(argv=argv)
    result = run(kvm_network_apply.main, safe_args(model or model_of(TWO_BRIDGES), root, confirm={'targets': targets}),
                 fake)
    assert not result.get('failed'), result.get('msg')
    return result['safe_apply']['id'], fake


def test_the_host_rolls_back_at_once_when_its_own_pings_fail_after_the_change(debian):
    """With confirm.targets, the detached apply pings them itself: a change after which they do not
    answer is put back at once, before any timer, and the confirmation says why."""
    sid, fake = armed_with_targets(debian, [{'target': '198.51.100.1', 'bridge': 'cloudbr0'}])
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '10', '-I', 'cloudbr0', '198.51.100.1'], rc=1,
                stdout='10 packets transmitted, 0 received, 100% packet loss')
    for argv in ROLLBACK:
        fake.expect(argv=argv)
    assert fake.fire('apply') == 0
    snap = manifest(debian, sid)
    assert snap['status'] == 'rolled_back' and 'applied' not in [h['status'] for h in snap['history']]
    last = snap['history'][-1]
    assert last['cause'] == 'its confirmation targets did not answer' and last['live_at'] <= last['started']
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES and fake.timers == {}
    failed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                             'targets': [{'target': '198.51.100.1', 'bridge': 'cloudbr0'}]}, fake)
    assert failed['failed'] is True and failed['reason'] == 'targets'
    assert failed['msg'].startswith('after the change the host could not reach its confirmation targets (none of 10 '
                                    'pings to 198.51.100.1 through cloudbr0 answered). Nothing of the change was kept')


def test_a_target_through_an_stp_bridge_gets_its_listening_and_learning_too(debian):
    """cloudbr0 with STP, forward_delay 4: its ports forward after 2 x 4 s, so the host's own ping
    waits 10 + 8 s before it calls the target silent."""
    stp = copy.deepcopy(TWO_BRIDGES)
    stp['bridges']['cloudbr0'].update(stp=True, forward_delay=4)
    sid, fake = armed_with_targets(debian, [{'target': '198.51.100.1', 'bridge': 'cloudbr0'}], model=model_of(stp))
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '18', '-I', 'cloudbr0', '198.51.100.1'], stdout='1 received')
    assert fake.fire('apply') == 0
    assert manifest(debian, sid)['status'] == 'applied'


@pytest.mark.parametrize('bridge, seconds', [
    ({}, 10),
    ({'stp': False, 'forward_delay': 0, 'dhcp4': False, 'dhcp6': False}, 10),
    ({'stp': True, 'forward_delay': 15}, 40),       # listening and learning, 15 s each
    ({'stp': False, 'forward_delay': 15}, 10),      # no STP: the delay is not used
    ({'dhcp4': True}, 30),
    ({'dhcp6': True, 'stp': True, 'forward_delay': 2}, 34),
])
def test_how_long_a_target_may_take_to_answer_after_a_change(bridge, seconds):
    assert safe._settle_seconds(bridge) == seconds


def test_targets_that_answer_the_host_leave_the_change_waiting_for_the_controller(debian):
    sid, fake = armed_with_targets(debian, [{'target': '198.51.100.254', 'bridge': 'cloudbr0'}])
    first = [PING, '-n', '-c', '1', '-w', '10', '-I', 'cloudbr0', '198.51.100.254']
    ping = [PING, '-n', '-c', '1', '-w', '3', '-I', 'cloudbr0', '198.51.100.254']
    fake.expect(argv=first, stdout='1 packets transmitted, 1 received')
    assert fake.fire('apply') == 0
    assert manifest(debian, sid)['status'] == 'applied' and [t.split('-')[2] for t in fake.timers] == ['confirm']
    fake.expect(argv=ping, stdout='3 received')
    confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                'targets': [{'target': '198.51.100.254', 'bridge': 'cloudbr0'}]}, fake)
    assert confirmed['snapshot']['status'] == 'confirmed'
    assert [a for a in fake.argvs if a[0] == PING] == [first, ping], 'the host pinged, then the confirmation'


def test_a_failed_apply_rolls_back_at_once_and_the_confirmation_says_why(debian):
    fake = live(SafeHost(), NOTHING)
    fake.expect(argv=[IFDOWN, '--force', 'eth0']).expect(argv=[IFUP, 'eth0'])
    fake.expect(argv=[IFUP, 'eth1'], rc=1, stderr='Cannot find device "eth1"')
    for argv in ROLLBACK:
        fake.expect(argv=argv)
    result = run(kvm_network_apply.main, safe_args(model_of(TWO_BRIDGES), debian), fake)
    assert not result.get('failed') and result['safe_apply']['armed'] is True
    sid = result['safe_apply']['id']
    assert fake.fire('apply') == 0
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    m = manifest(debian, sid)
    assert m['status'] == 'rolled_back' and m['history'][-1]['cause'] == 'the apply failed'
    assert fake.timers == {}, 'no timer waits to undo what is undone'
    failed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian)}, fake)
    assert failed['failed'] is True and failed['reason'] == 'apply_failed'
    assert failed['msg'].startswith('ifup eth1 failed (rc=1): Cannot find device "eth1"')
    assert 'Nothing of the change was kept: the host rolled back to snapshot %s' % sid in failed['msg']
    assert fake.unused() == []


def test_a_refused_netplan_generate_puts_the_files_back_and_reactivates_nothing(tmp_path):
    # Found taking over a VM built from seed 000: netplan generate refused the files, the apply put
    # them back, and the rollback then re-activated every interface of the model (2 s of pings
    # lost) though nothing had been applied; its message read "... complains about.. Nothing ...".
    put(tmp_path, '/etc/netplan/50-cloud-init.yaml', SEED_NETPLAN, 0o600)
    args = args_for(model_of(SEED_MODEL), 'netplan', tmp_path, safe_apply=True, confirm_timeout=30,
                    apply_timeout=60, keep_snapshots=2, drift=True)
    fake = live(SafeHost(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate'], rc=1, stderr="bond100: interface 'bond0' is not defined")
    result = run(kvm_network_apply.main, args, fake)
    assert not result.get('failed'), result.get('msg')
    sid = result['safe_apply']['id']
    assert fake.fire('apply') == 0
    assert read(tmp_path, '/etc/netplan/50-cloud-init.yaml') == SEED_NETPLAN
    assert read(tmp_path, '/etc/netplan/60-cloudstack-kvm.yaml') is None
    ran = [c['argv'] for c in fake.calls if c['argv'] not in IP_READS and os.path.basename(c['argv'][0]) in
           ('netplan', 'ip', 'ifup', 'ifdown', 'networkctl')]
    assert ran == [[NETPLAN, 'generate']], 'nothing re-activated, nothing applied'
    failed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(tmp_path)}, fake)
    assert failed['failed'] is True and failed['reason'] == 'apply_failed'
    assert '..' not in failed['msg'] and '(files restored: )' not in failed['msg']
    assert failed['msg'].startswith("netplan generate failed (rc=1): bond100: interface 'bond0' is not defined. "
                                    "The previous netplan configuration was put back; nothing was applied.")
    assert '(nothing had been applied, nothing was re-activated)' in failed['msg']
    assert failed['rollback']['interfaces'] == [] and failed['rollback']['nothing_applied'] is True


def test_a_confirmation_while_the_change_is_being_applied_is_pending(debian):
    result, fake = handed_over(debian)
    sid = result['safe_apply']['id']
    pending = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian), 'pending_wait': 0,
                                              'targets': [{'target': '198.51.100.254'}]}, fake)
    assert not pending.get('failed') and pending['pending'] is True and pending['changed'] is False
    assert [a for a in fake.argvs if a[0] == PING] == [], 'nothing is proven before the change is live'
    assert manifest(debian, sid)['status'] == 'armed'
    assert fake.fire('apply') == 0
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '3', '198.51.100.254'], stdout='3 received')
    confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                'targets': [{'target': '198.51.100.254'}]}, fake)
    assert confirmed['snapshot']['status'] == 'confirmed'
    assert confirmed['applied']['files']['created'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    assert confirmed['applied']['activated']['commands'] == [list(a) for a in FIRST_APPLY]


def test_a_confirmation_waits_on_the_host_for_the_apply_then_asks_for_a_new_connection(debian, monkeypatch):
    """pending_wait: the call watches the apply's status on the host instead of answering pending
    at once; once the change is live it answers pending again, as its connection was made before
    the change and proves nothing, and the next call (a new connection) confirms."""
    result, fake = handed_over(debian)
    sid = result['safe_apply']['id']
    looks = []

    def apply_meanwhile(seconds):
        looks.append(seconds)
        if len(looks) == 3:       # the apply ends while the confirmation waits
            assert fake.fire('apply') == 0
    monkeypatch.setattr(safe.time, 'sleep', apply_meanwhile)
    monkeypatch.setattr(safe, 'connection_made_at', time.time)
    waited = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                             'targets': [{'target': '198.51.100.254'}]}, fake)
    assert waited['pending'] is True and 'this connection was made before it was' in waited['msg'], waited
    assert looks == [safe.PENDING_POLL] * 3 and manifest(debian, sid)['status'] == 'applied'
    assert [a for a in fake.argvs if a[0] == PING] == [], 'nothing is proven over the old connection'
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '3', '198.51.100.254'], stdout='3 received')
    confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                'targets': [{'target': '198.51.100.254'}]}, fake)
    assert confirmed['snapshot']['status'] == 'confirmed'


def test_not_over_ssh_the_waiting_call_confirms_as_soon_as_the_change_is_live(debian, monkeypatch):
    """Over podman or a local connection (no sshd: conftest.py) the connection does not cross the
    network the change touches: the call that waited on the host for the apply confirms it."""
    result, fake = handed_over(debian)
    sid = result['safe_apply']['id']
    looks = []

    def apply_meanwhile(seconds):
        looks.append(seconds)
        if len(looks) == 3:
            assert fake.fire('apply') == 0
    monkeypatch.setattr(safe.time, 'sleep', apply_meanwhile)
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '3', '198.51.100.254'], stdout='3 received')
    confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                'targets': [{'target': '198.51.100.254'}]}, fake)
    assert confirmed['snapshot']['status'] == 'confirmed' and len(looks) == 3


def test_a_connection_made_before_the_change_went_live_never_confirms_it(debian, monkeypatch):
    """A change that takes away the address Ansible connects to leaves an ssh connection made
    before it standing (on the host's side): only a connection made after the change proves the
    controller still reaches the host."""
    result, fake = handed_over(debian)
    sid = result['safe_apply']['id']
    before = time.time() - 1
    assert fake.fire('apply') == 0
    monkeypatch.setattr(safe, 'connection_made_at', lambda: before)
    old = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian), 'targets': []}, fake)
    assert old['pending'] is True and old['changed'] is False and manifest(debian, sid)['status'] == 'applied'
    monkeypatch.setattr(safe, 'connection_made_at', time.time)
    new = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian), 'targets': []}, fake)
    assert new['snapshot']['status'] == 'confirmed'


def fake_proc(root, chain, btime=1796600000, ticks=100):
    """/proc with ``chain`` [(pid, name, parent, start ticks)], the first the calling process."""
    (root / 'stat').write_text('cpu  1 2 3\nbtime %d\nprocesses 9\n' % btime)
    for pid, name, parent, start in chain:
        (root / str(pid)).mkdir()
        fields = ['S', str(parent)] + ['0'] * 17 + [str(start)] + ['0'] * 30
        (root / str(pid) / 'stat').write_text('%d (%s) %s\n' % (pid, name, ' '.join(fields)))
    return chain[0][0]


@pytest.mark.parametrize('daemon', ['sshd', 'sshd-session'])
def test_the_connection_is_dated_by_its_sshd_process(tmp_path, daemon):
    pid = fake_proc(tmp_path, [(300, 'python3', 200, 9000), (200, 'sh', 150, 8990), (150, daemon, 100, 5050),
                               (100, daemon, 1, 5000), (1, 'systemd', 0, 1)])
    assert DATED_BY_SSHD(str(tmp_path), pid) == 1796600000 + 50.5, 'the nearest sshd: this connection'


def test_a_call_not_over_ssh_has_no_connection_time(tmp_path):
    pid = fake_proc(tmp_path, [(300, 'python3 (x)', 200, 9000), (200, 'conmon', 1, 100), (1, 'systemd', 0, 1)])
    assert DATED_BY_SSHD(str(tmp_path), pid) is None
    assert DATED_BY_SSHD(str(tmp_path / 'missing'), pid) is None


def test_a_confirmation_answers_pending_when_the_apply_outlasts_its_wait(debian, monkeypatch):
    result, fake = handed_over(debian)
    sid = result['safe_apply']['id']
    clock = [1000.0]
    monkeypatch.setattr(safe.time, 'monotonic', lambda: clock[0])
    monkeypatch.setattr(safe.time, 'sleep', lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    pending = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian), 'pending_wait': 5,
                                              'targets': [{'target': '198.51.100.254'}]}, fake)
    assert pending['pending'] is True and clock[0] >= 1005.0 and manifest(debian, sid)['status'] == 'armed'
    bad = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian), 'pending_wait': -1}, fake)
    assert bad['failed'] is True and bad['msg'] == 'pending_wait must be 0 or more seconds, not -1'


def test_nothing_to_change_arms_nothing_and_writes_nothing(debian):
    first_apply(debian)
    before = snapshot_ids(debian)
    fake = live(SafeHost())
    result = run(kvm_network_apply.main, safe_args(model_of(TWO_BRIDGES), debian), fake)
    assert result['changed'] is False and result['safe_apply']['armed'] is False
    assert fake.systemd() == [] and snapshot_ids(debian) == before


def test_check_mode_says_it_would_commit_confirm_and_touches_nothing(debian):
    fake = live(SafeHost(), NOTHING)
    result = run(kvm_network_apply.main, safe_args(model_of(TWO_BRIDGES), debian), fake, check_mode=True)
    assert result['changed'] is True
    assert result['safe_apply'] == {'armed': False, 'would_arm': True, 'confirm_timeout': 30, 'disruption': None}
    assert fake.systemd() == [] and snapshot_ids(debian) == []
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES


# The host reached on eth0's address (the installer's network): the first migration moves it.
ON_ETH0 = live_json({})
ON_ETH0 = (json.dumps(json.loads(ON_ETH0[0]) + [
    {'ifname': 'eth0', 'ifindex': 2, 'flags': ['UP', 'LOWER_UP'], 'mtu': 1500, 'operstate': 'UP',
     'link_type': 'ether', 'address': '52:54:00:00:00:02'}]),
    json.dumps([{'ifname': 'eth0', 'addr_info': [{'family': 'inet', 'local': '198.51.100.11', 'prefixlen': 24,
                                                  'scope': 'global', 'dynamic': True}]}]), '[]')
SSH = {'SSH_CONNECTION': '198.51.100.250 40022 198.51.100.11 22'}


def test_a_change_on_the_connection_path_is_refused_without_safe_apply(debian):
    fake = live(SafeHost(), ON_ETH0)
    args = args_for(model_of(TWO_BRIDGES), 'ifupdown', debian)
    result = run(kvm_network_apply.main, args, fake, environ=SSH)
    assert result['failed'] is True
    assert result['msg'].startswith('this change re-activates cloudbr0, eth0, on the path Ansible connects through '
                                    '(198.51.100.11 on eth0)')
    assert 'kvm_network_safe_apply: true' in result['msg'] and 'kvm_network_allow_disruptive: true' in result['msg']
    assert result['disruption']['path'] == ['cloudbr0', 'eth0']
    assert [a for a in fake.argvs if a[0] in (IFUP, IFDOWN)] == []
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    # Given consent, it is applied; under safe apply it is applied and commit-confirmed.
    for argv in FIRST_APPLY:
        fake.expect(argv=argv)
    allowed = run(kvm_network_apply.main, dict(args, allow_disruptive=True), fake, environ=SSH)
    assert not allowed.get('failed') and allowed['changed'] is True
    assert allowed['safe_apply']['disruption']['disruptive'] is True


def test_under_safe_apply_the_connection_path_change_is_armed_and_reported(debian):
    fake = live(SafeHost(), ON_ETH0)
    for argv in FIRST_APPLY:
        fake.expect(argv=argv)
    result = run(kvm_network_apply.main, safe_args(model_of(TWO_BRIDGES), debian), fake, environ=SSH)
    assert not result.get('failed'), result.get('msg')
    assert result['safe_apply']['armed'] is True
    assert fake.fire('apply') == 0 and fake.unused() == []
    assert result['safe_apply']['disruption'] == {'address': '198.51.100.11', 'interface': 'eth0',
                                                  'path': ['cloudbr0', 'eth0'], 'touched': ['cloudbr0', 'eth0'],
                                                  'disruptive': True}


def test_snapshots_are_bounded_and_rollback_on_demand_undoes_a_confirmed_change(debian):
    data = copy.deepcopy(TWO_BRIDGES)
    result, fake = first_apply(debian)
    # Confirmed before the next change: one apply at a time, and a pending one holds the next back.
    run(kvm_network_snapshot.main, {'action': 'confirm', 'id': result['safe_apply']['id'], 'root_dir': str(debian)}, fake)
    ids = []
    for index, mtu in enumerate((1400, 1300, 1200)):
        data['bridges']['cloudbr1']['mtu'] = mtu
        fake = live(SafeHost())
        fake.expect(argv=[IFDOWN, '--force', 'cloudbr1']).expect(argv=[IFUP, 'cloudbr1'])
        result = run(kvm_network_apply.main, safe_args(model_of(data), debian), fake)
        assert not result.get('failed'), result.get('msg')
        assert fake.fire('apply') == 0
        sid = result['safe_apply']['id']
        ids.append(sid)
        confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                    'keep_snapshots': 2}, fake)
        assert confirmed['snapshot']['status'] == 'confirmed', confirmed
    remaining = snapshot_ids(debian)
    finished = [s for s in remaining if manifest(debian, s)['status'] in ('confirmed', 'rolled_back')]
    assert len(finished) <= 2 and ids[-1] in remaining
    listed = run(kvm_network_snapshot.main, {'action': 'list', 'root_dir': str(debian)}, SafeHost())
    assert [s['id'] for s in listed['snapshots']] == remaining
    # Undo the last change (mtu 1200 -> 1300).
    fake = live(SafeHost())
    fake.expect(argv=[IFDOWN, '--force', 'cloudbr1']).expect(argv=[IFUP, 'cloudbr1'])
    undone = run(kvm_network_snapshot.main, {'action': 'rollback', 'root_dir': str(debian)}, fake)
    assert not undone.get('failed'), undone.get('msg')
    assert undone['snapshot']['id'] == ids[-1] and undone['snapshot']['status'] == 'rolled_back'
    assert 'mtu 1300' in read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    assert undone['rollback']['files']['restored'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    again = run(kvm_network_snapshot.main, {'action': 'rollback', 'root_dir': str(debian)}, SafeHost())
    assert again['changed'] is False and 'rolled back already' in again['msg']


def test_a_nic_the_apply_renamed_is_named_back_by_its_rollback(debian):
    result, fake = first_apply(debian)
    run(kvm_network_snapshot.main, {'action': 'confirm', 'id': result['safe_apply']['id'], 'root_dir': str(debian)}, fake)
    net = os.path.join(str(debian), 'sys/class/net')
    for name in ('eth0', 'eth1', 'cloudbr1'):
        os.makedirs(os.path.join(net, name))
    rename = [[IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'eth1'],
              [IP, 'link', 'set', 'dev', 'eth1', 'down'], [IP, 'link', 'set', 'dev', 'eth1', 'name', 'ens1'],
              [IFUP, 'ens1'], [IFUP, 'cloudbr1']]
    fake = live(SafeHost())
    for argv in rename:
        fake.expect(argv=argv)
    result = run(kvm_network_apply.main, safe_args(renamed_model(), debian), fake)
    assert not result.get('failed'), result.get('msg')
    sid = result['safe_apply']['id']
    assert result['activated']['commands'] == rename
    assert manifest(debian, sid)['renames'] == [{'from': 'eth1', 'to': 'ens1', 'mac': '52:54:00:00:00:04'}]
    assert fake.fire('apply') == 0
    os.rename(os.path.join(net, 'eth1'), os.path.join(net, 'ens1'))     # what the rename did to the host
    # Not confirmed: ens1 goes down with its definition, is named eth1 again, and eth1 comes up with its own.
    back = [[IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'ens1'],
            [IP, 'link', 'set', 'dev', 'ens1', 'down'], [IP, 'link', 'set', 'dev', 'ens1', 'name', 'eth1'],
            [IFUP, 'eth1'], [IFUP, 'cloudbr1']]
    for argv in back:
        fake.expect(argv=argv)
    assert fake.fire('confirm') == 0
    assert manifest(debian, sid)['status'] == 'rolled_back'
    ran = [a for a in fake.argvs if a[0] in (IFUP, IFDOWN, IP) and a not in IP_READS]
    assert ran[-len(back):] == back, ran
    assert 'bridge_ports eth1' in read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    assert read(debian, '/etc/systemd/network/10-cloudstack-kvm-ens1.link') is None


# --- one apply at a time ------------------------------------------------------------------------

def mtu_change(root, mtu=1400, **extra):
    data = copy.deepcopy(TWO_BRIDGES)
    data['bridges']['cloudbr1']['mtu'] = mtu
    return safe_args(model_of(data), root, **extra)


@pytest.mark.parametrize('fired', [True, False])
def test_a_second_apply_while_one_is_pending_fails_naming_it(debian, fired):
    """A waits for its confirmation (fired) or has not even been applied yet (armed): B (cloudbr1 MTU
    1400) writes nothing and arms nothing, and says which apply holds the host, since A's rollback
    would undo B (or B's would restore A's unconfirmed files)."""
    # A came from the controller at 203.0.113.9 (over the installer's eth0 address), B from elsewhere.
    result, fake = (first_apply if fired else handed_over)(
        debian, environ={'SSH_CONNECTION': '203.0.113.9 50000 198.51.100.50 22'})
    sid = result['safe_apply']['id']
    before = read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    second = live(SafeHost())
    failed = run(kvm_network_apply.main, mtu_change(debian, lock_timeout=1), second,
                 environ={'SSH_CONNECTION': '203.0.113.10 50000 198.51.100.11 22'})
    assert failed['failed'] is True and failed['reason'] == 'pending'
    assert ('snapshot %s (started ' % sid) in failed['msg']
    assert (' from 203.0.113.9) is %s' % ('waiting for its confirmation' if fired else 'still being applied')
            in failed['msg'])
    assert 'Fix: confirm it or roll it back' in failed['msg']
    assert second.systemd() == [] and snapshot_ids(debian) == [sid]
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') == before
    assert manifest(debian, sid)['status'] == ('applied' if fired else 'armed')


def test_a_second_apply_waits_for_the_pending_one_and_plans_on_what_it_left(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']

    def confirm_soon():
        # The confirmation as the host records it (the module machinery is not thread-safe to patch).
        time.sleep(1.0)
        snap = snapshots.Snapshot.load(Root(str(debian)), sid)
        lock = snap.lock()
        try:
            snap.set_status('confirmed')
        finally:
            lock.close()
    worker = threading.Thread(target=confirm_soon)
    second = live(SafeHost())
    second.expect(argv=[IFDOWN, '--force', 'cloudbr1']).expect(argv=[IFUP, 'cloudbr1'])
    worker.start()
    try:
        result = run(kvm_network_apply.main, mtu_change(debian, lock_timeout=20), second)
    finally:
        worker.join()
    assert not result.get('failed'), result.get('msg')
    assert result['safe_apply']['armed'] is True and manifest(debian, sid)['status'] == 'confirmed'


@contextlib.contextmanager
def holding_the_lock(root):
    """Another process holds the host's apply lock (as an apply in progress does, with its holder
    record) until the block ends; then it is killed."""
    lock_path = os.path.join(str(root), STATE.lstrip('/'), 'apply.lock')
    holder = subprocess.Popen([sys.executable, '-c', (
        'import fcntl, json, os, sys, time\n'
        'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n'
        'fcntl.flock(fd, fcntl.LOCK_EX)\n'
        'os.ftruncate(fd, 0)\n'
        'os.write(fd, json.dumps({"pid": os.getpid(), "controller": "198.51.100.77", '
        '"started": "2026-12-06 10:00:00"}).encode())\n'
        'print("held", flush=True)\n'
        'time.sleep(60)\n'), lock_path], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b'held'
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_an_apply_in_progress_holds_the_host_and_its_death_lets_go(debian):
    """The host lock is a flock: held by a live process, the next apply fails naming it; the
    process killed, the lock is free (nothing left behind blocks the host)."""
    first = first_apply(debian)
    run(kvm_network_snapshot.main, {'action': 'confirm', 'id': first[0]['safe_apply']['id'], 'root_dir': str(debian)},
        first[1])
    with holding_the_lock(debian) as holder:
        failed = run(kvm_network_apply.main, mtu_change(debian, lock_timeout=1), live(SafeHost()))
        assert failed['failed'] is True and failed['reason'] == 'locked'
        assert failed['msg'].startswith('another kvm_network_apply is changing this host (pid %d, started '
                                        '2026-12-06 10:00:00 UTC from 198.51.100.77)' % holder.pid)
    second = live(SafeHost())
    second.expect(argv=[IFDOWN, '--force', 'cloudbr1']).expect(argv=[IFUP, 'cloudbr1'])
    result = run(kvm_network_apply.main, mtu_change(debian, lock_timeout=1), second)
    assert not result.get('failed'), result.get('msg')
    assert result['safe_apply']['armed'] is True


def test_check_mode_takes_no_lock_and_warns_about_a_pending_change(debian):
    result, fake = first_apply(debian)
    checked = run(kvm_network_apply.main, mtu_change(debian), live(SafeHost()), check_mode=True)
    assert not checked.get('failed'), checked.get('msg')
    assert any('snapshot %s' % result['safe_apply']['id'] in w and 'waiting for its confirmation' in w
               for w in checked['warnings'])


def test_confirm_targets_are_checked_as_the_apply_checks_them(debian):
    result, fake = first_apply(debian)
    failed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': result['safe_apply']['id'],
                                             'root_dir': str(debian), 'targets': [{'target': '-W', 'count': 0}]}, fake)
    assert failed['failed'] is True
    assert failed['msg'] == ('targets: -W through None: the target must be an address or a host name. Fix: e.g. '
                             '198.51.100.1; targets: -W through None: count must be at least 1, not 0')
    assert manifest(debian, result['safe_apply']['id'])['status'] == 'applied'


def test_a_timer_rollback_leaves_a_file_it_did_not_write(debian):
    """A's change is not confirmed; meanwhile its file was changed by someone else (a hand edit, or
    an apply that got round the lock). A's rollback restores what A changed and leaves that file, and
    says so."""
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    ours = '/etc/network/interfaces.d/cloudstack-kvm'
    edited = read(debian, ours) + '# edited after the apply\n'
    put(debian, ours, edited)
    for argv in ROLLBACK:
        fake.expect(argv=argv, repeat=True)
    assert fake.fire('confirm') == 0
    report = json.load(open(os.path.join(str(debian), STATE.lstrip('/'), sid, 'rollback.json')))
    assert report['left'] == [ours]
    assert '%s was changed since this apply (by another apply or by hand): left as it is' % ours in report['errors']
    assert read(debian, ours) == edited
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES


def test_a_rollback_on_demand_waits_for_an_apply_that_is_changing_the_host(debian):
    result, fake = first_apply(debian)
    run(kvm_network_snapshot.main, {'action': 'confirm', 'id': result['safe_apply']['id'], 'root_dir': str(debian)}, fake)
    with holding_the_lock(debian):
        failed = run(kvm_network_snapshot.main, {'action': 'rollback', 'root_dir': str(debian), 'lock_timeout': 1},
                     live(SafeHost()))
    assert failed['failed'] is True and failed['reason'] == 'locked'
    assert manifest(debian, result['safe_apply']['id'])['status'] == 'confirmed', 'nothing was rolled back'
