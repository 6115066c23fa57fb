# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The realised network in the shape of the normalised ``kvm_network`` model (``build_model``),
so verification is a comparison; and CloudStack's own ``cloud0`` bridge, reported beside it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import LINUX_PRIMARY_MODES, natural_key

# Bridges that are not part of the user's model: CloudStack's link-local cloud0 and libvirt's
# own NAT networks (virbr*). They are reported in the raw sections, never in ``model``.
CLOUD0 = 'cloud0'
NON_MODEL_BRIDGE_RE = re.compile(r'^(?:cloud0|virbr\d+)$')


def _is_nic(link):
    return link['type'] in ('ethernet', 'veth')


def _l3(name, addresses, routes):
    addrs = addresses.get(name) or []
    static = [a['cidr'] for a in addrs if a['scope'] == 'global' and not a['dynamic']]
    gw4 = [r['gateway'] for r in routes['ipv4'] if r['dev'] == name and r['gateway']]
    gw6 = [r['gateway'] for r in routes['ipv6'] if r['dev'] == name and r['gateway']]
    return {
        'addresses': static,
        'dhcp4': any(a['family'] == 4 and a['dynamic'] for a in addrs),
        'gateway4': gw4[0] if gw4 else None,
        'gateway6': gw6[0] if gw6 else None,
    }


def detect_backend(linux_bridges_, ovs):
    lb = [n for n in linux_bridges_ if not NON_MODEL_BRIDGE_RE.match(n)]
    ob = [n for n in ((ovs or {}).get('bridges') or {}) if not NON_MODEL_BRIDGE_RE.match(n)]
    if lb and ob:
        return 'mixed'
    if ob:
        return 'openvswitch'
    if lb:
        return 'linux_bridge'
    return None


