# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""NetworkManager keyfiles (``/etc/NetworkManager/system-connections/*.nmconnection``) turned into a
``kvm_network`` offline, with what the model cannot say in ``left_out`` (see ``parsed.py``). The
mapping is the NetworkManager renderer's read backwards (``_render/networkmanager.py``): ports
name their controller by UUID or interface name; Linux bridges, bonds, VLANs and NICs; Open
vSwitch bridges, their ports (a bond when the port has ``bond-mode`` or members, a VLAN bridge
when it has a ``tag``) and their internal interfaces, which carry the IP configuration.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key

try:
    import configparser
except ImportError:  # Python 2 is not supported by the collection; kept importable for sanity
    configparser = None


def _profiles(texts, left_out):
    out = []
    for path, text in texts:
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        try:
            parser.read_string(text or '')
        except configparser.Error as err:
            left_out.append('%s: not a keyfile NetworkManager reads (%s): left out' % (path, err))
            continue
        if not parser.has_section('connection'):
            continue
        prof = dict((s, dict(parser.items(s))) for s in parser.sections())
        prof['_path'] = path
        out.append(prof)
    return out


def _ip(prof, out, what, left_out):
    for family, section in ((4, 'ipv4'), (6, 'ipv6')):
        conf = prof.get(section) or {}
        method = conf.get('method', 'auto' if family == 4 else 'ignore')
        if method == 'auto':
            out['dhcp%d' % family] = True
        elif method == 'dhcp' and family == 6:
            out['dhcp6'] = True
        addresses = []
        for n in range(1, 100):
            value = conf.get('address%d' % n) or conf.get('addresses%d' % n)
            if not value:
                continue
            parts = value.split(',')
            addresses.append(parts[0])
            if len(parts) > 1 and parts[1]:
                out['gateway%d' % family] = parts[1]
        if conf.get('gateway'):
            out['gateway%d' % family] = conf['gateway']
        if addresses:
            out.setdefault('addresses', []).extend(addresses)
        servers = [s for s in (conf.get('dns') or '').split(';') if s]
        search = [s for s in (conf.get('dns-search') or '').split(';') if s]
        if servers:
            out.setdefault('nameservers', {}).setdefault('addresses', []).extend(servers)
        if search:
            out.setdefault('nameservers', {})['search'] = search
        for n in range(1, 100):
            value = conf.get('route%d' % n)
            if not value:
                continue
            parts = value.split(',')
            if parts[0] in ('0.0.0.0/0', '::/0') and len(parts) > 1:
                out['gateway%d' % family] = parts[1]
                continue
            route = {'to': parts[0], 'via': parts[1] if len(parts) > 1 else None}
            if len(parts) > 2 and parts[2]:
                route['metric'] = int(parts[2])
            if route['via'] is None:
                left_out.append('%s: route to %s without a gateway: left out' % (what, parts[0]))
                continue
            out.setdefault('routes', []).append(route)


def _mtu(prof):
    value = (prof.get('ethernet') or {}).get('mtu')
    return int(value) if value and value.isdigit() and int(value) else None


