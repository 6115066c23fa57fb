# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/converge's round-trip counter: every module a play runs on a host, one line each.

Action plugins (template, copy, the collection's own) may run several modules per task, or none
(set_fact, assert, the controller-side kvm_network_model), so tasks are not round trips. This
callback wraps ActionBase._execute_module when it loads, in the controller's main process, before
the workers fork; each worker then appends ``host<TAB>module`` to $BENCH_ROUNDTRIPS_LOG (one
short O_APPEND write per line, so the workers' lines do not mix).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: roundtrips
type: aggregate
short_description: Count the modules each host runs (bench/converge)
description:
  - Appends one line per module executed on a host to the file in the environment variable
    BENCH_ROUNDTRIPS_LOG.
requirements:
  - BENCH_ROUNDTRIPS_LOG set
'''

import os

from ansible.plugins.action import ActionBase
from ansible.plugins.callback import CallbackBase

_original = ActionBase._execute_module


def _counting_execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None, *args, **kwargs):
    path = os.environ.get('BENCH_ROUNDTRIPS_LOG')
    if path:
        host = (task_vars or {}).get('inventory_hostname') or getattr(self._play_context, 'remote_addr', '?')
        line = '%s\t%s\n' % (host, module_name or self._task.action)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode('utf-8'))
        finally:
            os.close(fd)
    return _original(self, module_name, module_args, tmp, task_vars, *args, **kwargs)


ActionBase._execute_module = _counting_execute_module


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'roundtrips'
    CALLBACK_NEEDS_ENABLED = True
