# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Render a normalised model as EL7 network-scripts (initscripts, NetworkManager disabled).

One ``/etc/sysconfig/network-scripts/ifcfg-<device>`` per device, ``route-<bridge>`` /
``route6-<bridge>`` for routes, and ``/etc/sysconfig/network``. Every device file carries
``NM_CONTROLLED=no``.

Linux bridge (seed 000's CentOS section): ethernets with ``MASTER=``/``SLAVE=yes`` or
``BRIDGE=``, bonds with ``TYPE=Bond`` and ``BONDING_OPTS``, VLAN devices ``ifcfg-<link>.<id>``
with ``VLAN=yes``, bridges with ``TYPE=Bridge``, ``STP=`` and ``DELAY=`` (forward delay).
Open vSwitch (the openvswitch package's ifup-ovs): ``DEVICETYPE=ovs`` with ``TYPE=OVSBridge``,
``OVSBond`` (``BOND_IFACES``, ``OVS_OPTIONS`` from _ovs.desired) or ``OVSPort``; a VLAN bridge is a
``TYPE=OVSBridge`` with ``OVS_OPTIONS="<parent> <vlan>"``, which ifup-ovs appends to
``ovs-vsctl --may-exist add-br <device>``: ``add-br cloudbr100 cloudbr0 100``, a fake bridge.

ifcfg file names are fixed by device name, so ``owned`` lists the files of the model's devices
and whoever removes stale files must check the marker line in the header first.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.desired import (
    bond_options_string,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import (
    RenderError,
    addresses_by_family,
    bond_member_mtus,
    comment_header,
    file_entry,
    for_host,
    linux_bond_options,
    options_with_defaults,
    prefix_to_netmask,
    result,
    split_address,
)

NAME = 'ifcfg'
SCRIPTS_DIR = '/etc/sysconfig/network-scripts'
NETWORK_FILE = '/etc/sysconfig/network'

_SAFE = re.compile(r'^[A-Za-z0-9_.:/@%+,=-]+$')


def quote(value):
    """A shell word for an ifcfg value: bare when safe, else double-quoted with escapes."""
    text = str(value)
    if _SAFE.match(text):
        return text
    return '"%s"' % re.sub(r'([\\"$`])', r'\\\1', text)


def _yes(value):
    return 'yes' if value else 'no'


def _text(header, items, comment=None):
    lines = [comment_header(header).rstrip('\n')]
    if comment:
        lines.extend('# ' + line for line in comment.splitlines())
    lines.extend('%s=%s' % (key, quote(value)) for key, value in items if value is not None)
    return '\n'.join(lines) + '\n'


def _is_link_local(ip):
    return ip.lower().startswith('fe8') or ip.lower().startswith('fe9') \
        or ip.lower().startswith('fea') or ip.lower().startswith('feb')


def _in_subnet(ip, cidr):
    """Whether IPv4 ``ip`` is inside the subnet of ``cidr`` (pure arithmetic, no netaddr)."""
    addr, prefix, _family = split_address(cidr)

    def as_int(text):
        value = 0
        for part in text.split('.'):
            value = (value << 8) | int(part)
        return value
    mask = (0xffffffff << (32 - prefix)) & 0xffffffff
    return as_int(ip) & mask == as_int(addr) & mask


def _has_v4_default(br):
    return bool(br['gateway4']) or any(r['to'] == '0.0.0.0/0' for r in br['routes'])


class _Device(object):
    """The key/value items of one ifcfg file, plus route lines for its route files."""

    def __init__(self, name, comment=None):
        self.name = name
        self.items = []
        self.comment = comment
        self.routes4 = []
        self.routes6 = []

    def add(self, *pairs):
        self.items.extend(pairs)


def _l3(dev, br, model, ovs_dhcp_port=None):
    """Addresses, gateways, DNS and routes of a bridge (Linux or OVS) onto ``dev``."""
    name = br['name']
    where = 'bridge %s' % name
    v4 = addresses_by_family(br['addresses'], 4)
    v6 = addresses_by_family(br['addresses'], 6)
    if br['dhcp4'] and v4:
        raise RenderError('%s: dhcp4 together with static IPv4 addresses (%s): EL7 initscripts configure a '
                          'device either by DHCP or statically. Fix: drop dhcp4 or the IPv4 addresses, or use '
                          'the networkmanager renderer' % (where, ', '.join(v4)))
    if br['dhcp4'] and ovs_dhcp_port:
        # ifup-ovs runs DHCP on the bridge once the port named in OVSDHCPINTERFACES is up.
        dev.add(('BOOTPROTO', 'none'), ('OVSBOOTPROTO', 'dhcp'), ('OVSDHCPINTERFACES', ovs_dhcp_port))
    elif br['dhcp4']:
        dev.add(('BOOTPROTO', 'dhcp'))
    else:
        dev.add(('BOOTPROTO', 'static' if v4 else 'none'))
    dev.add(('ONBOOT', 'yes'))
    if len(v4) == 1:
        addr, prefix, _family = split_address(v4[0])
        dev.add(('IPADDR', addr), ('NETMASK', prefix_to_netmask(prefix)))
    else:
        for index, cidr in enumerate(v4):
            addr, prefix, _family = split_address(cidr)
            dev.add(('IPADDR%d' % index, addr), ('PREFIX%d' % index, prefix))
    gateway4 = br['gateway4']
    if gateway4 and v4 and _in_subnet(gateway4, v4[0]):
        dev.add(('GATEWAY', gateway4))
    elif gateway4:
        # ifup-eth sets GATEWAY only inside the first address's subnet (and never with DHCP):
        # anywhere else the default route goes in route-<device>.
        dev.routes4.append({'to': '0.0.0.0/0', 'via': gateway4, 'metric': None})
    others = [b for b in model['bridges'].values() if b['name'] != name and _has_v4_default(b)]
    defroute = _has_v4_default(br) or (br['dhcp4'] and not others)
    dev.add(('DEFROUTE', _yes(defroute)))
    servers = br['nameservers']['addresses']
    for index, server in enumerate(servers):
        dev.add(('DNS%d' % (index + 1), server))
    if br['nameservers']['search']:
        dev.add(('DOMAIN', ' '.join(br['nameservers']['search'])))
    dev.add(('IPV4_FAILURE_FATAL', 'no'))

    for route in br['routes']:
        (dev.routes6 if ':' in route['via'] else dev.routes4).append(route)
    uses_v6 = bool(v6 or br['dhcp6'] or br['gateway6'] or dev.routes6)
    dev.add(('IPV6INIT', _yes(uses_v6)))
    if uses_v6:
        dev.add(('IPV6_AUTOCONF', _yes(br['dhcp6'])))
        if br['dhcp6']:
            dev.add(('DHCPV6C', 'yes'))
        if v6:
            dev.add(('IPV6ADDR', v6[0]))
        if v6[1:]:
            dev.add(('IPV6ADDR_SECONDARIES', ' '.join(v6[1:])))
        gateway6 = br['gateway6']
        if gateway6:
            dev.add(('IPV6_DEFAULTGW', '%s%%%s' % (gateway6, name) if _is_link_local(gateway6) else gateway6))


def _route_files(dev, header):
    files = []
    name = dev.name
    if dev.routes4:
        if any(r['metric'] is not None for r in dev.routes4):
            # initscripts' ADDRESSn/NETMASKn/GATEWAYn format has no metric (METRICn is read by
            # NetworkManager's ifcfg-rh only): with a metric, ip-route argument lines.
            body = ''.join(_ip_route_line(r, name) for r in dev.routes4)
            text = comment_header(header) + '# One "ip route add" argument list per line (carries the metric).\n' + body
        else:
            items = []
            for index, route in enumerate(dev.routes4):
                addr, prefix, _family = split_address(route['to'])
                items += [('ADDRESS%d' % index, addr), ('NETMASK%d' % index, prefix_to_netmask(prefix)),
                          ('GATEWAY%d' % index, route['via'])]
            text = _text(header, items)
        files.append(file_entry('%s/route-%s' % (SCRIPTS_DIR, name), text))
    if dev.routes6:
        body = ''.join(_ip_route_line(r, name) for r in dev.routes6)
        files.append(file_entry('%s/route6-%s' % (SCRIPTS_DIR, name), comment_header(header) + body))
    return files


def _ip_route_line(route, dev):
    via = route['via']
    line = '%s via %s dev %s' % (route['to'], via, dev)
    if route['metric'] is not None:
        line += ' metric %d' % route['metric']
    return line + '\n'


def _vlan_name_ok(vlan):
    name = vlan['name']
    return name == '%s.%d' % (vlan['link'], vlan['id']) or re.match(r'^vlan0*%d$' % vlan['id'], name)


def _ethernet_items(eth, mtu=None):
    mac = eth['match'].get('macaddress')
    return [('HWADDR', mac.upper() if mac else None), ('MTU', eth['mtu'] or mtu)]


def _linux(model):
    devices = []
    for name, eth in model['ethernets'].items():
        dev = _Device(name)
        dev.add(('DEVICE', name), ('NAME', name), ('TYPE', 'Ethernet'), ('BOOTPROTO', 'none'), ('ONBOOT', 'yes'))
        if eth['bond']:
            dev.add(('MASTER', eth['bond']), ('SLAVE', 'yes'))
        elif eth['bridge']:
            dev.add(('BRIDGE', eth['bridge']))
        dev.add(*_ethernet_items(eth))
        dev.add(('NM_CONTROLLED', 'no'))
        devices.append(dev)
    for name, bond in model['bonds'].items():
        opts = ['%s=%s' % option for option in linux_bond_options(bond)]
        dev = _Device(name)
        dev.add(('DEVICE', name), ('NAME', name), ('TYPE', 'Bond'), ('BONDING_MASTER', 'yes'),
                ('BOOTPROTO', 'none'), ('ONBOOT', 'yes'), ('BRIDGE', bond['bridge']),
                ('BONDING_OPTS', ' '.join(opts)), ('MTU', bond['mtu']), ('NM_CONTROLLED', 'no'))
        devices.append(dev)
    for name, vlan in model['vlans'].items():
        if not _vlan_name_ok(vlan):
            raise RenderError(
                "bridge %s: VLAN device name %s: EL7 initscripts take the VLAN id from the device name "
                "(<device>.<id> or vlan<id>). Fix: set vlan_interface to %s.%d or vlan%d, or drop it"
                % (vlan['bridge'], name, vlan['link'], vlan['id'], vlan['id']))
        # TYPE=Unknown as in the seed: initscripts know a VLAN by VLAN=yes and the device name.
        dev = _Device(name)
        dev.add(('DEVICE', name), ('NAME', name), ('VLAN', 'yes'), ('TYPE', 'Unknown'),
                ('PHYSDEV', vlan['link']), ('BOOTPROTO', 'none'), ('ONBOOT', 'yes'),
                ('BRIDGE', vlan['bridge']), ('MTU', model['bridges'][vlan['bridge']]['mtu']),
                ('NM_CONTROLLED', 'no'))
        devices.append(dev)
    for name, br in model['bridges'].items():
        dev = _Device(name)
        dev.add(('DEVICE', name), ('NAME', name), ('TYPE', 'Bridge'))
        _l3(dev, br, model)
        dev.add(('STP', _yes(br['stp'])), ('DELAY', br['forward_delay']), ('MTU', br['mtu']),
                ('NM_CONTROLLED', 'no'))
        devices.append(dev)
    return devices


def _extra(commands):
    return ' -- '.join(commands) if commands else None


def _ovs(model):
    devices = []
    datapath = model['ovs']['datapath_type']
    bridges = model['bridges']
    for name, eth in model['ethernets'].items():
        if eth['bridge']:
            continue    # a single-NIC uplink: TYPE=OVSPort below
        bond = model['bonds'][eth['bond']] if eth['bond'] else None
        dev = _Device(name)
        # A bond member carries no bond keys: its OVSBond file names it in BOND_IFACES.
        dev.add(('DEVICE', name), ('NAME', name), ('TYPE', 'Ethernet'), ('BOOTPROTO', 'none'), ('ONBOOT', 'yes'))
        dev.add(*_ethernet_items(eth, bond['mtu'] if bond else None))
        dev.add(('NM_CONTROLLED', 'no'), ('HOTPLUG', 'no'))
        devices.append(dev)
    for name, br in bridges.items():
        dev = _Device(name)
        dev.add(('DEVICE', name), ('NAME', name), ('DEVICETYPE', 'ovs'), ('TYPE', 'OVSBridge'))
        extra = []
        if br['parent']:
            _l3(dev, br, model)
            dev.add(('OVS_OPTIONS', '%s %d' % (br['parent'], br['vlan'])), ('OVSREQUIRES', br['parent']))
            dev.comment = ('VLAN bridge: ifup-ovs runs "ovs-vsctl --may-exist add-br %s $OVS_OPTIONS",\n'
                           'i.e. add-br %s %s %d, a fake bridge (an internal port tagged %d on %s).'
                           % (name, name, br['parent'], br['vlan'], br['vlan'], br['parent']))
        else:
            _l3(dev, br, model, ovs_dhcp_port=br['uplink'])
            # ovs-vsctl wants a boolean here: ifup-ovs runs "set bridge <device> stp_enable=$STP".
            dev.add(('STP', 'true' if br['stp'] else 'false'))
            if datapath != 'system':
                extra.append('set bridge %s datapath_type=%s' % (name, datapath))
            if br['stp']:
                extra.append('set bridge %s other_config:stp-forward-delay=%d' % (name, br['forward_delay']))
        if br['mtu']:
            extra.append('set Interface %s mtu_request=%d' % (name, br['mtu']))
        dev.add(('MTU', br['mtu']), ('OVS_EXTRA', _extra(extra)), ('NM_CONTROLLED', 'no'), ('HOTPLUG', 'no'))
        devices.append(dev)
        if br['parent'] or not br['uplink']:
            continue
        uplink = br['uplink']
        port = _Device(uplink)
        if br['uplink_kind'] == 'bond':
            bond = model['bonds'][uplink]
            member_extra = ['set Interface %s mtu_request=%d' % m for m in bond_member_mtus(model, uplink)]
            port.add(('DEVICE', uplink), ('NAME', uplink), ('ONBOOT', 'yes'), ('DEVICETYPE', 'ovs'),
                     ('TYPE', 'OVSBond'), ('OVS_BRIDGE', name), ('BOOTPROTO', 'none'),
                     ('BOND_IFACES', ' '.join(bond['interfaces'])), ('OVS_OPTIONS', bond_options_string(bond)),
                     ('OVS_EXTRA', _extra(member_extra)), ('NM_CONTROLLED', 'no'), ('HOTPLUG', 'no'))
        else:
            eth = model['ethernets'][uplink]
            port.add(('DEVICE', uplink), ('NAME', uplink), ('DEVICETYPE', 'ovs'), ('TYPE', 'OVSPort'),
                     ('OVS_BRIDGE', name), ('BOOTPROTO', 'none'), ('ONBOOT', 'yes'))
            port.add(*_ethernet_items(eth))
            port.add(('OVS_EXTRA', _extra(['set Interface %s mtu_request=%d' % (uplink, eth['mtu'])]
                                          if eth['mtu'] else [])),
                     ('NM_CONTROLLED', 'no'), ('HOTPLUG', 'no'))
        devices.append(port)
    return devices


def _network_file(model, opts):
    bridges = model['bridges'].values()
    gateway4 = [b['gateway4'] for b in bridges if b['gateway4']]
    uses_v6 = any(addresses_by_family(b['addresses'], 6) or b['dhcp6'] or b['gateway6']
                  or any(':' in r['via'] for r in b['routes']) for b in bridges)
    items = [('NETWORKING', 'yes'), ('HOSTNAME', opts['hostname']),
             ('GATEWAY', gateway4[0] if gateway4 else None),
             ('NETWORKING_IPV6', _yes(uses_v6)), ('IPV6INIT', _yes(uses_v6))]
    if not uses_v6:
        items.append(('IPV6_AUTOCONF', 'no'))
    return file_entry(NETWORK_FILE, _text(opts['header'], items))


def devices(model):
    """The ifcfg devices of a model, in file order (for tests and docs)."""
    return _ovs(model) if model['backend'] == 'openvswitch' else _linux(model)


def render(model, options=None):
    """Render the model as ifcfg/route files and /etc/sysconfig/network."""
    opts = options_with_defaults(options)
    devs = for_host(opts['host'], devices, model)
    files = []
    owned = []
    for dev in devs:
        files.append(file_entry('%s/ifcfg-%s' % (SCRIPTS_DIR, dev.name), _text(opts['header'], dev.items, dev.comment)))
        files.extend(_route_files(dev, opts['header']))
        owned.append('%s/ifcfg-%s' % (SCRIPTS_DIR, dev.name))
        if dev.name in model['bridges']:
            owned += ['%s/route-%s' % (SCRIPTS_DIR, dev.name), '%s/route6-%s' % (SCRIPTS_DIR, dev.name)]
    files.append(_network_file(model, opts))
    return result(NAME, files, sorted(owned))
