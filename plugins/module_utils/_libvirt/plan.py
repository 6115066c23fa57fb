# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""What it takes to bring a defined libvirt network to its wanted definition.

What libvirt changes in place, on the running network and in its stored definition at once
(virNetworkUpdate with AFFECT_LIVE|AFFECT_CONFIG; "net-update" in virsh), becomes an update:
DHCP hosts and ranges, DNS host entries, portgroups, a macvtap pool's devices. Anything else (the
forward mode or device, the bridge and its STP, the MTU, the domain, an address or prefix, the
virtualport, a hostdev pool's PF) needs the definition replaced and the network restarted: a
restart, which the module does only with consent when guests use the network.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import netxml

# libvirt's virNetworkUpdateCommand, virNetworkUpdateSection (libvirt-network.h).
MODIFY, DELETE, ADD_LAST = 1, 2, 3
SECTION_IP_DHCP_HOST, SECTION_IP_DHCP_RANGE, SECTION_FORWARD_INTERFACE = 4, 5, 7
SECTION_PORTGROUP, SECTION_DNS_HOST = 9, 10
# What each restart reason compares.
RESTART_FIELDS = ('forward_mode', 'forward_dev', 'forward_managed', 'pf', 'bridge', 'stp', 'delay', 'mtu',
                  'virtualport', 'domain')


class Update(object):
    """One virNetworkUpdate call: command, section, parent index (the <ip> element, -1 for none), XML."""

    def __init__(self, command, section, parent, xml, what):
        self.command, self.section, self.parent, self.xml, self.what = command, section, parent, xml, what

    def report(self):
        return {'command': {MODIFY: 'modify', DELETE: 'delete', ADD_LAST: 'add-last'}[self.command],
                'section': {SECTION_IP_DHCP_HOST: 'ip-dhcp-host', SECTION_IP_DHCP_RANGE: 'ip-dhcp-range',
                            SECTION_FORWARD_INTERFACE: 'forward-interface', SECTION_PORTGROUP: 'portgroup',
                            SECTION_DNS_HOST: 'dns-host'}[self.section],
                'parent_index': self.parent, 'xml': self.xml, 'what': self.what}


def _xml(builder, item):
    holder = ET.Element('x')
    return netxml.to_text(builder(holder, item))


def _key(item):
    return repr(sorted(item.items()))


def _set_changes(wanted, live):
    """(to delete, to add): items of ``live`` not wanted, and wanted not in ``live``."""
    have = set(_key(i) for i in live)
    want = set(_key(i) for i in wanted)
    return [i for i in live if _key(i) not in want], [i for i in wanted if _key(i) not in have]


def _ip_updates(name, wanted_ip, live_ip, parent):
    updates = []
    gone, new = _set_changes(wanted_ip['hosts'], live_ip['hosts'])
    for host in gone:
        updates.append(Update(DELETE, SECTION_IP_DHCP_HOST, parent, _xml(netxml.host_element, host),
                              'DHCP host %s removed' % host['ip']))
    for host in new:
        updates.append(Update(ADD_LAST, SECTION_IP_DHCP_HOST, parent, _xml(netxml.host_element, host),
                              'DHCP host %s (%s) added' % (host['ip'], host.get('mac') or host.get('name'))))
    gone, new = _set_changes(wanted_ip['ranges'], live_ip['ranges'])
    for span in gone:
        updates.append(Update(DELETE, SECTION_IP_DHCP_RANGE, parent, _xml(netxml.range_element, span),
                              'DHCP range %s-%s removed' % (span['start'], span['end'])))
    for span in new:
        updates.append(Update(ADD_LAST, SECTION_IP_DHCP_RANGE, parent, _xml(netxml.range_element, span),
                              'DHCP range %s-%s added' % (span['start'], span['end'])))
    return updates


def plan(wanted, live):
    """{'updates': [Update], 'restart': [reason], 'differences': [text]} to go from ``live`` to
    ``wanted`` (both canonical, ``netxml.canonical``)."""
    live = netxml.comparable(wanted, live)
    restart = []
    for field in RESTART_FIELDS:
        if wanted.get(field) != live.get(field):
            restart.append('%s %s, wanted %s' % (field, live.get(field), wanted.get(field)))
    updates = []
    wanted_ips = dict((i['family'], i) for i in wanted['ips'])
    live_ips = dict((i['family'], i) for i in live['ips'])
    if sorted(wanted_ips) != sorted(live_ips):
        restart.append('addresses %s, wanted %s' % (', '.join(sorted(live_ips)) or 'none',
                                                    ', '.join(sorted(wanted_ips)) or 'none'))
    # parentIndex: the <ip> element's position in the live XML (ipv4 sorts before ipv6, as both list them).
    for index, family in enumerate(sorted(live_ips)):
        if family not in wanted_ips:
            continue
        w, h = wanted_ips[family], live_ips[family]
        if (w['address'], w['prefix']) != (h['address'], h['prefix']):
            restart.append('%s address %s/%s, wanted %s/%s' % (family, h['address'], h['prefix'], w['address'], w['prefix']))
            continue
        if (w['ranges'] or w['hosts']) and not (h['ranges'] or h['hosts']):
            # No dnsmasq DHCP configuration to update yet: libvirt gives a running network its DHCP service at start.
            restart.append('%s DHCP service added' % family)
            continue
        if not (w['ranges'] or w['hosts']) and (h['ranges'] or h['hosts']):
            restart.append('%s DHCP service removed' % family)
            continue
        updates.extend(_ip_updates(wanted['name'], w, h, index if len(live_ips) > 1 else -1))
    gone, new = _set_changes(wanted['dns_hosts'], live['dns_hosts'])
    for host in gone:
        updates.append(Update(DELETE, SECTION_DNS_HOST, -1, _xml(netxml.dns_host_element, host),
                              'DNS host %s removed' % host['ip']))
    for host in new:
        updates.append(Update(ADD_LAST, SECTION_DNS_HOST, -1, _xml(netxml.dns_host_element, host),
                              'DNS host %s (%s) added' % (host['ip'], ', '.join(host['names']))))
    wanted_groups = dict((g['name'], g) for g in wanted['portgroups'])
    live_groups = dict((g['name'], g) for g in live['portgroups'])
    for name in sorted(set(live_groups) - set(wanted_groups)):
        updates.append(Update(DELETE, SECTION_PORTGROUP, -1, _xml(netxml.portgroup_element, live_groups[name]),
                              'portgroup %s removed' % name))
    for name in sorted(wanted_groups):
        if name not in live_groups:
            updates.append(Update(ADD_LAST, SECTION_PORTGROUP, -1, _xml(netxml.portgroup_element, wanted_groups[name]),
                                  'portgroup %s added' % name))
        elif wanted_groups[name] != live_groups[name]:
            updates.append(Update(MODIFY, SECTION_PORTGROUP, -1, _xml(netxml.portgroup_element, wanted_groups[name]),
                                  'portgroup %s changed' % name))
    gone, new = _set_changes([{'dev': d} for d in wanted['forward_interfaces']],
                             [{'dev': d} for d in live['forward_interfaces']])
    for dev in gone:
        updates.append(Update(DELETE, SECTION_FORWARD_INTERFACE, -1, _xml(netxml.forward_interface_element, dev['dev']),
                              'device %s removed' % dev['dev']))
    for dev in new:
        updates.append(Update(ADD_LAST, SECTION_FORWARD_INTERFACE, -1, _xml(netxml.forward_interface_element, dev['dev']),
                              'device %s added' % dev['dev']))
    differences = restart + [u.what for u in updates]
    return {'updates': updates, 'restart': restart, 'differences': differences}
