# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""netplan for the modules: the owned netplan file (read, merge one bridge in or out, emit) and
the netplan CLI (``netplan generate --root-dir`` on a scratch copy, never ``apply``).

The owned file is the one the netplan renderer writes (``/etc/netplan/60-cloudstack-kvm.yaml``);
a file without the collection's marker line is not ours and is never changed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import glob
import os
import shutil
import tempfile
import traceback

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only where PyYAML is missing
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render_common import (
    DEFAULT_HEADER,
    MARKER,
    comment_header,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render_netplan import (
    MODE,
    PATH,
    dump_yaml,
)

SECTIONS = ('ethernets', 'bonds', 'vlans', 'bridges')
# Where netplan reads configuration, relative to its root (netplan generate --root-dir).
CONFIG_DIRS = ('lib/netplan', 'etc/netplan', 'run/netplan')


class NetplanError(Exception):
    """A problem the module reports with fail_json: ``msg`` plus extra result keys."""

    def __init__(self, msg, **kwargs):
        super(NetplanError, self).__init__(msg)
        self.msg = msg
        self.kwargs = kwargs


# -- the owned file -------------------------------------------------------------------------------
def host_path(root_dir, path):
    """``path`` (absolute, as on the host) below ``root_dir``."""
    return os.path.join(root_dir or '/', path.lstrip('/'))


def read_owned(real_path):
    """(text or None, network dict). Fails when the file exists but is not ours or not netplan."""
    if not os.path.exists(real_path):
        return None, {}
    with open(real_path) as fh:
        text = fh.read()
    if MARKER not in text:
        raise NetplanError('%s exists but was not written by %s (no "%s" line): it is left alone. Fix: '
                           'use another path for the collection\'s file, or move that file away.' % (real_path, MARKER, MARKER))
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise NetplanError('%s is not valid YAML: %s. Fix: correct or remove the file (it is ours, a rerun rewrites it).'
                           % (real_path, exc))
    if not isinstance(data, dict) or not isinstance(data.get('network', {}), dict):
        raise NetplanError('%s has no network: mapping. Fix: correct or remove the file.' % real_path)
    network = data.get('network') or {}
    for section in SECTIONS:
        if section in network and not isinstance(network[section], dict):
            raise NetplanError('%s: network.%s is not a mapping. Fix: correct or remove the file.' % (real_path, section))
    return text, network


def canonical(network):
    """The network mapping in the renderer's order: version, renderer, sections, names sorted."""
    out = {}
    out['version'] = network.get('version', 2)
    out['renderer'] = network.get('renderer', 'networkd')
    for key in sorted(k for k in network if k not in ('version', 'renderer') + SECTIONS):
        out[key] = network[key]
    for section in SECTIONS:
        entries = network.get(section) or {}
        if entries:
            out[section] = dict((name, entries[name]) for name in sorted(entries, key=natural_key))
    return out


def emit(network, header=None):
    """The file text for a network mapping, as the renderer writes it."""
    return comment_header(header or DEFAULT_HEADER) + dump_yaml({'network': canonical(network)})


def is_empty(network):
    return not any(network.get(section) for section in SECTIONS)


# -- netplan data <-> model pieces ------------------------------------------------------------------
def ethernet_options(entry):
    """A netplan ethernets entry as model ethernet options."""
    opts = {}
    mac = (entry.get('match') or {}).get('macaddress')
    if mac:
        opts['match'] = {'macaddress': str(mac)}
    if entry.get('mtu'):
        opts['mtu'] = entry['mtu']
    return opts


def bond_options(entry, ovs):
    """A netplan bonds entry as model bond options (the keys the renderer writes)."""
    params = entry.get('parameters') or {}
    opts = {'interfaces': list(entry.get('interfaces') or [])}
    if params.get('mode') is not None:
        opts['mode'] = params['mode']
    if ovs:
        ovs_keys = entry.get('openvswitch') or {}
        other = ovs_keys.get('other-config') or {}
        lacp = ovs_keys.get('lacp')
        opts['lacp'] = 'off' if lacp is False else (lacp or 'off')
        if other.get('bond-detect-mode') == 'carrier':
            opts['miimon'] = 0
        elif other.get('bond-miimon-interval') is not None:
            opts['miimon'] = int(other['bond-miimon-interval'])
        if other.get('lacp-time'):
            opts['lacp_rate'] = other['lacp-time']
        if other.get('bond-primary'):
            opts['primary'] = other['bond-primary']
        return opts
    for key, model_key in (('mii-monitor-interval', 'miimon'), ('up-delay', 'updelay'), ('down-delay', 'downdelay'),
                           ('primary', 'primary'), ('lacp-rate', 'lacp_rate'),
                           ('transmit-hash-policy', 'xmit_hash_policy')):
        if params.get(key) is not None:
            opts[model_key] = params[key]
    if entry.get('mtu'):
        opts['mtu'] = entry['mtu']
    return opts


def is_ovs_entry(entry):
    return isinstance(entry, dict) and 'openvswitch' in entry


def bridge_kind(network, name):
    """('bridge'|'fake'|None) for a bridge name in the file."""
    if name in (network.get('bridges') or {}):
        return 'bridge'
    vlan = (network.get('vlans') or {}).get(name)
    if vlan is not None and is_ovs_entry(vlan) and vlan.get('link') in (network.get('bridges') or {}):
        return 'fake'
    return None


def references(network):
    """{name: set of objects that use it} over bridges' interfaces, bonds' interfaces, VLAN links."""
    used = {}
    for section in ('bridges', 'bonds'):
        for owner, entry in (network.get(section) or {}).items():
            for port in (entry or {}).get('interfaces') or []:
                used.setdefault(str(port), set()).add(owner)
    for owner, entry in (network.get('vlans') or {}).items():
        link = (entry or {}).get('link')
        if link:
            used.setdefault(str(link), set()).add(owner)
    return used


def remove_bridge(network, name):
    """Remove bridge ``name`` and whatever only it used; return (network, [removed 'section.name'])."""
    network = copy.deepcopy(network)
    kind = bridge_kind(network, name)
    removed = []
    if kind is None:
        return network, removed
    if kind == 'fake':
        del network['vlans'][name]
        return _drop_empty(network), ['vlans.%s' % name]
    entry = network['bridges'][name]
    fakes = sorted(v for v, e in (network.get('vlans') or {}).items()
                   if is_ovs_entry(e) and e.get('link') == name)
    if fakes:
        raise NetplanError('bridge %s carries the Open vSwitch fake bridge(s) %s. Fix: remove %s first '
                           '(state: absent), then %s.' % (name, ', '.join(fakes), ', '.join(fakes), name))
    del network['bridges'][name]
    removed.append('bridges.%s' % name)
    removed.extend(prune(network, [str(p) for p in (entry or {}).get('interfaces') or []]))
    return _drop_empty(network), removed


def prune(network, candidates):
    """Remove, in place, the candidates (and what they use) that nothing references any more.

    Returns the removed entries as 'section.name'.
    """
    removed = []
    candidates = list(candidates)
    while candidates:
        obj = candidates.pop(0)
        if references(network).get(obj):
            continue
        for section in ('vlans', 'bonds', 'ethernets'):
            entries = network.get(section) or {}
            if obj in entries:
                gone = entries.pop(obj) or {}
                removed.append('%s.%s' % (section, obj))
                if section == 'vlans' and gone.get('link'):
                    candidates.append(str(gone['link']))
                if section == 'bonds':
                    candidates.extend(str(m) for m in gone.get('interfaces') or [])
                break
    _drop_empty(network)
    return removed


def used_by_bridge(network, name):
    """The ports (bridge interfaces, or the VLAN entry of a fake bridge) of bridge ``name``."""
    kind = bridge_kind(network, name)
    if kind == 'bridge':
        return [str(p) for p in (network['bridges'][name] or {}).get('interfaces') or []]
    return []


def _drop_empty(network):
    for section in SECTIONS:
        if section in network and not network[section]:
            del network[section]
    return network


# -- netplan CLI ------------------------------------------------------------------------------------
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
                raise NetplanError('netplan is not installed on this host, so the file cannot be validated. '
                                   'Fix: install netplan.io, or set validate: false.')
        return self._bin

    def validate(self, root_dir, owned_path, content):
        """Copy root_dir's netplan files to a scratch root, put ``content`` at owned_path (None
        removes it), run netplan generate there. Returns (rc, stdout, stderr)."""
        scratch = tempfile.mkdtemp(prefix='netplan-validate-')
        try:
            for sub in CONFIG_DIRS:
                for source in sorted(glob.glob(os.path.join(host_path(root_dir, '/' + sub), '*.yaml'))):
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
            return self.module.run_command([self.binary, 'generate', '--root-dir', scratch], cwd=scratch,
                                           environ_update={'LC_ALL': 'C'})
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def write_atomic(module, real_path, content, backup, mode=MODE):
    """Write ``content`` (mode 0600 unless ``mode`` says otherwise, as an octal string) atomically;
    returns the backup file name or None."""
    backup_file = None
    if backup and os.path.exists(real_path):
        backup_file = module.backup_local(real_path)
    directory = os.path.dirname(real_path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    fd, tmp = tempfile.mkstemp(prefix='.cloudstack-kvm-', dir=directory)
    try:
        with os.fdopen(fd, 'w') as fh:
            fh.write(content)
        os.chmod(tmp, int(mode, 8))
        module.atomic_move(tmp, real_path)
        # atomic_move copies the mode of a file it replaces: netplan wants 0600.
        os.chmod(real_path, int(mode, 8))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return backup_file


def remove_file(module, real_path, backup):
    backup_file = None
    if backup and os.path.exists(real_path):
        backup_file = module.backup_local(real_path)
    if os.path.exists(real_path):
        os.unlink(real_path)
    return backup_file


DEFAULT_PATH = PATH