def parse_networkmanager(texts):
    """{'kvm_network': ..., 'left_out': [...]} from [(path, text)] of keyfiles."""
    left_out = []
    profiles = _profiles(texts, left_out)
    by_ref = {}
    for prof in profiles:
        conn = prof['connection']
        for ref in (conn.get('uuid'), conn.get('id'), conn.get('interface-name')):
            if ref:
                by_ref.setdefault(ref, prof)

    def controller(prof):
        return by_ref.get(prof['connection'].get('master') or prof['connection'].get('controller'))

    def ifname(prof):
        return prof['connection'].get('interface-name') or prof['connection'].get('id')

    def kind(prof):
        return prof['connection'].get('type')

    ovs = any(kind(p) == 'ovs-bridge' for p in profiles)
    ethernets, bonds, bridges = {}, {}, {}
    datapath = None
    for prof in profiles:
        name, what = ifname(prof), 'profile %s' % prof['connection'].get('id')
        if kind(prof) in ('ethernet', '802-3-ethernet'):
            eth = {}
            mac = (prof.get('ethernet') or {}).get('mac-address')
            if mac:
                eth['match'] = {'macaddress': mac.lower()}
            parent = controller(prof)
            if _mtu(prof) and not (parent and kind(parent) in ('bond', 'ovs-port')):
                eth['mtu'] = _mtu(prof)
            if not parent and any((prof.get(s) or {}).get('method') not in (None, 'disabled', 'ignore')
                                  for s in ('ipv4', 'ipv6')):
                left_out.append('ethernet %s: has addresses or DHCP of its own; the model puts addresses on bridges '
                                'only (put it under a bridge: uplink %s)' % (name, name))
            ethernets[name] = eth
        elif kind(prof) == 'bond':
            conf = prof.get('bond') or {}
            bond = {'interfaces': [], 'mode': conf.get('mode', 'balance-rr'), 'miimon': int(conf.get('miimon', 0))}
            for key in ('updelay', 'downdelay'):
                if conf.get(key) is not None:
                    bond[key] = int(conf[key])
            for key in ('primary', 'lacp_rate', 'xmit_hash_policy'):
                if conf.get(key):
                    bond[key] = conf[key]
            if _mtu(prof):
                bond['mtu'] = _mtu(prof)
            bonds[name] = bond
        elif kind(prof) == 'bridge':
            conf = prof.get('bridge') or {}
            entry = {}
            _ip(prof, entry, what, left_out)
            if conf.get('stp', 'true') == 'true':
                entry['stp'] = True
                entry['forward_delay'] = int(conf.get('forward-delay', 15))
            if _mtu(prof):
                entry['mtu'] = _mtu(prof)
            bridges[name] = entry
        elif kind(prof) == 'ovs-bridge':
            conf = prof.get('ovs-bridge') or {}
            entry = {}
            if conf.get('datapath-type') not in (None, 'system'):
                datapath = conf['datapath-type']
            if conf.get('stp-enable') == 'true':
                entry['stp'] = True
                delay = (prof.get('ovs-other-config') or {}).get('data.stp-forward-delay')
                if delay:
                    entry['forward_delay'] = int(delay)
            bridges[name] = entry
    # Second pass: what plugs into what.
    for prof in profiles:
        name, parent = ifname(prof), controller(prof)
        if parent is None:
            continue
        if kind(prof) in ('ethernet', 'bond', 'vlan') and kind(parent) == 'bridge':
            entry = bridges[ifname(parent)]
            if kind(prof) == 'vlan':
                conf = prof.get('vlan') or {}
                link, vid = conf.get('parent'), int(conf.get('id', 0))
                link = ifname(by_ref[link]) if link in by_ref else link
                entry.update(uplink=link, vlan=vid)
                if name != '%s.%d' % (link, vid):
                    entry['vlan_interface'] = name
            else:
                entry['uplink'] = name
        elif kind(prof) == 'ethernet' and kind(parent) == 'bond':
            bonds[ifname(parent)]['interfaces'].append(name)
        elif kind(prof) == 'ethernet' and kind(parent) == 'ovs-port':
            port = ifname(parent)
            members = [ifname(p) for p in profiles if controller(p) is parent and kind(p) == 'ethernet']
            if len(members) > 1 or (parent.get('ovs-port') or {}).get('bond-mode'):
                bonds.setdefault(port, {'interfaces': []})
                if name not in bonds[port]['interfaces']:
                    bonds[port]['interfaces'].append(name)
        elif kind(prof) == 'ovs-interface' and kind(parent) == 'ovs-port':
            bridge_prof = controller(parent)
            if bridge_prof is None:
                continue
            tag = (parent.get('ovs-port') or {}).get('tag')
            if tag:
                entry = bridges.setdefault(name, {})
                entry['_parent'], entry['vlan'] = ifname(bridge_prof), int(tag)
            else:
                entry = bridges.setdefault(ifname(bridge_prof), {})
            _ip(prof, entry, 'profile %s' % prof['connection'].get('id'), left_out)
            if _mtu(prof):
                entry['mtu'] = _mtu(prof)
    # Open vSwitch: each bridge's uplink port (a bond port or a NIC's port), and bond settings.
    for prof in profiles:
        if kind(prof) != 'ovs-port' or controller(prof) is None:
            continue
        port, bridge = ifname(prof), ifname(controller(prof))
        conf = prof.get('ovs-port') or {}
        if conf.get('tag') or port == bridge or port in bridges:
            continue
        bridges.setdefault(bridge, {})['uplink'] = port
        if port in bonds:
            other = prof.get('ovs-other-config') or {}
            bond = bonds[port]
            bond['mode'] = conf.get('bond-mode', 'active-backup')
            if conf.get('lacp', 'off') != 'off':
                bond['lacp'] = conf['lacp']
            bond['miimon'] = (int(other['data.bond-miimon-interval']) if other.get('data.bond-detect-mode') == 'miimon'
                              and other.get('data.bond-miimon-interval') else 0)
            if other.get('data.lacp-time'):
                bond['lacp_rate'] = other['data.lacp-time']
            if other.get('data.bond-primary'):
                bond['primary'] = other['data.bond-primary']
            for key in ('updelay', 'downdelay'):
                if conf.get('bond-' + key):
                    bond[key] = int(conf['bond-' + key])
        else:
            ethernets.setdefault(port, {})
    for name, entry in bridges.items():
        parent = entry.pop('_parent', None)
        if parent:
            entry['uplink'] = (bridges.get(parent) or {}).get('uplink')
    model = {'backend': 'openvswitch' if ovs else 'linux_bridge'}
    if datapath:
        model['ovs'] = {'datapath_type': datapath}
    for key, section in (('ethernets', ethernets), ('bonds', bonds), ('bridges', bridges)):
        if section:
            model[key] = dict((k, section[k]) for k in sorted(section))
    for bond in model.get('bonds', {}).values():
        bond['interfaces'] = sorted(bond['interfaces'], key=natural_key)
    left_out.append('traffic_labels (management, guest, public, storage): CloudStack\'s, not in NetworkManager; '
                    'add them')
    return {'kvm_network': model, 'left_out': left_out}
