# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this plugin_utils file is for this collection's own plugins only; its API may change
# without notice.
"""Commit-confirm, the controller's half: a NEW connection to the host (one that survived the change
proves nothing), then kvm_network_snapshot's confirm on the host, asked again over another new
connection while the host cannot be reached or is still applying the change, until the reconnect
window ends.

Two action plugins run it: kvm_network_apply's, right after its own armed apply (option
``confirm``), and kvm_network_snapshot's (``action: confirm``). Confirming inside the apply task
matters at fleet scale: under the linear strategy the next task starts only when every host has
finished this one, and the hosts applied first would wait for the slowest host's apply (or for
every batch of forks) with their confirmation timers running.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.utils.display import Display

display = Display()

SNAPSHOT_MODULE = 'cloudstack_kvm.networking.kvm_network_snapshot'
RETRY_SLEEP = 1
DEFAULT_RECONNECT = 110     # below kvm_network_apply's default confirm_timeout, 120
KEEPALIVE = '-o ServerAliveInterval=3 -o ServerAliveCountMax=3'


class Confirmation(object):
    """One host's confirmation, through ``action`` (the ActionBase running the task)."""

    def __init__(self, action, task_vars):
        self.action = action
        self.task_vars = task_vars
        self.attempt_tmpdirs = []

    @property
    def connection(self):
        return self.action._connection

    def _reconnect(self):
        """Drop the connection; the next module call opens a new one."""
        try:
            self.connection.reset()
        except AttributeError:
            pass
        # The remote temporary directory belonged to the old attempt: the next one makes its own,
        # and this one is removed once a connection answers (_remove_attempts_tmp).
        if self.connection._shell.tmpdir:
            self.attempt_tmpdirs.append(self.connection._shell.tmpdir)
        self.connection._shell.tmpdir = None

    def _remove_attempts_tmp(self):
        """Remove every attempt's remote temporary directory over the connection that answered (an
        attempt that got no answer, or answered pending, left its module file on the host)."""
        paths = self.attempt_tmpdirs + [self.connection._shell.tmpdir]
        self.attempt_tmpdirs = []
        for path in paths:
            if path:
                try:
                    self.action._remove_tmp_path(path)
                except AnsibleError as exc:
                    display.vvv('kvm_network confirmation: could not remove %s: %s' % (path, to_text(exc)))

    def _fail_fast(self):
        """With ssh, a session the change cuts off ends within seconds (keepalives) instead of
        waiting in TCP retransmissions until the host has rolled back."""
        try:
            extra = self.connection.get_option('ssh_extra_args') or ''
        except (AttributeError, KeyError, AnsibleError):
            return
        if 'ServerAliveInterval' not in extra:
            self.connection.set_option('ssh_extra_args', ('%s %s' % (extra, KEEPALIVE)).strip())

    def run(self, args):
        """kvm_network_snapshot's ``confirm`` with ``args`` (id, targets, keep_snapshots,
        reconnect_timeout, apply_timeout): its result, or a failure with ``reason`` unreachable or
        pending."""
        args = dict(args, action='confirm')
        reconnect = args.get('reconnect_timeout', DEFAULT_RECONNECT)
        apply_budget = args.get('apply_timeout', 0)
        try:
            start = time.monotonic()
            deadline = start + float(reconnect)
            # While the host says it is still applying, its confirmation timer has not started: the
            # reconnect window starts again from each such answer, up to the apply's own limit.
            latest = start + float(apply_budget) + float(reconnect)
        except (TypeError, ValueError):
            return dict(failed=True, msg='reconnect_timeout and apply_timeout must be numbers of seconds, not '
                        '%r, %r' % (reconnect, apply_budget))
        args['reconnect_timeout'] = int(reconnect)
        args['apply_timeout'] = int(apply_budget)
        self._fail_fast()
        lost, attempts, error, pending = False, 0, None, None
        while True:
            attempts += 1
            self._reconnect()
            try:
                answer = self.action._execute_module(module_name=SNAPSHOT_MODULE, module_args=args,
                                                     task_vars=self.task_vars)
            except AnsibleConnectionFailure as exc:
                # Unreachable for now: the new network is still coming up, or it cut the host off.
                answer = {'unreachable': True, 'msg': to_text(exc)}
            if answer.get('unreachable') or answer.get('pending'):
                if answer.get('unreachable'):
                    error, lost = answer.get('msg', 'unreachable'), True
                else:
                    pending = answer
                    deadline = max(deadline, min(time.monotonic() + float(reconnect), latest))
                display.vvv('kvm_network confirmation: attempt %d: %s' % (attempts, answer.get('msg')))
                if time.monotonic() + RETRY_SLEEP >= deadline:
                    break
                time.sleep(RETRY_SLEEP)
                continue
            if lost and answer.get('failed') and answer.get('snapshot', {}).get('status') == 'confirmed':
                # An earlier attempt confirmed on the host, then lost its connection before it could say so.
                answer = dict(answer, failed=False, changed=True, msg='confirmed (by an earlier attempt whose '
                              'connection was lost)')
                answer.pop('reason', None)
            answer['attempts'] = attempts
            self._remove_attempts_tmp()
            return answer
        if pending is not None and not lost:
            self._remove_attempts_tmp()
            return dict(failed=True, changed=False, reason='pending', attempts=attempts,
                        snapshot=pending.get('snapshot'),
                        msg='the change was still being applied on the host after %d s'
                        % round(time.monotonic() - start))
        return dict(failed=True, changed=False, reason='unreachable', attempts=attempts,
                    msg='no new connection to the host within %s s (last error: %s)' % (reconnect, error))
