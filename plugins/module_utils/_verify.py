# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Verify a host: the wanted ``kvm_network`` model against what host_network_facts read.

:func:`compare` takes the normalised model (``_model.normalise``) and the host's
``host_network`` facts (or only their ``model`` section) and returns one difference per thing
that is not as modelled::

    {'object': 'bridge cloudbr0', 'kind': 'bridge.port', 'field': 'port',
     'expected': 'bond0', 'found': ['eth0'],
     'message': 'bridge cloudbr0: port bond0 expected, found eth0'}

Rules:

* Only what the model states is compared. Interfaces, bonds and bridges the model does not name
  are left alone; the exception is a port plugged into a bridge the model manages (a NIC, bond,
  VLAN device or internal port that nobody modelled). Guests' ports (tap/macvtap devices, OVS
  ports carrying libvirt's ``external_ids``), fake bridges and tunnel/patch ports that CloudStack
  adds to a managed bridge are not differences.
* Values are normalised before comparing: MAC case, address text and order, bond mode numbers
  (Linux ``1`` is ``active-backup``), options the model leaves unset against the kernel's or Open
  vSwitch's defaults (MTU 1500, updelay/downdelay 0, LACP rate slow, hash policy layer2), and
  ``forward_delay`` only where spanning tree makes it matter.
* A difference's ``kind`` is ``TYPE.FIELD`` (``bond.mode``, ``bridge.addresses``,
  ``vlan.present``); :func:`drop_ignored` removes kinds, whole types or single objects.

:func:`summary` writes the realised network as text readable like ``brctl show``,
``/proc/net/bonding/BOND`` and ``/proc/net/vlan/config`` (Linux bridge) or ``ovs-vsctl show`` and
``ovs-appctl bond/show`` (Open vSwitch), from the facts only: no tool's human output is parsed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

DEFAULT_MTU = 1500
OVS_DEFAULT_FORWARD_DELAY = 15

LINUX_BOND_MODES = ('balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad',
                    'balance-tlb', 'balance-alb')
LINUX_BOND_MODE_NUMBERS = dict((str(i), m) for i, m in enumerate(LINUX_BOND_MODES))
LINUX_PRIMARY_MODES = ('active-backup', 'balance-tlb', 'balance-alb')
LINUX_XMIT_HASH_MODES = ('balance-xor', '802.3ad', 'balance-tlb', 'balance-alb')
# /proc/net/bonding "Bonding Mode:" texts (drivers/net/bonding/bond_main.c bond_mode_name()).
LINUX_BOND_MODE_TEXT = {
    'balance-rr': 'load balancing (round-robin)',
    'active-backup': 'fault-tolerance (active-backup)',
    'balance-xor': 'load balancing (xor)',
    'broadcast': 'fault-tolerance (broadcast)',
    '802.3ad': 'IEEE 802.3ad Dynamic link aggregation',
    'balance-tlb': 'transmit load balancing',
    'balance-alb': 'adaptive load balancing',
}

# Ports that guests and CloudStack put on a bridge: never differences.
GUEST_LINK_TYPES = ('tun', 'tap', 'macvtap')
GUEST_NAME_RE = re.compile(r'^(?:vnet\d+|tap|vif|macvtap)')
OVS_IGNORED_PORT_TYPES = ('vm', 'patch', 'vxlan', 'gre', 'geneve', 'stt', 'lisp', 'erspan',
                          'ip6erspan', 'ip6gre', 'gtpu', 'bareudp', 'srv6')
OVS_UPLINK_PORT_TYPES = ('system', 'dpdk', 'afxdp', 'bond')
_BOND_TYPE_TEXT = {'linux': 'a Linux bond', 'openvswitch': 'an Open vSwitch bond'}
_BRIDGE_TYPE_TEXT = {'linux_bridge': 'a Linux bridge', 'openvswitch': 'an Open vSwitch bridge'}

