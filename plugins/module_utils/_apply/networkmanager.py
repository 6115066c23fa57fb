# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""NetworkManager's side of applying: other profiles bound to our interfaces (autoconnect off,
never deleted), what a changed keyfile concerns, and activation (``nmcli connection load`` for
changed keyfiles, ``reload`` when one was removed, then ``nmcli connection up`` for the changed
profiles, controllers first, and the ports of a re-activated controller after it).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import configparser

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.system import System
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.owners import split_terse


class NetworkManagerSystem(System):
    """NetworkManager: ``nmcli connection load`` for changed keyfiles, ``reload`` when one was
    removed, then ``nmcli connection up`` for the changed profiles, controllers first, and the
    ports of a re-activated controller after it."""

    adopts_live = False

    name = 'networkmanager'
    # Profiles that own a kernel device; OVS bridge and port profiles come up with them.
    DEVICE_TYPES = ('ethernet', '802-3-ethernet', 'bond', 'bridge', 'vlan', 'ovs-interface')

    @staticmethod
    def parse_keyfile(text):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text or '')
        except configparser.Error:
            return None
        if not parser.has_section('connection'):
            return None
        conn = dict(parser.items('connection'))
        return {'id': conn.get('id'), 'uuid': conn.get('uuid'), 'type': conn.get('type'),
                'interface': conn.get('interface-name'),
                'master': conn.get('master') or conn.get('controller')}

    def profiles(self, texts):
        out = {}
        for text in texts:
            prof = self.parse_keyfile(text)
            if prof and prof['uuid']:
                out[prof['uuid']] = prof
        return out

    def wanted_profiles(self):
        return self.profiles(f['content'] for f in self.files if f['path'].endswith('.nmconnection'))

    def definitions(self, path, text):
        prof = self.parse_keyfile(text)
        if not prof or not prof['interface']:
            return {}
        return {prof['interface']: text}

    TYPE_KINDS = {'bridge': 'bridge', 'bond': 'bond', 'vlan': 'vlan', 'ovs-bridge': 'ovs_bridge',
                  'ovs-port': 'ovs_port', 'ovs-interface': 'ovs_port'}

    def kind_of(self, definition):
        prof = self.parse_keyfile(definition) or {}
        return self.TYPE_KINDS.get(prof.get('type'), 'ethernet')

    def _depth(self, uuid, profiles):
        depth = 0
        seen = set()
        while profiles.get(uuid, {}).get('master') in profiles and uuid not in seen:
            seen.add(uuid)
            uuid = profiles[uuid]['master']
            depth += 1
        return depth

    def affected_profiles(self, changes, names):
        """UUIDs of our profiles to bring up: changed ones, those of ``names``, and everything
        below them (ports of a re-activated controller)."""
        wanted = self.wanted_profiles()
        picked = set()
        for change in changes:
            if change.new is not None and change.path.endswith('.nmconnection') and change.old != change.new:
                prof = self.parse_keyfile(change.new)
                if prof and prof['uuid']:
                    picked.add(prof['uuid'])
        for uuid, prof in wanted.items():
            if prof['interface'] in names and prof['type'] in self.DEVICE_TYPES:
                picked.add(uuid)
        grew = True
        while grew:
            grew = False
            for uuid, prof in wanted.items():
                if uuid not in picked and prof['master'] in picked:
                    picked.add(uuid)
                    grew = True
        ups = [u for u in picked if wanted[u]['type'] in self.DEVICE_TYPES]
        return sorted(ups, key=lambda u: (self._depth(u, wanted), natural_key(wanted[u]['interface'] or '')))

    def conflicts(self, changes):
        """Other profiles bound to our interfaces (e.g. "Wired connection 1"): autoconnect off."""
        nmcli = self.runner.bin('nmcli')
        ours = set(self.wanted_profiles())
        rc, out, err = self.runner.read([nmcli, '--terse', '--fields', 'NAME,UUID,TYPE,DEVICE,FILENAME',
                                         'connection', 'show'])
        if rc != 0:
            self.warnings.append('nmcli connection show failed (%s): other NetworkManager profiles for the '
                                 'managed interfaces were not checked' % (err or out).strip())
            return [], [], []
        reports = []
        commands = []
        for line in out.splitlines():
            fields = split_terse(line)
            if len(fields) < 5 or not fields[1] or fields[1] in ours or fields[2] == 'loopback':
                continue
            name, uuid, dummy, device, filename = fields[:5]
            rc, detail, err = self.runner.read([nmcli, '--terse', '--fields',
                                                'connection.interface-name,connection.autoconnect',
                                                'connection', 'show', 'uuid', uuid])
            if rc != 0:
                # Unread is not "autoconnect yes": a profile is switched off only on what nmcli said.
                self.warnings.append(
                    'nmcli could not read NetworkManager profile %s (%s) on %s (%s): it was left as it is. Fix: if '
                    'it configures an interface kvm_network manages, run nmcli connection modify uuid %s '
                    'connection.autoconnect no' % (name, uuid, device or 'no device', (err or detail).strip(), uuid))
                continue
            props = {}
            for row in detail.splitlines():
                key, sep, value = row.partition(':')
                if sep:
                    props[key.strip()] = value.strip()
            bound = props.get('connection.interface-name') or device
            if bound not in self.names or props.get('connection.autoconnect', 'yes') in ('no', 'false'):
                continue
            reports.append({'profile': name, 'uuid': uuid, 'interfaces': [bound], 'file': filename or None,
                            'action': 'autoconnect_off'})
            commands.append(([nmcli, 'connection', 'modify', 'uuid', uuid, 'connection.autoconnect', 'no'],
                             'turning off autoconnect of NetworkManager profile %s (%s) on %s' % (name, uuid, bound)))
        return [], reports, commands

    def activation(self, reasons, removed, changes):
        names = set(reasons) - set(removed)
        nmcli = self.runner.bin('nmcli')
        after = []
        loads = [self.root.real(c.path) for c in changes
                 if c.new is not None and c.path.endswith('.nmconnection') and c.action != 'chmod']
        if loads:
            after.append(([nmcli, 'connection', 'load'] + loads, 'nmcli connection load'))
        if any(c.new is None and c.path.endswith('.nmconnection') for c in changes):
            after.append(([nmcli, 'connection', 'reload'], 'nmcli connection reload'))
        wanted = self.wanted_profiles()
        for uuid in self.affected_profiles(changes, names):
            after.append(([nmcli, 'connection', 'up', 'uuid', uuid],
                          'nmcli connection up %s (%s)' % (wanted[uuid]['id'], wanted[uuid]['interface'])))
        return [], after
