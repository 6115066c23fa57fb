# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Apply a rendered kvm_network to a host: files, conflicting configuration, activation, drift.

The module kvm_network_apply is this file plus the Open vSwitch reconcile (_ovs_reconcile). The
work is split in phases so that each can be checked, reported and later wrapped (commit-confirm):

1. ``plan_files``: the rendered files against the host's, and stale files the collection owns
   (matching an owned glob *and* carrying the marker line). Nothing is written.
2. A ``Backend`` per renderer (netplan, ifupdown, networkmanager, ifcfg) finds configuration
   the collection does not own that would fight its own (other stanzas, profiles, netplan
   files), and turns the file changes into the interfaces they concern.
3. ``detect_drift``: for the Linux bridge backend, the live state (``ip -j``, /sys) against the
   model with the comparison verify uses (_verify.compare); an interface that differs although
   its files did not change is re-activated.
4. The activation plan: commands to run before the files change (``ifdown --force`` with the old
   definition) and after (``netplan generate``/``apply``, ``ifup``, ``nmcli connection load``/
   ``up``), only for what changed, in dependency order. Never a restart of a whole service.
5. ``Applier.execute``: the commands and writes, atomically, each replaced file backed up.

Check mode runs phases 1-4 (reads, and read-only commands such as ``ip -j`` or ``nmcli
connection show``) and reports what phase 5 would do.

Every path is a path on the host, below ``root_dir`` (``/`` on a real host; a scratch tree in
tests and staging).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import configparser
import fnmatch
import glob
import json
import os
import re
import shutil
import time

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - netplan hosts always have PyYAML (netplan needs it)
    HAS_YAML = False

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import _linux_net, _verify
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._netplan import write_atomic

C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}
SBIN_DIRS = ['/sbin', '/usr/sbin', '/usr/local/sbin']

# Renderers' fixed paths (the render result names the files; these are the places around them).
NETPLAN_DIRS = ('/lib/netplan', '/etc/netplan', '/run/netplan')
IFUPDOWN_MAIN = '/etc/network/interfaces'
IFUPDOWN_DIR = '/etc/network/interfaces.d'
# `source /etc/network/interfaces.d/*` reads every file there, backups included: backups of files
# in that directory go here instead.
IFUPDOWN_BACKUP_DIR = '/var/backups/cloudstack-kvm'
IFCFG_DIR = '/etc/sysconfig/network-scripts'
IFCFG_NETWORK = '/etc/sysconfig/network'
LINK_SUFFIX = '.link'

# Interface kinds and the order they come up in (down: the reverse).
LEVELS = {'ethernet': 0, 'bond': 1, 'vlan': 2, 'bridge': 3,
          'ovs_bridge': 0, 'ovs_fake': 1, 'ovs_port': 2}

# Drift the renderer's tool repairs by re-activating the interface (what is missing or set
# differently). Anything else (a NIC that is absent, an extra address or port added by hand, a
# DHCP lease not obtained) is reported as a warning: re-activating would not change it and a
# rerun would never converge.
REPAIRABLE_DRIFT = (
    'bridge.present', 'bridge.port', 'bridge.addresses', 'bridge.gateway4', 'bridge.gateway6', 'bridge.mtu',
    'bridge.stp', 'bridge.forward_delay',
    'bond.present', 'bond.interfaces', 'bond.mode', 'bond.miimon', 'bond.updelay', 'bond.downdelay',
    'bond.primary', 'bond.lacp_rate', 'bond.xmit_hash_policy', 'bond.mtu',
    'vlan.present', 'vlan.id', 'vlan.link',
    'ethernet.mtu',
)
# With Open vSwitch the database reconcile repairs bridges, bonds and ports in place; what only
# re-activation brings back is a bridge's IP configuration (and a bridge that is gone).
REPAIRABLE_DRIFT_OVS = ('bridge.present', 'bridge.addresses', 'bridge.gateway4', 'bridge.gateway6')


class ApplyError(Exception):
    """A problem the module reports with fail_json: ``msg`` plus extra result keys."""

    def __init__(self, msg, **kwargs):
        super(ApplyError, self).__init__(msg)
        self.msg = msg
        self.kwargs = kwargs


# --- the host's files -----------------------------------------------------------------------------

