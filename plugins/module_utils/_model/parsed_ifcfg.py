# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""EL 7's network-scripts (``/etc/sysconfig/network-scripts/ifcfg-*``, ``route-*``, ``route6-*``
and ``/etc/sysconfig/network``) turned into a ``kvm_network`` offline, with what the model cannot
say in ``left_out`` (see ``parsed.py``). The mapping is the ifcfg renderer's read backwards
(``_render/ifcfg.py``), and covers seed 000's CentOS files: Linux bonds (``BONDING_OPTS``),
bridges (``BRIDGE=``), VLAN devices (``VLAN=yes``, ``PHYSDEV``), and Open vSwitch bridges, bonds
(``OVS_OPTIONS``), ports and VLAN bridges (``OVS_OPTIONS="PARENT VLAN"``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import re
import shlex

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.parsed import ovs_bond

# Keys the model has no place for, harmless to drop (how the scripts run, not what the network is).
QUIET = ('DEVICE', 'NAME', 'ONBOOT', 'NM_CONTROLLED', 'HOTPLUG', 'USERCTL', 'UUID', 'IPV4_FAILURE_FATAL',
         'IPV6INIT', 'IPV6_AUTOCONF', 'DEFROUTE', 'PEERDNS', 'PEERROUTES', 'IPV6_DEFROUTE', 'IPV6_PEERDNS',
         'IPV6_PEERROUTES', 'IPV6_FAILURE_FATAL', 'PROXY_METHOD', 'BROWSER_ONLY', 'ZONE', 'OVSREQUIRES',
         'DEVICETYPE', 'SLAVE', 'BONDING_MASTER', 'VLAN', 'TYPE', 'BOOTPROTO', 'OVSBOOTPROTO', 'OVSDHCPINTERFACES')


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def read_vars(text):
    """{KEY: value} of a shell-variable file (quotes removed, comments dropped)."""
    out = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, value = line.split('=', 1)
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value.strip('"\'')]
        out[key.strip()] = ' '.join(words)
    return out


def _prefix(netmask):
    return ipaddress.ip_network('0.0.0.0/%s' % netmask).prefixlen


def _addresses(name, conf, left_out):
    out = []
    keys = [('IPADDR', 'NETMASK', 'PREFIX')] + [('IPADDR%d' % n, 'NETMASK%d' % n, 'PREFIX%d' % n) for n in range(10)]
    for ip_key, mask_key, prefix_key in keys:
        if not conf.get(ip_key):
            continue
        prefix = conf.get(prefix_key)
        if prefix is None and conf.get(mask_key):
            try:
                prefix = _prefix(conf[mask_key])
            except ValueError:
                left_out.append('%s: %s %s is not a netmask: address %s left out' % (name, mask_key, conf[mask_key],
                                                                                     conf[ip_key]))
                continue
        out.append('%s/%s' % (conf[ip_key], prefix if prefix is not None else 32))
    for cidr in [conf.get('IPV6ADDR')] + (conf.get('IPV6ADDR_SECONDARIES') or '').split():
        if cidr:
            out.append(cidr if '/' in cidr else cidr + '/64')
    return out


def _routes(text, name):
    """[{to, via, metric}] of a route-DEV or route6-DEV file (either format)."""
    conf = read_vars(text)
    out = []
    if any(k.startswith('ADDRESS') for k in conf):
        for n in range(64):
            if 'ADDRESS%d' % n not in conf:
                continue
            to = '%s/%d' % (conf['ADDRESS%d' % n], _prefix(conf.get('NETMASK%d' % n, '255.255.255.255')))
            out.append({'to': to, 'via': conf.get('GATEWAY%d' % n)})
        return out
    for line in (text or '').splitlines():
        found = re.match(r'^\s*(\S+) via (\S+)(?: dev \S+)?(?: metric (\d+))?\s*$', line)
        if found and not line.lstrip().startswith('#'):
            route = {'to': found.group(1), 'via': found.group(2)}
            if found.group(3):
                route['metric'] = int(found.group(3))
            out.append(route)
    return out


