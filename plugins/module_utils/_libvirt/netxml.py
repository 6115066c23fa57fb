# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""A normalised network (``definition.py``) as libvirt's network XML, and any network XML as the
canonical form networks are compared in.

``render`` writes only what the definition says. ``canonical`` reads what matters from any XML
(what we render, what ``XMLDesc`` returns): libvirt adds a uuid, a MAC, the bridge name it picked,
``<nat><port/></nat>``, the PCI addresses of an active hostdev pool, ``connections``; none of
those count. Ordering does not count either: ranges, hosts, portgroups and devices are sorted.
``comparable`` then keeps of the live form only what the wanted one sets (a bridge name libvirt
chose, an MTU left to it).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import xml.etree.ElementTree as ET

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt.definition import OWN_BRIDGE_KINDS

FORWARD_MODES = {'nat': 'nat', 'routed': 'route'}


def _yes(flag):
    return 'yes' if flag else 'no'


def _sub(parent, tag, **attrs):
    return ET.SubElement(parent, tag, dict((k, str(v)) for k, v in attrs.items() if v is not None))


def host_element(parent, host):
    """A DHCP ``<host>`` (also the XML of a live update)."""
    return _sub(parent, 'host', mac=host.get('mac'), name=host.get('name'), ip=host['ip'])


def range_element(parent, span):
    return _sub(parent, 'range', start=span['start'], end=span['end'])


def dns_host_element(parent, host):
    element = _sub(parent, 'host', ip=host['ip'])
    for name in host['names']:
        ET.SubElement(element, 'hostname').text = name
    return element


def portgroup_element(parent, group):
    element = _sub(parent, 'portgroup', name=group['name'], default='yes' if group['default'] else None)
    if group['vlan'] is not None:
        _sub(ET.SubElement(element, 'vlan'), 'tag', id=group['vlan'])
    elif group['trunk']:
        vlan = _sub(element, 'vlan', trunk='yes')
        for tag in group['trunk']:
            _sub(vlan, 'tag', id=tag)
        if group['native_vlan'] is not None:
            _sub(vlan, 'tag', id=group['native_vlan'], nativeMode='untagged')
    return element


def forward_interface_element(parent, dev):
    return _sub(parent, 'interface', dev=dev)


def to_text(element):
    """The element as text, its attributes in the order they were set. Written out here because
    ElementTree before Python 3.8 sorts them (EL 8's platform-python is 3.6): the same model gives
    libvirt and the diff the same text on every Python."""
    parts = []
    _write(element, parts)
    return ''.join(parts)


def _write(element, parts):
    attrs = ''.join(' %s=%s' % (name, _quote(value)) for name, value in element.attrib.items())
    if element.text or len(element):
        parts.append('<%s%s>%s' % (element.tag, attrs, _escape(element.text or '')))
        for child in element:
            _write(child, parts)
        parts.append('</%s>' % element.tag)
    else:
        parts.append('<%s%s />' % (element.tag, attrs))
    parts.append(_escape(element.tail or ''))


def _escape(text):
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _quote(value):
    """An attribute value as ElementTree writes it: double-quoted, whitespace kept by reference."""
    return '"%s"' % (_escape(value).replace('"', '&quot;').replace('\r', '&#13;')
                     .replace('\n', '&#10;').replace('\t', '&#09;'))


def render(net):
    """The network XML of a normalised network."""
    root = ET.Element('network')
    ET.SubElement(root, 'name').text = net['name']
    kind = net['kind']
    if kind in OWN_BRIDGE_KINDS:
        if kind in FORWARD_MODES:
            _sub(root, 'forward', mode=FORWARD_MODES[kind], dev=net.get('forward_dev'))
        _sub(root, 'bridge', name=net.get('bridge'), stp='on' if net['stp'] else 'off', delay=net['delay'])
        if net.get('mtu'):
            _sub(root, 'mtu', size=net['mtu'])
        if net.get('domain'):
            _sub(root, 'domain', name=net['domain'])
        if net['dns']['hosts']:
            dns = ET.SubElement(root, 'dns')
            for host in net['dns']['hosts']:
                dns_host_element(dns, host)
        for ip in net['ips']:
            element = _sub(root, 'ip', family=ip['family'], address=ip['address'], prefix=ip['prefix'])
            if ip['dhcp']['ranges'] or ip['dhcp']['hosts']:
                dhcp = ET.SubElement(element, 'dhcp')
                for span in ip['dhcp']['ranges']:
                    range_element(dhcp, span)
                for host in ip['dhcp']['hosts']:
                    host_element(dhcp, host)
    elif kind in ('bridge', 'openvswitch'):
        _sub(root, 'forward', mode='bridge')
        _sub(root, 'bridge', name=net['bridge'])
        if kind == 'openvswitch':
            _sub(root, 'virtualport', type='openvswitch')
            for group in net['portgroups']:
                portgroup_element(root, group)
    elif kind == 'macvtap':
        forward = _sub(root, 'forward', mode=net['mode'])
        for dev in net['devices']:
            forward_interface_element(forward, dev)
    elif kind == 'hostdev':
        forward = _sub(root, 'forward', mode='hostdev', managed='yes')
        _sub(forward, 'pf', dev=net['pf'])
    return to_text(root)


