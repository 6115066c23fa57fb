# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Render a normalised model as one netplan file (``/etc/netplan/60-cloudstack-kvm.yaml``).

Linux bridge: ``ethernets``, ``bonds`` (with ``parameters``), ``vlans`` (named by the model's
``vlan_interface``) and ``bridges``. Open vSwitch: the same sections with netplan's
``openvswitch:`` keys; the VLAN bridge is a ``vlans:`` entry on the parent bridge, which netplan
realises as the fake bridge ``ovs-vsctl add-br cloudbr100 cloudbr0 100``.

Default routes are written as ``routes: [{to: 0.0.0.0/0, via: ...}]``: the deprecated
``gateway4``/``gateway6`` warn on netplan >= 0.103, and ``to: default`` is unknown to the
netplan 0.99 that Ubuntu 20.04 shipped; ``0.0.0.0/0`` and ``::/0`` are accepted by every
netplan without a warning.

No YAML library is used: ``dump_yaml`` is a small block-style emitter that quotes every scalar
that YAML 1.1 or 1.2 could read as anything but the intended string.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
from collections import OrderedDict

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import (
    FILE_PREFIX,
    RenderError,
    comment_header,
    file_entry,
    options_with_defaults,
    result,
)

NAME = 'netplan'
PATH = '/etc/netplan/60-%s.yaml' % FILE_PREFIX
OWNED = ['/etc/netplan/*-%s.yaml' % FILE_PREFIX]
# netplan >= 0.102 warns about configuration files other users can read.
MODE = '0600'


# -- a tiny YAML emitter ---------------------------------------------------------------------------
_PLAIN_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_.\-]*$')
_RESERVED = frozenset(['y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null', '~'])


def _scalar(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN_RE.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)


def _is_scalar(value):
    return not isinstance(value, (dict, list, tuple))


def _emit(value, indent, lines):
    pad = '  ' * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_scalar(item):
                lines.append('%s%s: %s' % (pad, _scalar(key), _scalar(item)))
            elif not item:
                lines.append('%s%s: %s' % (pad, _scalar(key), '{}' if isinstance(item, dict) else '[]'))
            else:
                lines.append('%s%s:' % (pad, _scalar(key)))
                _emit(item, indent + 1, lines)
    else:
        for item in value:
            if _is_scalar(item):
                lines.append('%s- %s' % (pad, _scalar(item)))
            elif not item:
                lines.append('%s- %s' % (pad, '{}' if isinstance(item, dict) else '[]'))
            elif isinstance(item, dict):
                sub = []
                _emit(item, indent + 1, sub)
                # The first key goes on the dash line.
                lines.append('%s- %s' % (pad, sub[0].lstrip()))
                lines.extend(sub[1:])
            else:
                sub = []
                _emit(item, indent + 1, sub)
                lines.append('%s- %s' % (pad, sub[0].lstrip()))
                lines.extend(sub[1:])


def dump_yaml(data):
    """Block-style YAML of nested dicts (in their order), lists and scalars."""
    lines = []
    _emit(data, 0, lines)
    return ''.join(line + '\n' for line in lines)


# -- model -> netplan data -------------------------------------------------------------------------
def _routes(br):
    routes = []
    if br['gateway4']:
        routes.append(OrderedDict([('to', '0.0.0.0/0'), ('via', br['gateway4'])]))
    if br['gateway6']:
        routes.append(OrderedDict([('to', '::/0'), ('via', br['gateway6'])]))
    for route in br['routes']:
        item = OrderedDict([('to', route['to']), ('via', route['via'])])
        if route['metric'] is not None:
            item['metric'] = route['metric']
        routes.append(item)
    return routes


def _l3(br, entry):
    """Addresses, DHCP, routes and DNS of a bridge (or the VLAN of an OVS fake bridge)."""
    if br['addresses']:
        entry['addresses'] = list(br['addresses'])
    entry['dhcp4'] = br['dhcp4']
    entry['dhcp6'] = br['dhcp6']
    if not br['addresses'] and not br['dhcp4'] and not br['dhcp6']:
        # No IPv4 link-local, no IPv6 link-local (and so no SLAAC): the bridge comes up bare.
        entry['link-local'] = []
    routes = _routes(br)
    if routes:
        entry['routes'] = routes
    ns = br['nameservers']
    if ns['addresses'] or ns['search']:
        entry['nameservers'] = OrderedDict()
        if ns['search']:
            entry['nameservers']['search'] = list(ns['search'])
        if ns['addresses']:
            entry['nameservers']['addresses'] = list(ns['addresses'])


def _link_only(entry):
    entry['dhcp4'] = False
    entry['dhcp6'] = False
    entry['link-local'] = []


def _ethernet(model, eth, ovs):
    entry = OrderedDict()
    if eth['match'].get('macaddress'):
        entry['match'] = OrderedDict([('macaddress', eth['match']['macaddress'])])
        entry['set-name'] = eth['name']
    mtu = eth['mtu']
    if mtu is None and eth['bond'] and ovs:
        # An Open vSwitch bond has no device of its own: its MTU is its members' MTU.
        mtu = model['bonds'][eth['bond']]['mtu']
    if mtu:
        entry['mtu'] = mtu
    _link_only(entry)
    return entry


def _linux_bond(bond):
    entry = OrderedDict()
    entry['interfaces'] = list(bond['interfaces'])
    if bond['mtu']:
        entry['mtu'] = bond['mtu']
    params = OrderedDict([('mode', bond['mode'])])
    if bond['miimon'] is not None:
        params['mii-monitor-interval'] = bond['miimon']
    if bond['updelay'] is not None:
        params['up-delay'] = bond['updelay']
    if bond['downdelay'] is not None:
        params['down-delay'] = bond['downdelay']
    if bond['primary']:
        params['primary'] = bond['primary']
    if bond['lacp_rate']:
        params['lacp-rate'] = bond['lacp_rate']
    if bond['xmit_hash_policy']:
        params['transmit-hash-policy'] = bond['xmit_hash_policy']
    entry['parameters'] = params
    _link_only(entry)
    return entry


