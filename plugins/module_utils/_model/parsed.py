# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Configuration text turned into a ``kvm_network`` offline, without a host (``parsed``, as
Ansible's network resource modules name it): netplan YAML (every file of a host's netplan
configuration merged as netplan merges them) and ifupdown's interfaces files. What the model cannot say is listed in
``left_out``, one sentence each, never dropped silently.

The mapping is the netplan renderer's, read backwards (``_render/netplan.py``): NICs (named by
``set-name`` when matched by MAC), Linux bonds and their ``parameters``, VLAN devices under the
bridges that use them, Open vSwitch bridges, bonds (``openvswitch``: lacp and other-config) and
fake bridges (a VLAN whose link is an Open vSwitch bridge).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

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


# -- ifupdown ------------------------------------------------------------------------------------------
IFUPDOWN_QUIET = ('pre-up', 'post-down', 'down', 'pre-down', 'hwaddress', 'metric', 'bridge_maxwait',
                  'bridge_waitport', 'bridge-maxwait', 'bridge-waitport', 'dns-domain', 'ovs_extra')
ROUTE_LINE = r'^ip (-6 )?route (?:add|replace) (\S+) via (\S+)(?: dev \S+)?(?: metric (\d+))?(?: \|\| true)?$'


def _ifupdown_stanzas(texts):
    """[(name, family, method, [(option, value)])] of every ``iface`` stanza, in order, and the
    ``allow-*``/``auto`` lines ({name: [classes]})."""
    stanzas, classes, left_out = [], {}, []
    for file_name, text in texts:
        current = None
        logical = []
        for raw in (text or '').splitlines():
            line = raw.split('#', 1)[0].rstrip() if not raw.lstrip().startswith('#') else ''
            if logical and logical[-1].endswith('\\'):
                logical[-1] = logical[-1][:-1] + ' ' + line.strip()
            elif line.strip():
                logical.append(line)
        for line in logical:
            words = line.split()
            head = words[0]
            if head == 'iface' and len(words) >= 4:
                current = (words[1], words[2], words[3], [])
                stanzas.append(current)
            elif head == 'auto' or head.startswith('allow-'):
                for name in words[1:]:
                    classes.setdefault(name, []).append(head)
                current = None
            elif head in ('source', 'source-directory'):
                current = None
            elif head == 'mapping':
                left_out.append('%s: mapping %s: ifupdown mappings are not something kvm_network expresses: left out'
                                % (file_name, ' '.join(words[1:])))
                current = None
            elif current is not None:
                current[3].append((head, ' '.join(words[1:])))
            else:
                left_out.append('%s: %r outside any iface stanza: left out' % (file_name, line.strip()))
    return stanzas, classes, left_out


def _option(options, key):
    values = [v for k, v in options if k == key]
    return values[-1] if values else None


def _ovs_options(text):
    """{key: value} of an ovs_options line (bond_mode=..., other_config:bond-miimon-interval=...)."""
    out = {}
    for word in (text or '').split():
        if '=' in word:
            key, value = word.split('=', 1)
            out[key] = value
    return out


def ovs_bond(members, options):
    """An Open vSwitch bond from its members' text and its ``bond_mode=... lacp=... other_config:...``
    options (ifupdown's ovs_options, network-scripts' OVS_OPTIONS)."""
    opts = _ovs_options(options)
    bond = {'interfaces': (members or '').split(), 'mode': opts.get('bond_mode', 'active-backup'),
            'miimon': (_int(opts.get('other_config:bond-miimon-interval'))
                       if opts.get('other_config:bond-detect-mode') == 'miimon' else 0)}
    if opts.get('lacp', 'off') != 'off':
        bond['lacp'] = opts['lacp']
    if opts.get('other_config:lacp-time'):
        bond['lacp_rate'] = opts['other_config:lacp-time']
    if opts.get('other_config:bond-primary'):
        bond['primary'] = opts['other_config:bond-primary']
    for key, column in (('updelay', 'bond_updelay'), ('downdelay', 'bond_downdelay')):
        if opts.get(column) is not None:
            bond[key] = _int(opts[column])
    return bond


def _mtu_of(options):
    mtu = _option(options, 'mtu')
    if mtu:
        return _int(mtu)
    for key, value in options:
        found = re.search(r'(?:mtu_request=|ip link set dev \S+ mtu )(\d+)', value) if key in ('post-up', 'up', 'ovs_extra') else None
        if found:
            return int(found.group(1))
    return None


