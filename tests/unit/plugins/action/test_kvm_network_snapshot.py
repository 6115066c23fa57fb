# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kvm_network_snapshot action: a confirmation over a new connection, retried until the deadline."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from unittest import mock

from ansible.errors import AnsibleConnectionFailure
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.cloudstack_kvm.networking.plugins.action import kvm_network_snapshot as action_mod
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _confirmation as confirmation_mod
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import Clock

CONFIRMED = {'changed': True, 'snapshot': {'id': 's1', 'status': 'confirmed'}, 'pruned': [], 'units': []}


def run(args, answers, check_mode=False, attempt_cost=0.0):
    """Run the action; ``answers`` are what each module call does in turn (a dict, or an exception to raise)."""
    task = Task()
    task.args = args
    task.check_mode = check_mode
    connection = mock.MagicMock()
    connection.get_option.return_value = ''
    action = action_mod.ActionModule(task, connection, PlayContext(), DataLoader(), None, None)
    connection._shell.tmpdir = None
    clock = Clock()
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, dict(module_args)))
        # As ActionBase does: each module call on a new connection makes its own remote directory.
        if connection._shell.tmpdir is None:
            connection._shell.tmpdir = '/root/.ansible/tmp/ansible-tmp-%d' % len(calls)
        clock.now += attempt_cost
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)
    removed = []
    with mock.patch.object(action, '_execute_module', execute_module), \
            mock.patch.object(action, '_remove_tmp_path', removed.append), \
            mock.patch.object(confirmation_mod, 'time', clock):
        result = action.run(task_vars={'inventory_hostname': 'kvm1'})
    connection.removed = removed
    return result, calls, connection


def confirm(**extra):
    return dict({'action': 'confirm', 'id': 's1', 'targets': [], 'reconnect_timeout': 20}, **extra)


def test_confirms_over_a_new_connection_first():
    result, calls, connection = run(confirm(), [CONFIRMED])
    assert not result.get('failed') and result['changed'] and result['attempts'] == 1
    assert connection.reset.call_count == 1, 'the connection that survived the change proves nothing'
    assert calls == [('cloudstack_kvm.networking.kvm_network_snapshot', confirm(apply_timeout=0))]


def test_retries_until_the_host_answers_again():
    down = AnsibleConnectionFailure('ssh: connect to host 198.51.100.11 port 22: No route to host')
    result, calls, connection = run(confirm(), [down, down, CONFIRMED], attempt_cost=3)
    assert not result.get('failed') and result['attempts'] == 3
    assert connection.reset.call_count == 3


def test_fails_as_unreachable_at_the_deadline_without_confirming():
    down = AnsibleConnectionFailure('ssh: connect to host 198.51.100.11 port 22: Connection timed out')
    result, calls, _connection = run(confirm(reconnect_timeout=20), [down] * 50, attempt_cost=4)
    assert result['failed'] and result['reason'] == 'unreachable' and not result['changed']
    assert 'no new connection to the host within 20 s' in result['msg'] and 'Connection timed out' in result['msg']
    assert 3 <= len(calls) <= 5, 'attempts stop at the deadline'


def test_a_confirmation_that_lost_its_answer_is_not_reported_as_failed():
    # The host confirmed, the connection dropped before the answer came back; the retry finds it confirmed.
    already = {'failed': True, 'reason': 'status', 'msg': 'snapshot s1 is confirmed, not waiting for a confirmation',
               'snapshot': {'id': 's1', 'status': 'confirmed'}}
    result, _calls, _connection = run(confirm(), [AnsibleConnectionFailure('reset by peer'), already])
    assert not result['failed'] and result['changed'] and 'reason' not in result


def test_a_late_or_failed_proof_is_passed_on_and_not_retried():
    late = {'failed': True, 'reason': 'late', 'msg': 'snapshot s1 is rolled_back, not waiting for a confirmation',
            'snapshot': {'id': 's1', 'status': 'rolled_back'}}
    result, calls, _connection = run(confirm(), [late])
    assert result['failed'] and result['reason'] == 'late' and len(calls) == 1


def test_other_actions_and_check_mode_run_the_module_once_on_the_current_connection():
    status = {'changed': False, 'snapshot': {'id': 's1', 'status': 'applied'}}
    result, calls, connection = run({'action': 'status'}, [status])
    assert result['snapshot']['status'] == 'applied' and len(calls) == 1 and connection.reset.call_count == 0
    result, calls, connection = run(confirm(), [{'changed': True, 'snapshot': {'id': 's1', 'status': 'applied'}}],
                                    check_mode=True)
    assert len(calls) == 1 and connection.reset.call_count == 0


PENDING = {'changed': False, 'pending': True, 'snapshot': {'id': 's1', 'status': 'armed'},
           'msg': 'snapshot s1: the change is still being applied'}


def test_asks_again_over_a_new_connection_while_the_change_is_being_applied():
    result, calls, connection = run(confirm(), [PENDING, PENDING, CONFIRMED])
    assert not result.get('failed') and result['attempts'] == 3 and 'pending' not in result
    assert connection.reset.call_count == 3, 'the proof is a connection made after the change'


def test_every_attempts_remote_directory_is_removed_once_the_host_answers():
    down = AnsibleConnectionFailure('ssh: connect to host 198.51.100.11 port 22: No route to host')
    _result, _calls, connection = run(confirm(), [PENDING, down, CONFIRMED])
    assert connection.removed == ['/root/.ansible/tmp/ansible-tmp-%d' % n for n in (1, 2, 3)]
    result, calls, connection = run(confirm(reconnect_timeout=5), [PENDING] * 20, attempt_cost=1)
    assert result['reason'] == 'pending' and len(calls) > 1
    assert connection.removed == ['/root/.ansible/tmp/ansible-tmp-%d' % n for n in range(1, len(calls) + 1)], \
        'pending to the end: the host answered, so every attempt is cleaned up'


def test_a_change_still_being_applied_at_the_deadline_fails_as_pending():
    result, calls, _connection = run(confirm(reconnect_timeout=5), [PENDING] * 20, attempt_cost=1)
    assert result['failed'] and result['reason'] == 'pending'
    assert 'still being applied on the host after 5 s' in result['msg']


def test_a_slow_apply_gets_its_own_time_then_the_full_reconnect_window():
    """A TCG VM applies for 150 s: with apply_timeout the controller keeps asking while it applies,
    then still has its reconnect window once the host's confirmation timer has started."""
    answers = [PENDING] * 150 + [AnsibleConnectionFailure('ssh: connect timed out')] * 15 + [CONFIRMED]
    result, calls, connection = run(confirm(reconnect_timeout=20, apply_timeout=300), answers, attempt_cost=0.0)
    assert not result.get('failed'), result.get('msg')
    assert result['attempts'] == 166
    assert calls[0][1]['apply_timeout'] == 300


def test_the_apply_budget_ends():
    result, calls, _connection = run(confirm(reconnect_timeout=10, apply_timeout=30), [PENDING] * 100)
    assert result['failed'] and result['reason'] == 'pending'
    # asked until 30 s of applying plus the 10 s window (a second of sleep between attempts)
    assert 'still being applied on the host after 39 s' in result['msg']


def test_confirms_with_the_default_deadline_and_ssh_keepalives():
    args = {'action': 'confirm', 'id': 's1'}
    result, calls, connection = run(args, [CONFIRMED])
    assert not result.get('failed')
    assert calls[0][1]['reconnect_timeout'] == confirmation_mod.DEFAULT_RECONNECT
    connection.set_option.assert_called_once_with('ssh_extra_args', confirmation_mod.KEEPALIVE)
