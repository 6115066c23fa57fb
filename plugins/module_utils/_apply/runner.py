# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host's tools, run for the applier: argv lists, ``LC_ALL=C``, every changing command
recorded (check mode returns the commands a real run would run)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import SBIN_DIRS, ModuleFailure


class Runner(object):
    """Runs the host's tools (argv lists, LC_ALL=C) and records what ran."""

    def __init__(self, module):
        self.module = module
        self.ran = []
        self._bins = {}

    def bin(self, name):
        if name not in self._bins:
            self._bins[name] = self.module.get_bin_path(name, required=False, opt_dirs=SBIN_DIRS)
        if self._bins[name] is None:
            raise ModuleFailure('%s was not found on the host. Fix: install it (it comes with the system\'s network '
                                'configuration tool) or pick the renderer the host uses (kvm_network_renderer).' % name)
        return self._bins[name]

    def read(self, argv):
        """A read-only command: runs in check mode too; returns (rc, out, err)."""
        return command.run(self.module, argv)

    def run(self, argv, what):
        """A command that changes the host: fails with ``what`` and the tool's message."""
        self.ran.append(list(argv))
        try:
            return command.output(self.module, argv, what=what)
        except command.CommandFailed as failure:    # a non-zero exit or a hung tool stopped
            failure.kwargs['commands'] = self.ran
            raise
