# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kvm_network_apply action: an armed change confirmed in the same task, over a new connection."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from unittest import mock

from ansible.errors import AnsibleConnectionFailure
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.cloudstack_kvm.networking.plugins.action import kvm_network_apply as action_mod
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _confirmation as confirmation_mod
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import Clock

APPLY = 'cloudstack_kvm.networking.kvm_network_apply'
SNAPSHOT = 'cloudstack_kvm.networking.kvm_network_snapshot'
ARMED = {'changed': True, 'files': {}, 'safe_apply': {'armed': True, 'id': 's1', 'confirm_timeout': 60}}
CONFIRMED = {'changed': True, 'snapshot': {'id': 's1', 'status': 'confirmed'}, 'applied': {'changed': True}}
TARGETS = [{'target': '198.51.100.254', 'bridge': 'cloudbr0'}]


def run(args, answers, check_mode=False):
    """The action with ``args``; ``answers``: what each module call returns (or raises) in turn.
    Returns (result, [(module, args, connection resets before the call)], connection)."""
    task = Task()
    task.args = args
    task.check_mode = check_mode
    connection = mock.MagicMock()
    connection.get_option.return_value = ''
    connection._shell.tmpdir = None
    action = action_mod.ActionModule(task, connection, PlayContext(), DataLoader(), None, None)
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, dict(module_args), connection.reset.call_count))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)
    with mock.patch.object(action, '_execute_module', execute_module), \
            mock.patch.object(action, '_remove_tmp_path', lambda path: None), \
            mock.patch.object(confirmation_mod, 'time', Clock()):
        result = action.run(task_vars={'inventory_hostname': 'kvm1'})
    return result, calls, connection


def apply_args(**extra):
    return dict({'renderer': 'netplan', 'files': [], 'model': {}, 'safe_apply': True, 'confirm_timeout': '60',
                 'apply_timeout': 300, 'keep_snapshots': 5, 'confirm': {'targets': TARGETS}}, **extra)


def test_an_armed_change_is_confirmed_in_the_same_task_over_a_new_connection():
    result, calls, connection = run(apply_args(), [ARMED, CONFIRMED])
    assert [c[0] for c in calls] == [APPLY, SNAPSHOT]
    assert calls[0][2] == 0 and calls[1][2] == 1, "the apply on the task's connection, the confirmation on a new one"
    assert calls[1][1] == {'action': 'confirm', 'id': 's1', 'targets': TARGETS, 'keep_snapshots': 5,
                           'reconnect_timeout': 50, 'apply_timeout': 300}
    assert result['changed'] is True and not result.get('failed')
    assert result['confirmed']['snapshot']['status'] == 'confirmed' and result['confirmed']['attempts'] == 1
    assert result['safe_apply']['id'] == 's1', "the apply's own result is kept"
    connection.set_option.assert_called_once_with('ssh_extra_args', confirmation_mod.KEEPALIVE)


def test_the_confirmation_retries_while_the_host_cannot_be_reached():
    result, calls = run(apply_args(), [ARMED, AnsibleConnectionFailure('timed out'), CONFIRMED])[:2]
    assert [c[0] for c in calls] == [APPLY, SNAPSHOT, SNAPSHOT]
    assert result['confirmed']['attempts'] == 2 and not result['confirmed'].get('failed')


def test_a_failed_confirmation_is_returned_without_failing_the_task():
    late = {'failed': True, 'reason': 'late', 'msg': 'snapshot s1 is rolled_back', 'snapshot': {'status': 'rolled_back'}}
    result = run(apply_args(), [ARMED, late])[0]
    assert not result.get('failed'), "the role's rescue waits for the rollback and says what happened"
    assert result['confirmed']['failed'] is True and result['confirmed']['reason'] == 'late'


def test_a_host_that_never_answers_is_unreachable_at_the_deadline():
    answers = [ARMED] + [AnsibleConnectionFailure('no route')] * 100
    result, calls = run(apply_args(confirm={'targets': [], 'reconnect_timeout': 5}), answers)[:2]
    assert result['confirmed']['reason'] == 'unreachable' and not result.get('failed')
    assert 2 <= len(calls) - 1 <= 6


def test_no_confirmation_without_the_option_in_check_mode_or_when_nothing_was_armed():
    without = dict(apply_args())
    del without['confirm']
    for args, answers, check in ((without, [ARMED], False), (apply_args(), [ARMED], True),
                                 (apply_args(), [{'changed': False, 'safe_apply': {'armed': False}}], False),
                                 (apply_args(), [{'failed': True, 'msg': 'bad'}], False)):
        result, calls, connection = run(args, answers, check_mode=check)
        assert [c[0] for c in calls] == [APPLY] and 'confirmed' not in result, (args, check)
        assert connection.reset.call_count == 0
