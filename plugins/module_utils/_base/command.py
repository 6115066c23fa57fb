# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host layer's commands: every tool the collection runs on a host is run by ``run``.

One way for all of them: an argv list (never a shell string, no ``~`` or ``$VAR`` expansion), one
environment (the C locale, so output and error texts can be parsed; a PATH that has the sbin
directories, where network tools live), a time limit (a hung tool is killed: it cannot hold a
module, or a detached apply, forever), and one failure text that names the command, its exit
status and the first lines of what it said.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import threading

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import C_LOCALE, SBIN_DIRS, ModuleFailure

# Long enough for netplan apply or ifup of a bonded bridge on a slow (emulated) host; a tool
# that bounds itself (ovs-vsctl --timeout, ping -W) is run with timeout=None.
DEFAULT_TIMEOUT = 300
_BRIEF_LINES = 3


def environment(extra=None):
    """The one environment every command gets (on top of the module's own)."""
    path = os.environ.get('PATH', '/usr/bin:/bin').split(os.pathsep)
    env = dict(C_LOCALE)
    env['PATH'] = os.pathsep.join(path + [d for d in SBIN_DIRS if d not in path])
    env.update(extra or {})
    return env


class _Limit(object):
    """Kills the command when ``timeout`` seconds pass (AnsibleModule.run_command's
    before_communicate_callback hands over the process)."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.fired = False
        self._timer = None

    def __call__(self, proc):
        if self.timeout:
            self._timer = threading.Timer(self.timeout, self._kill, (proc,))
            self._timer.daemon = True
            self._timer.start()

    def _kill(self, proc):
        self.fired = True
        try:
            proc.kill()
        except OSError:
            pass

    def cancel(self):
        if self._timer is not None:
            self._timer.cancel()


def brief(text, lines=_BRIEF_LINES):
    """The first lines of a tool's message, stripped; 'no message' for none."""
    kept = [line.strip() for line in (text or '').strip().splitlines() if line.strip()]
    more = ' ...' if len(kept) > lines else ''
    return '; '.join(kept[:lines]) + more if kept else 'no message'


class CommandFailed(ModuleFailure):
    """A command that exited non-zero; ``msg`` names it, its exit status and its stderr, briefly."""

    def __init__(self, argv, rc, out, err, what=None, timed_out=None):
        shown = what or ' '.join(argv)     # ``what`` names the command in the user's words
        if timed_out:
            msg = '%s did not finish within %d s and was stopped' % (shown, timed_out)
        else:
            msg = '%s failed (rc=%d): %s' % (shown, rc, brief(err or out))
        super(CommandFailed, self).__init__(msg, cmd=list(argv), rc=rc, stdout=out, stderr=err)


def run(module, argv, timeout=DEFAULT_TIMEOUT, cwd=None, data=None, environ=None, check=False, what=None):
    """Run ``argv`` on the host: (rc, stdout, stderr) as text.

    ``check``: raise ``CommandFailed`` (naming ``what`` when given) on a non-zero exit instead.
    ``environ``: variables on top of the one environment (an unpacked OVS's paths in tests).
    ``data``: the command's standard input (a secret goes there, never into argv)."""
    if not isinstance(argv, (list, tuple)):
        raise TypeError('commands are argv lists, not %r' % (argv,))
    argv = [str(a) for a in argv]
    limit = _Limit(timeout)
    kwargs = {'environ_update': environment(environ), 'expand_user_and_vars': False,
              'before_communicate_callback': limit}
    if cwd is not None:
        kwargs['cwd'] = cwd
    if data is not None:
        kwargs['data'] = data
        kwargs['binary_data'] = True
    try:
        rc, out, err = module.run_command(argv, **kwargs)
    finally:
        limit.cancel()
    if limit.fired:
        raise CommandFailed(argv, rc, out, err, what, timed_out=timeout)
    if check and rc != 0:
        raise CommandFailed(argv, rc, out, err, what)
    return rc, out, err


def output(module, argv, **kwargs):
    """stdout of a command that must succeed (``CommandFailed`` otherwise)."""
    kwargs['check'] = True
    return run(module, argv, **kwargs)[1]


def spawn(argv, environ_update=None, cwd=None, before_communicate_callback=None):
    """``AnsibleModule.run_command`` for the processes systemd starts on the host without Ansible
    (the detached apply and the rollback): (rc, stdout, stderr) as text; ``run`` calls it there."""
    env = dict(os.environ)
    env.update(environ_update or {})
    # No AnsibleModule (so no run_command) exists in these processes.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                            stderr=subprocess.PIPE, cwd=cwd, env=env)
    if before_communicate_callback is not None:
        before_communicate_callback(proc)
    out, err = proc.communicate()
    return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')
