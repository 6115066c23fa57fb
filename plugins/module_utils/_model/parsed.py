# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Configuration text turned into a ``kvm_network`` offline, without a host (``parsed``, as
Ansible's network resource modules name it): here netplan YAML, every file of a host's netplan
configuration merged as netplan merges them. What the model cannot say is listed in
``left_out``, one sentence each, never dropped silently.

The mapping is the netplan renderer's, read backwards (``_render/netplan.py``): NICs (named by
``set-name`` when matched by MAC), Linux bonds and their ``parameters``, VLAN devices under the
bridges that use them, Open vSwitch bridges, bonds (``openvswitch``: lacp and other-config) and
fake bridges (a VLAN whose link is an Open vSwitch bridge).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

# What netplan defaults to when a key is absent, where the model's default differs.
NETPLAN_BOND_MODE = 'balance-rr'
NETPLAN_MIIMON = 0
DEFAULT_ROUTES = ('0.0.0.0/0', 'default', '::/0')
# Keys of netplan entries the model has no place for but that are harmless to drop.
QUIET_KEYS = ('dhcp4', 'dhcp6', 'link-local', 'renderer', 'optional', 'critical', 'accept-ra')


class ParseError(Exception):
    pass


def merge(texts):
    """The ``network`` mapping of several netplan files merged in order (later files win, mappings
    merge key by key, as netplan does)."""
    if not HAS_YAML:
        raise ParseError('PyYAML is needed to read netplan files')
    merged = {}
    for name, text in texts:
        try:
            data = yaml.safe_load(text or '') or {}
        except yaml.YAMLError as err:
            raise ParseError('%s is not valid YAML: %s' % (name, err))
        network = data.get('network') if isinstance(data, dict) else None
        if network is None:
            continue
        if not isinstance(network, dict):
            raise ParseError('%s: network must be a mapping' % name)
        _merge_into(merged, network)
    return merged


def _merge_into(target, source):
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = value


def _int(value):
    try:
        return int(str(value).replace('ms', '').strip())
    except (TypeError, ValueError):
        return None


def _extra_keys(left_out, what, entry, known):
    for key in sorted(set(entry) - set(known) - set(QUIET_KEYS)):
        left_out.append('%s: %s is not something kvm_network expresses: left out' % (what, key))


def _l3(entry, out, what, left_out):
    if entry.get('addresses'):
        out['addresses'] = [str(a) if not isinstance(a, dict) else str(list(a)[0]) for a in entry['addresses']]
    for key in ('dhcp4', 'dhcp6'):
        if entry.get(key) in (True, 'true', 'yes', 'on'):
            out[key] = True
    for key in ('gateway4', 'gateway6'):
        if entry.get(key):
            out[key] = str(entry[key])
    routes = []
    for route in entry.get('routes') or []:
        to, via = str(route.get('to')), route.get('via')
        if to in DEFAULT_ROUTES and via:
            out['gateway6' if ':' in str(via) else 'gateway4'] = str(via)
        elif via:
            item = {'to': to, 'via': str(via)}
            if route.get('metric') is not None:
                item['metric'] = _int(route['metric'])
            routes.append(item)
        else:
            left_out.append('%s: route to %s without via: left out' % (what, to))
    if routes:
        out['routes'] = routes
    ns = entry.get('nameservers') or {}
    if ns.get('addresses') or ns.get('search'):
        out['nameservers'] = {}
        if ns.get('addresses'):
            out['nameservers']['addresses'] = [str(a) for a in ns['addresses']]
        if ns.get('search'):
            out['nameservers']['search'] = [str(s) for s in ns['search']]
    if entry.get('mtu'):
        out['mtu'] = _int(entry['mtu'])