class Root(object):
    """Files of the host below ``root_dir``; every path given and returned is a host path."""

    def __init__(self, root_dir='/'):
        self.root_dir = root_dir or '/'

    def real(self, path):
        return os.path.join(self.root_dir, path.lstrip('/'))

    def host(self, real_path):
        rel = os.path.relpath(real_path, self.root_dir)
        return '/' + rel if rel != '.' else '/'

    def read(self, path):
        """The file's text, or None when it does not exist."""
        try:
            with open(self.real(path), 'rb') as fh:
                return fh.read().decode('utf-8', 'replace')
        except (IOError, OSError):
            return None

    def mode(self, path):
        try:
            return os.stat(self.real(path)).st_mode & 0o7777
        except OSError:
            return None

    def glob(self, pattern):
        return sorted(self.host(p) for p in glob.glob(self.real(pattern)) if os.path.isfile(p))

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.real(path)))
        except OSError:
            return []


def has_marker(text, marker):
    """Whether a file carries the collection's marker as a comment line."""
    for line in (text or '').splitlines():
        stripped = line.strip()
        if stripped.startswith(('#', ';')) and marker in stripped:
            return True
    return False


class FileChange(object):
    """One file to write, chmod or remove.

    ``reason``: ``render`` (a rendered file), ``stale`` (an owned file the model no longer has),
    ``conflict`` (configuration we do not own, edited so it no longer fights ours).
    """

    def __init__(self, path, old, new, mode=None, old_mode=None, reason='render', foreign=False, note=None):
        self.path = path
        self.old = old
        self.new = new
        self.mode = mode
        self.old_mode = old_mode
        self.reason = reason
        self.foreign = foreign
        self.note = note

    @property
    def action(self):
        if self.new is None:
            return 'remove'
        if self.old == self.new:
            return 'chmod'
        return 'create' if self.old is None else 'write'

    def diff(self):
        before_header = self.path
        after_header = self.path
        if self.action == 'chmod' or (self.mode and self.old_mode is not None and int(self.mode, 8) != self.old_mode):
            before_header += ' (mode %04o)' % self.old_mode
            after_header += ' (mode %s)' % self.mode
        if self.new is None:
            after_header += ' (removed)'
        if self.note:
            after_header += ' (%s)' % self.note
        return {'before_header': before_header, 'after_header': after_header,
                'before': self.old or '', 'after': self.new or ''}


def _scan_globs(renderer, owned):
    """Where stale files may be: the owned globs, and for ifcfg every ifcfg/route file (device
    files are named after devices, so those of removed devices match no owned glob)."""
    globs = list(owned or [])
    if renderer == 'ifcfg':
        globs += [IFCFG_DIR + '/ifcfg-*', IFCFG_DIR + '/route-*', IFCFG_DIR + '/route6-*']
    return globs


def plan_files(root, files, owned, marker, renderer, prune=True):
    """The rendered files against the host: (changes, replaced_foreign paths)."""
    changes = []
    foreign = []
    wanted = set()
    for item in files:
        path = item['path']
        wanted.add(path)
        mode = item.get('mode') or '0644'
        old = root.read(path)
        old_mode = root.mode(path)
        if old == item['content'] and old_mode == int(mode, 8):
            continue
        is_foreign = old is not None and not has_marker(old, marker)
        if is_foreign:
            foreign.append(path)
        changes.append(FileChange(path, old, item['content'], mode, old_mode, 'render', is_foreign,
                                  'replaces a file %s did not write' % marker if is_foreign else None))
    if prune:
        seen = set()
        for pattern in _scan_globs(renderer, owned):
            for path in root.glob(pattern):
                if path in wanted or path in seen or path.endswith('~'):
                    continue
                seen.add(path)
                text = root.read(path)
                # Only files in our places AND marked as ours: never the installer's.
                if has_marker(text, marker):
                    changes.append(FileChange(path, text, None, None, root.mode(path), 'stale'))
    return sorted(changes, key=lambda c: c.path), foreign


# --- the model: kinds, order, what sits on what --------------------------------------------------

def model_kinds(model):
    """{interface name: kind} of every interface the model defines."""
    kinds = {}
    ovs = model['backend'] == 'openvswitch'
    for name in model['ethernets']:
        kinds[name] = 'ovs_port' if ovs else 'ethernet'
    for name in model['bonds']:
        kinds[name] = 'ovs_port' if ovs else 'bond'
    for name in model.get('vlans') or {}:
        kinds[name] = 'vlan'
    for name, br in model['bridges'].items():
        if ovs:
            kinds[name] = 'ovs_fake' if br['parent'] else 'ovs_bridge'
        else:
            kinds[name] = 'bridge'
    return kinds