KINDS = (
    'ethernet.present', 'ethernet.macaddress', 'ethernet.mtu',
    'bond.present', 'bond.type', 'bond.interfaces', 'bond.mode', 'bond.miimon', 'bond.updelay',
    'bond.downdelay', 'bond.primary', 'bond.lacp', 'bond.lacp_rate', 'bond.xmit_hash_policy',
    'bond.mtu',
    'vlan.present', 'vlan.id', 'vlan.link',
    'bridge.present', 'bridge.type', 'bridge.port', 'bridge.datapath_type', 'bridge.fake',
    'bridge.parent', 'bridge.vlan', 'bridge.addresses', 'bridge.dhcp4', 'bridge.gateway4',
    'bridge.gateway6', 'bridge.mtu', 'bridge.stp', 'bridge.forward_delay',
)


def _natural(name):
    return [int(p) if p.isdigit() else p for p in re.split(r'(\d+)', str(name))]


def _text(value):
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ', '.join(_text(v) for v in value) or 'none'
    return str(value)


def canonical_address(value):
    """'2001:DB8:0::20/64' -> '2001:db8::20/64'; text that is not an address is returned as is."""
    try:
        iface = ipaddress.ip_interface(str(value).strip())
    except ValueError:
        return str(value)
    return '%s/%d' % (iface.ip, iface.network.prefixlen)


def canonical_ip(value):
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return str(value)


def canonical_mac(value):
    if not value:
        return None
    return str(value).strip().lower().replace('-', ':')


def linux_bond_mode(value):
    """A Linux bond mode as its name: 1 and '1' are active-backup."""
    if value is None:
        return None
    return LINUX_BOND_MODE_NUMBERS.get(str(value), str(value))


def _int0(value):
    """None (unset) is 0 for bond delays; numbers given as text are numbers."""
    if value is None or value == '':
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class _Differences(object):

    def __init__(self):
        self.items = []

    def add(self, kind_type, name, field, expected, found, what):
        obj = '%s %s' % (kind_type, name)
        self.items.append({
            'object': obj,
            'kind': '%s.%s' % (kind_type, field),
            'field': field,
            'expected': expected,
            'found': found,
            'message': '%s: %s' % (obj, what),
        })

    def scalar(self, kind_type, name, field, expected, found):
        if expected != found:
            self.add(kind_type, name, field, expected, found,
                     '%s %s, expected %s' % (field, _text(found), _text(expected)))


def _split(realised):
    """(realised model, raw facts) from host_network facts or from a bare model."""
    realised = realised or {}
    if isinstance(realised.get('model'), dict):
        return realised['model'], realised
    return realised, {}


def _guest_linux_port(name, links):
    link = links.get(name)
    if link is not None:
        return link.get('type') in GUEST_LINK_TYPES
    return bool(GUEST_NAME_RE.match(name))


# --------------------------------------------------------------------------------------------
# Effective MTUs: what the kernel or Open vSwitch gives an interface the model sets no MTU on.
# --------------------------------------------------------------------------------------------

def _ethernet_mtu(want, name):
    eth = want['ethernets'].get(name) or {}
    if eth.get('mtu'):
        return eth['mtu']
    bond = want['bonds'].get(eth.get('bond') or '') or {}
    return bond.get('mtu') or DEFAULT_MTU


def _link_mtu(want, name):
    """A bridge uplink's MTU: a NIC's, or a bond's (a Linux bond is 1500 unless set; an OVS bond
    has no device, its members carry the MTU)."""
    if name in want['bonds']:
        bond = want['bonds'][name]
        if bond.get('mtu'):
            return bond['mtu']
        if want['backend'] == 'openvswitch' and bond['interfaces']:
            return min(_ethernet_mtu(want, m) for m in bond['interfaces'])
        return DEFAULT_MTU
    if name in want['ethernets']:
        return _ethernet_mtu(want, name)
    return DEFAULT_MTU


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------

def compare(wanted, realised):
    """Differences between the normalised model ``wanted`` and the realised network.

    ``realised`` is the ``host_network`` facts dict (raw sections and ``model``) or only the
    ``model`` section; the raw sections make the classification of ports and bonds exact.
    """
    have, facts = _split(realised)
    d = _Differences()
    ovs = wanted['backend'] == 'openvswitch'
    _ethernets(d, wanted, have)
    _bonds(d, wanted, have, facts, ovs)
    if not ovs:
        _vlans(d, wanted, have)
    _bridges(d, wanted, have, facts, ovs)
    return d.items


