# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Packages for kvm_host_prepare: one read of what is installed (dpkg-query or rpm), and the
package manager only for what is missing (or, for ``absent``, still installed)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure

APT_ENV = {'DEBIAN_FRONTEND': 'noninteractive'}
# A package manager downloading over a slow mirror may take long; it still cannot hang forever.
PACKAGE_TIMEOUT = 1800


class Packages(object):
    """``installed(names)`` -> the subset installed, in one call; ``install``/``remove`` change."""

    def __init__(self, module, manager):
        self.module = module
        self.manager = manager if manager != 'auto' else self._detect()

    def _detect(self):
        for manager, tool in (('apt', 'dpkg-query'), ('dnf', 'dnf'), ('yum', 'yum')):
            if self.module.get_bin_path(tool):
                return manager
        raise ModuleFailure('no package manager found (apt, dnf or yum). Fix: set kvm_host_install_packages: false '
                            'and install the packages yourself.')

    def _bin(self, name):
        path = self.module.get_bin_path(name)
        if path is None:
            raise ModuleFailure('%s was not found on the host, which the %s package manager needs.' % (name, self.manager))
        return path

    def installed(self, names):
        names = sorted(set(names))
        if not names:
            return set()
        if self.manager == 'apt':
            argv = [self._bin('dpkg-query'), '-W', '-f=${Package}\t${db:Status-Abbrev}\n'] + names
            dummy, out, dummy = command.run(self.module, argv)
            # Unknown names go to stderr (rc 1); the known ones are still listed. "ii" = installed.
            found = set()
            for line in out.splitlines():
                name, dummy, status = line.partition('\t')
                if status.startswith('ii') or status.startswith('hi'):
                    found.add(name.split(':')[0])
            return found
        argv = [self._bin('rpm'), '-q', '--qf', '%{NAME}\n'] + names
        dummy, out, dummy = command.run(self.module, argv)
        return set(line.strip() for line in out.splitlines() if line.strip() in names)

    def _run(self, argv, what, environ=None):
        return command.output(self.module, argv, what=what, environ=environ, timeout=PACKAGE_TIMEOUT)

    def install(self, names):
        """Install ``names``. apt: the package lists are refreshed once if a name is not found in
        them (a new host, or lists older than the mirror), never otherwise."""
        if self.manager == 'apt':
            apt = self._bin('apt-get')
            argv = [apt, 'install', '-y', '-q'] + names
            rc, out, err = command.run(self.module, argv, environ=APT_ENV, timeout=PACKAGE_TIMEOUT)
            if rc == 0:
                return [argv]
            self._run([apt, 'update', '-q'], 'apt-get update', APT_ENV)
            self._run(argv, 'installing %s' % ', '.join(names), APT_ENV)
            return [argv, [apt, 'update', '-q'], argv]
        argv = [self._bin(self.manager), 'install', '-y'] + names
        self._run(argv, 'installing %s' % ', '.join(names))
        return [argv]

    def remove(self, names):
        """Remove ``names`` with their configuration (apt: purge)."""
        if self.manager == 'apt':
            argv = [self._bin('apt-get'), 'purge', '-y', '-q'] + names
            self._run(argv, 'purging %s' % ', '.join(names), APT_ENV)
        else:
            argv = [self._bin(self.manager), 'remove', '-y'] + names
            self._run(argv, 'removing %s' % ', '.join(names))
        return [argv]
