# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The netplan file the collection owns, as data: read it, merge one bridge in or out, emit it.

The netplan_bridge module edits the file the netplan renderer writes
(``/etc/netplan/60-cloudstack-kvm.yaml``) one bridge at a time. A file without the collection's
marker on a comment line (``_common.has_marker``) is not ours and is never changed. Validating
with netplan itself and writing are the apply stage's (``_apply.netplan.NetplanCli``,
``_apply.files.write_atomic``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import traceback

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only where PyYAML is missing
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    MARKER,
    ModuleFailure,
    has_marker,
    natural_key,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import (
    DEFAULT_HEADER,
    comment_header,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.netplan import (
    PATH,
    dump_yaml,
)

SECTIONS = ('ethernets', 'bonds', 'vlans', 'bridges')


# -- the owned file -------------------------------------------------------------------------------
def read_owned(real_path):
    """(text or None, network dict). Fails when the file exists but is not ours or not netplan."""
    if not os.path.exists(real_path):
        return None, {}
    with open(real_path) as fh:
        text = fh.read()
    if not has_marker(text):
        raise ModuleFailure('%s exists but was not written by %s (no "%s" line): it is left alone. Fix: '
                            'use another path for the collection\'s file, or move that file away.' % (real_path, MARKER, MARKER))
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ModuleFailure('%s is not valid YAML: %s. Fix: correct or remove the file (it is ours, a rerun rewrites it).'
                            % (real_path, exc))
    if not isinstance(data, dict) or not isinstance(data.get('network', {}), dict):
        raise ModuleFailure('%s has no network: mapping. Fix: correct or remove the file.' % real_path)
    network = data.get('network') or {}
    for section in SECTIONS:
        if section in network and not isinstance(network[section], dict):
            raise ModuleFailure('%s: network.%s is not a mapping. Fix: correct or remove the file.' % (real_path, section))
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
        raise ModuleFailure('bridge %s carries the Open vSwitch fake bridge(s) %s. Fix: remove %s first '
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


DEFAULT_PATH = PATH