def _ethernets(d, want, have):
    hethernets = have.get('ethernets') or {}
    for name in sorted(want['ethernets'], key=_natural):
        eth = want['ethernets'][name]
        h = hethernets.get(name)
        if h is None:
            d.add('ethernet', name, 'present', True, False, 'missing')
            continue
        mac = canonical_mac((eth.get('match') or {}).get('macaddress'))
        if mac:
            d.scalar('ethernet', name, 'macaddress', mac, canonical_mac((h.get('match') or {}).get('macaddress')))
        if h.get('mtu') is not None:
            d.scalar('ethernet', name, 'mtu', _ethernet_mtu(want, name), h['mtu'])


def _bond_type(name, h, facts):
    if facts:
        if name in ((facts.get('ovs') or {}).get('bonds') or {}):
            return 'openvswitch'
        if name in (facts.get('bonds') or {}):
            return 'linux'
    return 'openvswitch' if h.get('lacp') is not None else 'linux'


def _bonds(d, want, have, facts, ovs):
    hbonds = have.get('bonds') or {}
    for name in sorted(want['bonds'], key=_natural):
        bond = want['bonds'][name]
        h = hbonds.get(name)
        if h is None:
            d.add('bond', name, 'present', True, False, 'missing')
            continue
        kind = _bond_type(name, h, facts)
        wanted_kind = 'openvswitch' if ovs else 'linux'
        if kind != wanted_kind:
            d.add('bond', name, 'type', wanted_kind, kind,
                  '%s, expected %s' % (_BOND_TYPE_TEXT[kind], _BOND_TYPE_TEXT[wanted_kind]))
            continue
        members = list(h.get('interfaces') or [])
        for m in bond['interfaces']:
            if m not in members:
                d.add('bond', name, 'interfaces', m, None, 'member %s missing' % m)
        for m in sorted(members, key=_natural):
            if m not in bond['interfaces']:
                d.add('bond', name, 'interfaces', None, m, 'member %s unexpected' % m)
        if ovs:
            d.scalar('bond', name, 'mode', bond['mode'], h.get('mode'))
            lacp = bond.get('lacp') or 'off'
            d.scalar('bond', name, 'lacp', lacp, h.get('lacp') or 'off')
            if lacp in ('active', 'passive'):
                d.scalar('bond', name, 'lacp_rate', bond.get('lacp_rate') or 'slow', h.get('lacp_rate') or 'slow')
            primary_modes = ('active-backup',)
        else:
            mode = linux_bond_mode(bond['mode'])
            d.scalar('bond', name, 'mode', mode, linux_bond_mode(h.get('mode')))
            if mode == '802.3ad':
                d.scalar('bond', name, 'lacp_rate', bond.get('lacp_rate') or 'slow', h.get('lacp_rate') or 'slow')
            if mode in LINUX_XMIT_HASH_MODES:
                d.scalar('bond', name, 'xmit_hash_policy', bond.get('xmit_hash_policy') or 'layer2',
                         h.get('xmit_hash_policy') or 'layer2')
            primary_modes = LINUX_PRIMARY_MODES
            if h.get('mtu') is not None:
                d.scalar('bond', name, 'mtu', bond.get('mtu') or DEFAULT_MTU, h['mtu'])
        d.scalar('bond', name, 'miimon', _int0(bond.get('miimon')), _int0(h.get('miimon')))
        d.scalar('bond', name, 'updelay', _int0(bond.get('updelay')), _int0(h.get('updelay')))
        d.scalar('bond', name, 'downdelay', _int0(bond.get('downdelay')), _int0(h.get('downdelay')))
        # The primary member only exists in some modes: compared when the mode is as modelled.
        if bond['mode'] in primary_modes and bond['mode'] == (h.get('mode') if ovs else linux_bond_mode(h.get('mode'))):
            d.scalar('bond', name, 'primary', bond.get('primary'), h.get('primary'))


