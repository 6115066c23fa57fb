# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""libvirt networks as the inventory lists them (``kvm_libvirt_networks``): checked, every problem
at once, and normalised into the one shape the XML is rendered from and compared in.

A network is one of seven kinds (libvirt's "Network XML format" names the elements):

- ``nat``, ``routed``, ``isolated``: libvirt creates the bridge (``bridge``, or virbrN), runs
  dnsmasq for the DHCP ranges, static hosts and DNS entries of ``ips``; ``routed`` and ``nat`` may
  name a ``forward_dev``;
- ``bridge``: an existing Linux bridge of the host model (``forward mode='bridge'``);
- ``openvswitch``: an Open vSwitch bridge of the host model, ``virtualport type='openvswitch'``,
  with ``portgroups`` (a VLAN tag, or a trunk of tags with an optional native one; one default);
- ``macvtap``: ``forward mode`` vepa, bridge, private or passthrough over ``devices``;
- ``hostdev``: an SR-IOV pool, ``forward mode='hostdev' managed='yes'`` with ``<pf dev=.../>``.

The host model is consulted (``host_model``, normalised kvm_network) so that a network naming a
bridge or device the host does not define fails on the controller, naming both.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import VLAN_MAX, VLAN_MIN
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.values import (
    MAC_RE,
    DOMAIN_RE,
    Checker,
    as_bool,
    as_int,
    as_list,
    as_mapping,
    check_ifname,
)

KINDS = ('nat', 'routed', 'isolated', 'bridge', 'openvswitch', 'macvtap', 'hostdev')
# The kinds whose bridge libvirt creates (and deletes when the network stops).
OWN_BRIDGE_KINDS = ('nat', 'routed', 'isolated')
MACVTAP_MODES = ('bridge', 'vepa', 'private', 'passthrough')
# libvirt refuses a network name with '/', and an empty one; names are also file names under
# /etc/libvirt/qemu/networks: kept to what is safe there.
NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]{0,49}$')
# libvirt's own network: left alone unless the inventory lists it.
LIBVIRT_DEFAULT = 'default'

OPTIONS = {
    'common': ('name', 'kind', 'autostart', 'state'),
    'nat': ('bridge', 'stp', 'delay', 'domain', 'ips', 'dns', 'forward_dev', 'mtu'),
    'routed': ('bridge', 'stp', 'delay', 'domain', 'ips', 'dns', 'forward_dev', 'mtu'),
    'isolated': ('bridge', 'stp', 'delay', 'domain', 'ips', 'dns', 'mtu'),
    'bridge': ('bridge',),
    'openvswitch': ('bridge', 'portgroups'),
    'macvtap': ('mode', 'devices'),
    'hostdev': ('pf',),
}


class DefinitionError(Exception):
    """Every problem of a host's list of networks; ``problems`` one line each."""

    def __init__(self, problems):
        super(DefinitionError, self).__init__('\n'.join(problems))
        self.problems = problems

    def report(self, host=None):
        head = 'kvm_libvirt_networks is invalid%s (%d problem%s):' % (
            ' for host %s' % host if host else '', len(self.problems), '' if len(self.problems) == 1 else 's')
        return '\n'.join([head] + ['  - %s' % p for p in self.problems])


def _model_bridges(host_model):
    """{bridge: 'linux' | 'openvswitch'} of the normalised host model (empty without one)."""
    if not host_model:
        return {}
    kind = 'openvswitch' if host_model.get('backend') == 'openvswitch' else 'linux'
    return dict((name, kind) for name in host_model.get('bridges') or {})


def _model_devices(host_model):
    """Every interface name of the host model (NICs, bonds, VLAN devices, bridges)."""
    if not host_model:
        return set()
    names = set()
    for section in ('ethernets', 'bonds', 'bridges'):
        names.update(host_model.get(section) or {})
    for bridge in (host_model.get('bridges') or {}).values():
        if bridge.get('vlan_interface'):
            names.add(bridge['vlan_interface'])
    return names


