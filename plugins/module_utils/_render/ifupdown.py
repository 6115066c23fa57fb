# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Render a normalised model as Debian ifupdown stanzas (``/etc/network/interfaces.d/cloudstack-kvm``).

Linux bridge: ifenslave bonds (``bond-slaves``, ``bond-mode``, ...), VLAN devices of the vlan
package (``vlan-raw-device``) and bridge-utils bridges (``bridge_ports``, ``bridge_stp``,
``bridge_fd``). Open vSwitch: openvswitch-switch's ifupdown integration (``allow-ovs``,
``ovs_type OVSBridge``/``OVSBond``/``OVSPort``/``OVSIntPort``, ``ovs_options``, ``ovs_extra``),
the VLAN bridge being an internal port tagged with the VLAN on its parent, marked
``fake_bridge=true`` so the database holds what ``ovs-vsctl add-br cloudbr100 cloudbr0 100``
creates.

ifupdown cannot rename a NIC: the systemd .link files of ``systemd_link`` name NICs by MAC,
and this renderer writes them too (as the NetworkManager renderer does).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.desired import (
    bond_options_string,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import (
    FILE_PREFIX,
    addresses_by_family,
    bond_member_mtus,
    comment_header,
    file_entry,
    linux_bond_options,
    options_with_defaults,
    prefix_to_netmask,
    result,
    split_address,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.systemd_link import (
    LINK_PATTERN,
    systemd_link_files,
)

NAME = 'ifupdown'
PATH = '/etc/network/interfaces.d/%s' % FILE_PREFIX
OWNED = [PATH, LINK_PATTERN % '*']
INDENT = '    '


class _Stanzas(object):
    """Collects stanzas: each a list of header lines and (option, value) pairs."""

    def __init__(self):
        self.blocks = []

    def add(self, heads, iface, family, method, options):
        lines = list(heads) + ['iface %s %s %s' % (iface, family, method)]
        lines.extend('%s%s %s' % (INDENT, key, value) for key, value in options if value is not None and value != '')
        self.blocks.append('\n'.join(lines) + '\n')

    def text(self):
        return '\n'.join(self.blocks)


def _static_options(cidr, family):
    addr, prefix, _version = split_address(cidr)
    return [('address', addr), ('netmask', prefix_to_netmask(prefix) if family == 'inet' else str(prefix))]


def _route_lines(br, version):
    lines = []
    for route in br['routes']:
        if (':' in route['via']) != (version == 6):
            continue
        to = 'default' if route['to'] in ('0.0.0.0/0', '::/0') else route['to']
        cmd = 'ip %sroute add %s via %s dev %s' % ('-6 ' if version == 6 else '', to, route['via'], br['name'])
        if route['metric'] is not None:
            cmd += ' metric %d' % route['metric']
        lines.append(('up', cmd))
    return lines


def _l3_stanzas(out, heads, br, link_options):
    """The inet (and inet6) stanzas of a bridge: link options go in the first one."""
    name = br['name']
    v4 = addresses_by_family(br['addresses'], 4)
    v6 = addresses_by_family(br['addresses'], 6)
    ns = br['nameservers']
    dns = [('dns-nameservers', ' '.join(ns['addresses'])), ('dns-search', ' '.join(ns['search']))]

    # IPv4 (always present: it carries the link options)
    if br['dhcp4']:
        method = 'dhcp'
    elif v4:
        method = 'static'
    else:
        method = 'manual'
    opts = []
    if method == 'static':
        opts += _static_options(v4[0], 'inet')
        if br['gateway4']:
            opts.append(('gateway', br['gateway4']))
    opts += dns
    opts += link_options
    if method == 'dhcp' and br['gateway4']:
        opts.append(('up', 'ip route add default via %s dev %s' % (br['gateway4'], name)))
    opts += _route_lines(br, 4)
    has_v6 = bool(br['dhcp6'] or v6)
    if not has_v6:
        # The model allows IPv6 routes only next to IPv6 addresses or DHCPv6; kept here so a
        # route is never dropped.
        opts += _route_lines(br, 6)
    out.add(heads, name, 'inet', method, opts)
    extra_v4 = v4[1:] if method == 'static' else v4
    for cidr in extra_v4:
        out.add([], name, 'inet', 'static', _static_options(cidr, 'inet'))
    if not has_v6:
        return

    # IPv6
    if br['dhcp6']:
        opts6 = []
        if br['gateway6']:
            opts6.append(('up', 'ip -6 route add default via %s dev %s' % (br['gateway6'], name)))
        rest = v6
    else:
        opts6 = _static_options(v6[0], 'inet6')
        if br['gateway6']:
            opts6.append(('gateway', br['gateway6']))
        rest = v6[1:]
    opts6 += _route_lines(br, 6)
    out.add([], name, 'inet6', 'dhcp' if br['dhcp6'] else 'static', opts6)
    for cidr in rest:
        out.add([], name, 'inet6', 'static', _static_options(cidr, 'inet6'))


def _linux(model, out):
    for name, eth in model['ethernets'].items():
        heads = ['allow-%s %s' % (eth['bond'], name)] if eth['bond'] else ['auto %s' % name]
        out.add(heads, name, 'inet', 'manual', [('mtu', eth['mtu'])])
    for name, bond in model['bonds'].items():
        # ifenslave's bond-* options are the driver's, with dashes (bond-lacp-rate).
        opts = ([('bond-slaves', ' '.join(bond['interfaces']))]
                + [('bond-' + key.replace('_', '-'), value) for key, value in linux_bond_options(bond)]
                + [('mtu', bond['mtu'])])
        out.add(['auto %s' % name], name, 'inet', 'manual', opts)
    for name, vlan in model['vlans'].items():
        mtu = model['bridges'][vlan['bridge']]['mtu']
        out.add(['auto %s' % name], name, 'inet', 'manual',
                [('vlan-raw-device', vlan['link']), ('mtu', mtu)])
    for name, br in model['bridges'].items():
        link = [
            ('bridge_ports', br['port'] or 'none'),
            ('bridge_stp', 'on' if br['stp'] else 'off'),
            ('bridge_fd', br['forward_delay']),
        ]
        if br['mtu'] and br['port'] not in model['vlans']:
            # bridge-utils gives a bridge's `mtu` to its ports too (/lib/bridge-utils/ifupdown.sh), so
            # a NIC or bond the model leaves at its own MTU would be lowered with the bridge: the
            # bridge alone gets it. (A VLAN device under a bridge has the bridge's MTU anyway.)
            link.append(('post-up', 'ip link set dev %s mtu %d' % (name, br['mtu'])))
        else:
            link.append(('mtu', br['mtu']))
        _l3_stanzas(out, ['auto %s' % name], br, link)


def _extra(commands):
    return ' -- '.join(commands) if commands else None


def _ovs(model, out):
    datapath = model['ovs']['datapath_type']
    bridges = model['bridges']
    for name, eth in model['ethernets'].items():
        if eth['bridge']:
            continue    # a single-NIC uplink gets its OVSPort stanza below
        if eth['bond']:
            # Brought up by its OVSBond stanza; its MTU is set there (mtu_request).
            out.add([], name, 'inet', 'manual', [])
        else:
            out.add(['auto %s' % name], name, 'inet', 'manual', [('mtu', eth['mtu'])])
    for name, br in bridges.items():
        if br['parent']:
            continue
        ports = []
        if br['uplink']:
            ports.append(br['uplink'])
        fakes = [b for b in bridges.values() if b['parent'] == name]
        ports.extend(b['name'] for b in fakes)
        extra = []
        if datapath != 'system':
            extra.append('set bridge ${IFACE} datapath_type=%s' % datapath)
        if br['stp']:
            extra.append('set bridge ${IFACE} stp_enable=true other_config:stp-forward-delay=%d' % br['forward_delay'])
        if br['mtu']:
            extra.append('set interface ${IFACE} mtu_request=%d' % br['mtu'])
        link = [('ovs_type', 'OVSBridge'), ('ovs_ports', ' '.join(ports)), ('ovs_extra', _extra(extra))]
        _l3_stanzas(out, ['auto %s' % name, 'allow-ovs %s' % name], br, link)

        uplink = br['uplink']
        if br['uplink_kind'] == 'bond':
            bond = model['bonds'][uplink]
            member_extra = ['set interface %s mtu_request=%d' % m for m in bond_member_mtus(model, uplink)]
            out.add(['allow-%s %s' % (name, uplink)], uplink, 'inet', 'manual', [
                ('ovs_bridge', name),
                ('ovs_type', 'OVSBond'),
                ('ovs_bonds', ' '.join(bond['interfaces'])),
                ('ovs_options', bond_options_string(bond)),
                ('ovs_extra', _extra(member_extra)),
            ])
        elif br['uplink_kind'] == 'ethernet':
            eth = model['ethernets'][uplink]
            extra = ['set interface ${IFACE} mtu_request=%d' % eth['mtu']] if eth['mtu'] else []
            out.add(['allow-%s %s' % (name, uplink)], uplink, 'inet', 'manual', [
                ('ovs_bridge', name),
                ('ovs_type', 'OVSPort'),
                ('ovs_extra', _extra(extra)),
            ])
        for fake in fakes:
            extra = ['set port ${IFACE} fake_bridge=true']
            if fake['mtu']:
                extra.append('set interface ${IFACE} mtu_request=%d' % fake['mtu'])
            link = [('ovs_type', 'OVSIntPort'), ('ovs_bridge', name), ('ovs_options', 'tag=%d' % fake['vlan']),
                    ('ovs_extra', _extra(extra))]
            _l3_stanzas(out, ['auto %s' % fake['name'], 'allow-%s %s' % (name, fake['name'])], fake, link)


def interfaces_text(model, options=None):
    opts = options_with_defaults(options)
    out = _Stanzas()
    if model['backend'] == 'openvswitch':
        _ovs(model, out)
    else:
        _linux(model, out)
    return comment_header(opts['header']) + '\n' + out.text()


def render(model, options=None):
    """Render the model as an interfaces.d file (plus .link files for NICs named by MAC)."""
    opts = options_with_defaults(options)
    files = [file_entry(PATH, interfaces_text(model, opts))]
    files.extend(systemd_link_files(model, opts['header']))
    return result(NAME, files, OWNED)
