# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host_prepare: the caller's problems refused on the controller, then the module on the host
(one task, where a separate assert task would cost the controller a task per host). The
documentation is plugins/modules/kvm_host_prepare.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        problems = self._task.args.get('problems') or []
        if problems:
            if not isinstance(problems, list):
                problems = [str(problems)]
            host = (task_vars or {}).get('inventory_hostname')
            return dict(result, failed=True, changed=False,
                        msg='host %s: %s' % (host, ' '.join(str(p) for p in problems)))
        result.update(self._execute_module(task_vars=task_vars))
        return result
