# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""ifupdown's side of applying: stanzas for our interfaces in files we do not own (commented
out, backed up), the ``source`` line that makes ifupdown read our file, what a changed stanza
concerns, and activation (``ifdown --force`` with the old definition before the files change,
``ifup`` after, per interface, in dependency order).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import os
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import SysReader
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.files import FileChange
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.system import System
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.graph import ordered
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.macs import (
    create_bridge_command, create_fake_bridge_command, current_mac)

IFUPDOWN_MAIN = '/etc/network/interfaces'
IFUPDOWN_DIR = '/etc/network/interfaces.d'
# `source /etc/network/interfaces.d/*` reads every file there, backups included: backups of files
# in that directory go here instead.
IFUPDOWN_BACKUP_DIR = '/var/backups/cloudstack-kvm'


class IfupdownSystem(System):
    """ifupdown: ``ifdown --force`` with the old definition before the files change, ``ifup``
    after, per interface, in dependency order."""

    name = 'ifupdown'
    deletes_bridges = 'all'

    def rebuilds_dependents(self):
        # ifdown/ifup of a Linux NIC, bond or VLAN device takes it out of the bond, VLAN or bridge
        # built on it (ifup of a bond does not re-add it to its bridge). Open vSwitch ports come back.
        return self.model['backend'] == 'linux_bridge'

    def backup_dir(self, path):
        return IFUPDOWN_BACKUP_DIR if os.path.dirname(path) == IFUPDOWN_DIR else None

    # The drift of a bridge that ``ip`` repairs as ifup would have configured it.
    IN_PLACE = ('bridge.addresses', 'bridge.gateway4', 'bridge.gateway6')

    def repair_in_place(self, name, differences):
        """A bridge that lost an address or its default route gets them back with ``ip``: ifdown and
        ifup would delete and re-create it (a new MAC on Open vSwitch, guests' ports removed)."""
        if any(d['kind'] not in self.IN_PLACE for d in differences):
            return None
        ip = self.runner.bin('ip')
        commands = []
        for diff in differences:
            if diff['kind'] == 'bridge.addresses':
                commands.append(([ip, 'address', 'add', diff['expected'], 'dev', name],
                                 'putting address %s back on %s' % (diff['expected'], name)))
        for diff in differences:
            if diff['kind'] in ('bridge.gateway4', 'bridge.gateway6'):
                family = '-6' if diff['kind'] == 'bridge.gateway6' else '-4'
                commands.append(([ip, family, 'route', 'replace', 'default', 'via', diff['expected'], 'dev', name],
                                 'putting the default route via %s on %s back' % (diff['expected'], name)))
        return commands
    TOP = ('iface', 'auto', 'mapping', 'source', 'source-directory', 'rename', 'no-auto-down', 'no-scripts')

    @classmethod
    def blocks(cls, text):
        """Top-level blocks of an interfaces(5) file: [{'keyword', 'names', 'lines': [index]}].

        An ``iface`` block takes the option lines that follow it; ``auto``/``allow-*`` lines are
        one-line blocks naming interfaces. Comments and blank lines belong to no block.
        """
        out = []
        current = None
        for index, raw in enumerate((text or '').splitlines()):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            word = line.split()[0]
            if word in cls.TOP or word.startswith('allow-'):
                words = line.split()
                if word == 'iface':
                    names = words[1:2]
                elif word in ('auto', 'no-auto-down', 'no-scripts') or word.startswith('allow-'):
                    names = words[1:]
                elif word == 'mapping':
                    names = words[1:]
                else:
                    names = []
                current = {'keyword': word, 'names': names, 'lines': [index]}
                out.append(current)
                if word not in ('iface', 'mapping'):
                    current = None
            elif current is not None:
                current['lines'].append(index)
        return out

    def definitions(self, path, text):
        lines = (text or '').splitlines()
        defs = {}
        for block in self.blocks(text):
            for name in block['names']:
                if block['keyword'] in ('iface', 'mapping'):
                    body = '\n'.join(lines[i].strip() for i in block['lines'])
                else:
                    body = block['keyword']
                defs.setdefault(name, []).append(body)
        return dict((name, '\n'.join(sorted(parts))) for name, parts in defs.items())

    # The kind of a stanza, by the first option that tells it (in this order).
    KIND_OPTIONS = (
        ('ovs_bridge', re.compile(r'^\s*ovs_type\s+OVSBridge', re.M)),
        ('ovs_fake', re.compile(r'^\s*ovs_type\s+OVSIntPort', re.M)),
        ('ovs_port', re.compile(r'^\s*ovs_type\s+OVS', re.M)),
        ('bridge', re.compile(r'^\s*bridge[_-]ports\s', re.M)),
        ('bond', re.compile(r'^\s*(bond-slaves|bond_slaves|slaves)\s', re.M)),
        ('vlan', re.compile(r'^\s*vlan[_-]raw[_-]device\s', re.M)),
    )

    @classmethod
    def kind_of(cls, definition):
        text = definition or ''
        for kind, pattern in cls.KIND_OPTIONS:
            if pattern.search(text):
                return kind
        return 'ethernet'

    def _sources_our_file(self, text, our_path):
        for raw in (text or '').splitlines():
            words = raw.strip().split()
            if len(words) < 2 or words[0] not in ('source', 'source-directory'):
                continue
            target = words[1] if words[1].startswith('/') else os.path.join('/etc/network', words[1])
            if words[0] == 'source' and fnmatch.fnmatchcase(our_path, target):
                return True
            if words[0] == 'source-directory' and os.path.normpath(target) == os.path.dirname(our_path) \
                    and re.match(r'^[a-zA-Z0-9_-]+$', os.path.basename(our_path)):
                return True
        return False

    def comment_out(self, path, text, names):
        """``text`` with the stanzas and auto/allow entries of ``names`` commented out."""
        lines = text.splitlines()
        edit = {}
        for block in self.blocks(text):
            hit = [n for n in block['names'] if n in names]
            if not hit:
                continue
            if block['keyword'] in ('iface', 'mapping'):
                for i in block['lines']:
                    edit[i] = '# ' + lines[i]
            else:
                keep = [n for n in block['names'] if n not in names]
                i = block['lines'][0]
                edit[i] = '# ' + lines[i] + ('\n%s %s' % (block['keyword'], ' '.join(keep)) if keep else '')
            first = block['lines'][0]
            note = '# Disabled by %s: %s is configured in %s' % (self.marker, ', '.join(hit), self.our_path())
            edit[first] = note + '\n' + edit[first]
        out = [edit.get(i, line) for i, line in enumerate(lines)]
        return '\n'.join(out) + '\n'

    def our_path(self):
        paths = [f['path'] for f in self.files if f['path'].startswith(IFUPDOWN_DIR + '/')]
        return paths[0] if paths else IFUPDOWN_DIR + '/cloudstack-kvm'

    def conflicts(self, changes):
        ours = self.our_path()
        edits = []
        reports = []
        candidates = [IFUPDOWN_MAIN] + [IFUPDOWN_DIR + '/' + n for n in self.root.listdir(IFUPDOWN_DIR)]
        for path in candidates:
            if path == ours or path.endswith('~') or os.path.basename(path).startswith('.'):
                continue
            text = self.root.read(path)
            if text is None:
                continue
            hit = sorted(set(n for b in self.blocks(text) for n in b['names'] if n in self.names), key=natural_key)
            new = text
            if hit:
                new = self.comment_out(path, text, set(hit))
                reports.append({'file': path, 'interfaces': hit, 'action': 'commented_out'})
            if path == IFUPDOWN_MAIN and not self._sources_our_file(new, ours):
                new = new.rstrip('\n') + '\n\n# Added by %s: read the collection\'s interfaces file.\nsource %s\n' \
                    % (self.marker, ours)
                reports.append({'file': path, 'interfaces': [], 'action': 'source_added'})
            if new != text:
                edits.append(FileChange(path, text, new, None, self.root.mode(path), 'conflict', True,
                                        'configuration %s does not own' % self.marker))
        if self.root.read(IFUPDOWN_MAIN) is None:
            new = '# Written by %s.\nauto lo\niface lo inet loopback\n\nsource %s\n' % (self.marker, ours)
            edits.append(FileChange(IFUPDOWN_MAIN, None, new, '0644', None, 'conflict', False, 'created'))
            reports.append({'file': IFUPDOWN_MAIN, 'interfaces': [], 'action': 'source_added'})
        return edits, reports, []

    def affected(self, changes):
        out = super(IfupdownSystem, self).affected(changes)
        # Our file was not read by ifupdown (no source line): everything in it is new to ifupdown.
        main = [c for c in changes if c.path == IFUPDOWN_MAIN]
        if main and not self._sources_our_file(main[0].old, self.our_path()):
            for change in changes:
                if change.path == self.our_path() and change.new is not None:
                    for name in self.definitions(change.path, change.new):
                        out.setdefault(name, 'added')
        return out

    DOWN_OPTIONS = ('--force',)

    def activation(self, reasons, removed, changes):
        """ifdown (old definition) what existed before, reverse dependency order; ifup what is
        defined now, in dependency order (Linux: NICs, bonds, VLANs, bridges; Open vSwitch:
        bridges, fake bridges, ports). An Open vSwitch bridge or fake bridge that ifdown deletes is
        created again with the MAC it had just before the ifup that would create it (``macs``)."""
        kinds = self.all_kinds(changes)
        ifdown = self.runner.bin('ifdown')
        ifup = self.runner.bin('ifup')
        down = [n for n, why in reasons.items() if why != 'added']
        up = [n for n in reasons if n not in removed]
        # ifupdown's state can say an interface is up whose device is gone (deleted behind its
        # back: ovs-vsctl del-br, ip link del); a plain ifup would then do nothing.
        stale = set(self.stale_up([n for n in up if n not in down]))
        before = [([ifdown] + list(self.DOWN_OPTIONS) + [n], 'ifdown %s' % n) for n in ordered(down, kinds, True)]
        creates = self._ovs_creates(up, down, kinds)
        after = []
        for name in ordered(up, kinds):
            after.extend(creates.pop(name, []))
            after.append(([ifup, '--force', name] if name in stale else [ifup, name], 'ifup %s' % name))
        return before, after

    def stale_up(self, names):
        """Those of ``names`` ifupdown's state lists as up although no such device exists."""
        sysr = SysReader(self.root.root_dir)
        claimed = sysr.ifupdown_up()
        return [n for n in names if n in claimed and not sysr.exists('/sys/class/net', n)]

    def _new_definitions(self):
        defs = {}
        for item in self.files:
            if item.get('content') is not None:
                defs.update(self.definitions(item['path'], item['content']))
        return defs

    def _ovs_creates(self, up, down, kinds):
        """{interface whose ifup comes first: [commands creating the Open vSwitch bridges that
        ifdown deletes, with their MAC]}. ifdown deletes a bridge (del-br) with its fake bridges,
        but not a fake bridge on its own (its del-port does not see one): a fake bridge is created
        again only with its parent, before the parent's ifup, which brings it up (ovs_ports)."""
        recreated = [n for n in ordered(up, kinds) if n in down and kinds.get(n) == 'ovs_bridge']
        if not recreated:
            return {}
        defs = self._new_definitions()
        vsctl = self.runner.bin('ovs-vsctl')
        fakes = {}     # {parent: [(fake bridge, its ovs_options words)]}
        for name in ordered([n for n in up if n in down and kinds.get(n) == 'ovs_fake'], kinds):
            parent = re.search(r'^ovs_bridge\s+(\S+)$', defs.get(name, ''), re.M)
            options = re.search(r'^ovs_options\s+(.*)$', defs.get(name, ''), re.M)
            if parent:
                fakes.setdefault(parent.group(1), []).append((name, options.group(1).split() if options else []))
        creates = {}
        for bridge in recreated:
            mac = self._mac_to_keep(bridge)
            if mac is None:
                continue
            datapath = re.search(r'\bdatapath_type=(\S+)', defs.get(bridge, ''))
            commands = [create_bridge_command(vsctl, bridge, mac, datapath.group(1) if datapath else None)]
            for name, options in fakes.get(bridge, []):
                mac = self._mac_to_keep(name)
                if mac:
                    commands.append(create_fake_bridge_command(vsctl, name, mac, bridge, options))
            creates[bridge] = commands
        return creates

    def _mac_to_keep(self, name):
        return (self.keep_macs or {}).get(name) or current_mac(self.root, name)
