# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The Open vSwitch database state a normalised model asks for, and how to build it.

``desired_state(model)`` is what every OVS renderer persists and what the modules reconcile:
bridges (with fake bridges as ``parent``/``vlan``), uplink ports (single NIC or bond) and their
options. ``commands_from_scratch(state)`` gives the ovs-vsctl argv lists that build that state on
an empty database (one transaction per object, all idempotent with --may-exist).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

try:
    from shlex import quote as _quote
except ImportError:  # pragma: no cover - Python 2 only
    from pipes import quote as _quote


def bond_options(bond):
    """The Port column settings of an OVS bond, in the seed's order, as (column, value) pairs.

    Keys are ovs-vsctl column syntax (``bond_mode``, ``other_config:bond-miimon-interval``).
    """
    opts = [('bond_mode', bond['mode']), ('lacp', bond['lacp'] or 'off')]
    if bond['miimon']:
        opts.append(('other_config:bond-detect-mode', 'miimon'))
        opts.append(('other_config:bond-miimon-interval', str(bond['miimon'])))
    else:
        opts.append(('other_config:bond-detect-mode', 'carrier'))
    if bond['updelay'] is not None:
        opts.append(('bond_updelay', str(bond['updelay'])))
    if bond['downdelay'] is not None:
        opts.append(('bond_downdelay', str(bond['downdelay'])))
    if bond['lacp_rate']:
        opts.append(('other_config:lacp-time', bond['lacp_rate']))
    if bond['primary']:
        opts.append(('other_config:bond-primary', bond['primary']))
    return opts


def bond_options_string(bond):
    """``bond_mode=active-backup lacp=off other_config:...`` as in ifcfg OVS_OPTIONS."""
    return ' '.join('%s=%s' % kv for kv in bond_options(bond))


def desired_state(model):
    """The OVS state for an openvswitch model: {'bridges': {...}, 'ports': {...}}.

    bridges: NAME -> {name, datapath_type, parent, vlan, stp_enable, forward_delay, mtu}
    ports:   NAME -> {name, bridge, kind (bond|system), interfaces, options: [(column, value)]}
    Fake bridges carry parent/vlan and no ports of their own. Ports are keyed by port name.
    """
    if model['backend'] != 'openvswitch':
        return {'bridges': {}, 'ports': {}}
    datapath = model['ovs']['datapath_type']
    bridges = {}
    ports = {}
    for name, br in model['bridges'].items():
        bridges[name] = {
            'name': name,
            'datapath_type': datapath,
            'parent': br['parent'],
            'vlan': br['vlan'] if br['parent'] else None,
            'stp_enable': br['stp'] if not br['parent'] else False,
            'forward_delay': br['forward_delay'] if br['stp'] and not br['parent'] else None,
            'mtu': br['mtu'],
        }
        if br['parent'] or not br['uplink']:
            continue
        uplink = br['uplink']
        if br['uplink_kind'] == 'bond':
            bond = model['bonds'][uplink]
            ports[uplink] = {'name': uplink, 'bridge': name, 'kind': 'bond',
                             'interfaces': list(bond['interfaces']), 'options': bond_options(bond)}
        else:
            ports[uplink] = {'name': uplink, 'bridge': name, 'kind': 'system',
                             'interfaces': [uplink], 'options': []}
    return {'bridges': bridges, 'ports': ports}


def commands_from_scratch(state):
    """ovs-vsctl argv lists that build ``state`` on an empty database, parents before fakes."""
    cmds = []
    ordered = sorted(state['bridges'].values(), key=lambda b: (b['parent'] is not None, b['name']))
    for br in ordered:
        if br['parent']:
            cmd = ['ovs-vsctl', '--may-exist', 'add-br', br['name'], br['parent'], str(br['vlan'])]
        else:
            cmd = ['ovs-vsctl', '--may-exist', 'add-br', br['name'], '--', 'set', 'Bridge', br['name'],
                   'datapath_type=%s' % br['datapath_type']]
            if br['stp_enable']:
                cmd += ['stp_enable=true', 'other_config:stp-forward-delay=%d' % br['forward_delay']]
        cmds.append(cmd)
        if br['mtu']:
            cmds.append(['ovs-vsctl', 'set', 'Interface', br['name'], 'mtu_request=%d' % br['mtu']])
        port = [p for p in state['ports'].values() if p['bridge'] == br['name']]
        for p in sorted(port, key=lambda x: x['name']):
            if p['kind'] == 'bond':
                cmds.append(['ovs-vsctl', '--may-exist', 'add-bond', br['name'], p['name']] + p['interfaces']
                            + ['%s=%s' % kv for kv in p['options']])
            else:
                cmds.append(['ovs-vsctl', '--may-exist', 'add-port', br['name'], p['name']])
    return cmds


def format_commands(cmds):
    """One shell-quoted line per command, for people to read or paste."""
    return ''.join(' '.join(_quote(a) for a in cmd) + '\n' for cmd in cmds)
