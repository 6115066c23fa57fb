# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The layer-3 rules of a kvm_network model: addresses, gateways, routes and DNS.

``AddressRules`` is mixed into the normaliser (``normalise._Normaliser``); its methods record
problems on ``self.chk`` (a ``values.Checker``): per bridge (``bridge_l3``: addresses, DHCP,
gateways, nameservers, routes) and across the host (``addresses_and_gateways``: an address on two
bridges, a gateway outside every subnet or in another bridge's, two default gateways).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.values import (
    DOMAIN_RE,
    as_bool,
    as_int,
    as_list,
    as_mapping,
    format_address,
    is_default_route,
    parse_interface_address,
    parse_ip,
    parse_route_target,
    route_family,
)

NAMESERVER_KEYS = ('addresses', 'search')
ROUTE_KEYS = ('to', 'via', 'metric')


class AddressRules(object):
    """Layer-3 checks and normalisation; expects ``self.chk``."""

    def bridge_l3(self, where, opts, br):
        chk = self.chk
        nets = []
        for value in as_list(chk, where, 'addresses', opts.get('addresses')):
            net = parse_interface_address(chk, where, value)
            if net is not None:
                nets.append(net)
        br['_nets'] = nets
        br['addresses'] = [format_address(n) for n in nets]
        br['dhcp4'] = as_bool(chk, where, 'dhcp4', opts.get('dhcp4'), False)
        br['dhcp6'] = as_bool(chk, where, 'dhcp6', opts.get('dhcp6'), False)
        for key, version in (('gateway4', 4), ('gateway6', 6)):
            value = opts.get(key)
            if value is None:
                continue
            ip = parse_ip(value)
            if ip is None or ip.version != version:
                chk.add(where, '%s %r is not an IPv%d address' % (key, value, version),
                        'write a plain IPv%d address without prefix, e.g. %s' % (version, '198.51.100.1' if version == 4 else '2001:db8::1'))
                continue
            br[key] = str(ip)
        ns = as_mapping(chk, where + ' nameservers', opts.get('nameservers'))
        chk.unknown_keys(where + ' nameservers', ns, NAMESERVER_KEYS)
        for value in as_list(chk, where + ' nameservers', 'addresses', ns.get('addresses')):
            ip = parse_ip(value)
            if ip is None:
                chk.add(where, 'nameserver %r is not an IP address' % (value,), 'write the DNS server as a plain IP address')
            else:
                br['nameservers']['addresses'].append(str(ip))
        for value in as_list(chk, where + ' nameservers', 'search', ns.get('search')):
            if not isinstance(value, str) or not DOMAIN_RE.match(value):
                chk.add(where, 'search domain %r is not a domain name' % (value,), 'write a DNS domain such as mycloud.local')
            else:
                br['nameservers']['search'].append(value)
        for index, route in enumerate(as_list(chk, where, 'routes', opts.get('routes'))):
            rwhere = '%s route %d' % (where, index + 1)
            route = as_mapping(chk, rwhere, route)
            chk.unknown_keys(rwhere, route, ROUTE_KEYS)
            if route.get('to') is None or route.get('via') is None:
                chk.add(rwhere, 'needs both to and via', 'write e.g. {to: 203.0.113.0/24, via: 198.51.100.1}')
                continue
            to = parse_route_target(chk, rwhere, route['to'])
            via = parse_ip(route['via'])
            if via is None:
                chk.add(rwhere, 'via %r is not an IP address' % (route['via'],), 'write the next hop as a plain IP address')
                continue
            if to is None:
                continue
            family = route_family(to) or via.version
            if family != via.version:
                chk.add(rwhere, 'destination %s and next hop %s are different IP versions' % (to, via),
                        'use an IPv%d next hop' % family)
                continue
            if to == 'default':
                to = '0.0.0.0/0' if via.version == 4 else '::/0'
            metric = as_int(chk, rwhere, 'metric', route.get('metric'), 0, 4294967295)
            br['routes'].append({'to': to, 'via': str(via), 'metric': metric})

    # -- addresses across the host ---------------------------------------------------------------
    def addresses_and_gateways(self, bridges):
        chk = self.chk
        seen = {}
        for name, br in bridges.items():
            self._dns_needs_l3('bridge %s' % name, br)
        for name, br in bridges.items():
            for net in br['_nets']:
                key = str(net.ip)
                if key in seen:
                    other = seen[key]
                    chk.add('bridge %s' % name, 'address %s is also on %s' % (key, 'this bridge' if other == name else 'bridge ' + other),
                            'give each address to one interface once')
                else:
                    seen[key] = name
        defaults = {4: [], 6: []}
        for name, br in bridges.items():
            where = 'bridge %s' % name
            for key, version in (('gateway4', 4), ('gateway6', 6)):
                gw = br[key]
                if gw is None:
                    continue
                defaults[version].append('%s of bridge %s' % (key, name))
                self._check_next_hop(where, key, gw, br, bridges, version)
            for index, route in enumerate(br['routes']):
                version = 6 if ':' in route['via'] else 4
                self._check_next_hop('%s route %d' % (where, index + 1), 'via', route['via'], br, bridges, version)
                if is_default_route(route['to']):
                    defaults[version].append('default route %d of bridge %s' % (index + 1, name))
        for version, owners in defaults.items():
            if len(owners) > 1:
                chk.add('kvm_network', 'two IPv%d default gateways: %s' % (version, ', '.join(owners)),
                        'keep one IPv%d default gateway; use routes with specific destinations for the others' % version)
        for br in bridges.values():
            br.pop('_nets', None)

    def _dns_needs_l3(self, where, br):
        """DNS settings belong to an interface that has addresses (NetworkManager and initscripts
        refuse them on an unaddressed one, netplan ignores them there)."""
        ns = br['nameservers']
        has_l3 = br['addresses'] or br['dhcp4'] or br['dhcp6']
        if (ns['addresses'] or ns['search']) and not has_l3:
            self.chk.add(where, 'has nameservers but no address and no DHCP',
                         'put nameservers on the bridge that carries the host address')
        if len(ns['addresses']) > 3:
            self.chk.add(where, '%d nameservers; the resolver uses only the first three' % len(ns['addresses']),
                         'keep at most three nameservers')

    def _check_next_hop(self, where, key, gw, br, bridges, version):
        chk = self.chk
        ip = ipaddress.ip_address(gw)
        own = [n for n in br['_nets'] if n.version == version]
        if any(ip == n.ip for n in own):
            chk.add(where, '%s %s is an address of this bridge' % (key, gw), 'use the router address, not the host\'s own')
            return
        if any(ip in n.network for n in own):
            return
        dynamic = br['dhcp4'] if version == 4 else br['dhcp6']
        if version == 6 and ip.is_link_local and own:
            return
        if dynamic:
            return
        elsewhere = [other for other, obr in bridges.items()
                     if other != br['name'] and any(n.version == version and ip in n.network for n in obr['_nets'])]
        if elsewhere:
            chk.add(where, '%s %s is not in a subnet of this bridge but of bridge %s' % (key, gw, elsewhere[0]),
                    'move %s to bridge %s, or fix the address' % (key, elsewhere[0]))
        elif own:
            chk.add(where, '%s %s is in no subnet of this host (this bridge has %s)' % (key, gw, ', '.join(format_address(n) for n in own)),
                    'use a router inside %s, or fix the prefix length' % ', '.join(str(n.network) for n in own))
        else:
            chk.add(where, '%s %s is in no subnet of this host (the bridge has no IPv%d address)' % (key, gw, version),
                    'add an IPv%d address on this bridge in the gateway\'s subnet, or enable dhcp%d' % (version, version))
