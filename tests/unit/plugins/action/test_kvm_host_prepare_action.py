# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kvm_host_prepare action: the caller's problems refused on the controller, else the module runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from unittest import mock

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.cloudstack_kvm.networking.plugins.action import kvm_host_prepare as action_mod


def run(args):
    task = Task()
    task.args = args
    action = action_mod.ActionModule(task, mock.MagicMock(), PlayContext(), DataLoader(), None, None)
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append(module_args)
        return {'changed': True, 'reboot_required': False}
    with mock.patch.object(action, '_execute_module', execute_module):
        return action.run(task_vars={'inventory_hostname': 'kvm1'}), calls


def test_problems_fail_the_host_before_it_is_contacted():
    result, calls = run({'problems': ['kvm_host_disable_ipv6 is true but kvm_network uses IPv6 (cloudbr0).',
                                      'kvm_host_kernel_modules has names that are not kernel module names: a b.'],
                         'packages': ['iproute2']})
    assert calls == []
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'] == ('host kvm1: kvm_host_disable_ipv6 is true but kvm_network uses IPv6 (cloudbr0). '
                             'kvm_host_kernel_modules has names that are not kernel module names: a b.')


def test_without_problems_the_module_runs_once():
    result, calls = run({'problems': [], 'packages': ['iproute2']})
    assert len(calls) == 1
    assert result['changed'] is True and not result.get('failed')
