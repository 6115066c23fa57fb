# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_apply: runs the module; with ``confirm``, an armed change (safe_apply) is then
confirmed in this same task, over a new connection, as soon as this host's change is live
(plugin_utils/_confirmation.py). In a task of its own the confirmation would start only when every
host of the play had finished the apply task: the hosts applied first would wait for the slowest
one, or for every batch of forks, while their confirmation timers ran. The documentation is
plugins/modules/kvm_network_apply.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._confirmation import Confirmation

MODULE = 'cloudstack_kvm.networking.kvm_network_apply'


def _seconds(value, default):
    """An option the module has already accepted as an integer (templated values may be strings)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        confirm = args.get('confirm')
        armed = (result.get('safe_apply') or {}).get('armed')
        if confirm and armed and not result.get('failed') and not self._task.check_mode:
            # A failed confirmation does not fail this task: the host rolls back by itself, and the
            # caller (the kvm_network role's confirm.yml) waits for that and says what happened.
            confirm_timeout = _seconds(args.get('confirm_timeout'), 120)
            result['confirmed'] = Confirmation(self, task_vars).run({
                'id': result['safe_apply']['id'],
                'targets': confirm.get('targets') or [],
                'keep_snapshots': _seconds(confirm.get('keep_snapshots', args.get('keep_snapshots')), 5),
                # The confirmation itself needs a few seconds before the host's timer runs out.
                'reconnect_timeout': _seconds(confirm.get('reconnect_timeout'), max(confirm_timeout - 10, 5)),
                # While the host is still applying, its confirmation timer has not started yet.
                'apply_timeout': _seconds(args.get('apply_timeout'), 300),
            })
        return result
