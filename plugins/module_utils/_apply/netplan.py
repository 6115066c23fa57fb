# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""netplan's side of applying: other netplan files that configure our interfaces (reported),
what a changed file concerns, and activation (``netplan generate`` then ``netplan apply``, and the
deletion of Linux devices the configuration no longer has). ``NetplanCli`` validates a netplan
file with ``netplan generate --root-dir`` on a scratch copy (never ``apply``) for netplan_bridge.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import shutil
import tempfile

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - netplan hosts always have PyYAML (netplan needs it)
    HAS_YAML = False

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    ModuleFailure,
    has_marker,
    natural_key,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.files import FileChange
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.system import System
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.graph import ordered

# Where netplan reads configuration: /run over /etc over /lib for the same file name.
NETPLAN_DIRS = ('/lib/netplan', '/etc/netplan', '/run/netplan')
# cloud-init writes the installer's network (usually DHCP on the first NIC) here at every boot,
# unless its network configuration is turned off (cloud-init's documented way: a cloud.cfg.d file).
CLOUD_INIT_FILE = '50-cloud-init.yaml'
CLOUD_INIT_HEADER = 'generated from information provided by the datasource'
CLOUD_INIT_DISABLE = '/etc/cloud/cloud.cfg.d/99-cloudstack-kvm-network.cfg'
CLOUD_INIT_DISABLE_TEXT = ("# Written by %s: the host's network is configured in /etc/netplan/60-cloudstack-kvm.yaml,\n"
                           "# so cloud-init must not write /etc/netplan/50-cloud-init.yaml again at boot.\n"
                           "network: {config: disabled}\n")


def _leading_comments(text):
    """The comment lines a file starts with (cloud-init's explanation, for example)."""
    lines = []
    for line in (text or '').splitlines(True):
        if not line.startswith('#'):
            break
        lines.append(line)
    return ''.join(lines)


def _network_section(text):
    """The ``network`` mapping of a netplan file's text ({} when it has none), or None when the
    text cannot be read as YAML here."""
    if not HAS_YAML:
        return None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return None
    network = data.get('network') if isinstance(data, dict) else None
    return network if isinstance(network, dict) else {}


def _dump(data):
    try:
        return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    except TypeError:  # PyYAML before 5.1 has no sort_keys
        return yaml.safe_dump(data, default_flow_style=False)


def _references(entry):
    """The netplan ids an entry is built on: a VLAN's link, a bond's or bridge's interfaces."""
    refs = [entry.get('link')] + list(entry.get('interfaces') or [])
    return [str(r) for r in refs if r is not None]


def _taken_entries(network, names):
    """[(section, netplan id, entry, [ids it depends on that are taken])] of one foreign file's
    ``network`` mapping: the entries for ``names`` (the model's interfaces), and, transitively,
    the entries built on a taken one (a VLAN on a taken bond), which cannot stay behind."""
    entries = []
    for section, items in sorted((network or {}).items()):
        if isinstance(items, dict):
            for netplan_id, entry in sorted(items.items()):
                entries.append((section, str(netplan_id), entry if isinstance(entry, dict) else {}))
    taken_ids = set(i for s, i, e in entries if (e.get('set-name') or i) in names)
    out = dict((i, (s, i, e, [])) for s, i, e in entries if i in taken_ids)
    grown = True
    while grown:
        grown = False
        for section, netplan_id, entry in entries:
            if netplan_id in taken_ids:
                continue
            needs = sorted(r for r in _references(entry) if r in taken_ids)
            if needs:
                taken_ids.add(netplan_id)
                out[netplan_id] = (section, netplan_id, entry, needs)
                grown = True
    return [out[i] for s, i, e in entries if i in out]