def _vlans(d, want, have):
    hvlans = have.get('vlans') or {}
    for name in sorted(want.get('vlans') or {}, key=_natural):
        vl = want['vlans'][name]
        h = hvlans.get(name)
        if h is None:
            d.add('vlan', name, 'present', True, False, 'missing (VLAN %s on %s)' % (vl['id'], vl['link']))
            continue
        d.scalar('vlan', name, 'id', vl['id'], h.get('id'))
        d.scalar('vlan', name, 'link', vl['link'], h.get('link'))


def _bridges(d, want, have, facts, ovs):
    hbridges = have.get('bridges') or {}
    for name in sorted(want['bridges'], key=_natural):
        br = want['bridges'][name]
        h = hbridges.get(name)
        if h is None:
            d.add('bridge', name, 'present', True, False, 'missing')
            continue
        wanted_type = 'openvswitch' if ovs else 'linux_bridge'
        htype = h.get('type') or wanted_type
        if htype != wanted_type:
            d.add('bridge', name, 'type', wanted_type, htype,
                  '%s, expected %s' % (_BRIDGE_TYPE_TEXT.get(htype, htype), _BRIDGE_TYPE_TEXT[wanted_type]))
        elif ovs:
            _ovs_bridge(d, want, name, br, h, have, facts)
        else:
            _linux_bridge(d, want, name, br, h, facts)
        _l3(d, name, br, h)


def _port_found(d, name, expected, ports):
    """The bridge's one modelled port against the ports that matter on the host."""
    if expected:
        if expected not in ports:
            d.add('bridge', name, 'port', expected, ports or None,
                  'port %s expected, found %s' % (expected, _text(ports)))
            return
        extra = [p for p in ports if p != expected]
    else:
        extra = list(ports)
    for port in extra:
        d.add('bridge', name, 'port', None, port, 'port %s unexpected%s' % (
            port, '' if expected else ' (the model gives this bridge no uplink)'))


def _linux_bridge(d, want, name, br, h, facts):
    links = facts.get('links') or {}
    ports = [p for p in h.get('ports') or [] if not _guest_linux_port(p, links)]
    _port_found(d, name, br['port'], sorted(ports, key=_natural))
    if h.get('stp') is not None:
        d.scalar('bridge', name, 'stp', bool(br['stp']), bool(h['stp']))
    if (br['stp'] or h.get('stp')) and h.get('forward_delay') is not None:
        d.scalar('bridge', name, 'forward_delay', br['forward_delay'], h['forward_delay'])
    if h.get('mtu') is not None:
        expected = br['mtu'] or (_link_mtu(want, br['uplink']) if br['uplink'] else DEFAULT_MTU)
        d.scalar('bridge', name, 'mtu', expected, h['mtu'])


def _ovs_ports(name, h, have, facts):
    """The ports of OVS bridge ``name`` that are somebody's uplink or interface (not guests',
    not fake bridges, not tunnels, not the bridge's own internal port)."""
    raw = (((facts.get('ovs') or {}).get('bridges') or {}).get(name) or {}).get('ports')
    if raw is not None:
        keep = []
        for port, data in raw.items():
            ptype = data.get('type')
            if port == name or data.get('fake_bridge') or ptype in OVS_IGNORED_PORT_TYPES:
                continue
            keep.append(port)
        return sorted(keep, key=_natural)
    fakes = set(n for n, b in (have.get('bridges') or {}).items() if b.get('parent') == name)
    return sorted((p for p in h.get('ports') or []
                   if p != name and p not in fakes and not GUEST_NAME_RE.match(p)), key=_natural)


