# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host layer's commands, run for real: one environment, a time limit, one failure text."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command


class SpawningModule(object):
    """run_command as the detached apply has it (the host layer's own spawn)."""

    def __init__(self):
        self.calls = []

    def run_command(self, args, environ_update=None, cwd=None, **kwargs):
        self.calls.append(dict(kwargs, argv=args, environ_update=environ_update))
        return command.spawn(args, environ_update, cwd, kwargs.get('before_communicate_callback'))


def test_one_environment_c_locale_and_the_sbin_directories():
    module = SpawningModule()
    rc, out, err = command.run(module, ['sh', '-c', 'echo "$LC_ALL $LANG"; echo "$PATH"'])
    lines = out.splitlines()
    assert rc == 0 and lines[0] == 'C C'
    assert {'/sbin', '/usr/sbin', '/usr/local/sbin'} <= set(lines[1].split(':'))
    assert module.calls[0]['expand_user_and_vars'] is False


def test_a_hung_command_is_stopped_at_its_limit():
    started = time.time()
    with pytest.raises(command.CommandFailed) as failed:
        command.run(SpawningModule(), ['sleep', '30'], timeout=1, what='netplan apply')
    assert time.time() - started < 10
    assert failed.value.msg == 'netplan apply did not finish within 1 s and was stopped'


def test_a_failure_names_the_command_its_status_and_its_message_briefly():
    argv = ['sh', '-c', 'printf "first\\nsecond\\nthird\\nfourth\\n" >&2; exit 3']
    with pytest.raises(command.CommandFailed) as failed:
        command.output(SpawningModule(), argv)
    assert failed.value.msg == 'sh -c %s failed (rc=3): first; second; third ...' % argv[2]
    assert failed.value.kwargs['rc'] == 3 and failed.value.kwargs['cmd'] == argv
    rc, out, err = command.run(SpawningModule(), argv)    # without check: the caller decides
    assert rc == 3 and err.startswith('first')


def test_argv_lists_only():
    with pytest.raises(TypeError):
        command.run(SpawningModule(), 'ip link show')


def test_standard_input_is_handed_over_as_bytes_without_a_newline_added():
    seen = {}

    class Recording(object):
        def run_command(self, args, **kwargs):
            seen.update(kwargs)
            return 0, '', ''
    command.run(Recording(), ['openssl', 'pkcs12', '-passin', 'stdin'], data=b'secret')
    assert seen['data'] == b'secret' and seen['binary_data'] is True


def test_brief_says_no_message_for_none():
    assert command.brief('') == 'no message'
    assert command.brief('  one  \n\n two ') == 'one; two'