class NetplanSystem(System):
    """netplan: ``netplan generate`` then ``netplan apply`` when a netplan file changed.

    netplan hands the configuration to systemd-networkd, which reconfigures what changed; links
    whose configuration is unchanged are not taken down (netplan apply only recreates a virtual
    device whose kind changed, and removes the ones no longer defined).
    """

    name = 'netplan'

    def definitions(self, path, text):
        network = _network_section(text)
        if network is None:
            return dict((n, text) for n in self.names)
        out = {}
        for section, entries in network.items():
            if isinstance(entries, dict):
                for name, entry in entries.items():
                    # Keyed by the device (a NIC matched by MAC under another id is renamed by set-name).
                    device = entry.get('set-name') if isinstance(entry, dict) and entry.get('set-name') else name
                    out[str(device)] = json.dumps([section, entry], sort_keys=True, default=str)
        return out

    def own_paths(self):
        return set(f['path'] for f in self.files)

    def bond_members(self):
        """The devices the netplan files being applied make bond members (that exist now)."""
        ids, device_of = set(), {}
        for entry in self.files:
            network = _network_section(entry['content']) or {}
            for netplan_id, conf in (network.get('ethernets') or {}).items():
                if isinstance(conf, dict) and conf.get('set-name'):
                    device_of[str(netplan_id)] = str(conf['set-name'])    # bonds list netplan ids
            for conf in (network.get('bonds') or {}).values():
                if isinstance(conf, dict):
                    ids.update(str(i) for i in conf.get('interfaces') or [])
        devices = set(device_of.get(i, i) for i in ids)
        return sorted((d for d in devices if os.path.exists(self.root.real('/sys/class/net/%s' % d))), key=natural_key)

    def conflicts(self, changes):
        """Other netplan files that configure our interfaces, taken over: netplan merges every file, so
        their entries for our interfaces (a DHCP client on a NIC the model bonds, typically cloud-init's)
        are removed from them (the file is backed up first). When that file is cloud-init's, cloud-init's
        network configuration is turned off too, or it would write the file again at the next boot."""
        if not HAS_YAML:
            return [], [], []
        ours = self.own_paths()
        our_file = sorted(ours)[0] if ours else '/etc/netplan/60-cloudstack-kvm.yaml'
        by_name = {}
        for directory in NETPLAN_DIRS:
            for path in self.root.glob(directory + '/*.yaml'):
                by_name[os.path.basename(path)] = path    # /run over /etc over /lib, as netplan
        edits, reports = [], []
        cloud_init = False
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
            taken = []
            for section, netplan_id, entry, needs in _taken_entries(network, self.names):
                device = entry.get('set-name') or netplan_id
                dhcp = [k for k in ('dhcp4', 'dhcp6') if entry.get(k) in (True, 'true', 'yes', 'on')]
                taken.append((section, netplan_id))
                report = {'file': path, 'interface': device, 'netplan_id': netplan_id, 'section': section,
                          'dhcp': bool(dhcp), 'action': 'taken_over'}
                if needs:
                    # Not the model's, but built on what is: left in this file it would name an
                    # interface netplan no longer finds there (netplan resolves a file's references
                    # before it reads the files after it), and netplan generate would fail.
                    report['depends_on'] = needs
                    self.warnings.append(
                        '%s: %s %s is not in kvm_network but is built on %s, which the collection takes over: it is '
                        'taken over too (removed from that file), so the host will not have it. Fix: add it to the '
                        'model if the host needs it' % (path, section, netplan_id, ', '.join(needs)))
                reports.append(report)
            if not taken:
                continue
            for section, netplan_id in taken:
                del network[section][netplan_id]
                if not network[section]:
                    del network[section]
            note = ('# %s taken over by %s (the previous version of this file is backed up beside it).\n'
                    % (', '.join(sorted(set(r['interface'] for r in reports if r['file'] == path))), our_file))
            edits.append(FileChange(path, text, _leading_comments(text) + note + _dump(data), None,
                                    self.root.mode(path), 'conflict', True,
                                    'configuration %s does not own' % self.marker))
            cloud_init = cloud_init or base == CLOUD_INIT_FILE or CLOUD_INIT_HEADER in (text or '')
        if cloud_init and os.path.isdir(self.root.real(os.path.dirname(CLOUD_INIT_DISABLE))) \
                and self.root.read(CLOUD_INIT_DISABLE) is None:
            edits.append(FileChange(CLOUD_INIT_DISABLE, None, CLOUD_INIT_DISABLE_TEXT % self.marker, '0644', None,
                                    'conflict', False, 'created'))
            reports.append({'file': CLOUD_INIT_DISABLE, 'interfaces': [], 'action': 'cloud_init_network_disabled'})
        return edits, reports, []

    SECTION_KINDS = {'bridges': 'bridge', 'bonds': 'bond', 'vlans': 'vlan'}

    @staticmethod
    def _globals_changed(edited):
        """Whether the files' settings for no interface in particular (``renderer``) change."""
        def settings(texts):
            merged = {}
            for text in texts:
                network = _network_section(text or '') or {}
                merged.update((k, v) for k, v in network.items() if k != 'version' and not isinstance(v, dict))
            merged.setdefault('renderer', 'networkd')    # netplan's default
            return merged
        return settings(c.old for c in edited) != settings(c.new for c in edited)

    def after_failure(self, argv, changes):
        """``netplan generate`` refused the files: the previous ones go back, nothing was applied."""
        if argv[-1] != 'generate':
            return None
        return ([c for c in changes if c.path.endswith('.yaml')],
                'The previous netplan configuration was put back; nothing was applied. Fix the model or the other '
                'netplan files netplan complains about.')

    def at_boot(self):
        """netplan's systemd generator ran before any unit, on the files the rollback has since put
        back: networkd's (and netplan's Open vSwitch units') configuration is generated again, and
        systemd reloads the units it wrote."""
        return [([self.runner.bin('netplan'), 'generate'], 'netplan generate (its boot-time generator read the '
                 'unconfirmed files)'),
                ([self.runner.bin('systemctl'), 'daemon-reload'], 'reloading the units netplan generates')]

    def bonds_to_recreate(self, edited, reasons):
        """The existing Linux bonds whose netplan ``parameters`` differ between the old and the new
        files of ``edited`` (their MTU and members networkd does change in place), and those whose
        parameters drifted from the files (``reasons``: drift)."""
        old, new = {}, {}
        for change in edited:
            for text, found in ((change.old, old), (change.new, new)):
                for section, entries in ((_network_section(text or '') or {}).items()):
                    if section == 'bonds' and isinstance(entries, dict):
                        found.update((str(n), e) for n, e in entries.items() if isinstance(e, dict))
        names = set(n for n in new if n in old and 'openvswitch' not in new[n]
                    and (old[n].get('parameters') or {}) != (new[n].get('parameters') or {}))
        names.update(n for n, why in reasons.items() if why == 'drift' and self.kinds.get(n) == 'bond')
        return sorted((n for n in names if os.path.exists(self.root.real('/sys/class/net/%s' % n))), key=natural_key)

    def _old_vlan_link(self, name, changes):
        """The link of VLAN device ``name`` in the files as they were (None when none names it)."""
        for change in changes:
            definition = self.definitions(change.path, change.old or '').get(name) if change.old else None
            if definition:
                section, entry = json.loads(definition)
                if section == 'vlans' and isinstance(entry, dict) and entry.get('link') is not None:
                    return str(entry['link'])
        return None

    def kind_of(self, definition):
        section, entry = json.loads(definition)
        if isinstance(entry, dict) and 'openvswitch' in entry:
            return 'ovs_bridge' if section == 'bridges' else 'ovs_port'
        return self.SECTION_KINDS.get(section, 'ethernet')

    def activation(self, reasons, removed, changes):
        """netplan generate (a failure puts the old files back), netplan apply, and the clean-up netplan
        apply leaves undone: NICs the configuration no longer has taken out of their bridge or bond,
        the Linux bridges, bonds and VLAN devices it no longer has deleted (only ``netplan apply
        --state``, as netplan try uses it, deletes them; Open vSwitch objects netplan made are
        removed by its own OVS cleanup)."""
        edited = [c for c in changes if c.path.endswith('.yaml') and c.action != 'chmod']
        if not reasons and not edited:
            return [], []
        netplan = self.runner.bin('netplan')
        ip = self.runner.bin('ip')
        after = [([netplan, 'generate'], 'netplan generate')]
        if not reasons and self.adopted and not self._globals_changed(edited):
            # Only where definitions are written changed (a takeover of interfaces that already are
            # as the files say): netplan generate checks the files and writes networkd's
            # configuration for the next boot; netplan apply would reconfigure links for nothing.
            return [], after
        # systemd-networkd creates a bond once and never changes its parameters afterwards (a mode,
        # delays or primary changed in the file are not applied to the bond that exists): a Linux
        # bond whose parameters changed is deleted, and netplan apply creates it again with them.
        recreated = self.bonds_to_recreate(edited, reasons)
        for name in recreated:
            after.append(([ip, 'link', 'delete', 'dev', name],
                          'deleting bond %s, whose parameters changed, for netplan apply to create it again '
                          '(systemd-networkd does not change an existing bond)' % name))
        after.append(([netplan, 'apply'], 'netplan apply'))
        # systemd-networkd (seen with 252) can leave a bond member that netplan apply reconfigures
        # down for good ("configuring"), taking the bond and its bridge with it: they are set up
        # again (a no-op for a member that is up).
        for member in self.bond_members():
            after.append(([ip, 'link', 'set', 'dev', member, 'up'], 'making sure bond member %s is up' % member))
        kinds = self.all_kinds(changes)
        # A NIC the configuration no longer has stays in its bridge or bond after netplan apply:
        # it is taken out (and left as it is otherwise).
        loose = [n for n in removed if kinds.get(n) == 'ethernet'
                 and os.path.lexists(self.root.real('/sys/class/net/%s/master' % n))]
        # (a VLAN device on a bond deleted above went with it: the kernel deletes a VLAN with its link)
        gone = [n for n in removed if kinds.get(n) in ('bridge', 'bond', 'vlan')
                and os.path.exists(self.root.real('/sys/class/net/%s' % n))
                and not (kinds.get(n) == 'vlan' and self._old_vlan_link(n, changes) in recreated)]
        if loose or gone:
            for name in sorted(loose, key=natural_key):
                after.append(([ip, 'link', 'set', 'dev', name, 'nomaster'],
                              'taking %s, which the netplan configuration no longer has, out of its bridge or bond'
                              % name))
            for name in ordered(gone, kinds, True):
                after.append(([ip, 'link', 'delete', 'dev', name],
                              'deleting %s, which the netplan configuration no longer has' % name))
        return [], after


