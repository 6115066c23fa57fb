# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The realised network as a ``kvm_network`` the user could have written (``gathered``, as
Ansible's network resource modules name it): fed back as the model it validates, and verify finds
no difference. Built from the model view (``view.build_model``) and the raw sections.

Only what differs from the model's defaults is written (an MTU of 1500, miimon 0 delays, a slow
LACP rate are left out), so the result reads like a hand-written model. What the model cannot
express, or what the live network cannot tell, is listed in ``left_out``, one sentence each
naming the object, never dropped silently: NICs no bridge or bond uses, bridges without an uplink,
a host with both Linux and Open vSwitch bridges, DNS servers and CloudStack traffic labels (not
in the network itself), NIC names given by MAC (the live network shows the names, not the rule).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    LINUX_PRIMARY_MODES,
    LINUX_XMIT_HASH_MODES,
    natural_key,
)

DEFAULT_MTU = 1500
DEFAULT_MIIMON = 100      # the model's default (normalise.BOND_DEFAULTS)
# The Linux bond modes whose LACP rate means something.
LACP_MODE = '802.3ad'


def _sorted(mapping):
    return dict((k, mapping[k]) for k in sorted(mapping, key=natural_key))


def _mtu(out, value):
    if value and value != DEFAULT_MTU:
        out['mtu'] = value


def _monitoring(out, bond):
    """miimon where it is not the model's default (0: carrier detection), and the delays with it."""
    miimon = bond['miimon'] or 0
    if miimon != DEFAULT_MIIMON:
        out['miimon'] = miimon
    if miimon:
        for key in ('updelay', 'downdelay'):
            if bond[key]:
                out[key] = bond[key]


def _linux_bond(bond):
    out = {'interfaces': sorted(bond['interfaces'], key=natural_key), 'mode': bond['mode']}
    _monitoring(out, bond)
    if bond['primary'] and bond['mode'] in LINUX_PRIMARY_MODES:
        out['primary'] = bond['primary']
    if bond['mode'] == LACP_MODE and bond['lacp_rate'] == 'fast':
        out['lacp_rate'] = 'fast'
    if bond['mode'] in LINUX_XMIT_HASH_MODES and bond['xmit_hash_policy'] not in (None, 'layer2'):
        out['xmit_hash_policy'] = bond['xmit_hash_policy']
    _mtu(out, bond['mtu'])
    return out


def _ovs_bond(name, bond, left_out):
    out = {'interfaces': sorted(bond['interfaces'], key=natural_key), 'mode': bond['mode']}
    if bond['lacp'] not in (None, 'off'):
        out['lacp'] = bond['lacp']
        if bond['lacp_rate'] == 'fast':
            out['lacp_rate'] = 'fast'
    _monitoring(out, bond)
    if not bond['miimon'] and (bond['updelay'] or bond['downdelay']):
        left_out.append('bond %s: updelay %s and downdelay %s with carrier detection (no miimon): the model sets the '
                        'delays only with miimon' % (name, bond['updelay'], bond['downdelay']))
    if bond['primary'] and bond['mode'] == 'active-backup':
        out['primary'] = bond['primary']
    return out


def _bridge(name, br, model, left_out):
    out = {}
    if br['uplink'] is None:
        left_out.append('bridge %s: it has no NIC, bond or VLAN device as its uplink (ports: %s), which the model '
                        'needs' % (name, ', '.join(br['ports']) or 'none'))
        return None
    out['uplink'] = br['uplink']
    if br['vlan'] is not None:
        out['vlan'] = br['vlan']
        if br['vlan_interface'] and br['vlan_interface'] != '%s.%d' % (br['uplink'], br['vlan']):
            out['vlan_interface'] = br['vlan_interface']
    if br['addresses']:
        out['addresses'] = list(br['addresses'])
    if br['dhcp4']:
        out['dhcp4'] = True
    for key in ('gateway4', 'gateway6'):
        if br[key]:
            out[key] = br[key]
    if br['type'] == 'linux_bridge':
        uplink_mtu = _uplink_mtu(model, br['uplink'])
        if br['mtu'] and br['mtu'] != uplink_mtu:
            out['mtu'] = br['mtu']
    else:
        _mtu(out, br['mtu'])
    if br['stp']:
        out['stp'] = True
        if br['forward_delay'] is not None:
            out['forward_delay'] = br['forward_delay']
    return out


def _uplink_mtu(model, uplink):
    for section in ('ethernets', 'bonds'):
        if uplink in model[section]:
            return model[section][uplink]['mtu'] or DEFAULT_MTU
    return DEFAULT_MTU


# The network stacks (host_network owners) the collection renders for, by renderer name.
RENDERED_OWNERS = ('netplan', 'ifupdown', 'networkmanager', 'ifcfg')