def _ovs_bridge(d, want, name, br, h, have, facts):
    raw = ((facts.get('ovs') or {}).get('bridges') or {}).get(name) or {}
    hfake = bool(h.get('parent')) if not raw else bool(raw.get('fake'))
    if br['vlan'] is not None:
        if not hfake:
            d.add('bridge', name, 'fake', True, False, 'a real bridge, expected a fake bridge of %s with VLAN %d'
                  % (br['parent'], br['vlan']))
            return
        d.scalar('bridge', name, 'parent', br['parent'], h.get('parent'))
        d.scalar('bridge', name, 'vlan', br['vlan'], h.get('vlan'))
    else:
        if hfake:
            d.add('bridge', name, 'fake', False, True, 'a fake bridge (parent %s, VLAN %s), expected a real bridge'
                  % (_text(h.get('parent')), _text(h.get('vlan'))))
            return
        datapath = raw.get('datapath_type')
        if datapath is None:
            dp = (have.get('ovs') or {}).get('datapath_type')
            datapath = dp if isinstance(dp, str) else None
        if datapath is not None:
            d.scalar('bridge', name, 'datapath_type', want['ovs']['datapath_type'], datapath)
        _port_found(d, name, br['port'], _ovs_ports(name, h, have, facts))
        if h.get('stp') is not None:
            d.scalar('bridge', name, 'stp', bool(br['stp']), bool(h['stp']))
        if br['stp'] or h.get('stp'):
            fd = h.get('forward_delay')
            d.scalar('bridge', name, 'forward_delay', br['forward_delay'],
                     OVS_DEFAULT_FORWARD_DELAY if fd is None else fd)
    # Open vSwitch sizes an internal port from its bridge's ports unless told: only a modelled
    # MTU is compared.
    if br['mtu'] and h.get('mtu') is not None:
        d.scalar('bridge', name, 'mtu', br['mtu'], h['mtu'])


def _default_via(br, version):
    gw = br.get('gateway%d' % version)
    if gw:
        return canonical_ip(gw)
    for route in br.get('routes') or []:
        if route.get('to') in ('0.0.0.0/0', '::/0', 'default') and (':' in route['via']) == (version == 6):
            return canonical_ip(route['via'])
    return None


def _l3(d, name, br, h):
    wanted = [canonical_address(a) for a in br.get('addresses') or []]
    found = [canonical_address(a) for a in h.get('addresses') or []]
    for addr in wanted:
        if addr not in found:
            d.add('bridge', name, 'addresses', addr, None, 'address %s missing' % addr)
    for addr in found:
        if addr not in wanted:
            d.add('bridge', name, 'addresses', None, addr, 'address %s unexpected' % addr)
    if 'dhcp4' in h:
        d.scalar('bridge', name, 'dhcp4', bool(br.get('dhcp4')), bool(h['dhcp4']))
    for version in (4, 6):
        key = 'gateway%d' % version
        expected = _default_via(br, version)
        found_gw = canonical_ip(h.get(key))
        dynamic = br.get('dhcp%d' % version)
        if expected is None and dynamic:
            continue
        d.scalar('bridge', name, key, expected, found_gw)


def drop_ignored(differences, ignore):
    """Remove differences whose kind (``bond.miimon``), type (``bond``) or object
    (``bond bond0``) is listed in ``ignore``."""
    ignore = set(str(i).strip() for i in ignore or [])
    if not ignore:
        return list(differences)
    out = []
    for diff in differences:
        kind_type = diff['kind'].split('.', 1)[0]
        if diff['kind'] in ignore or kind_type in ignore or diff['object'] in ignore:
            continue
        out.append(diff)
    return out


# --------------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------------

def _table(rows, widths):
    out = []
    for row in rows:
        cells = [str(c) for c in row]
        line = ''.join(c.ljust(w) for c, w in zip(cells[:-1], widths)) + cells[-1]
        out.append(line.rstrip())
    return out