def _l3(name, conf, routes, out, left_out):
    addresses = _addresses(name, conf, left_out)
    if addresses:
        out['addresses'] = addresses
    if conf.get('BOOTPROTO') == 'dhcp' or conf.get('OVSBOOTPROTO') == 'dhcp':
        out['dhcp4'] = True
    if conf.get('DHCPV6C') == 'yes':
        out['dhcp6'] = True
    if conf.get('GATEWAY'):
        out['gateway4'] = conf['GATEWAY']
    if conf.get('IPV6_DEFAULTGW'):
        out['gateway6'] = conf['IPV6_DEFAULTGW'].split('%')[0]
    servers = [conf['DNS%d' % n] for n in range(1, 10) if conf.get('DNS%d' % n)]
    if servers or conf.get('DOMAIN'):
        out['nameservers'] = {}
        if servers:
            out['nameservers']['addresses'] = servers
        if conf.get('DOMAIN'):
            out['nameservers']['search'] = conf['DOMAIN'].split()
    others = []
    for route in routes:
        if route['to'] in ('0.0.0.0/0', 'default', '::/0'):
            out['gateway6' if ':' in route['via'] else 'gateway4'] = route['via']
        else:
            others.append(route)
    if others:
        out['routes'] = others


def _extra_values(extra):
    """{setting: value} of the ``set ...`` commands of OVS_EXTRA (datapath_type, mtu_request...)."""
    return dict(re.findall(r'(\S+?)=(\S+)', extra or ''))