def _renderer(out, owners, left_out):
    """``renderer``: the stack that configures the model's bridges now, so that taking the host over
    keeps it there (moving to another would re-create every interface); left out, and said, when
    the bridges have no single stack the collection renders for."""
    if owners is None:
        return
    ordered = list(out.items())
    found = {}
    for name in out['bridges']:
        owner = (owners.get(name) or {}).get('owner', 'unknown')
        found.setdefault(owner, []).append(name)
    if len(found) == 1 and list(found)[0] in RENDERED_OWNERS:
        out.clear()     # written after the backend, as a user would
        out.update(ordered[:1] + [('renderer', list(found)[0])] + ordered[1:])
    elif found:
        left_out.append('renderer: the bridges are configured by %s, not by one system the collection renders for '
                        '(%s); set renderer to the one that should own them'
                        % ('; '.join('%s (%s)' % (o, ', '.join(sorted(n, key=natural_key)))
                                     for o, n in sorted(found.items())), ', '.join(RENDERED_OWNERS)))


def _management(out, connection_address, left_out):
    """``traffic_labels.management``: the bridge that holds the address the host is reached at (the
    one CloudStack's management server reaches the agent on); the other labels are the user's."""
    holders = sorted(name for name, br in out['bridges'].items()
                     if connection_address and any(a.split('/')[0] == connection_address
                                                   for a in br.get('addresses') or []))
    if len(holders) == 1:
        out['traffic_labels'] = {'management': holders[0]}
        left_out.append('traffic_labels: management is %s, the bridge with the address the host is reached at (%s); '
                        'guest, public and storage are CloudStack\'s, not in the network: add them (agent.properties '
                        'names the devices)' % (holders[0], connection_address))
    else:
        left_out.append('traffic_labels (management, guest, public, storage): CloudStack\'s, not in the network; add '
                        'them (agent.properties names the devices)')


def gathered(facts, connection_address=None):
    """{'kvm_network': the model as the user would write it, 'left_out': [what it cannot say]}
    from host_network facts (with their ``model`` section); ``connection_address``: the address the
    host is reached at, whose bridge is labelled management."""
    model = facts['model']
    left_out = []
    backend = model['backend']
    if backend == 'mixed':
        left_out.append('the host has both Linux and Open vSwitch bridges, and a model has one backend: the Linux '
                        'bridges are described, the Open vSwitch ones are not (%s)'
                        % ', '.join(n for n, b in model['bridges'].items() if b['type'] == 'openvswitch'))
        backend = 'linux_bridge'
    wanted_type = 'openvswitch' if backend == 'openvswitch' else 'linux_bridge'
    out = {'backend': backend or 'linux_bridge'}
    if backend == 'openvswitch' and (model.get('ovs') or {}).get('datapath_type') not in (None, 'system'):
        datapath = model['ovs']['datapath_type']
        if isinstance(datapath, list):
            left_out.append('the Open vSwitch bridges have different datapath types (%s), and a model has one: '
                            'the first is kept' % ', '.join(datapath))
            datapath = datapath[0]
        if datapath != 'system':
            out['ovs'] = {'datapath_type': datapath}

    bridges = {}
    for name, br in model['bridges'].items():
        if br['type'] != wanted_type:
            continue
        entry = _bridge(name, br, model, left_out)
        if entry is not None:
            bridges[name] = entry
    used = set()
    bonds = {}
    for entry in bridges.values():
        used.add(entry['uplink'])
    for name, bond in model['bonds'].items():
        if name not in used:
            left_out.append('bond %s: no bridge of the model uses it' % name)
            continue
        linux = backend != 'openvswitch'
        bonds[name] = _linux_bond(bond) if linux else _ovs_bond(name, bond, left_out)
        used.update(bond['interfaces'])
    ethernets = {}
    for name, eth in model['ethernets'].items():
        if name not in used:
            left_out.append('ethernet %s: no bridge or bond of the model uses it (the management NIC of a lab, a spare '
                            'NIC): left out' % name)
            continue
        entry = {}
        _mtu(entry, eth['mtu'])
        if (eth.get('sriov') or {}).get('numvfs'):
            entry['sriov'] = {'vfs': eth['sriov']['numvfs']}
            left_out.append('ethernet %s: its VFs\' MAC, VLAN, trust and spoof checking, and how their count is kept '
                            'across reboots, are not read; add them to sriov where the host sets them' % name)
        ethernets[name] = entry
    if ethernets:
        out['ethernets'] = _sorted(ethernets)
    if bonds:
        out['bonds'] = _sorted(bonds)
    out['bridges'] = _sorted(bridges)
    if not bridges:
        left_out.insert(0, 'no bridge: the host has no bridge with an uplink, so there is nothing for the collection to '
                        'take over, and a model needs at least its management bridge; its first model (cloudbr0 on '
                        'the NIC that has its address) is a change, commit-confirmed')
    _renderer(out, facts.get('owners'), left_out)
    left_out.append('DNS servers and search domains: not read from the network; add nameservers to the bridge that '
                    'has them')
    _management(out, connection_address, left_out)
    left_out.append('NIC names given by MAC (match.macaddress): the network shows the names, not how they were '
                    'given; add match where the host relies on it')
    return {'kvm_network': out, 'left_out': left_out}