def _prefix(ip):
    if ip.get('prefix') is not None:
        return int(ip.get('prefix'))
    if ip.get('netmask'):
        return ipaddress.ip_network('0.0.0.0/%s' % ip.get('netmask')).prefixlen
    return 64 if ip.get('family') == 'ipv6' or ':' in (ip.get('address') or '') else 24


def _portgroup(element):
    group = {'name': element.get('name'), 'default': element.get('default') == 'yes', 'vlan': None, 'trunk': [],
             'native_vlan': None}
    vlan = element.find('vlan')
    if vlan is not None:
        tags = vlan.findall('tag')
        native = [int(t.get('id')) for t in tags if t.get('nativeMode')]
        plain = sorted(int(t.get('id')) for t in tags if not t.get('nativeMode'))
        if vlan.get('trunk') == 'yes' or len(tags) > 1 or native:
            group['trunk'] = plain
            group['native_vlan'] = native[0] if native else None
        elif plain:
            group['vlan'] = plain[0]
    return group


def canonical(text):
    """What matters of any network XML, in a comparable form."""
    root = ET.fromstring(text)
    forward = root.find('forward')
    bridge = root.find('bridge')
    mtu = root.find('mtu')
    domain = root.find('domain')
    out = {
        'name': root.findtext('name'),
        'forward_mode': forward.get('mode', 'nat') if forward is not None else None,
        'forward_dev': forward.get('dev') if forward is not None else None,
        'forward_interfaces': sorted(i.get('dev') for i in forward.findall('interface')) if forward is not None else [],
        'forward_managed': forward.get('managed') == 'yes' if forward is not None else False,
        'pf': forward.find('pf').get('dev') if forward is not None and forward.find('pf') is not None else None,
        'bridge': bridge.get('name') if bridge is not None else None,
        'stp': (bridge.get('stp', 'on') == 'on') if bridge is not None else None,
        'delay': int(bridge.get('delay', '0')) if bridge is not None else None,
        'mtu': int(mtu.get('size')) if mtu is not None else None,
        'virtualport': root.find('virtualport').get('type') if root.find('virtualport') is not None else None,
        'domain': domain.get('name') if domain is not None else None,
        'dns_hosts': [],
        'ips': [],
        'portgroups': sorted((_portgroup(p) for p in root.findall('portgroup')), key=lambda g: g['name']),
    }
    dns = root.find('dns')
    if dns is not None:
        for host in dns.findall('host'):
            out['dns_hosts'].append({'ip': str(ipaddress.ip_address(host.get('ip'))),
                                     'names': sorted(set(n.text for n in host.findall('hostname')))})
        out['dns_hosts'].sort(key=lambda h: ipaddress.ip_address(h['ip']))
    for ip in root.findall('ip'):
        family = ip.get('family') or ('ipv6' if ':' in ip.get('address', '') else 'ipv4')
        dhcp = ip.find('dhcp')
        ranges = []
        hosts = []
        if dhcp is not None:
            ranges = sorted(({'start': str(ipaddress.ip_address(r.get('start'))),
                              'end': str(ipaddress.ip_address(r.get('end')))} for r in dhcp.findall('range')),
                            key=lambda r: ipaddress.ip_address(r['start']))
            hosts = sorted(({'mac': (h.get('mac') or '').lower() or None, 'name': h.get('name'),
                             'ip': str(ipaddress.ip_address(h.get('ip')))} for h in dhcp.findall('host')),
                           key=lambda h: ipaddress.ip_address(h['ip']))
        out['ips'].append({'family': family, 'address': str(ipaddress.ip_address(ip.get('address'))),
                           'prefix': _prefix(dict(ip.attrib, family=family)), 'ranges': ranges, 'hosts': hosts})
    out['ips'].sort(key=lambda i: i['family'])
    # libvirt lists the interfaces of a route/nat network's dev, and a hostdev pool's VFs: only
    # macvtap's own device list counts.
    if out['forward_mode'] in ('nat', 'route', 'hostdev') or out['bridge']:
        out['forward_interfaces'] = []
    return out


def comparable(wanted, live):
    """``live`` (canonical) without what ``wanted`` (canonical) leaves to libvirt."""
    live = dict(live)
    for key in ('bridge', 'mtu', 'forward_dev'):
        if wanted.get(key) is None:
            live[key] = None
    return live