def build_model(facts):
    """The realised network in the shape of the normalised ``kvm_network`` model.

    ``facts`` holds the raw sections (links, addresses, routes, linux_bridges, bonds, vlans, ovs).
    """
    links = facts.get('links') or {}
    addresses = facts.get('addresses') or {}
    routes = facts.get('routes') or {'ipv4': [], 'ipv6': []}
    lbr = facts.get('linux_bridges') or {}
    lbonds = facts.get('bonds') or {}
    lvlans = facts.get('vlans') or {}
    ovs = facts.get('ovs') or {}
    obridges = ovs.get('bridges') or {}
    obonds = ovs.get('bonds') or {}
    backend = detect_backend(lbr, ovs)

    ethernets, bonds, bridges, vlans = {}, {}, {}, {}
    ovs_member_of = dict((m, b) for b, bond in obonds.items() for m in bond['members'])
    for name in sorted(links, key=natural_key):
        link = links[name]
        if not _is_nic(link):
            continue
        mac = link['permanent_mac']
        if mac is None:
            mac = (lbonds.get(link['master'] or '') or {}).get('member_permanent_macs', {}).get(name)
        bond = link['master'] if link['master'] in lbonds else ovs_member_of.get(name)
        bridge = link['master'] if link['master'] in lbr else None
        if bridge is None:
            oi = (ovs.get('interfaces') or {}).get(name)
            if oi and oi['port'] == name:
                bridge = oi['bridge']
        ethernets[name] = {'name': name, 'match': {'macaddress': mac or link['mac']}, 'mtu': link['mtu'],
                           'bond': bond, 'bridge': bridge, 'sriov': link.get('sriov'), 'state': link['state']}

    for name, b in lbonds.items():
        bonds[name] = {
            'name': name, 'interfaces': sorted(b['members'], key=natural_key), 'mode': b['mode'], 'miimon': b['miimon'],
            'updelay': b['updelay'], 'downdelay': b['downdelay'],
            'primary': b['primary'] if b['mode'] in LINUX_PRIMARY_MODES else None,
            'lacp': None, 'lacp_rate': b['lacp_rate'], 'xmit_hash_policy': b['xmit_hash_policy'],
            'mtu': b['mtu'], 'bridge': (links.get(name) or {}).get('master') if (links.get(name) or {}).get('master') in lbr else None,
            'active': b['active'],
        }
    for name, b in obonds.items():
        member_mtus = [links[m]['mtu'] for m in b['members'] if m in links]
        bonds[name] = {
            'name': name, 'interfaces': list(b['members']), 'mode': b['mode'], 'miimon': b['miimon'],
            'updelay': b['updelay'], 'downdelay': b['downdelay'],
            'primary': b['primary'] if b['mode'] == 'active-backup' else None,
            'lacp': b['lacp'], 'lacp_rate': b['lacp_rate'], 'xmit_hash_policy': None,
            'mtu': min(member_mtus) if member_mtus else None, 'bridge': b['bridge'], 'active': b['active'],
        }

    def kind(port):
        if port in bonds:
            return 'bond'
        if port in ethernets:
            return 'ethernet'
        return None

    for name, vl in lvlans.items():
        vlans[name] = {'name': name, 'id': vl['id'], 'link': vl['link'],
                       'bridge': (links.get(name) or {}).get('master')}

    for name, br in lbr.items():
        if NON_MODEL_BRIDGE_RE.match(name):
            continue
        candidates = [p for p in br['ports'] if p in lvlans or p in bonds or (p in links and _is_nic(links[p]))]
        entry = {'name': name, 'uplink': None, 'uplink_kind': None, 'vlan': None, 'vlan_interface': None,
                 'parent': None, 'port': None, 'ports': list(br['ports']), 'mtu': br['mtu'], 'stp': br['stp'],
                 'forward_delay': br['forward_delay'], 'type': 'linux_bridge'}
        if candidates:
            port = candidates[0]
            entry['port'] = port
            if port in lvlans:
                entry['vlan'] = lvlans[port]['id']
                entry['vlan_interface'] = port
                entry['uplink'] = lvlans[port]['link']
            else:
                entry['uplink'] = port
            entry['uplink_kind'] = kind(entry['uplink'])
        entry.update(_l3(name, addresses, routes))
        bridges[name] = entry

    for name, br in obridges.items():
        if NON_MODEL_BRIDGE_RE.match(name):
            continue
        entry = {'name': name, 'uplink': None, 'uplink_kind': None, 'vlan': None, 'vlan_interface': None,
                 'parent': None, 'port': None, 'ports': sorted(br['ports'], key=natural_key),
                 'mtu': (links.get(name) or {}).get('mtu'), 'stp': br['stp'],
                 'forward_delay': br['forward_delay'], 'type': 'openvswitch'}
        if br['fake']:
            parent = obridges.get(br['parent']) or {}
            entry['parent'] = br['parent']
            entry['vlan'] = br['vlan']
            entry['ports'] = [name]
            entry['forward_delay'] = None
            up = _ovs_uplink(br['parent'], parent)
        else:
            up = _ovs_uplink(name, br)
        if up:
            entry['uplink'] = entry['port'] = up
            entry['uplink_kind'] = kind(up)
        entry.update(_l3(name, addresses, routes))
        bridges[name] = entry

    datapaths = sorted(set(b['datapath_type'] for n, b in obridges.items() if not NON_MODEL_BRIDGE_RE.match(n)))
    model = {
        'backend': backend,
        'ethernets': ethernets,
        'bonds': dict((k, bonds[k]) for k in sorted(bonds, key=natural_key)),
        'bridges': dict((k, bridges[k]) for k in sorted(bridges, key=natural_key)),
        'vlans': vlans,
    }
    if obridges:
        model['ovs'] = {'datapath_type': datapaths[0] if len(datapaths) == 1 else (datapaths or None)}
    return model


def _ovs_uplink(name, br):
    """The uplink port of an OVS bridge: its bond port, else its one NIC port."""
    ports = br.get('ports') or {}
    bonds = sorted((p for p, d in ports.items() if d['type'] == 'bond'), key=natural_key)
    if bonds:
        return bonds[0]
    nics = sorted((p for p, d in ports.items()
                   if d['type'] in ('system', 'dpdk', 'afxdp') and p != name and not d['fake_bridge']), key=natural_key)
    return nics[0] if nics else None


def cloud0_facts(links, addresses, lbr, ovs):
    """CloudStack's own link-local bridge cloud0, or None when it does not exist."""
    if CLOUD0 in lbr:
        kind, ports = 'linux_bridge', lbr[CLOUD0]['ports']
    elif CLOUD0 in ((ovs or {}).get('bridges') or {}):
        kind, ports = 'openvswitch', sorted(p for p in ovs['bridges'][CLOUD0]['ports'] if p != CLOUD0)
    elif CLOUD0 in links:
        kind, ports = links[CLOUD0]['type'], []
    else:
        return None
    return {
        'type': kind,
        'state': (links.get(CLOUD0) or {}).get('state'),
        'addresses': [a['cidr'] for a in addresses.get(CLOUD0) or []
                      if a['scope'] != 'host' and not (a['family'] == 6 and a['scope'] == 'link')],
        'ports': ports,
    }