def _ovs_bond(bond, database_only):
    """netplan carries bond_mode, lacp and Port other_config; the rest must live in the database."""
    entry = OrderedDict()
    entry['interfaces'] = list(bond['interfaces'])
    other = OrderedDict()
    if bond['miimon']:
        other['bond-detect-mode'] = 'miimon'
        other['bond-miimon-interval'] = str(bond['miimon'])
    else:
        other['bond-detect-mode'] = 'carrier'
    if bond['lacp_rate']:
        other['lacp-time'] = bond['lacp_rate']
    if bond['primary']:
        other['bond-primary'] = bond['primary']
    entry['openvswitch'] = OrderedDict([('lacp', bond['lacp'] or 'off'), ('other-config', other)])
    entry['parameters'] = OrderedDict([('mode', bond['mode'])])
    for key, column in (('updelay', 'bond_updelay'), ('downdelay', 'bond_downdelay')):
        if bond[key]:
            database_only.append(('bond %s' % bond['name'], key, '%s=%d' % (column, bond[key])))
    return entry


def _linux_bridge(br):
    entry = OrderedDict()
    if br['port']:
        entry['interfaces'] = [br['port']]
    if br['mtu']:
        entry['mtu'] = br['mtu']
    entry['parameters'] = OrderedDict([('stp', br['stp']), ('forward-delay', br['forward_delay'])])
    _l3(br, entry)
    return entry


def _ovs_bridge(model, br, database_only):
    entry = OrderedDict()
    if br['port']:
        entry['interfaces'] = [br['port']]
    if br['mtu']:
        entry['mtu'] = br['mtu']
    _l3(br, entry)
    entry['openvswitch'] = OrderedDict()
    where = 'bridge %s' % br['name']
    if model['ovs']['datapath_type'] != 'system':
        database_only.append((where, 'ovs.datapath_type', 'datapath_type=%s' % model['ovs']['datapath_type']))
    if br['stp']:
        database_only.append((where, 'stp', 'stp_enable=true other_config:stp-forward-delay=%d' % br['forward_delay']))
    return entry


def _ovs_fake_bridge(br):
    entry = OrderedDict([('id', br['vlan']), ('link', br['parent'])])
    if br['mtu']:
        entry['mtu'] = br['mtu']
    _l3(br, entry)
    entry['openvswitch'] = OrderedDict()
    return entry


def network(model, options=None):
    """The ``network:`` mapping for the model and the OVS settings netplan cannot carry.

    Returns (data, database_only) where database_only is [(object, option, ovs-setting)].
    """
    ovs = model['backend'] == 'openvswitch'
    database_only = []
    net = OrderedDict([('version', 2), ('renderer', 'networkd')])
    ethernets = OrderedDict((name, _ethernet(model, eth, ovs)) for name, eth in model['ethernets'].items())
    bonds = OrderedDict()
    for name, bond in model['bonds'].items():
        bonds[name] = _ovs_bond(bond, database_only) if ovs else _linux_bond(bond)
    vlans = OrderedDict()
    bridges = OrderedDict()
    if ovs:
        for name, br in model['bridges'].items():
            if br['parent']:
                vlans[name] = _ovs_fake_bridge(br)
            else:
                bridges[name] = _ovs_bridge(model, br, database_only)
    else:
        for name, vlan in model['vlans'].items():
            entry = OrderedDict([('id', vlan['id']), ('link', vlan['link'])])
            mtu = model['bridges'][vlan['bridge']]['mtu']
            if mtu:
                # The bridge takes the smallest MTU of its ports: the VLAN device must carry it.
                entry['mtu'] = mtu
            _link_only(entry)
            vlans[name] = entry
        for name, br in model['bridges'].items():
            bridges[name] = _linux_bridge(br)
    for key, section in (('ethernets', ethernets), ('bonds', bonds), ('vlans', vlans), ('bridges', bridges)):
        if section:
            net[key] = section
    return OrderedDict([('network', net)]), database_only


def render(model, options=None):
    """Render the model as netplan YAML; see _render.common for the result shape.

    options: header (see _render.common); ovs_database_only (bool, default False): Open vSwitch
    settings netplan has no key for (datapath_type netdev, stp, non-zero bond updelay/downdelay)
    raise RenderError unless this is true, in which case they are listed in a comment and left
    to the Open vSwitch database, which the collection's modules reconcile and which persists
    across reboots.
    """
    opts = options_with_defaults(options)
    data, database_only = network(model, opts)
    text = comment_header(opts['header'])
    if database_only:
        if not opts.get('ovs_database_only'):
            problems = ['%s: %s cannot be written in netplan (netplan has no key for the Open vSwitch setting %s)'
                        % (obj, option, setting) for obj, option, setting in database_only]
            raise RenderError('; '.join(problems) + '. Fix: drop the option(s), or render with ovs_database_only: true '
                              'so the Open vSwitch database (reconciled by the ovs modules) keeps them, or use the '
                              'ifupdown renderer, whose ovs_extra/ovs_options carry them.')
        text += '# Kept in the Open vSwitch database, not in this file (netplan has no key for them):\n'
        for obj, option, setting in database_only:
            text += '#   %s: %s (%s)\n' % (obj, option, setting)
    text += dump_yaml(data)
    return result(NAME, [file_entry(PATH, text, MODE)], OWNED)