def parse_ifcfg(texts):
    """{'kvm_network': ..., 'left_out': [...]} from [(path, text)] of network-scripts files."""
    left_out = []
    devices, routes, network = {}, {}, {}
    for path, text in texts:
        base = os.path.basename(path)
        if base.startswith('ifcfg-') and base != 'ifcfg-lo':
            conf = read_vars(text)
            devices[conf.get('DEVICE') or base[len('ifcfg-'):]] = conf
        elif base.startswith('route6-') or base.startswith('route-'):
            name = base.split('-', 1)[1]
            routes.setdefault(name, []).extend(_routes(text, name))
        elif base == 'network':
            network = read_vars(text)
    ovs = any(c.get('TYPE', '').startswith('OVS') for c in devices.values())
    ethernets, bonds, bridges = {}, {}, {}
    for name, conf in devices.items():
        kind = conf.get('TYPE', '')
        for key in sorted(set(conf) - set(QUIET) - {'HWADDR', 'MACADDR', 'MTU', 'MASTER', 'BRIDGE', 'BONDING_OPTS',
                                                    'PHYSDEV', 'BOND_IFACES', 'OVS_BRIDGE', 'OVS_OPTIONS', 'OVS_EXTRA',
                                                    'STP', 'DELAY', 'GATEWAY', 'IPV6_DEFAULTGW', 'DOMAIN', 'DHCPV6C',
                                                    'IPV6ADDR', 'IPV6ADDR_SECONDARIES'}):
            if not re.match(r'^(IPADDR|NETMASK|PREFIX|DNS)\d*$', key):
                left_out.append('%s: %s=%s is not something kvm_network expresses: left out' % (name, key, conf[key]))
        if kind in ('Bond',) or conf.get('BONDING_MASTER') == 'yes':
            opts = dict(o.split('=', 1) for o in conf.get('BONDING_OPTS', '').split() if '=' in o)
            bond = {'interfaces': sorted(n for n, c in devices.items() if c.get('MASTER') == name),
                    'mode': opts.get('mode', 'balance-rr'), 'miimon': _int(opts.get('miimon')) or 0}
            for key in ('updelay', 'downdelay'):
                if opts.get(key) is not None:
                    bond[key] = _int(opts[key])
            for key, model_key in (('primary', 'primary'), ('lacp_rate', 'lacp_rate'),
                                   ('xmit_hash_policy', 'xmit_hash_policy')):
                if opts.get(key):
                    bond[model_key] = opts[key]
            if conf.get('MTU'):
                bond['mtu'] = _int(conf['MTU'])
            bonds[name] = bond
        elif kind == 'OVSBond':
            bond = ovs_bond(conf.get('BOND_IFACES'), conf.get('OVS_OPTIONS'))
            bonds[name] = bond
            for member in bond['interfaces']:
                ethernets.setdefault(member, {})
        elif kind in ('Bridge', 'OVSBridge'):
            entry = {}
            _l3(name, conf, routes.get(name, []), entry, left_out)
            if kind == 'Bridge':
                if conf.get('STP') in ('yes', 'on'):
                    entry['stp'] = True
                    if conf.get('DELAY') is not None:
                        entry['forward_delay'] = _int(conf['DELAY'])
                if conf.get('MTU'):
                    entry['mtu'] = _int(conf['MTU'])
            else:
                extra = _extra_values(conf.get('OVS_EXTRA'))
                parent = conf.get('OVS_OPTIONS', '').split()
                if len(parent) == 2:
                    entry['_parent'], entry['vlan'] = parent[0], _int(parent[1])
                if conf.get('STP') == 'true':
                    entry['stp'] = True
                    if extra.get('other_config:stp-forward-delay'):
                        entry['forward_delay'] = _int(extra['other_config:stp-forward-delay'])
                if conf.get('MTU'):
                    entry['mtu'] = _int(conf['MTU'])
                if extra.get('datapath_type') not in (None, 'system'):
                    network['_datapath'] = extra['datapath_type']
            bridges[name] = entry
        elif conf.get('VLAN') == 'yes' or kind == 'Vlan':
            continue    # read through the bridge that uses it
        else:
            eth = {}
            if conf.get('HWADDR'):
                mac = conf['HWADDR'].lower().replace('-', ':')
                if re.match(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$', mac):
                    eth['match'] = {'macaddress': mac}
                else:
                    left_out.append('ethernet %s: HWADDR=%s is not a MAC address: left out' % (name, conf['HWADDR']))
            mtu = conf.get('MTU') or _extra_values(conf.get('OVS_EXTRA')).get('mtu_request')
            if mtu and not conf.get('MASTER'):
                eth['mtu'] = _int(mtu)
            if conf.get('IPADDR') or conf.get('BOOTPROTO') == 'dhcp':
                left_out.append('ethernet %s: has addresses or DHCP of its own; the model puts addresses on bridges '
                                'only (put it under a bridge: uplink %s)' % (name, name))
            ethernets[name] = eth
    for name, conf in devices.items():
        parent = conf.get('BRIDGE') or conf.get('OVS_BRIDGE')
        if parent not in bridges or conf.get('TYPE', '') == 'OVSBridge':
            continue
        if conf.get('VLAN') == 'yes' or conf.get('TYPE') == 'Vlan':
            link = conf.get('PHYSDEV') or name.rsplit('.', 1)[0]
            vid = _int(conf.get('VLAN_ID')) or _int(name.rsplit('.', 1)[-1])
            bridges[parent].update(uplink=link, vlan=vid)
            if name != '%s.%s' % (link, vid):
                bridges[parent]['vlan_interface'] = name
        else:
            bridges[parent]['uplink'] = name
    for name, entry in bridges.items():
        parent = entry.pop('_parent', None)
        if parent:
            entry['uplink'] = (bridges.get(parent) or {}).get('uplink')
    if network.get('GATEWAY') and not any(b.get('gateway4') for b in bridges.values()):
        left_out.append('/etc/sysconfig/network: GATEWAY=%s names no device (GATEWAYDEV); add gateway4 to the bridge '
                        'that reaches it' % network['GATEWAY'])
    model = {'backend': 'openvswitch' if ovs else 'linux_bridge'}
    if network.get('_datapath'):
        model['ovs'] = {'datapath_type': network['_datapath']}
    for key, section in (('ethernets', ethernets), ('bonds', bonds), ('bridges', bridges)):
        if section:
            model[key] = dict((k, section[k]) for k in sorted(section))
    left_out.append('traffic_labels (management, guest, public, storage): CloudStack\'s, not in network-scripts; '
                    'add them')
    return {'kvm_network': model, 'left_out': left_out}
