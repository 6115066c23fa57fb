# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Render a normalised model as NetworkManager keyfiles (EL 8/9/10).

One keyfile per connection profile in /etc/NetworkManager/system-connections, mode 0600 (NM
ignores keyfiles other users can read). Profiles are tied together with ``master=`` (the UUID of
the controller profile) and ``slave-type=``: every NetworkManager since 1.0 reads these keys,
including 1.30-1.40 (EL8) and 1.46+ (EL9/EL10), which also read the newer ``controller=`` /
``port-type=`` spelling that older releases do not.

Linux bridge: ``ethernet`` port profiles, ``bond``, ``vlan`` and ``bridge`` profiles; the IP
configuration sits on the bridge. Open vSwitch (NetworkManager-ovs): an ``ovs-bridge`` profile
per bridge, the bridge's own internal interface as ``ovs-port`` + ``ovs-interface`` (type
internal) carrying the IP, the uplink as an ``ovs-port`` (bond options in ``[ovs-port]``) with
its ``ethernet`` members, and a VLAN bridge as an ``ovs-port`` tagged with the VLAN on its parent
plus an internal ``ovs-interface``: NetworkManager has no fake bridge; the tagged internal port is
what ``ovs-vsctl add-br cloudbr100 cloudbr0 100`` puts in the database, minus the fake_bridge
flag.