def _ifupdown_l3(name, stanzas, out, left_out):
    """Addresses, DHCP, gateways, routes and DNS of ``name`` from all its stanzas."""
    route_re = re.compile(ROUTE_LINE)
    addresses, routes = [], []
    for dummy, family, method, options in stanzas:
        if method == 'dhcp':
            out['dhcp6' if family == 'inet6' else 'dhcp4'] = True
        elif method == 'auto' and family == 'inet6':
            out['dhcp6'] = True
        address = _option(options, 'address')
        if method == 'static' and address:
            if '/' not in address:
                netmask = _option(options, 'netmask') or ('64' if family == 'inet6' else '255.255.255.255')
                try:
                    prefix = netmask if netmask.isdigit() else ipaddress.ip_network('0.0.0.0/%s' % netmask).prefixlen
                    address = '%s/%s' % (address, prefix)
                except ValueError:
                    left_out.append('%s: netmask %s is not a netmask (its ones are not contiguous): address %s left out '
                                    '(write the address with its prefix)' % (name, netmask, address))
                    address = None
            if address:
                addresses.append(address)
        gateway = _option(options, 'gateway')
        if gateway:
            out['gateway6' if family == 'inet6' else 'gateway4'] = gateway
        for key, value in options:
            found = route_re.match(value) if key in ('up', 'post-up') else None
            if not found:
                continue
            to = found.group(2)
            if to == 'default':
                out['gateway6' if found.group(1) else 'gateway4'] = found.group(3)
            else:
                route = {'to': to, 'via': found.group(3)}
                if found.group(4):
                    route['metric'] = int(found.group(4))
                routes.append(route)
        for key, value in options:
            if key in ('dns-nameservers', 'dns-nameserver'):
                out.setdefault('nameservers', {})['addresses'] = value.split()
            elif key == 'dns-search':
                out.setdefault('nameservers', {})['search'] = value.split()
    if addresses:
        out['addresses'] = addresses
    if routes:
        out['routes'] = routes


KNOWN_BRIDGE = ('address', 'netmask', 'gateway', 'dns-nameservers', 'dns-nameserver', 'dns-search', 'bridge_ports', 'bridge-ports',
                'bridge_stp', 'bridge-stp', 'bridge_fd', 'bridge-fd', 'mtu', 'up', 'post-up', 'ovs_type', 'ovs_ports',
                'ovs_bridge', 'ovs_options')


def _leftover_options(left_out, what, stanzas, known):
    route_re = re.compile(ROUTE_LINE)
    for dummy, dummy_family, dummy_method, options in stanzas:
        for key, value in options:
            if key in known and key not in ('up', 'post-up'):
                continue
            if key in ('up', 'post-up') and (route_re.match(value) or re.match(r'^ip link set dev \S+ mtu \d+$', value)):
                continue
            if key in IFUPDOWN_QUIET:
                continue
            left_out.append('%s: %s %s is not something kvm_network expresses: left out' % (what, key, value))