class NetplanCli(object):
    """Runs ``netplan generate --root-dir`` on a scratch copy of a root's netplan configuration."""

    def __init__(self, module):
        self.module = module
        self._bin = None

    @property
    def binary(self):
        if self._bin is None:
            self._bin = self.module.get_bin_path('netplan', required=False)
            if not self._bin:
                raise ModuleFailure('netplan is not installed on this host, so the file cannot be validated. '
                                    'Fix: install netplan.io, or set validate: false.')
        return self._bin

    def validate(self, root_dir, owned_path, content):
        """Copy root_dir's netplan files to a scratch root, put ``content`` at owned_path (None
        removes it), run netplan generate there. Returns (rc, stdout, stderr)."""
        scratch = tempfile.mkdtemp(prefix='netplan-validate-')
        try:
            for directory in NETPLAN_DIRS:
                sub = directory.lstrip('/')
                for source in sorted(glob.glob(os.path.join(root_dir or '/', sub, '*.yaml'))):
                    target = os.path.join(scratch, sub, os.path.basename(source))
                    if not os.path.isdir(os.path.dirname(target)):
                        os.makedirs(os.path.dirname(target))
                    shutil.copyfile(source, target)
                    os.chmod(target, 0o600)
            target = os.path.join(scratch, owned_path.lstrip('/'))
            if content is None:
                if os.path.exists(target):
                    os.unlink(target)
            else:
                if not os.path.isdir(os.path.dirname(target)):
                    os.makedirs(os.path.dirname(target))
                with open(target, 'w') as fh:
                    fh.write(content)
                os.chmod(target, 0o600)
            return command.run(self.module, [self.binary, 'generate', '--root-dir', scratch], cwd=scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