def model_parents(model):
    """{interface: set of interfaces built on it} for Linux: a bond's bridge and VLANs, a VLAN's
    bridge, a NIC's bond or bridge. Re-creating an interface takes it out of what sits on it."""
    parents = {}
    if model['backend'] == 'openvswitch':
        return parents
    for name, eth in model['ethernets'].items():
        for above in (eth['bond'], eth['bridge']):
            if above:
                parents.setdefault(name, set()).add(above)
    for name, vlan in (model.get('vlans') or {}).items():
        parents.setdefault(vlan['link'], set()).add(name)
        if vlan['bridge']:
            parents.setdefault(name, set()).add(vlan['bridge'])
    for name, br in model['bridges'].items():
        if br['port']:
            parents.setdefault(br['port'], set()).add(name)
    return parents


def upward_closure(names, parents):
    out = set(names)
    todo = list(names)
    while todo:
        for above in parents.get(todo.pop(), ()):
            if above not in out:
                out.add(above)
                todo.append(above)
    return out


def model_names(model):
    return set(model['ethernets']) | set(model['bonds']) | set(model.get('vlans') or {}) | set(model['bridges'])


def _ordered(names, kinds, reverse=False):
    return sorted(names, key=lambda n: (LEVELS.get(kinds.get(n), 0), natural_key(n)), reverse=reverse)


# --- commands -------------------------------------------------------------------------------------

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
            raise ApplyError('%s was not found on the host. Fix: install it (it comes with the system\'s network '
                             'configuration tool) or pick the renderer the host uses (kvm_network_renderer).' % name)
        return self._bins[name]

    def read(self, argv):
        """A read-only command: runs in check mode too; returns (rc, out, err)."""
        return self.module.run_command(argv, environ_update=C_LOCALE)

    def run(self, argv, what):
        """A command that changes the host: fails with ``what`` and the tool's message."""
        self.ran.append(list(argv))
        rc, out, err = self.module.run_command(argv, environ_update=C_LOCALE)
        if rc != 0:
            raise ApplyError('%s failed (rc=%d): %s' % (what, rc, (err or out or 'no message').strip()),
                             cmd=list(argv), rc=rc, stdout=out, stderr=err, commands=self.ran)
        return out


# --- renderers ------------------------------------------------------------------------------------

class Backend(object):
    """What a renderer's system needs besides the files: conflicts, activation, drift repair.

    ``affected(changes)`` -> {interface: 'reason'}; ``activation(names, removed)`` ->
    (commands before the files change, commands after), each command a (argv, what) pair.
    """

    name = None
    # Which bridges activation deletes (and with them the ports guests have on them): 'all' that
    # it re-activates (ifdown deletes a bridge), or only the 'removed' ones.
    deletes_bridges = 'removed'

    def __init__(self, module, root, runner, model, marker, files):
        self.module = module
        self.root = root
        self.runner = runner
        self.model = model
        self.marker = marker
        self.files = files
        self.kinds = model_kinds(model)
        self.names = model_names(model)
        self.warnings = []

    def conflicts(self, changes):
        """(extra FileChanges for configuration we do not own, conflict reports, commands)."""
        return [], [], []

    def definitions(self, path, text):
        """{interface: comparable definition} of one file's text."""
        return {}

    def affected(self, changes):
        """{interface: added|changed|removed} for the interfaces whose definitions the changes
        touch, compared over all changed files (a definition may move from one file to another)."""
        old = {}
        new = {}
        for change in changes:
            if change.path.endswith(LINK_SUFFIX):
                if change.action in ('create', 'write', 'remove'):
                    self.warnings.append('%s changed: systemd .link files name NICs when udev sees them, so this '
                                         'takes effect at the next boot' % change.path)
                continue
            for text, defs in ((change.old, old), (change.new, new)):
                if text is not None:
                    for name, body in self.definitions(change.path, text).items():
                        defs.setdefault(name, []).append((change.path, body))
        out = {}
        for name in set(old) | set(new):
            if sorted(old.get(name, [])) == sorted(new.get(name, [])):
                continue
            if name not in self.names:
                out[name] = 'removed'
            else:
                out[name] = 'added' if name not in old else 'changed'
        return out

    def all_kinds(self, changes):
        """Kinds of the model's interfaces and, for interfaces it no longer has, of their old definitions."""
        kinds = {}
        for change in changes:
            if change.old is None or change.path.endswith(LINK_SUFFIX):
                continue
            for name, definition in self.definitions(change.path, change.old).items():
                kinds.setdefault(name, self.kind_of(definition))
        kinds.update(self.kinds)
        return kinds

    @staticmethod
    def kind_of(definition):
        """The kind of an interface from its old definition (for interfaces the model no longer has)."""
        return 'ethernet'

    def activation(self, reasons, removed, changes):
        """(commands before the files change, commands after) for ``reasons`` {interface:
        added|changed|removed|depends|drift}; ``removed`` go down and stay down."""
        return [], []