def parse_ifupdown(texts):
    """{'kvm_network': ..., 'left_out': [...]} from [(file name, text)] of /etc/network/interfaces
    and the files it sources."""
    stanzas, classes, left_out = _ifupdown_stanzas(texts)
    by_name = {}
    for stanza in stanzas:
        by_name.setdefault(stanza[0], []).append(stanza)
    by_name.pop('lo', None)

    def first(name, key):
        for stanza in by_name.get(name, []):
            value = _option(stanza[3], key)
            if value is not None:
                return value
        return None

    ovs = any(first(n, 'ovs_type') for n in by_name)
    ethernets, bonds, bridges = {}, {}, {}
    datapath = None
    if ovs:
        for name in by_name:
            kind = first(name, 'ovs_type')
            options = [o for s in by_name[name] for o in s[3]]
            if kind == 'OVSBond':
                bond = ovs_bond(first(name, 'ovs_bonds'), first(name, 'ovs_options'))
                bonds[name] = bond
                for member in bond['interfaces']:
                    ethernets.setdefault(member, {})
            elif kind == 'OVSBridge':
                extra = first(name, 'ovs_extra') or ''
                found = re.search(r'datapath_type=(\S+)', extra)
                if found:
                    datapath = found.group(1)
                entry = {}
                _ifupdown_l3(name, by_name[name], entry, left_out)
                mtu = _mtu_of(options)
                if mtu:
                    entry['mtu'] = mtu
                if 'stp_enable=true' in extra:
                    entry['stp'] = True
                    found = re.search(r'stp-forward-delay=(\d+)', extra)
                    if found:
                        entry['forward_delay'] = int(found.group(1))
                bridges[name] = entry
            elif kind == 'OVSPort':
                eth = {}
                mtu = _mtu_of(options)
                if mtu:
                    eth['mtu'] = mtu
                ethernets[name] = eth
            elif kind is None:
                ethernets.setdefault(name, {})
                mtu = _mtu_of(options)
                if mtu:
                    ethernets[name]['mtu'] = mtu
        for name in by_name:
            _leftover_options(left_out, name, by_name[name], KNOWN_BRIDGE + ('ovs_bonds', 'ovs_extra', 'mtu'))
            if first(name, 'ovs_type') is None and any(s[2] in ('static', 'dhcp') for s in by_name[name]):
                left_out.append('%s: has addresses but no ovs_type, so ifupdown does not make it an Open vSwitch '
                                'bridge: left out' % name)
                ethernets.pop(name, None)
        for name in by_name:
            kind, parent = first(name, 'ovs_type'), first(name, 'ovs_bridge')
            if kind in ('OVSBond', 'OVSPort') and parent and parent not in bridges:
                # ifupdown adds the port to a bridge made outside the file (ovs-vsctl add-br, kept in the database).
                left_out.append('%s: no OVSBridge stanza, but %s names it as its bridge: taken as an Open vSwitch bridge '
                                'made outside the file (ovs-vsctl add-br); give it ovs_type OVSBridge' % (parent, name))
                bridges[parent] = {}
                ethernets.pop(parent, None)
            if kind in ('OVSBond', 'OVSPort') and parent in bridges:
                bridges[parent]['uplink'] = name
        for name in by_name:
            if first(name, 'ovs_type') == 'OVSIntPort':
                parent = first(name, 'ovs_bridge')
                tag = _ovs_options(first(name, 'ovs_options')).get('tag')
                if parent not in bridges or tag is None:
                    left_out.append('%s: an internal port without a tag or a bridge is not something kvm_network '
                                    'expresses: left out' % name)
                    continue
                entry = {'uplink': bridges[parent].get('uplink'), 'vlan': _int(tag)}
                _ifupdown_l3(name, by_name[name], entry, left_out)
                mtu = _mtu_of([o for s in by_name[name] for o in s[3]])
                if mtu:
                    entry['mtu'] = mtu
                bridges[name] = entry
    else:
        vlans = {}
        for name in by_name:
            raw = first(name, 'vlan-raw-device') or first(name, 'vlan_raw_device')
            found = re.match(r'^(.+)\.(\d+)$', name)
            if raw or found:
                vlans[name] = (raw or found.group(1), int(found.group(2)) if found else _int(re.sub(r'\D', '', name)))
        for name in by_name:
            slaves = first(name, 'bond-slaves') or first(name, 'bond_slaves')
            if slaves is None and not any(first(n, 'bond-master') == name for n in by_name):
                continue
            members = [s for s in (slaves or '').split() if s != 'none']
            members += [n for n in by_name if first(n, 'bond-master') == name and n not in members]
            bond = {'interfaces': members, 'mode': first(name, 'bond-mode') or 'balance-rr'}
            miimon = first(name, 'bond-miimon')
            bond['miimon'] = _int(miimon) if miimon is not None else 0
            for key, option in (('updelay', 'bond-updelay'), ('downdelay', 'bond-downdelay')):
                if first(name, option) is not None:
                    bond[key] = _int(first(name, option))
            for key, option in (('primary', 'bond-primary'), ('lacp_rate', 'bond-lacp-rate'),
                                ('xmit_hash_policy', 'bond-xmit-hash-policy')):
                if first(name, option):
                    bond[key] = first(name, option)
            mtu = _mtu_of([o for s in by_name[name] for o in s[3]])
            if mtu:
                bond['mtu'] = mtu
            bonds[name] = bond
            for member in members:
                ethernets.setdefault(member, {})
        for name in by_name:
            ports = first(name, 'bridge_ports') or first(name, 'bridge-ports')
            if ports is None:
                continue
            ports = [p for p in ports.split() if p != 'none']
            entry = {}
            if len(ports) > 1:
                left_out.append('bridge %s: has %d ports (%s); the model gives a bridge one uplink: %s kept'
                                % (name, len(ports), ', '.join(ports), ports[0]))
            if ports:
                port = ports[0]
                if port in vlans:
                    link, vid = vlans[port]
                    entry.update(uplink=link, vlan=vid)
                    if port != '%s.%d' % (link, vid):
                        entry['vlan_interface'] = port
                else:
                    entry['uplink'] = port
                    if port not in bonds:
                        ethernets.setdefault(port, {})
            _ifupdown_l3(name, by_name[name], entry, left_out)
            stp = first(name, 'bridge_stp') or first(name, 'bridge-stp')
            if stp in ('on', 'yes'):
                entry['stp'] = True
                fd = first(name, 'bridge_fd') or first(name, 'bridge-fd')
                if fd is not None:
                    entry['forward_delay'] = _int(fd)
            mtu = _mtu_of([o for s in by_name[name] for o in s[3]])
            if mtu:
                entry['mtu'] = mtu
            _leftover_options(left_out, 'bridge %s' % name, by_name[name], KNOWN_BRIDGE)
            bridges[name] = entry
        used = set(bonds) | set(bridges) | set(vlans)
        for name in by_name:
            if name in used:
                continue
            mtu = _mtu_of([o for s in by_name[name] for o in s[3]])
            if any(s[2] in ('static', 'dhcp') for s in by_name[name]):
                left_out.append('ethernet %s: has addresses or DHCP of its own; the model puts addresses on bridges '
                                'only (put it under a bridge: uplink %s)' % (name, name))
            entry = ethernets.setdefault(name, {})
            if mtu:
                entry['mtu'] = mtu
    model = {'backend': 'openvswitch' if ovs else 'linux_bridge'}
    if datapath and datapath != 'system':
        model['ovs'] = {'datapath_type': datapath}
    for key, section in (('ethernets', ethernets), ('bonds', bonds), ('bridges', bridges)):
        if section:
            model[key] = section
    left_out.append('traffic_labels (management, guest, public, storage): CloudStack\'s, not in ifupdown; add them')
    return {'kvm_network': model, 'left_out': left_out}