NetworkManager does not rename NICs: a NIC matched by MAC gets ``[ethernet] mac-address=`` and a
systemd .link file (shared with the ifupdown renderer) gives it its name.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.desired import (
    bond_options,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import (
    FILE_PREFIX,
    RenderError,
    addresses_by_family,
    comment_header,
    file_entry,
    for_host,
    linux_bond_options,
    options_with_defaults,
    result,
    stable_uuid,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.systemd_link import (
    LINK_PATTERN,
    systemd_link_files,
)

NAME = 'networkmanager'
CONN_DIR = '/etc/NetworkManager/system-connections'
OWNED = [CONN_DIR + '/%s-*.nmconnection' % FILE_PREFIX, LINK_PATTERN % '*']

OVS_OTHER_CONFIG_NOTE = (
    '[ovs-other-config] is read by NetworkManager 1.42 and later (EL9, EL10). Older releases\n'
    '(EL8: 1.40) skip it with a warning: there the OVS database reconcile sets these keys, and\n'
    'NetworkManager recreates the port without them when it restarts until the next reconcile.'
)


def conn_id(ifname, role=None):
    """The profile id (and file name stem): cloudstack-kvm-<ifname>[-<role>].

    The profile that owns the kernel-visible device (ethernet, bond, vlan, bridge, ovs-interface)
    is plain cloudstack-kvm-<ifname>; OVS bridge and port profiles, which may share the name of
    an interface, get an -ovs-bridge / -ovs-port suffix.
    """
    return '%s-%s%s' % (FILE_PREFIX, ifname, '-' + role if role else '')


class _Profile(object):
    """One connection profile: [connection] keys plus ordered sections of (key, value)."""

    def __init__(self, cid, ctype, ifname, master=None, slave_type=None, comment=None):
        self.id = cid
        self.type = ctype
        self.ifname = ifname
        self.master = master            # the controller's profile id
        self.slave_type = slave_type
        self.comment = comment
        self.sections = []

    def section(self, name, items, comment=None):
        items = [(k, v) for k, v in items if v is not None]
        self.sections.append((name, items, comment))


def _bool(value):
    return 'true' if value else 'false'


def _ip_sections(profile, br):
    """[ipv4] and [ipv6] of a profile that carries a bridge's IP configuration."""
    where = 'bridge %s' % br['name']
    dns_by_family = {4: [], 6: []}
    for server in br['nameservers']['addresses']:
        dns_by_family[6 if ':' in server else 4].append(server)
    routes_by_family = {4: [], 6: []}
    for route in br['routes']:
        routes_by_family[6 if ':' in route['via'] else 4].append(route)
    search = br['nameservers']['search']
    enabled = {}
    methods = {}
    for family, dhcp, gateway in ((4, br['dhcp4'], br['gateway4']), (6, br['dhcp6'], br['gateway6'])):
        addrs = addresses_by_family(br['addresses'], family)
        if dhcp:
            methods[family] = 'auto'
        elif addrs:
            methods[family] = 'manual'
        else:
            methods[family] = 'disabled'
        enabled[family] = methods[family] != 'disabled'
        if not enabled[family]:
            for what, present in (('nameserver(s) %s' % ', '.join(dns_by_family[family]), dns_by_family[family]),
                                  ('route(s) via %s' % ', '.join(r['via'] for r in routes_by_family[family]),
                                   routes_by_family[family]),
                                  ('gateway%d %s' % (family, gateway), gateway)):
                if present:
                    raise RenderError(
                        '%s: %s: the bridge has no IPv%d address and no dhcp%d, and NetworkManager keeps '
                        'DNS servers, routes and gateways in a connection\'s IPv%d settings and refuses them '
                        'there while IPv%d is disabled. Fix: add an IPv%d address (or dhcp%d: true) to %s, '
                        'or move them to a bridge with IPv%d'
                        % (where, what, family, family, family, family, family, family, br['name'], family))

    for family, section, gateway in ((4, 'ipv4', br['gateway4']), (6, 'ipv6', br['gateway6'])):
        addrs = addresses_by_family(br['addresses'], family)
        items = [('method', methods[family])]
        gateway_route = None
        for index, cidr in enumerate(addrs):
            value = cidr
            if index == 0 and gateway:
                # NetworkManager's own keyfile writer puts the gateway after the first address.
                value = '%s,%s' % (cidr, gateway)
            items.append(('address%d' % (index + 1), value))
        if gateway and not addrs:
            # ipv4/ipv6.gateway needs a static address; with DHCP alone the gateway is a route.
            gateway_route = {'to': '0.0.0.0/0' if family == 4 else '::/0', 'via': gateway, 'metric': None}
        if dns_by_family[family]:
            items.append(('dns', ''.join('%s;' % s for s in dns_by_family[family])))
        search_here = search and (family == 4 and enabled[4] or family == 6 and not enabled[4])
        if search_here:
            items.append(('dns-search', ''.join('%s;' % s for s in search)))
        routes = ([gateway_route] if gateway_route else []) + routes_by_family[family]
        for index, route in enumerate(routes):
            value = '%s,%s' % (route['to'], route['via'])
            if route['metric'] is not None:
                value += ',%d' % route['metric']
            items.append(('route%d' % (index + 1), value))
        profile.section(section, items)


def _ethernet(model, eth, master=None, slave_type=None, mtu=None):
    name = eth['name']
    prof = _Profile(conn_id(name), 'ethernet', name, master, slave_type)
    mac = eth['match'].get('macaddress')
    prof.section('ethernet', [('mac-address', mac.upper() if mac else None),
                              ('mtu', eth['mtu'] or mtu)])
    if master is None:
        # A NIC that is no port of anything: link up, no address.
        prof.section('ipv4', [('method', 'disabled')])
        prof.section('ipv6', [('method', 'disabled')])
    return prof


def _linux(model):
    profiles = []
    for name, eth in model['ethernets'].items():
        if eth['bond']:
            profiles.append(_ethernet(model, eth, conn_id(eth['bond']), 'bond'))
        elif eth['bridge']:
            profiles.append(_ethernet(model, eth, conn_id(eth['bridge']), 'bridge'))
        else:
            profiles.append(_ethernet(model, eth))
    for name, bond in model['bonds'].items():
        master = conn_id(bond['bridge']) if bond['bridge'] else None
        prof = _Profile(conn_id(name), 'bond', name, master, 'bridge' if master else None)
        # NetworkManager's [bond] keys are the driver's option names.
        prof.section('bond', linux_bond_options(bond))
        if bond['mtu']:
            prof.section('ethernet', [('mtu', bond['mtu'])])
        if not master:
            prof.section('ipv4', [('method', 'disabled')])
            prof.section('ipv6', [('method', 'disabled')])
        profiles.append(prof)
    for name, vlan in model['vlans'].items():
        bridge = model['bridges'][vlan['bridge']]
        prof = _Profile(conn_id(name), 'vlan', name, conn_id(vlan['bridge']), 'bridge')
        prof.section('vlan', [('id', vlan['id']), ('parent', vlan['link'])])
        if bridge['mtu']:
            # A bridge takes the smallest MTU of its ports: the VLAN device follows its bridge.
            prof.section('ethernet', [('mtu', bridge['mtu'])])
        profiles.append(prof)
    for name, br in model['bridges'].items():
        prof = _Profile(conn_id(name), 'bridge', name)
        prof.section('bridge', [('stp', _bool(br['stp'])), ('forward-delay', br['forward_delay'])])
        if br['mtu']:
            prof.section('ethernet', [('mtu', br['mtu'])])
        _ip_sections(prof, br)
        profiles.append(prof)
    return profiles


def _ovs_internal(model, br, bridge_id):
    """The ovs-port + ovs-interface (internal) pair of a bridge's own or a VLAN bridge's interface."""
    name = br['name']
    port = _Profile(conn_id(name, 'ovs-port'), 'ovs-port', name, bridge_id, 'ovs-bridge')
    if br['parent']:
        port.comment = ('VLAN bridge %s: NetworkManager has no fake bridge; this internal port tagged %d\n'
                        'on %s is what ovs-vsctl add-br %s %s %d creates (without fake_bridge=true).'
                        % (name, br['vlan'], br['parent'], name, br['parent'], br['vlan']))
        port.section('ovs-port', [('tag', br['vlan'])])
    else:
        port.section('ovs-port', [])
    iface = _Profile(conn_id(name), 'ovs-interface', name, port.id, 'ovs-port')
    iface.section('ovs-interface', [('type', 'internal')])
    if br['mtu']:
        # NetworkManager writes it to the Interface's mtu_request.
        iface.section('ethernet', [('mtu', br['mtu'])])
    _ip_sections(iface, br)
    return [port, iface]


def _ovs(model):
    profiles = []
    datapath = model['ovs']['datapath_type']
    bridges = model['bridges']
    for name, br in bridges.items():
        if br['parent']:
            continue
        bridge = _Profile(conn_id(name, 'ovs-bridge'), 'ovs-bridge', name)
        bridge.section('ovs-bridge', [('datapath-type', datapath if datapath != 'system' else None),
                                      ('stp-enable', _bool(br['stp']))])
        if br['stp']:
            bridge.section('ovs-other-config', [('data.stp-forward-delay', br['forward_delay'])],
                           comment=OVS_OTHER_CONFIG_NOTE)
        profiles.append(bridge)
        profiles.extend(_ovs_internal(model, br, bridge.id))
        for fake in bridges.values():
            if fake['parent'] == name:
                profiles.extend(_ovs_internal(model, fake, bridge.id))
        uplink = br['uplink']
        if not uplink:
            continue
        port = _Profile(conn_id(uplink, 'ovs-port'), 'ovs-port', uplink, bridge.id, 'ovs-bridge')
        profiles.append(port)
        if br['uplink_kind'] == 'bond':
            bond = model['bonds'][uplink]
            columns = dict(bond_options(bond))
            port.section('ovs-port', [
                ('bond-mode', columns['bond_mode']),
                ('lacp', columns['lacp']),
                ('bond-updelay', columns.get('bond_updelay')),
                ('bond-downdelay', columns.get('bond_downdelay')),
            ])
            other = [('data.' + key[len('other_config:'):], value) for key, value in bond_options(bond)
                     if key.startswith('other_config:')]
            port.section('ovs-other-config', other, comment=OVS_OTHER_CONFIG_NOTE)
            for member in bond['interfaces']:
                profiles.append(_ethernet(model, model['ethernets'][member], port.id, 'ovs-port', bond['mtu']))
        else:
            port.section('ovs-port', [])
            profiles.append(_ethernet(model, model['ethernets'][uplink], port.id, 'ovs-port'))
    for name, eth in model['ethernets'].items():
        if not eth['bridge'] and not eth['bond']:
            # Not a port of any OVS bridge: link up, no address.
            profiles.append(_ethernet(model, eth))
    return profiles


def _keyfile(profile, uuids, header):
    lines = [comment_header(header).rstrip('\n')]
    if profile.comment:
        lines.extend('# ' + line for line in profile.comment.splitlines())
    conn = [('id', profile.id), ('uuid', uuids[profile.id]), ('type', profile.type),
            ('interface-name', profile.ifname), ('autoconnect', 'true')]
    if profile.master:
        conn += [('master', uuids[profile.master]), ('slave-type', profile.slave_type)]
    sections = [('connection', conn, None)] + profile.sections
    for name, items, comment in sections:
        lines.append('')
        if comment:
            lines.extend('# ' + line for line in comment.splitlines())
        lines.append('[%s]' % name)
        lines.extend('%s=%s' % (key, value) for key, value in items)
    return '\n'.join(lines) + '\n'


def profiles(model):
    """The connection profiles of a model (for tests and docs): a list of _Profile."""
    return _ovs(model) if model['backend'] == 'openvswitch' else _linux(model)


def render(model, options=None):
    """Render the model as keyfiles (plus systemd .link files for NICs named by MAC)."""
    opts = options_with_defaults(options)
    profs = for_host(opts['host'], profiles, model)
    uuids = dict((p.id, stable_uuid(opts['host'], p.id)) for p in profs)
    files = [file_entry('%s/%s.nmconnection' % (CONN_DIR, p.id), _keyfile(p, uuids, opts['header']), '0600')
             for p in profs]
    files.extend(systemd_link_files(model, opts['header']))
    return result(NAME, files, OWNED)
