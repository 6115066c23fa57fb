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

"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    LACP_NEGOTIATING,
    LINUX_PRIMARY_MODES,
    LINUX_XMIT_HASH_MODES,
    is_guest_port,
    linux_bond_mode,
    natural_key,
)

DEFAULT_MTU = 1500
OVS_DEFAULT_FORWARD_DELAY = 15
OVS_IGNORED_PORT_TYPES = ('vm', 'patch', 'vxlan', 'gre', 'geneve', 'stt', 'lisp', 'erspan',
                          'ip6erspan', 'ip6gre', 'gtpu', 'bareudp', 'srv6')
_BOND_TYPE_TEXT = {'linux': 'a Linux bond', 'openvswitch': 'an Open vSwitch bond'}
_BRIDGE_TYPE_TEXT = {'linux_bridge': 'a Linux bridge', 'openvswitch': 'an Open vSwitch bridge'}

KINDS = (
    'ethernet.present', 'ethernet.macaddress', 'ethernet.mtu', 'ethernet.state', 'ethernet.held_by',
    'ethernet.sriov_vfs',
    'bond.present', 'bond.type', 'bond.interfaces', 'bond.mode', 'bond.miimon', 'bond.updelay',
    'bond.downdelay', 'bond.primary', 'bond.lacp', 'bond.lacp_rate', 'bond.xmit_hash_policy',
    'bond.mtu',
    'vlan.present', 'vlan.id', 'vlan.link',
    'bridge.present', 'bridge.type', 'bridge.port', 'bridge.datapath_type', 'bridge.fake',
    'bridge.parent', 'bridge.vlan', 'bridge.addresses', 'bridge.dhcp4', 'bridge.gateway4',
    'bridge.gateway6', 'bridge.mtu', 'bridge.stp', 'bridge.forward_delay',
    'bridge.traffic',   # the traffic pings through a bridge (the kvm_network_differences filter's traffic)
)


def text_of(value):
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ', '.join(text_of(v) for v in value) or 'none'
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
                     '%s %s, expected %s' % (field, text_of(found), text_of(expected)))

    def present(self, kind_type, wanted, have, missing=None):
        """(name, modelled object, the host's) for each object of ``wanted`` the host has, in
        natural order; one the host lacks is a ``present`` difference (``missing(modelled)`` says
        more than 'missing'). A generator: the differences stay in the order of the names."""
        for name in sorted(wanted, key=natural_key):
            h = have.get(name)
            if h is None:
                self.add(kind_type, name, 'present', True, False, missing(wanted[name]) if missing else 'missing')
                continue
            yield name, wanted[name], h


def _split(realised):
    """(realised model, raw facts) from host_network facts or from a bare model."""
    realised = realised or {}
    if isinstance(realised.get('model'), dict):
        return realised['model'], realised
    return realised, {}


def _guest_linux_port(name, links):
    """Guests' ports are never differences (_common.is_guest_port: by name or link type)."""
    return is_guest_port(name, link_type=(links.get(name) or {}).get('type'))


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
    for name, eth, h in d.present('ethernet', want['ethernets'], have.get('ethernets') or {}):
        mac = canonical_mac((eth.get('match') or {}).get('macaddress'))
        if mac:
            d.scalar('ethernet', name, 'macaddress', mac, canonical_mac((h.get('match') or {}).get('macaddress')))
        if h.get('mtu') is not None:
            d.scalar('ethernet', name, 'mtu', _ethernet_mtu(want, name), h['mtu'])
        if eth.get('macvtap'):
            # Guests' macvtap interfaces sit on it: it must be up, and no bridge or bond may hold it.
            d.scalar('ethernet', name, 'state', 'up', h.get('state') or 'unknown')
            held = ('bond %s' % h['bond']) if h.get('bond') else ('bridge %s' % h['bridge']) if h.get('bridge') else None
            d.scalar('ethernet', name, 'held_by', None, held)
        if eth.get('sriov'):
            # The VFs present (sysfs' sriov_numvfs): what kvm_host_prepare set and the udev rule keeps.
            d.scalar('ethernet', name, 'sriov_vfs', eth['sriov']['vfs'], (h.get('sriov') or {}).get('numvfs') or 0)


def _bond_type(name, h, facts):
    if facts:
        if name in ((facts.get('ovs') or {}).get('bonds') or {}):
            return 'openvswitch'
        if name in (facts.get('bonds') or {}):
            return 'linux'
    return 'openvswitch' if h.get('lacp') is not None else 'linux'


def _bonds(d, want, have, facts, ovs):
    for name, bond, h in d.present('bond', want['bonds'], have.get('bonds') or {}):
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
        for m in sorted(members, key=natural_key):
            if m not in bond['interfaces']:
                d.add('bond', name, 'interfaces', None, m, 'member %s unexpected' % m)
        if ovs:
            d.scalar('bond', name, 'mode', bond['mode'], h.get('mode'))
            lacp = bond.get('lacp') or 'off'
            d.scalar('bond', name, 'lacp', lacp, h.get('lacp') or 'off')
            if lacp in LACP_NEGOTIATING:
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
    for name, vl, h in d.present('vlan', want.get('vlans') or {}, have.get('vlans') or {},
                                 lambda vlan: 'missing (VLAN %s on %s)' % (vlan['id'], vlan['link'])):
        d.scalar('vlan', name, 'id', vl['id'], h.get('id'))
        d.scalar('vlan', name, 'link', vl['link'], h.get('link'))


def _bridges(d, want, have, facts, ovs):
    for name, br, h in d.present('bridge', want['bridges'], have.get('bridges') or {}):
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
                  'port %s expected, found %s' % (expected, text_of(ports)))
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
    _port_found(d, name, br['port'], sorted(ports, key=natural_key))
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
            if (port == name or data.get('fake_bridge') or ptype in OVS_IGNORED_PORT_TYPES
                    or is_guest_port(port, ovs_type=ptype)):
                continue
            keep.append(port)
        return sorted(keep, key=natural_key)
    fakes = set(n for n, b in (have.get('bridges') or {}).items() if b.get('parent') == name)
    return sorted((p for p in h.get('ports') or []
                   if p != name and p not in fakes and not is_guest_port(p)), key=natural_key)


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
                  % (text_of(h.get('parent')), text_of(h.get('vlan'))))
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
