# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_snapshot: runs the module. With action=confirm it first gets a NEW connection to
the host, and asks again (over another new connection) while the host cannot be reached or is still
applying the change, until reconnect_timeout (plugin_utils/_confirmation.py, which the
kvm_network_apply action runs too). The documentation is plugins/modules/kvm_network_snapshot.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._confirmation import SNAPSHOT_MODULE, Confirmation


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        if args.get('action') != 'confirm' or self._task.check_mode:
            result.update(self._execute_module(module_name=SNAPSHOT_MODULE, module_args=args, task_vars=task_vars))
            return result
        result.update(Confirmation(self, task_vars).run(args))
        return result