class NetplanBackend(Backend):
    """netplan: ``netplan generate`` then ``netplan apply`` when a netplan file changed.

    netplan hands the configuration to systemd-networkd, which reconfigures what changed; links
    whose configuration is unchanged are not taken down (netplan apply only recreates a virtual
    device whose kind changed, and removes the ones no longer defined).
    """

    name = 'netplan'

    def definitions(self, path, text):
        if not HAS_YAML:
            return dict((n, text) for n in self.names)
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return dict((n, text) for n in self.names)
        network = data.get('network') if isinstance(data, dict) else None
        out = {}
        for section, entries in (network or {}).items():
            if isinstance(entries, dict):
                for name, entry in entries.items():
                    out[str(name)] = json.dumps([section, entry], sort_keys=True, default=str)
        return out

    def own_paths(self):
        return set(f['path'] for f in self.files)

    def conflicts(self, changes):
        """Other netplan files that configure our interfaces: netplan merges all files."""
        if not HAS_YAML:
            return [], [], []
        ours = self.own_paths()
        our_file = sorted(ours)[0] if ours else '/etc/netplan/60-cloudstack-kvm.yaml'
        our_ids = self.names    # the netplan ids of our file are the model's names
        by_name = {}
        for directory in NETPLAN_DIRS:
            for path in self.root.glob(directory + '/*.yaml'):
                by_name[os.path.basename(path)] = path    # /run over /etc over /lib, as netplan
        reports = []
        for base in sorted(by_name):
            path = by_name[base]
            if path in ours:
                continue
            text = self.root.read(path)
            if has_marker(text, self.marker):
                continue    # a stale file of ours: pruned, not a conflict
            try:
                data = yaml.safe_load(text or '') or {}
            except yaml.YAMLError as exc:
                self.warnings.append('%s is not valid YAML (%s): netplan generate will fail until it is fixed'
                                     % (path, exc))
                continue
            network = data.get('network') if isinstance(data, dict) else None
            for section, entries in sorted((network or {}).items()):
                if not isinstance(entries, dict):
                    continue
                for netplan_id, entry in sorted(entries.items()):
                    entry = entry if isinstance(entry, dict) else {}
                    device = entry.get('set-name') or netplan_id
                    if device not in self.names:
                        continue
                    later = base > os.path.basename(our_file)
                    dhcp = [k for k in ('dhcp4', 'dhcp6') if entry.get(k) in (True, 'true', 'yes', 'on')]
                    # netplan keeps DHCP from another definition of the device (another id), or
                    # from a file read after ours (the later file wins on a key).
                    keeps_dhcp = bool(dhcp) and (netplan_id not in our_ids or later)
                    reports.append({'file': path, 'interface': device, 'netplan_id': netplan_id,
                                    'section': section, 'dhcp': keeps_dhcp, 'action': 'reported'})
                    if keeps_dhcp:
                        self.warnings.append(
                            '%s sets %s on %s, which kvm_network manages: netplan merges its files and keeps '
                            'that DHCP client running. Fix: remove %s from %s (or the file).'
                            % (path, ' and '.join(dhcp), device, netplan_id, path))
                    else:
                        self.warnings.append(
                            '%s also configures %s (%s %s): netplan merges it with %s, whose settings win '
                            'where both set a key; remove it from %s to avoid surprises.'
                            % (path, device, section, netplan_id, our_file, path))
        return [], reports, []

    SECTION_KINDS = {'bridges': 'bridge', 'bonds': 'bond', 'vlans': 'vlan'}

    def kind_of(self, definition):
        section, entry = json.loads(definition)
        if isinstance(entry, dict) and 'openvswitch' in entry:
            return 'ovs_bridge' if section == 'bridges' else 'ovs_port'
        return self.SECTION_KINDS.get(section, 'ethernet')

    def activation(self, reasons, removed, changes):
        """netplan generate (a failure puts the old files back), netplan apply, and the deletion of
        the Linux bridges, bonds and VLAN devices the configuration no longer has: netplan apply
        leaves them (only ``netplan apply --state``, as netplan try uses it, deletes them; Open
        vSwitch objects netplan made are removed by its own OVS cleanup)."""
        edited = [c for c in changes if c.path.endswith('.yaml') and c.action != 'chmod']
        if not reasons and not edited:
            return [], []
        netplan = self.runner.bin('netplan')
        after = [([netplan, 'generate'], 'netplan generate'), ([netplan, 'apply'], 'netplan apply')]
        kinds = self.all_kinds(changes)
        gone = [n for n in removed if kinds.get(n) in ('bridge', 'bond', 'vlan')
                and os.path.exists(self.root.real('/sys/class/net/%s' % n))]
        if gone:
            ip = self.runner.bin('ip')
            for name in _ordered(gone, kinds, True):
                after.append(([ip, 'link', 'delete', 'dev', name],
                              'deleting %s, which the netplan configuration no longer has' % name))
        return [], after


