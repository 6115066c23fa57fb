# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Roll a host back to a snapshot, with the activation code the apply itself uses.

The files saved in the snapshot are compared with the host's now; every one that differs is the
reverse of a change (``FileChange(path, old=now, new=saved)``), and the renderer's ``System``
turns those changes into the interfaces to bring down with their current definition and up with
the saved one, exactly as an apply does. The interfaces the apply re-activated are re-activated
again, so what it touched without changing its file (drift, dependants) comes back too. Then the
NetworkManager profiles the apply switched off are switched on again, and the managed Open
vSwitch rows are written back under their own UUIDs, and the interfaces announce their addresses
(gratuitous ARP, ``announce``). NICs the apply renamed get their old names back before the old
definitions come up. A rollback does everything it can: a step
that fails is reported and the next one still runs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import announce, renames
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.files import FileChange
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.macs import restore_macs
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.runner import Runner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure, natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import restore as ovs_restore
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsError


def _text(data):
    return None if data is None else data.decode('utf-8', 'replace')


def _current(root, path):
    real = root.real(path)
    if not os.path.lexists(real):
        return None, None
    with open(real, 'rb') as fh:
        return fh.read(), os.lstat(real).st_mode & 0o7777


class Rollback(object):
    """Plans and runs the rollback of one snapshot; ``systems`` maps renderers to System classes."""

    def __init__(self, module, root, snap, params, systems, guard=True):
        self.module = module
        self.root = root
        self.snap = snap
        self.params = params
        self.runner = Runner(module)
        saved = [(e, snap.saved_bytes(e)) for e in snap.manifest['files']]
        # What this snapshot's apply wrote, per rendered path: with ``guard`` (a timer's rollback of
        # a change not confirmed) a file that holds neither that nor the saved content was changed
        # by someone else since, and is left as it is: a rollback never undoes what it did not apply.
        applied = dict((f['path'], f['content'].encode('utf-8')) for f in params.get('files') or [])
        self.left = []
        self.changes = []
        for entry, data in saved:
            now, mode = _current(root, entry['path'])
            if now == data and (data is None or int(entry['mode'], 8) == mode):
                continue
            if guard and entry['path'] in applied and now != applied[entry['path']] and now != data:
                self.left.append(entry['path'])
                continue
            self.changes.append(FileChange(entry['path'], _text(now), _text(data), entry.get('mode'), mode,
                                           'rollback'))
        self.saved = dict((e['path'], (e, data)) for e, data in saved)
        restored = [{'path': e['path'], 'content': _text(d), 'mode': e['mode']} for e, d in saved if d is not None]
        self.system = systems[params['renderer']](module, root, self.runner, params['model'], params['marker'], restored)
        # After the rollback the interfaces are those the saved files define, not the model's.
        self.system.names = set(n for f in restored for n in self.system.definitions(f['path'], f['content']))
        # Open vSwitch bridges the re-activation creates again get the MAC they had at the snapshot.
        self.system.keep_macs = self.snap.manifest.get('macs') or {}
        self.errors = []
        self.reasons = {}
        self.before = []
        self.after = []

    def _renames_back(self):
        """The NICs the apply renamed (``_apply/renames.py``), named back where they were renamed."""
        return renames.reverse(self.snap.manifest.get('renames'),
                               lambda name: self.root.exists('/sys/class/net/%s' % name))

    def plan(self):
        reasons = dict(self.system.affected(self.changes))
        for name in self.snap.manifest.get('interfaces', []):
            reasons.setdefault(name, 'changed' if name in self.system.names else 'removed')
        removed = set(n for n, why in reasons.items() if why == 'removed')
        back = self._renames_back()
        if reasons or self.changes or back:
            self.before, self.after = self.system.activation(reasons, removed, self.changes)
            self.after = renames.commands(self.runner.bin('ip'), back) + renames.without_renamed(self.after, back)
        self.reasons = reasons

    def _run(self, commands):
        for argv, what in commands:
            try:
                self.runner.run(argv, what)
            except ModuleFailure as exc:
                self.errors.append(exc.msg)

    def _write(self):
        written, removed = [], []
        for change in self.changes:
            real = self.root.real(change.path)
            entry, data = self.saved[change.path]
            try:
                if data is None:
                    if os.path.lexists(real):
                        os.unlink(real)
                    removed.append(change.path)
                    continue
                host_files.write_atomic(self.module, real, data, entry['mode'])
                if os.geteuid() == 0:
                    os.chown(real, entry['uid'], entry['gid'])
                written.append(change.path)
            except (IOError, OSError) as exc:
                self.errors.append('restoring %s failed: %s' % (change.path, exc))
        return written, removed

    def _profiles(self):
        """Switch the NetworkManager profiles the apply switched off on again, and bring them up."""
        commands = []
        for conflict in self.snap.manifest.get('conflicts', []):
            if conflict.get('action') != 'autoconnect_off':
                continue
            nmcli = self.runner.bin('nmcli')
            uuid = conflict['uuid']
            commands.append(([nmcli, 'connection', 'modify', 'uuid', uuid, 'connection.autoconnect', 'yes'],
                             'turning autoconnect of NetworkManager profile %s back on' % conflict['profile']))
            commands.append(([nmcli, 'connection', 'up', 'uuid', uuid],
                             'nmcli connection up %s (%s)' % (conflict['profile'], uuid)))
        self._run(commands)

    def _ovs(self):
        saved = self.snap.read_json('ovs.json')
        if not saved:
            return 0
        try:
            client = OvsVsctl(self.module, db=self.params.get('ovs_database'), timeout=self.params.get('ovs_timeout'))
            return len(ovs_restore.restore(client, saved))
        except OvsError as exc:
            self.errors.append('restoring the Open vSwitch database failed: %s' % exc.msg)
            return 0

    def execute(self):
        """Run the rollback; the report of what it did (``errors`` lists what failed)."""
        self.plan()
        self._run(self.before)
        written, removed = self._write()
        self._run(self.after)
        report = self._report(written, removed)
        self._services(report)
        if self.root.root_dir == '/':
            report['announced'] = announce.announce(self.runner, sorted(self.reasons, key=natural_key))
        return report

    def files_only(self):
        """At boot, before the network starts (``boot.py``): the files go back, and nothing is up to
        bring down or up: the network services start from the restored files."""
        written, removed = self._write()
        if written or removed:
            self._run(self.system.at_boot())
        # udev named the NICs from the unconfirmed files; they come up under their old names.
        self._run(renames.commands(self.runner.bin('ip'), self._renames_back()))
        return self._report(written, removed)

    def services(self, report):
        """At boot, once the network services run (``boot.py``): what needs them, added to ``report``."""
        earlier = list(report.get('errors') or [])
        self._services(report)
        report['errors'] = earlier + [e for e in report['errors'] if e not in earlier]
        return report

    def _services(self, report):
        self._profiles()
        report['ovs_operations'] = self._ovs()
        try:
            report['macs_restored'] = restore_macs(self.runner, self.root, self.snap.manifest.get('macs') or {})
        except ModuleFailure as exc:
            self.errors.append(exc.msg)
        report['commands'] = list(self.runner.ran)
        report['errors'] = self._errors()

    def _errors(self):
        return self.errors + ['%s was changed since this apply (by another apply or by hand): left as it is'
                              % path for path in self.left]

    def _report(self, written, removed):
        return {
            'files': {'restored': written, 'removed': removed},
            'interfaces': sorted(self.reasons, key=natural_key),
            'commands': list(self.runner.ran),
            'ovs_operations': 0,
            'macs_restored': [],
            'announced': [],
            'errors': self._errors(),
            'left': self.left,
        }