def _ip(chk, where, value, kind):
    """One ``ips`` entry: {address, prefix, family, dhcp: {ranges, hosts}}."""
    entry = as_mapping(chk, where, value)
    chk.unknown_keys(where, entry, ('address', 'dhcp'))
    text = entry.get('address')
    try:
        iface = ipaddress.ip_interface(str(text))
        if '/' not in str(text):
            raise ValueError('no prefix')
    except ValueError:
        chk.add(where, 'address %r is not an address with a prefix' % (text,), 'write e.g. 203.0.113.1/24')
        return None
    net = iface.network
    out = {'address': str(iface.ip), 'prefix': net.prefixlen, 'family': 'ipv%d' % iface.version,
           'dhcp': {'ranges': [], 'hosts': []}}
    dhcp = as_mapping(chk, where + ' dhcp', entry.get('dhcp'))
    chk.unknown_keys(where + ' dhcp', dhcp, ('ranges', 'hosts'))
    spans = []
    for index, item in enumerate(as_list(chk, where + ' dhcp', 'ranges', dhcp.get('ranges'))):
        at = '%s dhcp range %d' % (where, index + 1)
        item = as_mapping(chk, at, item)
        chk.unknown_keys(at, item, ('start', 'end'))
        try:
            start, end = ipaddress.ip_address(str(item.get('start'))), ipaddress.ip_address(str(item.get('end')))
        except ValueError:
            chk.add(at, 'start %r and end %r must be addresses' % (item.get('start'), item.get('end')),
                    'write e.g. {start: 203.0.113.100, end: 203.0.113.199}')
            continue
        if start not in net or end not in net or end < start:
            chk.add(at, '%s-%s is not a range within %s' % (start, end, net), 'give a start and an end in %s, start first' % net)
            continue
        if iface.ip >= start and iface.ip <= end:
            chk.add(at, '%s-%s holds the network\'s own address %s' % (start, end, iface.ip), 'leave the address out of the range')
            continue
        for other_start, other_end, other in spans:
            if start <= other_end and other_start <= end:
                chk.add(at, '%s-%s overlaps range %d (%s-%s)' % (start, end, other, other_start, other_end),
                        'make the ranges disjoint')
        spans.append((start, end, index + 1))
        out['dhcp']['ranges'].append({'start': str(start), 'end': str(end)})
    seen = {}
    for index, item in enumerate(as_list(chk, where + ' dhcp', 'hosts', dhcp.get('hosts'))):
        at = '%s dhcp host %d' % (where, index + 1)
        item = as_mapping(chk, at, item)
        chk.unknown_keys(at, item, ('mac', 'name', 'ip'))
        host = {'mac': None, 'name': None, 'ip': None}
        mac = str(item.get('mac') or '').lower()
        if item.get('mac') is not None and not MAC_RE.match(mac):
            chk.add(at, 'mac %r is not a MAC address' % (item.get('mac'),), 'write e.g. 52:54:00:12:34:56')
        elif item.get('mac') is not None:
            host['mac'] = mac
        if item.get('name') is not None:
            if not DOMAIN_RE.match(str(item['name'])):
                chk.add(at, 'name %r is not a host name' % (item['name'],), 'use letters, digits and dashes')
            else:
                host['name'] = str(item['name'])
        try:
            ip = ipaddress.ip_address(str(item.get('ip')))
        except ValueError:
            chk.add(at, 'ip %r is not an address' % (item.get('ip'),), 'give the address the host gets, in %s' % net)
            continue
        if ip not in net:
            chk.add(at, 'ip %s is not in %s' % (ip, net), 'give an address in %s' % net)
            continue
        if host['mac'] is None and host['name'] is None:
            chk.add(at, 'names neither a mac nor a name', 'give the guest\'s mac (IPv4) or name')
            continue
        if str(ip) in seen:
            chk.add(at, 'ip %s is also given to host %d' % (ip, seen[str(ip)]), 'give each host its own address')
            continue
        seen[str(ip)] = index + 1
        host['ip'] = str(ip)
        out['dhcp']['hosts'].append(host)
    out['dhcp']['ranges'].sort(key=lambda r: ipaddress.ip_address(r['start']))
    out['dhcp']['hosts'].sort(key=lambda h: ipaddress.ip_address(h['ip']))
    return out