def parse_netplan(texts):
    """{'kvm_network': ..., 'left_out': [...]} from [(file name, text)] of a host's netplan files."""
    network = merge(texts)
    left_out = []
    ethernets_in = network.get('ethernets') or {}
    bonds_in = network.get('bonds') or {}
    vlans_in = network.get('vlans') or {}
    bridges_in = network.get('bridges') or {}
    ovs = any(isinstance(e, dict) and 'openvswitch' in e for e in list(bridges_in.values()) + list(bonds_in.values()))
    name_of = dict((i, str((e or {}).get('set-name') or i)) for i, e in ethernets_in.items())

    ethernets = {}
    for netplan_id, entry in ethernets_in.items():
        entry = entry or {}
        name = name_of[netplan_id]
        out = {}
        match = entry.get('match') or {}
        if match.get('macaddress'):
            out['match'] = {'macaddress': str(match['macaddress']).lower()}
        for key in sorted(set(match) - {'macaddress'}):
            left_out.append('ethernet %s: match.%s (the model matches NICs by MAC only): left out' % (name, key))
        if entry.get('mtu'):
            out['mtu'] = _int(entry['mtu'])
        if entry.get('addresses') or entry.get('dhcp4') in (True, 'true', 'yes') or entry.get('dhcp6') in (True, 'true'):
            left_out.append('ethernet %s: has addresses or DHCP of its own; the model puts addresses on bridges only '
                            '(put it under a bridge: uplink %s)' % (name, name))
        _extra_keys(left_out, 'ethernet %s' % name, entry, ('match', 'set-name', 'mtu', 'addresses', 'wakeonlan'))
        ethernets[name] = out

    bonds = {}
    for name, entry in bonds_in.items():
        entry = entry or {}
        params = entry.get('parameters') or {}
        out = {'interfaces': [name_of.get(i, str(i)) for i in entry.get('interfaces') or []],
               'mode': str(params.get('mode') or NETPLAN_BOND_MODE)}
        if 'openvswitch' in entry:
            ovs_conf = entry.get('openvswitch') or {}
            other = ovs_conf.get('other-config') or {}
            if ovs_conf.get('lacp') not in (None, 'off'):
                out['lacp'] = str(ovs_conf['lacp'])
            out['miimon'] = _int(other.get('bond-miimon-interval')) if other.get('bond-detect-mode') == 'miimon' else 0
            if other.get('lacp-time'):
                out['lacp_rate'] = str(other['lacp-time'])
            if other.get('bond-primary'):
                out['primary'] = str(other['bond-primary'])
        else:
            miimon = _int(params.get('mii-monitor-interval'))
            out['miimon'] = NETPLAN_MIIMON if miimon is None else miimon
            for key, model_key in (('up-delay', 'updelay'), ('down-delay', 'downdelay')):
                if params.get(key) is not None:
                    out[model_key] = _int(params[key])
            for key, model_key in (('primary', 'primary'), ('lacp-rate', 'lacp_rate'),
                                   ('transmit-hash-policy', 'xmit_hash_policy')):
                if params.get(key):
                    out[model_key] = name_of.get(params[key], str(params[key])) if key == 'primary' else str(params[key])
            if entry.get('mtu'):
                out['mtu'] = _int(entry['mtu'])
            _extra_keys(left_out, 'bond %s parameters' % name, params,
                        ('mode', 'mii-monitor-interval', 'up-delay', 'down-delay', 'primary', 'lacp-rate',
                         'transmit-hash-policy'))
        if entry.get('addresses'):
            left_out.append('bond %s: has addresses of its own; the model puts them on the bridge on it' % name)
        bonds[name] = out

    bridges = {}
    used_vlans = set()
    for name, entry in bridges_in.items():
        entry = entry or {}
        ports = [name_of.get(p, str(p)) for p in entry.get('interfaces') or []]
        out = {}
        if len(ports) > 1:
            left_out.append('bridge %s: has %d ports (%s); the model gives a bridge one uplink: %s kept'
                            % (name, len(ports), ', '.join(ports), ports[0]))
        if ports:
            port = ports[0]
            vlan = vlans_in.get(port)
            if vlan is not None and 'openvswitch' not in (vlan or {}):
                used_vlans.add(port)
                link = name_of.get(vlan.get('link'), str(vlan.get('link')))
                out.update(uplink=link, vlan=_int(vlan.get('id')))
                if port != '%s.%s' % (link, out['vlan']):
                    out['vlan_interface'] = port
            else:
                out['uplink'] = port
        _l3(entry, out, 'bridge %s' % name, left_out)
        params = entry.get('parameters') or {}
        if params.get('stp') in (True, 'true', 'yes', 'on'):
            out['stp'] = True
            if params.get('forward-delay') is not None:
                out['forward_delay'] = _int(params['forward-delay'])
        _extra_keys(left_out, 'bridge %s' % name, entry,
                    ('interfaces', 'addresses', 'gateway4', 'gateway6', 'routes', 'nameservers', 'mtu', 'parameters',
                     'openvswitch'))
        bridges[name] = out
    for name, entry in vlans_in.items():
        entry = entry or {}
        if 'openvswitch' in entry and entry.get('link') in bridges:
            # An Open vSwitch fake bridge: a VLAN of its parent bridge's uplink.
            parent = bridges[entry['link']]
            out = {'uplink': parent.get('uplink'), 'vlan': _int(entry.get('id'))}
            _l3(entry, out, 'bridge %s' % name, left_out)
            bridges[name] = out
        elif name not in used_vlans:
            left_out.append('vlan %s: no bridge uses it; the model has VLANs only as bridges (add a bridge with '
                            'uplink %s and vlan %s)' % (name, entry.get('link'), entry.get('id')))

    model = {'backend': 'openvswitch' if ovs else 'linux_bridge'}
    for key, section in (('ethernets', ethernets), ('bonds', bonds), ('bridges', bridges)):
        if section:
            model[key] = section
    left_out.append('traffic_labels (management, guest, public, storage): CloudStack\'s, not in netplan; add them')
    return {'kvm_network': model, 'left_out': left_out}