def _linux_section(facts):
    links = facts.get('links') or {}
    lbr = facts.get('linux_bridges') or {}
    lines = []
    if lbr:
        lines.append('# brctl show')
        rows = [('bridge name', 'STP enabled', 'interfaces')]
        for name in sorted(lbr, key=_natural):
            br = lbr[name]
            ports = sorted(br.get('ports') or [], key=_natural)
            stp = 'yes' if br.get('stp') else 'no'
            rows.append((name, stp, ports[0] if ports else ''))
            for port in ports[1:]:
                rows.append(('', '', port))
        lines.extend(_table(rows, (16, 16)))
        lines.append('')
    for name in sorted(facts.get('bonds') or {}, key=_natural):
        bond = facts['bonds'][name]
        mode = linux_bond_mode(bond.get('mode'))
        link = links.get(name) or {}
        lines.append('# cat /proc/net/bonding/%s' % name)
        lines.append('Bonding Mode: %s' % LINUX_BOND_MODE_TEXT.get(mode, _text(mode)))
        if mode in LINUX_XMIT_HASH_MODES:
            lines.append('Transmit Hash Policy: %s' % (bond.get('xmit_hash_policy') or 'layer2'))
        if mode in LINUX_PRIMARY_MODES:
            lines.append('Primary Slave: %s' % (bond.get('primary') or 'None'))
        if mode == 'active-backup':
            lines.append('Currently Active Slave: %s' % (bond.get('active') or 'None'))
        if link:
            lines.append('MII Status: %s' % ('up' if link.get('carrier') else 'down'))
        lines.append('MII Polling Interval (ms): %s' % _text(bond.get('miimon')))
        lines.append('Up Delay (ms): %s' % _text(bond.get('updelay')))
        lines.append('Down Delay (ms): %s' % _text(bond.get('downdelay')))
        if mode == '802.3ad':
            lines.append('LACP rate: %s' % (bond.get('lacp_rate') or 'slow'))
        perm = bond.get('member_permanent_macs') or {}
        for member in bond.get('members') or []:
            mlink = links.get(member) or {}
            lines.append('')
            lines.append('Slave Interface: %s' % member)
            if mlink:
                lines.append('MII Status: %s' % ('up' if mlink.get('carrier') else 'down'))
            if perm.get(member):
                lines.append('Permanent HW addr: %s' % perm[member])
        lines.append('')
    vlans = facts.get('vlans') or {}
    if vlans:
        lines.append('# cat /proc/net/vlan/config')
        lines.append('VLAN Dev name    | VLAN ID')
        for name in sorted(vlans, key=_natural):
            lines.append('%-15s| %-4s | %s' % (name, _text(vlans[name].get('id')), _text(vlans[name].get('link'))))
        lines.append('')
    return lines


def _ovs_section(ovs):
    bridges = ovs.get('bridges') or {}
    interfaces = ovs.get('interfaces') or {}
    lines = ['# ovs-vsctl show']
    for name in sorted(bridges, key=_natural):
        br = bridges[name]
        if br.get('fake'):
            continue    # ovs-vsctl shows a fake bridge as its internal port on the parent
        lines.append('    Bridge %s' % name)
        if br.get('fail_mode'):
            lines.append('        fail_mode: %s' % br['fail_mode'])
        if br.get('datapath_type') and br['datapath_type'] != 'system':
            lines.append('        datapath_type: %s' % br['datapath_type'])
        ports = br.get('ports') or {}
        for pname in sorted(ports, key=_natural):
            port = ports[pname]
            lines.append('        Port %s' % pname)
            if port.get('tag') is not None:
                lines.append('            tag: %s' % port['tag'])
            if port.get('trunks'):
                lines.append('            trunks: [%s]' % ', '.join(str(t) for t in port['trunks']))
            if port.get('vlan_mode'):
                lines.append('            vlan_mode: %s' % port['vlan_mode'])
            for iname in port.get('interfaces') or []:
                lines.append('            Interface %s' % iname)
                itype = (interfaces.get(iname) or {}).get('type')
                if itype and itype != 'system':
                    lines.append('                type: %s' % itype)
    if ovs.get('version'):
        lines.append('    ovs_version: "%s"' % ovs['version'])
    lines.append('')
    for name in sorted(ovs.get('bonds') or {}, key=_natural):
        bond = ovs['bonds'][name]
        lines.append('# ovs-appctl bond/show %s' % name)
        lines.append('---- %s ----' % name)
        lines.append('bond_mode: %s' % _text(bond.get('mode')))
        if bond.get('miimon'):
            lines.append('bond-detect-mode: miimon (%s ms)' % bond['miimon'])
        else:
            lines.append('bond-detect-mode: carrier')
        lines.append('updelay: %s ms' % _text(bond.get('updelay') or 0))
        lines.append('downdelay: %s ms' % _text(bond.get('downdelay') or 0))
        lacp = bond.get('lacp') or 'off'
        lines.append('lacp: %s' % lacp)
        if lacp != 'off':
            lines.append('lacp-time: %s' % (bond.get('lacp_rate') or 'slow'))
        backup = bond.get('mode') == 'active-backup'
        if backup and bond.get('primary'):
            lines.append('active-backup primary: %s' % bond['primary'])
        if backup and bond.get('active_mac'):
            lines.append('active member mac: %s(%s)' % (bond['active_mac'], bond.get('active') or 'none'))
        for member in bond.get('members') or []:
            state = (interfaces.get(member) or {}).get('link_state')
            lines.append('')
            lines.append('member %s: %s' % (member, 'enabled' if state == 'up' else 'disabled'))
            if backup and member == bond.get('active'):
                lines.append('  active member')
            lines.append('  link_state: %s' % _text(state))
        lines.append('')
    return lines