def _dns(chk, where, value):
    dns = as_mapping(chk, where, value)
    chk.unknown_keys(where, dns, ('hosts',))
    hosts = []
    for index, item in enumerate(as_list(chk, where, 'hosts', dns.get('hosts'))):
        at = '%s host %d' % (where, index + 1)
        item = as_mapping(chk, at, item)
        chk.unknown_keys(at, item, ('ip', 'names'))
        try:
            ip = str(ipaddress.ip_address(str(item.get('ip'))))
        except ValueError:
            chk.add(at, 'ip %r is not an address' % (item.get('ip'),), 'write e.g. 203.0.113.10')
            continue
        names = [str(n) for n in as_list(chk, at, 'names', item.get('names'))]
        bad = [n for n in names if not DOMAIN_RE.match(n)]
        if not names:
            chk.add(at, 'names is empty', 'give one or more host names')
            continue
        if bad:
            chk.add(at, 'names %s are not host names' % ', '.join(bad), 'give host names such as gw.example')
            continue
        hosts.append({'ip': ip, 'names': sorted(set(names))})
    return {'hosts': sorted(hosts, key=lambda h: ipaddress.ip_address(h['ip']))}


def _vlan(chk, where, key, value):
    tag = as_int(chk, where, key, value, VLAN_MIN, VLAN_MAX)
    return tag


def _portgroups(chk, where, value):
    groups = []
    names = set()
    defaults = []
    for index, item in enumerate(as_list(chk, where, 'portgroups', value)):
        item = as_mapping(chk, '%s portgroup %d' % (where, index + 1), item)
        name = item.get('name')
        at = '%s portgroup %s' % (where, name if name else index + 1)
        chk.unknown_keys(at, item, ('name', 'vlan', 'trunk', 'native_vlan', 'default'))
        if not isinstance(name, str) or not NAME_RE.match(name):
            chk.add(at, 'name %r is not a portgroup name' % (name,), 'use letters, digits, dot, dash and underscore')
            continue
        if name in names:
            chk.add(at, 'is listed twice', 'give each portgroup its own name')
            continue
        names.add(name)
        group = {'name': name, 'default': as_bool(chk, at, 'default', item.get('default'), False),
                 'vlan': None, 'trunk': [], 'native_vlan': None}
        if item.get('vlan') is not None and item.get('trunk') is not None:
            chk.add(at, 'sets both vlan and trunk', 'use vlan for one tag, or trunk (and native_vlan) for several')
        elif item.get('vlan') is not None:
            group['vlan'] = _vlan(chk, at, 'vlan', item['vlan'])
        elif item.get('trunk') is not None:
            tags = [_vlan(chk, at, 'trunk', t) for t in as_list(chk, at, 'trunk', item['trunk'])]
            group['trunk'] = sorted(set(t for t in tags if t is not None))
            if item.get('native_vlan') is not None:
                group['native_vlan'] = _vlan(chk, at, 'native_vlan', item['native_vlan'])
        if item.get('native_vlan') is not None and item.get('trunk') is None:
            chk.add(at, 'sets native_vlan without a trunk', 'add trunk: [...] or use vlan')
        if group['default']:
            defaults.append(name)
        groups.append(group)
    if len(defaults) > 1:
        chk.add(where, 'has %d default portgroups (%s)' % (len(defaults), ', '.join(defaults)),
                'mark one portgroup default: true')
    return sorted(groups, key=lambda g: g['name'])


