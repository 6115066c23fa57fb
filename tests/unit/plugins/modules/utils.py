# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generic helpers for module unit tests.

* ``set_module_args(args)``: a context manager that hands ``args`` to the next ``AnsibleModule``
  (``ansible.module_utils.testing.patch_module_args`` on ansible-core 2.19+, the older
  ``basic._ANSIBLE_ARGS`` patch before).
* ``AnsibleExitJson`` / ``AnsibleFailJson``: raised instead of exiting, carrying the result dict.
* ``FakeRunCommand``: stands in for ``AnsibleModule.run_command``; answers argv lists from
  expected calls (recorded tool output) and records every call, so a test can assert on the
  exact argv that was run, or that nothing was run (check mode).
* ``run_module(main, args, ...)``: runs a module's ``main()`` with all of the above (warnings
  given to ``module.warn()`` end up in ``result['warnings']``) and returns ``(result, fake)``.
* ``Clock``: stands in for the ``time`` module (``monotonic``, ``sleep``): sleeping moves it on.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import inspect
import json
import os

from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils.testing import patch_module_args as _patch_module_args
except ImportError:  # ansible-core < 2.19
    _patch_module_args = None


class AnsibleExitJson(Exception):
    """The module called exit_json(); ``.result`` is what it returned."""

    @property
    def result(self):
        return self.args[0]


class AnsibleFailJson(Exception):
    """The module called fail_json(); ``.result`` is what it returned."""

    @property
    def result(self):
        return self.args[0]


def exit_json(self, **kwargs):  # pylint: disable=unused-argument
    kwargs.setdefault('changed', False)
    raise AnsibleExitJson(kwargs)


def fail_json(self, **kwargs):  # pylint: disable=unused-argument
    kwargs['failed'] = True
    raise AnsibleFailJson(kwargs)


@contextlib.contextmanager
def set_module_args(args):
    """Expose ``args`` (a dict of module options, may include ``_ansible_check_mode`` etc.)."""
    args = dict(args or {})
    args.setdefault('_ansible_remote_tmp', '/tmp')
    args.setdefault('_ansible_keep_remote_files', False)
    if _patch_module_args is not None:
        with _patch_module_args(args):
            yield
        return
    serialized = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    with mock.patch.object(basic, '_ANSIBLE_ARGS', serialized):
        yield


def load_fixture(*parts):
    """Text of a file under this directory's ``fixtures/``."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', *parts)
    with open(path) as f:
        return f.read()


class Clock(object):
    """time.monotonic and time.sleep of a test: sleeping moves the clock."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeRunCommand(object):
    """A replacement for ``AnsibleModule.run_command``.

    Expected calls are matched in order of declaration; the first expectation that matches and
    is not used up answers. ``argv`` matches the exact argv list; ``match`` is a predicate on the
    argv list. An expectation answers once unless ``repeat=True``. A call nothing matches fails
    the test with the argv, so a module can never run an unexpected command unnoticed.
    """

    def __init__(self):
        self._expectations = []
        self.calls = []

    def expect(self, argv=None, match=None, rc=0, stdout='', stderr='', repeat=False):
        if argv is None and match is None:
            raise ValueError('expect() needs argv or match')
        self._expectations.append({'argv': list(argv) if argv is not None else None, 'match': match,
                                   'answer': (rc, stdout, stderr), 'repeat': repeat, 'used': 0})
        return self

    def __call__(self, module, args, **kwargs):  # pylint: disable=unused-argument
        argv = list(args) if isinstance(args, (list, tuple)) else args
        self.calls.append({'argv': argv, 'kwargs': kwargs})
        for exp in self._expectations:
            if exp['used'] and not exp['repeat']:
                continue
            if exp['argv'] is not None and exp['argv'] != argv:
                continue
            if exp['match'] is not None and not exp['match'](argv):
                continue
            exp['used'] += 1
            return exp['answer']
        raise AssertionError('unexpected run_command call: %r' % (argv,))

    @property
    def argvs(self):
        return [c['argv'] for c in self.calls]

    def unused(self):
        """Expectations that never answered (``repeat`` ones included)."""
        return [e['argv'] or e['match'] for e in self._expectations if not e['used']]


def run_module(main, args, run_command=None, check_mode=False, diff=False):
    """Run a module's ``main()``; return ``(result, run_command)``.

    ``result`` has ``failed: True`` when the module failed, and ``warnings`` (the messages given to
    ``module.warn()``) when there were any. ``run_command`` is the ``FakeRunCommand`` used (an
    empty one that rejects every call when none is given).
    """
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    fake = run_command if run_command is not None else FakeRunCommand()
    warnings = []

    def _run_command(module, cmd, **kwargs):
        return fake(module, cmd, **kwargs)

    # Record warnings, then hand them on to whatever AnsibleModule.warn is now (the real one, or a
    # mock a test put in place around this call).
    previous_warn = basic.AnsibleModule.__dict__['warn']

    def _warn(module, warning, *more_args, **kwargs):
        warnings.append(warning)
        if inspect.isfunction(previous_warn):
            return previous_warn(module, warning, *more_args, **kwargs)
        return previous_warn(warning, *more_args, **kwargs)  # a mock patched onto the class

    def _with_warnings(func):
        def wrapper(module, **kwargs):
            # ansible-core 2.19 deprecates warnings passed to exit_json/fail_json (gone in 2.23).
            assert 'warnings' not in kwargs, 'a module passed warnings= to exit_json/fail_json: use module.warn()'
            if warnings:
                kwargs['warnings'] = list(warnings)
            return func(module, **kwargs)
        return wrapper

    with set_module_args(args):
        with mock.patch.multiple(basic.AnsibleModule, exit_json=_with_warnings(exit_json),
                                 fail_json=_with_warnings(fail_json), run_command=_run_command, warn=_warn):
            try:
                main()
            except AnsibleExitJson as e:
                return e.result, fake
            except AnsibleFailJson as e:
                return e.result, fake
    raise AssertionError('the module returned without calling exit_json or fail_json')