def _addresses_section(facts):
    links = facts.get('links') or {}
    addresses = facts.get('addresses') or {}
    owners = facts.get('owners') or {}
    model_bridges = ((facts.get('model') or {}).get('bridges') or {})
    names = set(model_bridges)
    for name, addrs in addresses.items():
        if any(a.get('scope') == 'global' for a in addrs):
            names.add(name)
    if facts.get('cloud0'):
        names.add('cloud0')
    names.discard('lo')
    lines = []
    if names:
        lines.append('# ip -brief address (global addresses)')
        rows = []
        for name in sorted(names, key=_natural):
            state = ((links.get(name) or {}).get('state') or 'unknown').upper()
            addrs = [a['cidr'] + (' (dynamic)' if a.get('dynamic') else '') for a in addresses.get(name) or []
                     if a.get('scope') != 'link' and a.get('scope') != 'host']
            if name == 'cloud0':
                addrs = [a['cidr'] for a in addresses.get(name) or [] if a.get('family') == 4]
            owner = (owners.get(name) or {}).get('owner')
            owner = None if owner == 'unknown' else owner
            rows.append((name, state, '  '.join(part for part in (' '.join(addrs), '[%s]' % owner if owner else '') if part)))
        lines.extend(_table(rows, (17, 15)))
        lines.append('')
    routes = facts.get('routes') or {}
    defaults = [('', r) for r in routes.get('ipv4') or []] + [('-6 ', r) for r in routes.get('ipv6') or []]
    if defaults:
        lines.append('# ip route show default')
        for prefix, r in defaults:
            lines.append('%sdefault via %s dev %s metric %s%s' % (
                prefix, _text(r.get('gateway')), _text(r.get('dev')), _text(r.get('metric')),
                ' proto %s' % r['protocol'] if r.get('protocol') else ''))
        lines.append('')
    return lines


def summary(facts, host=None):
    """The realised network of one host as text, from host_network facts."""
    facts = facts or {}
    model = facts.get('model') or {}
    ovs = facts.get('ovs') or {}
    backend = model.get('backend')
    lines = ['%s%s' % ('host %s: ' % host if host else '',
                       'backend %s' % backend if backend else 'no Linux or Open vSwitch bridge')]
    lines.append('')
    body = []
    if facts.get('linux_bridges') or facts.get('bonds') or facts.get('vlans'):
        body.extend(_linux_section(facts))
    if ovs.get('available', True) and ovs.get('bridges'):
        body.extend(_ovs_section(ovs))
    elif ovs and ovs.get('available') is False and ovs.get('reason') and backend in (None, 'openvswitch'):
        body.append('# Open vSwitch not read: %s' % ovs['reason'])
        body.append('')
    if not body and model.get('bridges'):
        body.extend(_model_section(model))
    body.extend(_addresses_section(facts))
    lines.extend(body)
    while lines and not lines[-1]:
        lines.pop()
    return '\n'.join(lines) + '\n'


def _model_section(model):
    """Only the model view was gathered: bridges and their ports in brctl's shape."""
    rows = [('bridge name', 'type', 'interfaces')]
    for name in sorted(model.get('bridges') or {}, key=_natural):
        br = model['bridges'][name]
        ports = list(br.get('ports') or [])
        rows.append((name, br.get('type') or '', ports[0] if ports else ''))
        for port in ports[1:]:
            rows.append(('', '', port))
    return ['# bridges'] + _table(rows, (16, 16)) + ['']