def normalise_network(chk, item, index, model_bridges, model_devices, host_model_given=True, model_nics=None):
    """One list entry, normalised (None when it is not a mapping with a name). Without the host model
    (``host_model_given`` false: on the host, where the controller checked it already) bridges and
    devices are not looked up."""
    where = 'kvm_libvirt_networks[%d]' % index
    if not isinstance(item, dict):
        chk.add(where, 'must be a mapping with name and kind, not %r' % (item,), 'write {name: nat1, kind: nat, ...}')
        return None
    name = item.get('name')
    if not isinstance(name, str) or not NAME_RE.match(name):
        chk.add(where, 'name %r is not a name libvirt accepts here' % (name,),
                'use up to 50 letters, digits, dot, dash, plus and underscore, starting with a letter or digit')
        return None
    where = 'libvirt network %s' % name
    model_nics = model_nics or {}
    kind = item.get('kind')
    if kind not in KINDS:
        chk.add(where, 'kind %r is not one of %s' % (kind, ', '.join(KINDS)), 'set kind to one of them')
        return None
    chk.unknown_keys(where, item, OPTIONS['common'] + OPTIONS[kind])
    net = {'name': name, 'kind': kind, 'autostart': as_bool(chk, where, 'autostart', item.get('autostart'), True),
           'state': item.get('state', 'present')}
    if net['state'] not in ('present', 'absent'):
        chk.add(where, 'state %r is not present or absent' % (net['state'],), 'write state: present or state: absent')
    if kind in OWN_BRIDGE_KINDS:
        bridge = item.get('bridge')
        if bridge is not None and check_ifname(chk, where + ' bridge', bridge) and bridge in model_devices:
            chk.add(where, 'bridge %s is an interface of the host model (kvm_network); libvirt creates the bridge '
                    'of a %s network itself' % (bridge, kind), 'name another bridge, or use kind: bridge for %s' % bridge)
        net.update({
            'bridge': bridge,
            'stp': as_bool(chk, where, 'stp', item.get('stp'), True),
            'delay': as_int(chk, where, 'delay', item.get('delay'), 0, 3600) or 0,
            'mtu': as_int(chk, where, 'mtu', item.get('mtu'), 68, 65535),
            'domain': None, 'forward_dev': None,
        })
        if item.get('domain') is not None:
            if DOMAIN_RE.match(str(item['domain'])):
                net['domain'] = str(item['domain'])
            else:
                chk.add(where, 'domain %r is not a DNS domain' % (item['domain'],), 'write e.g. guests.example')
        if kind != 'isolated' and item.get('forward_dev') is not None:
            dev = item['forward_dev']
            if check_ifname(chk, where + ' forward_dev', dev) and host_model_given and dev not in model_devices:
                chk.add(where, 'forward_dev %s is not an interface of the host model (kvm_network: %s)'
                        % (dev, ', '.join(sorted(model_devices))), 'name one of them')
            net['forward_dev'] = dev
        ips = []
        families = set()
        for n, value in enumerate(as_list(chk, where, 'ips', item.get('ips'))):
            ip = _ip(chk, '%s ips[%d]' % (where, n), value, kind)
            if ip is None:
                continue
            if ip['family'] in families:
                chk.add(where, 'has two %s addresses in ips' % ip['family'], 'give one address per family')
                continue
            families.add(ip['family'])
            ips.append(ip)
        net['ips'] = sorted(ips, key=lambda i: i['family'])
        if kind == 'routed' and not ips:
            chk.add(where, 'a routed network needs an address (ips)', 'add ips: [{address: 203.0.113.1/24}]')
        net['dns'] = _dns(chk, where + ' dns', item.get('dns'))
    elif kind in ('bridge', 'openvswitch'):
        bridge = item.get('bridge')
        wanted = 'openvswitch' if kind == 'openvswitch' else 'linux'
        if not isinstance(bridge, str):
            chk.add(where, 'a %s network needs the bridge it plugs guests into' % kind,
                    'set bridge: to a bridge of kvm_network (%s)' % (', '.join(sorted(model_bridges)) or 'none'))
        elif host_model_given and model_bridges.get(bridge) != wanted:
            found = ('a %s bridge' % model_bridges[bridge]) if bridge in model_bridges else 'not a bridge of it'
            chk.add(where, 'bridge %s is %s in the host model (kvm_network), and %s %s network needs %s bridge'
                    % (bridge, found, 'an' if kind == 'openvswitch' else 'a', kind,
                       'an Open vSwitch' if wanted == 'openvswitch' else 'a Linux'),
                    'name one of %s' % (', '.join(sorted(b for b, k in model_bridges.items() if k == wanted)) or
                                        'the model\'s bridges (none of that kind: change kind)'))
        net['bridge'] = bridge
        if kind == 'openvswitch':
            net['portgroups'] = _portgroups(chk, where, item.get('portgroups'))
    elif kind == 'macvtap':
        mode = item.get('mode', 'bridge')
        if mode not in MACVTAP_MODES:
            chk.add(where, 'mode %r is not one of %s' % (mode, ', '.join(MACVTAP_MODES)), 'set mode to one of them')
        devices = [str(d) for d in as_list(chk, where, 'devices', item.get('devices'))]
        if not devices:
            chk.add(where, 'a macvtap network needs its lower devices', 'set devices: [eth2] (NICs or bonds of kvm_network)')
        for dev in devices:
            if check_ifname(chk, where + ' devices', dev) and host_model_given and dev not in model_devices:
                chk.add(where, 'device %s is not an interface of the host model (kvm_network)' % dev,
                        'add it to kvm_network.ethernets with macvtap: true')
            elif dev in model_bridges:
                chk.add(where, 'device %s is a bridge; macvtap needs a NIC or bond no bridge holds' % dev,
                        'name a NIC or bond')
            elif host_model_given and dev in model_nics and not model_nics[dev].get('macvtap'):
                chk.add(where, 'device %s is not marked as a macvtap lower device in the host model' % dev,
                        'set kvm_network.ethernets.%s.macvtap: true (verify then checks it is up and that no bridge '
                        'or bond holds it)' % dev)
        net.update({'mode': mode, 'devices': sorted(set(devices))})
    elif kind == 'hostdev':
        pf = item.get('pf')
        if check_ifname(chk, where + ' pf', pf) and host_model_given and pf not in model_devices:
            chk.add(where, 'pf %s is not an interface of the host model (kvm_network)' % pf,
                    'add the SR-IOV NIC to kvm_network.ethernets')
        net['pf'] = pf
    return net


