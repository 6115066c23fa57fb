# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_snapshot: runs the module. With action=confirm it first gets a NEW connection to
the host, and asks again (over another new connection) while the host cannot be reached or is still
applying the change, until reconnect_timeout: every host of a play confirms as soon as it can, and a
host that cannot be reached does not hold the others' confirmation back (as a separate
wait_for_connection task would under the linear strategy). The documentation is
plugins/modules/kvm_network_snapshot.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

MODULE = 'cloudstack_kvm.networking.kvm_network_snapshot'
RETRY_SLEEP = 1
DEFAULT_RECONNECT = 110     # below kvm_network_apply's default confirm_timeout, 120
KEEPALIVE = '-o ServerAliveInterval=3 -o ServerAliveCountMax=3'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _reconnect(self):
        """Drop the connection (one that survived the change proves nothing); the next module call
        opens a new one."""
        try:
            self._connection.reset()
        except AttributeError:
            pass
        # The remote temporary directory belonged to the old attempt: the next one makes its own,
        # and this one is removed once a connection answers (_remove_attempts_tmp).
        if self._connection._shell.tmpdir:
            self._attempt_tmpdirs.append(self._connection._shell.tmpdir)
        self._connection._shell.tmpdir = None

    def _remove_attempts_tmp(self):
        """Remove every attempt's remote temporary directory over the connection that answered (an
        attempt that got no answer, or answered pending, left its module file on the host)."""
        paths = self._attempt_tmpdirs + [self._connection._shell.tmpdir]
        self._attempt_tmpdirs = []
        for path in paths:
            if path:
                try:
                    self._remove_tmp_path(path)
                except AnsibleError as exc:
                    display.vvv('kvm_network_snapshot: could not remove %s: %s' % (path, to_text(exc)))

    def _fail_fast(self):
        """With ssh, a session the change cuts off ends within seconds (keepalives) instead of
        waiting in TCP retransmissions until the host has rolled back."""
        try:
            extra = self._connection.get_option('ssh_extra_args') or ''
        except (AttributeError, KeyError, AnsibleError):
            return
        if 'ServerAliveInterval' not in extra:
            self._connection.set_option('ssh_extra_args', ('%s %s' % (extra, KEEPALIVE)).strip())

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        if args.get('action') != 'confirm' or self._task.check_mode:
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        reconnect = args.get('reconnect_timeout', DEFAULT_RECONNECT)
        apply_budget = args.get('apply_timeout', 0)
        try:
            start = time.monotonic()
            deadline = start + float(reconnect)
            # While the host says it is still applying, its confirmation timer has not started: the
            # reconnect window starts again from each such answer, up to the apply's own limit.
            latest = start + float(apply_budget) + float(reconnect)
        except (TypeError, ValueError):
            return dict(result, failed=True, msg='reconnect_timeout and apply_timeout must be numbers of seconds, not '
                        '%r, %r' % (reconnect, apply_budget))
        args['reconnect_timeout'] = int(reconnect)
        args['apply_timeout'] = int(apply_budget)
        self._attempt_tmpdirs = []
        self._fail_fast()
        lost, attempts, error, pending = False, 0, None, None
        while True:
            attempts += 1
            self._reconnect()
            try:
                answer = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            except AnsibleConnectionFailure as exc:
                # Unreachable for now: the new network is still coming up, or it cut the host off.
                answer = {'unreachable': True, 'msg': to_text(exc)}
            if answer.get('unreachable') or answer.get('pending'):
                if answer.get('unreachable'):
                    error, lost = answer.get('msg', 'unreachable'), True
                else:
                    pending = answer
                    deadline = max(deadline, min(time.monotonic() + float(reconnect), latest))
                display.vvv('kvm_network_snapshot: attempt %d: %s' % (attempts, answer.get('msg')))
                if time.monotonic() + RETRY_SLEEP >= deadline:
                    break
                time.sleep(RETRY_SLEEP)
                continue
            if lost and answer.get('failed') and answer.get('snapshot', {}).get('status') == 'confirmed':
                # An earlier attempt confirmed on the host, then lost its connection before it could say so.
                answer = dict(answer, failed=False, changed=True, msg='confirmed (by an earlier attempt whose '
                              'connection was lost)')
                answer.pop('reason', None)
            result.update(answer)
            result['attempts'] = attempts
            self._remove_attempts_tmp()
            return result
        if pending is not None and not lost:
            self._remove_attempts_tmp()
            return dict(result, failed=True, changed=False, reason='pending', attempts=attempts,
                        snapshot=pending.get('snapshot'),
                        msg='the change was still being applied on the host after %d s'
                        % round(time.monotonic() - start))
        return dict(result, failed=True, changed=False, reason='unreachable', attempts=attempts,
                    msg='no new connection to the host within %s s (last error: %s)' % (reconnect, error))