class IfupdownBackend(Backend):
    """ifupdown: ``ifdown --force`` with the old definition before the files change, ``ifup``
    after, per interface, in dependency order."""

    name = 'ifupdown'
    deletes_bridges = 'all'
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

    @staticmethod
    def kind_of(definition):
        text = definition or ''
        if re.search(r'^\s*ovs_type\s+OVSBridge', text, re.M):
            return 'ovs_bridge'
        if re.search(r'^\s*ovs_type\s+OVSIntPort', text, re.M):
            return 'ovs_fake'
        if re.search(r'^\s*ovs_type\s+OVS', text, re.M):
            return 'ovs_port'
        if re.search(r'^\s*bridge[_-]ports\s', text, re.M):
            return 'bridge'
        if re.search(r'^\s*(bond-slaves|bond_slaves|slaves)\s', text, re.M):
            return 'bond'
        if re.search(r'^\s*vlan[_-]raw[_-]device\s', text, re.M):
            return 'vlan'
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
        out = super(IfupdownBackend, self).affected(changes)
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
        bridges, fake bridges, ports)."""
        kinds = self.all_kinds(changes)
        ifdown = self.runner.bin('ifdown')
        ifup = self.runner.bin('ifup')
        down = [n for n, why in reasons.items() if why != 'added']
        up = [n for n in reasons if n not in removed]
        before = [([ifdown] + list(self.DOWN_OPTIONS) + [n], 'ifdown %s' % n) for n in _ordered(down, kinds, True)]
        after = [([ifup, n], 'ifup %s' % n) for n in _ordered(up, kinds)]
        return before, after


class IfcfgBackend(IfupdownBackend):
    """EL7 network-scripts: ``ifdown`` with the old file, ``ifup`` with the new one, per device."""

    name = 'ifcfg'
    DOWN_OPTIONS = ()    # initscripts' ifdown has no --force

    def definitions(self, path, text):
        base = os.path.basename(path)
        if path == IFCFG_NETWORK:
            # GATEWAY= and the IPv6 switches: the bridges that carry a default route.
            return dict((n, text) for n, br in self.model['bridges'].items() if br['gateway4'] or br['gateway6'])
        for prefix in ('ifcfg-', 'route6-', 'route-'):
            if base.startswith(prefix):
                if prefix == 'ifcfg-':
                    device = _linux_net.parse_keyvalue_state(text).get('DEVICE') or base[len(prefix):]
                else:
                    device = base[len(prefix):]
                return {device: text}
        return {}

    @staticmethod
    def kind_of(definition):
        data = _linux_net.parse_keyvalue_state(definition or '')
        kind = data.get('TYPE', '')
        if kind == 'OVSBridge':
            return 'ovs_fake' if len(data.get('OVS_OPTIONS', '').split()) == 2 else 'ovs_bridge'
        if kind in ('OVSBond', 'OVSPort', 'OVSIntPort'):
            return 'ovs_port'
        if kind == 'Bridge':
            return 'bridge'
        if kind == 'Bond' or data.get('BONDING_MASTER') == 'yes':
            return 'bond'
        if data.get('VLAN') == 'yes':
            return 'vlan'
        return 'ethernet'

    def conflicts(self, changes):
        """Other ifcfg files for our devices (another file name, same DEVICE): reported."""
        ours = set(f['path'] for f in self.files)
        reports = []
        for path in self.root.glob(IFCFG_DIR + '/ifcfg-*'):
            if path in ours or path.endswith('~') or has_marker(self.root.read(path), self.marker):
                continue
            device = _linux_net.parse_keyvalue_state(self.root.read(path)).get('DEVICE')
            if device in self.names:
                reports.append({'file': path, 'interfaces': [device], 'action': 'reported'})
                self.warnings.append('%s also configures %s, which kvm_network manages in %s/ifcfg-%s: '
                                     'initscripts would bring it up twice. Fix: remove %s.'
                                     % (path, device, IFCFG_DIR, device, path))
        return [], reports, []

    def affected(self, changes):
        return Backend.affected(self, changes)


class NetworkManagerBackend(Backend):
    """NetworkManager: ``nmcli connection load`` for changed keyfiles, ``reload`` when one was
    removed, then ``nmcli connection up`` for the changed profiles, controllers first, and the
    ports of a re-activated controller after it."""

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
            fields = _linux_net.split_terse(line)
            if len(fields) < 5 or not fields[1] or fields[1] in ours or fields[2] == 'loopback':
                continue
            name, uuid, dummy, device, filename = fields[:5]
            rc, detail, err = self.runner.read([nmcli, '--terse', '--fields',
                                                'connection.interface-name,connection.autoconnect',
                                                'connection', 'show', 'uuid', uuid])
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


BACKENDS = {
    'netplan': NetplanBackend,
    'ifupdown': IfupdownBackend,
    'networkmanager': NetworkManagerBackend,
    'ifcfg': IfcfgBackend,
}


# --- live drift (Linux bridge) ----------------------------------------------------------------------

def read_live(module, root, ovs_client=None):
    """The realised network in host_network_facts' shape (links, addresses, default routes, Linux
    bridges, bonds, VLANs, Open vSwitch when a client is given, and the model view)."""
    sysr = _linux_net.SysReader(root.root_dir)
    ip = _linux_net.IpTool(module)
    links = _linux_net.parse_links(ip.links())
    addresses = _linux_net.parse_addresses(ip.addresses())
    routes = _linux_net.parse_default_routes(ip.default_routes(4), ip.default_routes(6))
    sections = {
        'links': links, 'addresses': addresses, 'routes': routes,
        'linux_bridges': _linux_net.linux_bridges(links, sysr),
        'bonds': _linux_net.linux_bonds(links, sysr.proc_bonding()),
        'vlans': _linux_net.linux_vlans(links, sysr.proc_vlans()),
        'ovs': {},
    }
    if ovs_client is not None:
        tables = ovs_client.query(_linux_net.ovs_fact_queries())
        sections['ovs'] = _linux_net.parse_ovs(dict(zip(('Open_vSwitch', 'Bridge', 'Port', 'Interface'), tables)))
    facts = dict(sections)
    facts['model'] = _linux_net.build_model(sections)
    return facts


def detect_drift(model, facts):
    """(repairable {interface: [message]}, reported [message]) from _verify.compare.

    With Open vSwitch, only what re-activation repairs is looked at (a bridge's addresses and
    default route, a bridge that is gone); the rest is the database reconcile's, which follows.
    """
    ovs = model['backend'] == 'openvswitch'
    repairable = REPAIRABLE_DRIFT_OVS if ovs else REPAIRABLE_DRIFT
    repair = {}
    report = []
    for diff in _verify.compare(model, facts):
        name = diff['object'].split(' ', 1)[1]
        if diff['kind'] in repairable and diff['expected'] not in (None, False):
            repair.setdefault(name, []).append(diff['message'])
        elif not ovs or diff['kind'] in repairable:
            report.append(diff['message'])
    return repair, report


# --- the whole apply ----------------------------------------------------------------------------------

class Applier(object):
    """Plans and (unless check mode) applies one rendered kvm_network on the host."""

    def __init__(self, module, params, ovs_client=None):
        self.module = module
        self.params = params
        self.ovs_client = ovs_client
        self._ovs_snapshot = None
        self.reasons = {}
        self.model = params['model']
        self.root = Root(params['root_dir'])
        self.runner = Runner(module)
        self.backend = BACKENDS[params['renderer']](module, self.root, self.runner, self.model, params['marker'],
                                                    params['files'])
        self.changes = []
        self.replaced_foreign = []
        self.conflict_reports = []
        self.conflict_commands = []
        self.affected = {}
        self.drift = []
        self.drift_reported = []
        self.deferred = []
        self.before = []
        self.after = []

    # -- planning ------------------------------------------------------------------------------
    def plan(self):
        p = self.params
        changes, self.replaced_foreign = plan_files(self.root, p['files'], p['owned'], p['marker'], p['renderer'],
                                                    p['prune'])
        edits, self.conflict_reports, self.conflict_commands = self.backend.conflicts(changes)
        self.changes = sorted(changes + edits, key=lambda c: c.path)
        self.affected = self.backend.affected(self.changes)
        if p['activate'] and p['drift']:
            live = read_live(self.module, self.root, self.ovs_client)
            repair, self.drift_reported = detect_drift(self.model, live)
            for name in sorted(repair, key=natural_key):
                if name not in self.affected:
                    self.drift.append({'interface': name, 'differences': repair[name]})
        if p['activate']:
            self._plan_activation()

    def _plan_activation(self):
        """The interfaces to re-activate, with why, and the commands that do it."""
        backend = self.backend
        reasons = dict(self.affected)
        for entry in self.drift:
            reasons.setdefault(entry['interface'], 'drift')
        removed = set(n for n, why in reasons.items() if why == 'removed')
        if isinstance(backend, IfupdownBackend) and self.model['backend'] == 'linux_bridge':
            # Re-creating a NIC, bond or VLAN device takes it out of the bond/VLAN/bridge built on
            # it: those come down and up too (ifup of a bond does not re-add it to its bridge).
            for name in upward_closure(set(reasons) - removed, model_parents(self.model)):
                reasons.setdefault(name, 'depends')
        self._defer_busy_bridges(reasons, removed)
        self.before, self.after = backend.activation(reasons, removed, self.changes)
        self.reasons = reasons

    def _bridge_ports(self, bridge, kind):
        """Ports of a live bridge: Linux from /sys, Open vSwitch from the database."""
        if kind == 'bridge':
            return self.root.listdir('/sys/class/net/%s/brif' % bridge)
        if kind != 'ovs_bridge' or self.ovs_client is None:
            return []
        if self._ovs_snapshot is None:
            self._ovs_snapshot = self.ovs_client.snapshot()
        br = self._ovs_snapshot.bridge(bridge)
        if br is None or br['fake']:
            return []
        return [p for p in br['ports'] if p != bridge and not self._ovs_snapshot.port(p)['fake_bridge']]

    def _defer_busy_bridges(self, reasons, removed):
        """ifdown of a bridge deletes it, and with it the guests' ports on it: a bridge carrying
        ports that are not the model's is not restarted (nor what would be re-added to it),
        unless restart_bridges_with_guests."""
        if self.params['restart_bridges_with_guests']:
            return
        kinds = self.backend.all_kinds(self.changes)
        known = model_names(self.model) | set(reasons)
        busy = {}
        for name, why in sorted(reasons.items()):
            if why == 'added' or kinds.get(name) not in ('bridge', 'ovs_bridge'):
                continue
            if self.backend.deletes_bridges == 'removed' and why != 'removed':
                continue
            foreign = [p for p in self._bridge_ports(name, kinds[name]) if p not in known]
            if foreign:
                busy[name] = foreign
        if not busy:
            return
        parents = model_parents(self.model)
        for name in sorted(reasons, key=natural_key):
            hit = sorted(upward_closure([name], parents) & set(busy))
            if not hit:
                continue
            bridge = hit[0]
            del reasons[name]
            removed.discard(name)
            self.deferred.append({'interface': name, 'bridge': bridge, 'ports': busy[bridge]})
            self.backend.warnings.append(
                'not restarting %s: bridge %s carries ports kvm_network does not describe (%s), which restarting it '
                'would remove (guests would lose their network). The configuration is written and takes effect '
                'when %s restarts (maintenance window, reboot), or now with restart_bridges_with_guests: true.'
                % (name, bridge, ', '.join(busy[bridge]), bridge))

    # -- applying ---------------------------------------------------------------------------------
    def _backup(self, path):
        real = self.root.real(path)
        if os.path.dirname(path) == IFUPDOWN_DIR:
            directory = self.root.real(IFUPDOWN_BACKUP_DIR)
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            stamp = time.strftime('%Y-%m-%d@%H:%M:%S~')
            dest = os.path.join(directory, '%s.%s.%s' % (os.path.basename(path), os.getpid(), stamp))
            shutil.copy2(real, dest)
        else:
            dest = self.module.backup_local(real)
        return self.root.host(dest)

    def write_files(self):
        """Write, chmod and remove; returns {written, created, removed, backups}."""
        done = {'written': [], 'created': [], 'removed': [], 'backups': []}
        for change in self.changes:
            real = self.root.real(change.path)
            backup = None
            if self.params['backup'] and change.old is not None and change.action != 'chmod':
                backup = self._backup(change.path)
                done['backups'].append({'path': change.path, 'backup': backup})
            if change.action == 'remove':
                os.unlink(real)
                done['removed'].append(change.path)
                continue
            if change.action == 'chmod':
                os.chmod(real, int(change.mode, 8))
            else:
                mode = change.mode or ('%04o' % change.old_mode if change.old_mode is not None else '0644')
                write_atomic(self.module, real, change.new, False, mode)
            done['created' if change.old is None else 'written'].append(change.path)
        return done

    def restore(self, changes):
        """Put the previous content back (a failed ``netplan generate``)."""
        for change in changes:
            real = self.root.real(change.path)
            if change.old is None:
                if os.path.exists(real):
                    os.unlink(real)
            else:
                write_atomic(self.module, real, change.old, False, '%04o' % (change.old_mode or 0o644))

    def execute(self):
        for argv, what in self.conflict_commands:
            self.runner.run(argv, what)
        for argv, what in self.before:
            self.runner.run(argv, what)
        files = self.write_files()
        for argv, what in self.after:
            try:
                self.runner.run(argv, what)
            except ApplyError as exc:
                if argv[-1] == 'generate':
                    self.restore([c for c in self.changes if c.path.endswith('.yaml')])
                    exc.msg += ('. The previous netplan configuration was put back; nothing was applied. Fix the '
                                'model or the other netplan files netplan complains about.')
                exc.kwargs.setdefault('files', files)
                raise
        return files

    # -- result ------------------------------------------------------------------------------------
    def planned_files(self):
        return {
            'written': [c.path for c in self.changes if c.action in ('write', 'chmod')],
            'created': [c.path for c in self.changes if c.action == 'create'],
            'removed': [c.path for c in self.changes if c.action == 'remove'],
            'backups': [],
        }

    @property
    def changed(self):
        return bool(self.changes or self.conflict_commands or self.before or self.after)

    def commands(self):
        return [list(a) for a, dummy in self.conflict_commands + self.before + self.after]


def run(module, params, ovs_client=None):
    """Plan and (unless check mode) apply files, conflicts and activation; the result's file,
    conflict, activation and drift parts, ``changed`` and ``diff`` for them, and warnings."""
    applier = Applier(module, params, ovs_client)
    applier.plan()
    if module.check_mode:
        files = applier.planned_files()
        commands = applier.commands()
    else:
        files = applier.execute()
        commands = applier.runner.ran
    result = {
        'changed': applier.changed,
        'files': files,
        'replaced_foreign': applier.replaced_foreign,
        'conflicts': applier.conflict_reports,
        'activated': {
            'interfaces': sorted(applier.reasons, key=natural_key) if (applier.before or applier.after) else [],
            'reasons': applier.reasons if (applier.before or applier.after) else {},
            'commands': commands,
            'deferred': applier.deferred,
        },
        'drift': applier.drift,
        'diff': [c.diff() for c in applier.changes],
    }
    warnings = list(applier.backend.warnings)
    for message in applier.drift_reported:
        warnings.append('the live network differs from the model where re-activating would not change it: %s'
                        % message)
    return result, warnings