def normalise(networks, host_model=None, host=None):
    """The host's list of networks, normalised: {name: network}; a DefinitionError with every problem.
    ``host_model`` (the normalised kvm_network) is what bridges and devices are looked up in; None
    skips those lookups."""
    chk = Checker(host)
    model_bridges = _model_bridges(host_model)
    model_devices = _model_devices(host_model)
    out = {}
    if networks is None:
        networks = []
    if not isinstance(networks, list):
        chk.add('kvm_libvirt_networks', 'must be a list of networks, not %r' % (networks,),
                'write a YAML list of {name, kind, ...}')
        networks = []
    bridges = {}
    for index, item in enumerate(networks):
        net = normalise_network(chk, item, index, model_bridges, model_devices, host_model is not None,
                                (host_model or {}).get('ethernets') or {})
        if net is None:
            continue
        if net['name'] in out:
            chk.add('libvirt network %s' % net['name'], 'is listed twice', 'give each network its own name')
            continue
        if net['kind'] in OWN_BRIDGE_KINDS and net.get('bridge'):
            if net['bridge'] in bridges:
                chk.add('libvirt network %s' % net['name'], 'bridge %s is also network %s\'s'
                        % (net['bridge'], bridges[net['bridge']]), 'give each network its own bridge')
            bridges[net['bridge']] = net['name']
        out[net['name']] = net
    _overlapping_subnets(chk, out)
    if chk.problems:
        raise DefinitionError(chk.problems)
    return out


def _overlapping_subnets(chk, networks):
    seen = []
    for name in sorted(networks):
        for ip in networks[name].get('ips') or []:
            subnet = ipaddress.ip_network('%s/%d' % (ip['address'], ip['prefix']), strict=False)
            for other, other_subnet in seen:
                if subnet.version == other_subnet.version and subnet.overlaps(other_subnet):
                    chk.add('libvirt network %s' % name, '%s overlaps %s of network %s' % (subnet, other_subnet, other),
                            'give each network its own subnet')
            seen.append((name, subnet))
