# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host network model ``kvm_network``: parse, validate and normalise.

``normalise(data, host)`` turns what a user wrote into one canonical dict that every renderer,
module and verify step consumes, or raises :class:`ModelError` listing every problem found (one
message per problem, each naming the host, the object, what is wrong and how to fix it).

The normalised model (all names sorted naturally, every option present)::

    backend: linux_bridge | openvswitch
    renderer: auto | netplan | ifupdown | networkmanager | ifcfg
    check_cloudstack_port_names: bool
    ovs: {datapath_type: system | netdev}
    ethernets: {NAME: {name, match: {macaddress}|{}, mtu, bond, bridge}}
    bonds: {NAME: {name, interfaces, mode, miimon, updelay, downdelay, primary, lacp, lacp_rate,
                   xmit_hash_policy, mtu, bridge}}
    bridges: {NAME: {name, uplink, uplink_kind (ethernet|bond|None), vlan, vlan_interface,
                     parent, port, addresses, dhcp4, dhcp6, gateway4, gateway6,
                     nameservers: {addresses, search}, routes: [{to, via, metric}], mtu, stp,
                     forward_delay}}
    vlans: {NAME: {name, id, link, bridge}}          # Linux VLAN devices (linux_bridge only)
    traffic_labels: {management|guest|public|storage: BRIDGE}

``port`` is the interface enslaved to the bridge on Linux (NIC, bond or VLAN device) and the
uplink port on an Open vSwitch bridge; ``parent`` is the untagged bridge that carries an OVS fake
bridge's VLAN.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import re

from collections.abc import Mapping

# The standard library's ipaddress (Python 3.3+) rather than netaddr: the model also runs inside
# modules on managed hosts, where netaddr is rarely installed.
import ipaddress

BACKENDS = ('linux_bridge', 'openvswitch')
RENDERERS = ('auto', 'netplan', 'ifupdown', 'networkmanager', 'ifcfg')
TRAFFIC_TYPES = ('management', 'guest', 'public', 'storage')

LINUX_BOND_MODES = ('balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad',
                    'balance-tlb', 'balance-alb')
# The numeric modes of BONDING_OPTS "mode=1" and the kernel's documentation.
LINUX_BOND_MODE_NUMBERS = dict((str(i), m) for i, m in enumerate(LINUX_BOND_MODES))
OVS_BOND_MODES = ('active-backup', 'balance-slb', 'balance-tcp')
LACP_MODES = ('off', 'active', 'passive')
LACP_RATES = ('slow', 'fast')
XMIT_HASH_POLICIES = ('layer2', 'layer2+3', 'layer3+4', 'encap2+3', 'encap3+4', 'vlan+srcmac')
XMIT_HASH_MODES = ('balance-xor', '802.3ad', 'balance-tlb', 'balance-alb')
PRIMARY_MODES_LINUX = ('active-backup', 'balance-tlb', 'balance-alb')
DATAPATH_TYPES = ('system', 'netdev')

# The CloudStack KVM agent finds a bridge's physical device by listing the bridge's ports and
# taking the first whose name matches one of these patterns; a port named otherwise is invisible
# to it and the host fails to connect traffic on that bridge.
CLOUDSTACK_PORT_PATTERNS = (r'eth', r'bond', r'team', r'vlan', r'em', r'p\d+p\d+', r'ens',
                            r'eno', r'enp', r'enx')
CLOUDSTACK_PORT_RE = re.compile(r'^(?:%s)' % '|'.join(CLOUDSTACK_PORT_PATTERNS))
CLOUDSTACK_PORT_HUMAN = 'eth*, bond*, team*, vlan*, em*, p*p*, ens*, eno*, enp*, enx*'

IFNAME_MAX = 15
IFNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
MAC_RE = re.compile(r'^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$')
DOMAIN_RE = re.compile(r'^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*'
                       r'[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$')

TOP_KEYS = ('backend', 'renderer', 'ethernets', 'bonds', 'bridges', 'traffic_labels', 'ovs',
            'check_cloudstack_port_names')
ETHERNET_KEYS = ('match', 'mtu')
MATCH_KEYS = ('macaddress',)
BOND_KEYS = ('interfaces', 'mode', 'miimon', 'updelay', 'downdelay', 'primary', 'lacp',
             'lacp_rate', 'xmit_hash_policy', 'mtu')
BRIDGE_KEYS = ('uplink', 'vlan', 'vlan_interface', 'addresses', 'dhcp4', 'dhcp6', 'gateway4',
               'gateway6', 'nameservers', 'routes', 'mtu', 'stp', 'forward_delay')
NAMESERVER_KEYS = ('addresses', 'search')
ROUTE_KEYS = ('to', 'via', 'metric')
OVS_KEYS = ('datapath_type',)

BOND_DEFAULTS = {'mode': 'active-backup', 'miimon': 100}


class ModelError(Exception):
    """Raised with every problem found in a model; ``problems`` is a list of messages."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ModelError, self).__init__('\n'.join(self.problems))


def natural_key(name):
    """Sort eth2 before eth10."""
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', name)]


def _sorted_dict(mapping):
    return dict((k, mapping[k]) for k in sorted(mapping, key=natural_key))


def _plain_copy(value):
    """A copy of ``value`` as plain dicts and lists (mappings -> dict, lists/tuples -> list).

    Not copy.deepcopy: on the controller, ansible-core 2.19 hands filters lazily templated
    containers, and deep-copying one copies its templar and plugin loader along with it (the
    copied Jinja2 filter loader is broken: "The filter plugin 'from_json' failed to load:
    'dict' object is not callable" once a value still to be templated uses a filter).
    Iterating the container templates every value instead."""
    if isinstance(value, Mapping):
        return dict((k, _plain_copy(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain_copy(v) for v in value]
    return value


class _Checker(object):
    """Collects problems while walking a model."""

    def __init__(self, host):
        self.host = host
        self.problems = []

    def add(self, where, what, fix):
        prefix = 'host %s: ' % self.host if self.host else ''
        self.problems.append('%s%s: %s. Fix: %s.' % (prefix, where, what, fix))

    def unknown_keys(self, where, given, known):
        for key in given:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=2)
            if close:
                hint = 'did you mean %s?' % ' or '.join("'%s'" % c for c in sorted(close))
            else:
                hint = 'use one of %s' % ', '.join(known)
            self.add(where, "unknown option '%s'" % key, 'remove it or rename it (%s)' % hint)


def _is_bool(value):
    return isinstance(value, bool)


def _as_bool(chk, where, key, value, default):
    if value is None:
        return default
    if _is_bool(value):
        return value
    if isinstance(value, str) and value.lower() in ('yes', 'true', 'on', 'no', 'false', 'off'):
        return value.lower() in ('yes', 'true', 'on')
    chk.add(where, '%s must be true or false, not %r' % (key, value), 'write %s: true or %s: false' % (key, key))
    return default


def _as_int(chk, where, key, value, low, high, unit=''):
    """Return an int in [low, high] or None (after recording a problem)."""
    if value is None:
        return None
    if _is_bool(value) or not isinstance(value, (int, str)):
        chk.add(where, '%s must be an integer, not %r' % (key, value), 'write a number between %d and %d%s' % (low, high, unit))
        return None
    try:
        number = int(value)
    except ValueError:
        chk.add(where, '%s must be an integer, not %r' % (key, value), 'write a number between %d and %d%s' % (low, high, unit))
        return None
    if number < low or number > high:
        chk.add(where, '%s %d is outside %d-%d' % (key, number, low, high), 'use a value between %d and %d%s' % (low, high, unit))
        return None
    return number


def _as_list(chk, where, key, value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        chk.add(where, '%s must be a list, not the string %r' % (key, value), 'write %s: [%s]' % (key, value))
        return []
    chk.add(where, '%s must be a list, not %r' % (key, value), 'write %s as a YAML list' % key)
    return []


def _as_mapping(chk, where, value):
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    chk.add(where, 'must be a mapping of options, not %r' % (value,), 'write it as {} or a mapping of options')
    return {}


def _check_ifname(chk, where, name):
    if not isinstance(name, str) or not name:
        chk.add(where, 'interface name %r is not a string' % (name,), 'use a name like eth0, bond0 or cloudbr0')
        return False
    ok = True
    if len(name) > IFNAME_MAX:
        chk.add(where, "name '%s' is %d characters; Linux allows at most %d" % (name, len(name), IFNAME_MAX),
                'use a shorter name')
        ok = False
    if not IFNAME_RE.match(name) or name in ('.', '..'):
        chk.add(where, "name '%s' has characters an interface name cannot have" % name,
                'use letters, digits, dot, dash and underscore, starting with a letter or digit')
        ok = False
    return ok


def _parse_ip(value):
    """An address without prefix (dotted quad or IPv6 text only), or None."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _split_cidr(text):
    """'198.51.100.20/24' as an ipaddress interface, or None when it is not address/prefix."""
    addr, _sep, prefix = text.partition('/')
    ip = _parse_ip(addr)
    if ip is None or not prefix.isdigit() or int(prefix) > ip.max_prefixlen:
        return None
    return ipaddress.ip_interface('%s/%d' % (ip, int(prefix)))


def _parse_interface_address(chk, where, value):
    """A host address with prefix length, e.g. 198.51.100.20/24: an ipaddress interface or None."""
    text = str(value).strip()
    if '/' not in text:
        ip = _parse_ip(text)
        if ip is None:
            chk.add(where, 'address %r is not an IP address in CIDR notation' % (value,),
                    'write it as address/prefix, e.g. 198.51.100.20/24 or 2001:db8::20/64')
        else:
            example = '%s/%s' % (ip, 24 if ip.version == 4 else 64)
            chk.add(where, 'address %s has no prefix length' % text, 'write it in CIDR notation, e.g. %s' % example)
        return None
    net = _split_cidr(text)
    if net is None:
        chk.add(where, 'address %r is not an IP address in CIDR notation' % (value,),
                'write it as address/prefix, e.g. 198.51.100.20/24 or 2001:db8::20/64')
        return None
    ip = net.ip
    subnet = net.network
    plen = subnet.prefixlen
    first = '%s/%d' % (subnet.network_address + 1, plen)
    if ip.version == 4 and plen <= 30:
        if ip == subnet.network_address:
            chk.add(where, 'address %s is the network address of %s' % (text, subnet),
                    'use a host address inside %s, e.g. %s' % (subnet, first))
            return None
        if ip == subnet.broadcast_address:
            chk.add(where, 'address %s is the broadcast address of %s' % (text, subnet),
                    'use a host address inside %s, e.g. %s' % (subnet, first))
            return None
    if ip.version == 6 and plen <= 126 and ip == subnet.network_address:
        chk.add(where, 'address %s is the subnet-router anycast (network) address of %s' % (text, subnet),
                'use a host address inside %s, e.g. %s' % (subnet, first))
        return None
    return net


def format_address(net):
    return '%s/%d' % (net.ip, net.network.prefixlen)


def _parse_route_target(chk, where, value):
    text = str(value).strip()
    if text in ('default', '0.0.0.0/0', '::/0'):
        return text
    if '/' not in text:
        chk.add(where, 'route destination %r is not a network in CIDR notation' % (value,),
                "write a network like 203.0.113.0/24, or 'default'")
        return None
    net = _split_cidr(text)
    if net is None:
        chk.add(where, 'route destination %r is not a network in CIDR notation' % (value,),
                "write a network like 203.0.113.0/24, or 'default'")
        return None
    if net.ip != net.network.network_address:
        chk.add(where, 'route destination %s has host bits set' % text, 'write the network, %s' % net.network)
        return None
    return str(net.network)


def _route_family(to):
    if to == 'default':
        return None
    return 6 if ':' in to else 4


def _is_default(to):
    return to in ('default', '0.0.0.0/0', '::/0')


class _Normaliser(object):

    def __init__(self, data, host):
        self.chk = _Checker(host)
        self.data = data

    # -- top level -------------------------------------------------------------------------------
    def run(self):
        chk = self.chk
        data = self.data
        if data is None or not isinstance(data, dict):
            chk.add('kvm_network', 'is missing or not a mapping (got %r)' % (type(data).__name__,),
                    'define kvm_network with at least backend and bridges (see docs/model.md)')
            raise ModelError(chk.problems)
        chk.unknown_keys('kvm_network', data, TOP_KEYS)

        backend = data.get('backend', 'linux_bridge')
        if backend not in BACKENDS:
            chk.add('kvm_network.backend', 'unknown backend %r' % (backend,), 'use linux_bridge or openvswitch')
            backend = 'linux_bridge'
        renderer = data.get('renderer', 'auto')
        if renderer not in RENDERERS:
            chk.add('kvm_network.renderer', 'unknown renderer %r' % (renderer,), 'use one of %s' % ', '.join(RENDERERS))
            renderer = 'auto'
        self.backend = backend
        self.ovs = backend == 'openvswitch'

        ovs = _as_mapping(chk, 'kvm_network.ovs', data.get('ovs'))
        chk.unknown_keys('kvm_network.ovs', ovs, OVS_KEYS)
        datapath = ovs.get('datapath_type', 'system')
        if datapath not in DATAPATH_TYPES:
            chk.add('kvm_network.ovs.datapath_type', 'unknown datapath type %r' % (datapath,),
                    'use system (kernel datapath) or netdev (userspace datapath)')
            datapath = 'system'
        check_names = _as_bool(chk, 'kvm_network', 'check_cloudstack_port_names',
                               data.get('check_cloudstack_port_names'), True)

        self.names = {}
        ethernets = self.ethernets(_as_mapping(chk, 'kvm_network.ethernets', data.get('ethernets')))
        bonds = self.bonds(_as_mapping(chk, 'kvm_network.bonds', data.get('bonds')), ethernets)
        bridges = self.bridges(_as_mapping(chk, 'kvm_network.bridges', data.get('bridges')), ethernets, bonds)
        vlans = self.vlans(bridges)
        if self.ovs:
            for bname, bond in bonds.items():
                if not bond['bridge']:
                    chk.add('bond %s' % bname, 'is the uplink of no bridge; an Open vSwitch bond is a port of a bridge',
                            'set uplink: %s on a bridge, or remove the bond' % bname)
        self.addresses_and_gateways(bridges)
        if check_names:
            self.cloudstack_port_names(bridges)
        labels = self.traffic_labels(data.get('traffic_labels'), bridges)

        if chk.problems:
            raise ModelError(chk.problems)
        return {
            'backend': backend,
            'renderer': renderer,
            'check_cloudstack_port_names': check_names,
            'ovs': {'datapath_type': datapath},
            'ethernets': _sorted_dict(ethernets),
            'bonds': _sorted_dict(bonds),
            'bridges': _sorted_dict(bridges),
            'vlans': _sorted_dict(vlans),
            'traffic_labels': labels,
        }

    def claim_name(self, kind, name):
        where = '%s %s' % (kind, name)
        if not _check_ifname(self.chk, where, name):
            return False
        if name in self.names:
            self.chk.add(where, "the name '%s' is already used by %s %s" % (name, self.names[name], name),
                         'give every ethernet, bond, bridge and VLAN device its own name')
            return False
        self.names[name] = kind
        return True

    # -- ethernets -------------------------------------------------------------------------------
    def ethernets(self, given):
        chk = self.chk
        out = {}
        macs = {}
        for name, opts in given.items():
            if not self.claim_name('ethernet', name):
                continue
            where = 'ethernet %s' % name
            opts = _as_mapping(chk, where, opts)
            chk.unknown_keys(where, opts, ETHERNET_KEYS)
            match = _as_mapping(chk, where + ' match', opts.get('match'))
            chk.unknown_keys(where + ' match', match, MATCH_KEYS)
            norm_match = {}
            if match.get('macaddress') is not None:
                mac = str(match['macaddress']).strip().lower().replace('-', ':')
                if not MAC_RE.match(mac):
                    chk.add(where, 'match.macaddress %r is not a MAC address' % (match['macaddress'],),
                            'write six hex pairs separated by colons, e.g. 52:54:00:12:34:56')
                elif mac in macs:
                    chk.add(where, 'match.macaddress %s is also the MAC of ethernet %s' % (mac, macs[mac]),
                            'each NIC has its own MAC: correct one of them')
                else:
                    macs[mac] = name
                    norm_match['macaddress'] = mac
            out[name] = {
                'name': name,
                'match': norm_match,
                'mtu': _as_int(chk, where, 'mtu', opts.get('mtu'), 68, 65535),
                'bond': None,
                'bridge': None,
            }
        return out

    # -- bonds -----------------------------------------------------------------------------------
    def bonds(self, given, ethernets):
        chk = self.chk
        out = {}
        for name, opts in given.items():
            if not self.claim_name('bond', name):
                continue
            where = 'bond %s' % name
            opts = _as_mapping(chk, where, opts)
            chk.unknown_keys(where, opts, BOND_KEYS)
            bond = {
                'name': name, 'interfaces': [], 'mode': None, 'miimon': None, 'updelay': None,
                'downdelay': None, 'primary': None, 'lacp': None, 'lacp_rate': None,
                'xmit_hash_policy': None, 'mtu': None, 'bridge': None,
            }
            members = _as_list(chk, where, 'interfaces', opts.get('interfaces'))
            seen = set()
            for member in members:
                member = str(member)
                if member in seen:
                    chk.add(where, 'lists %s twice in interfaces' % member, 'list each member once')
                    continue
                seen.add(member)
                if member not in ethernets:
                    kind = self.names.get(member)
                    if kind:
                        chk.add(where, 'member %s is a %s, not an ethernet' % (member, kind),
                                'bond only NICs declared under ethernets')
                    else:
                        chk.add(where, 'member %s is not declared under ethernets' % member,
                                'add %s to kvm_network.ethernets or fix the name' % member)
                    continue
                owner = ethernets[member]['bond']
                if owner:
                    chk.add(where, 'member %s is already a member of bond %s' % (member, owner),
                            'a NIC can be in one bond only: remove it from one of them')
                    continue
                ethernets[member]['bond'] = name
                bond['interfaces'].append(member)
            if not members:
                chk.add(where, 'has no member interfaces', 'list its NICs, e.g. interfaces: [eth0, eth1]')

            mode = opts.get('mode', BOND_DEFAULTS['mode'])
            mode = LINUX_BOND_MODE_NUMBERS.get(str(mode), mode) if not self.ovs else mode
            allowed = OVS_BOND_MODES if self.ovs else LINUX_BOND_MODES
            if mode not in allowed:
                chk.add(where, 'mode %r is not a %s bond mode' % (mode, 'Open vSwitch' if self.ovs else 'Linux'),
                        'use one of %s' % ', '.join(allowed))
                mode = 'active-backup'
            bond['mode'] = mode
            bond['miimon'] = _as_int(chk, where, 'miimon', opts.get('miimon', BOND_DEFAULTS['miimon']), 0, 1000000, ' ms')
            bond['updelay'] = _as_int(chk, where, 'updelay', opts.get('updelay'), 0, 1000000, ' ms')
            bond['downdelay'] = _as_int(chk, where, 'downdelay', opts.get('downdelay'), 0, 1000000, ' ms')
            bond['mtu'] = _as_int(chk, where, 'mtu', opts.get('mtu'), 68, 65535)
            self.bond_mode_options(where, opts, bond, members)
            out[name] = bond
        return out

    def bond_mode_options(self, where, opts, bond, members):
        chk = self.chk
        mode = bond['mode']
        backend = self.backend
        for key in ('updelay', 'downdelay'):
            value = bond[key]
            if value:
                if not bond['miimon']:
                    chk.add(where, '%s %d needs link monitoring, but miimon is 0' % (key, value),
                            'set miimon (e.g. 100) or drop %s' % key)
                elif value % bond['miimon']:
                    chk.add(where, '%s %d is not a multiple of miimon %d (the kernel rounds it down)' % (key, value, bond['miimon']),
                            'use a multiple of %d' % bond['miimon'])

        lacp = opts.get('lacp')
        if lacp is False:   # YAML 1.1 reads a bare "off" as false
            lacp = 'off'
        if lacp is not None:
            if not self.ovs:
                chk.add(where, 'lacp does not apply to backend linux_bridge',
                        'drop lacp; a Linux bond negotiates LACP with mode 802.3ad')
            elif lacp not in LACP_MODES:
                chk.add(where, 'lacp %r is not off, active or passive' % (lacp,), 'use lacp: off, active or passive')
            else:
                bond['lacp'] = lacp
        if self.ovs and bond['lacp'] is None:
            bond['lacp'] = 'off'

        negotiates = mode == '802.3ad' or bond['lacp'] in ('active', 'passive')
        if negotiates and len(members) < 2:
            how = 'mode 802.3ad' if mode == '802.3ad' else 'lacp ' + bond['lacp']
            chk.add(where, 'LACP (%s) with %d member%s' % (how, len(members), '' if len(members) == 1 else 's'),
                    'an aggregate needs at least two members: add one or use mode active-backup')
        if self.ovs and 0 < len(members) < 2 and not negotiates:
            chk.add(where, 'has one member; an Open vSwitch bond needs at least two',
                    'add a second NIC, or make the NIC itself the uplink of the bridge')
        if self.ovs and mode == 'balance-tcp' and bond['lacp'] not in ('active', 'passive'):
            chk.add(where, 'bond_mode balance-tcp needs LACP (Open vSwitch falls back to active-backup without it)',
                    'set lacp: active (or passive), or use balance-slb / active-backup')

        rate = opts.get('lacp_rate')
        if rate is not None:
            if rate not in LACP_RATES:
                chk.add(where, 'lacp_rate %r is not slow or fast' % (rate,), 'use lacp_rate: slow or fast')
            elif not negotiates:
                chk.add(where, 'lacp_rate does not apply to %s' % ('lacp off' if self.ovs else 'mode ' + mode),
                        'drop lacp_rate, or %s' % ('set lacp: active' if self.ovs else 'use mode 802.3ad'))
            else:
                bond['lacp_rate'] = rate

        policy = opts.get('xmit_hash_policy')
        if policy is not None:
            if self.ovs:
                chk.add(where, 'xmit_hash_policy does not apply to backend openvswitch',
                        'drop it; Open vSwitch hashes by bond_mode (balance-slb: source MAC and VLAN, balance-tcp: L4)')
            elif policy not in XMIT_HASH_POLICIES:
                chk.add(where, 'xmit_hash_policy %r is unknown' % (policy,), 'use one of %s' % ', '.join(XMIT_HASH_POLICIES))
            elif mode not in XMIT_HASH_MODES:
                chk.add(where, 'xmit_hash_policy does not apply to mode %s' % mode,
                        'drop it, or use one of the modes %s' % ', '.join(XMIT_HASH_MODES))
            else:
                bond['xmit_hash_policy'] = policy

        primary = opts.get('primary')
        if primary is not None:
            primary_modes = ('active-backup',) if self.ovs else PRIMARY_MODES_LINUX
            if mode not in primary_modes:
                chk.add(where, 'primary does not apply to %s mode %s' % (backend, mode),
                        'drop primary, or use mode %s' % ' / '.join(primary_modes))
            elif primary not in members:
                chk.add(where, 'primary %s is not one of its interfaces (%s)' % (primary, ', '.join(str(m) for m in members) or 'none'),
                        'name one of the bond members as primary')
            else:
                bond['primary'] = primary

    # -- bridges ---------------------------------------------------------------------------------
    def bridges(self, given, ethernets, bonds):
        chk = self.chk
        out = {}
        untagged_on = {}
        tagged_on = {}
        for name, opts in given.items():
            if not self.claim_name('bridge', name):
                continue
            where = 'bridge %s' % name
            opts = _as_mapping(chk, where, opts)
            chk.unknown_keys(where, opts, BRIDGE_KEYS)
            br = {
                'name': name, 'uplink': None, 'uplink_kind': None, 'vlan': None, 'vlan_interface': None,
                'parent': None, 'port': None, 'addresses': [], 'dhcp4': False, 'dhcp6': False,
                'gateway4': None, 'gateway6': None, 'nameservers': {'addresses': [], 'search': []},
                'routes': [], 'mtu': None, 'stp': False, 'forward_delay': None,
            }
            uplink = opts.get('uplink')
            if uplink is not None:
                uplink = str(uplink)
                if uplink in ethernets:
                    br['uplink'], br['uplink_kind'] = uplink, 'ethernet'
                    if ethernets[uplink]['bond']:
                        chk.add(where, 'uplink %s is a member of bond %s' % (uplink, ethernets[uplink]['bond']),
                                'use bond %s as the uplink, or take %s out of the bond' % (ethernets[uplink]['bond'], uplink))
                elif uplink in bonds:
                    br['uplink'], br['uplink_kind'] = uplink, 'bond'
                elif uplink in given or self.names.get(uplink) == 'bridge':
                    chk.add(where, 'uplink %s is a bridge' % uplink,
                            'use the NIC or bond of %s as the uplink (add vlan: N for a tagged bridge on it)' % uplink)
                else:
                    chk.add(where, 'uplink %s is not a declared ethernet or bond' % uplink,
                            'declare %s under ethernets or bonds, or fix the name' % uplink)

            br['vlan'] = _as_int(chk, where, 'vlan', opts.get('vlan'), 1, 4094)
            if opts.get('vlan') is not None and uplink is None:
                chk.add(where, 'has vlan %s but no uplink' % opts.get('vlan'),
                        'set uplink to the NIC or bond that carries the VLAN trunk')
            if opts.get('vlan_interface') is not None:
                if self.ovs:
                    chk.add(where, 'vlan_interface does not apply to backend openvswitch (the VLAN is a fake bridge)',
                            'drop vlan_interface')
                elif br['vlan'] is None:
                    chk.add(where, 'vlan_interface is set but the bridge has no vlan', 'set vlan or drop vlan_interface')

            vlan_invalid = opts.get('vlan') is not None and br['vlan'] is None
            br['_skip'] = vlan_invalid
            if br['uplink'] and not vlan_invalid:
                key = br['uplink']
                if br['vlan'] is None:
                    if key in untagged_on:
                        chk.add(where, 'uplink %s already carries the untagged bridge %s' % (key, untagged_on[key]),
                                'a NIC or bond can be the port of one untagged bridge: use vlan: N for a tagged one')
                    else:
                        untagged_on[key] = name
                else:
                    tag = (key, br['vlan'])
                    if tag in tagged_on:
                        chk.add(where, 'VLAN %s on %s is already bridged by %s' % (br['vlan'], key, tagged_on[tag]),
                                'use one bridge per VLAN and uplink')
                    else:
                        tagged_on[tag] = name

            self.bridge_l3(where, opts, br)
            br['mtu'] = _as_int(chk, where, 'mtu', opts.get('mtu'), 68, 65535)
            br['stp'] = _as_bool(chk, where, 'stp', opts.get('stp'), False)
            low = 2 if br['stp'] else 0
            fd = _as_int(chk, where, 'forward_delay', opts.get('forward_delay'), low, 30, ' seconds')
            br['forward_delay'] = fd if fd is not None else (15 if br['stp'] else 0)
            out[name] = br

        # Second pass: relations that need every bridge.
        for name, br in out.items():
            where = 'bridge %s' % name
            given_opts = given.get(name) or {}
            uplink = br['uplink']
            if uplink is None or br.pop('_skip'):
                continue
            if br['vlan'] is None:
                br['port'] = uplink
                self._mark_uplink(ethernets, bonds, uplink, name)
                continue
            if self.ovs:
                parent = untagged_on.get(uplink)
                if parent is None:
                    chk.add(where, 'VLAN %d on %s needs an untagged bridge on %s to be its parent (Open vSwitch fake bridge)'
                            % (br['vlan'], uplink, uplink),
                            'add a bridge with uplink %s and no vlan (e.g. cloudbr0)' % uplink)
                    continue
                br['parent'] = parent
                br['port'] = uplink
                if given_opts.get('stp'):
                    chk.add(where, 'stp does not apply to an Open vSwitch fake bridge (it shares %s)' % parent,
                            'set stp on %s instead' % parent)
                if given_opts.get('forward_delay') is not None:
                    chk.add(where, 'forward_delay does not apply to an Open vSwitch fake bridge (it shares %s)' % parent,
                            'set forward_delay on %s instead' % parent)
            else:
                vif = str(given_opts.get('vlan_interface') or '%s.%d' % (uplink, br['vlan']))
                if given_opts.get('vlan_interface') is None and len(vif) > IFNAME_MAX:
                    chk.add(where, 'the VLAN device name %s would be longer than %d characters' % (vif, IFNAME_MAX),
                            'set vlan_interface to a shorter name, e.g. vlan%d' % br['vlan'])
                    continue
                if not self.claim_name('VLAN device of bridge %s,' % name, vif):
                    continue
                br['vlan_interface'] = vif
                br['port'] = vif
            self._mtu_against_uplink(where, br, ethernets, bonds)
        for name, br in out.items():
            br.pop('_skip', None)
            if br['vlan'] is None and br['uplink']:
                self._mtu_against_uplink('bridge %s' % name, br, ethernets, bonds)
        for bname, bond in bonds.items():
            for member in bond['interfaces']:
                emtu = ethernets[member]['mtu']
                if bond['mtu'] and emtu and emtu < bond['mtu']:
                    chk.add('bond %s' % bname, 'mtu %d is larger than the mtu %d of member %s' % (bond['mtu'], emtu, member),
                            'raise the mtu of %s or lower the bond mtu' % member)
        return out

    def _mark_uplink(self, ethernets, bonds, uplink, bridge):
        if uplink in ethernets:
            ethernets[uplink]['bridge'] = bridge
        elif uplink in bonds:
            bonds[uplink]['bridge'] = bridge

    def _mtu_against_uplink(self, where, br, ethernets, bonds):
        uplink = br['uplink']
        link = ethernets.get(uplink) or bonds.get(uplink) or {}
        link_mtu = link.get('mtu') or 1500
        if br['mtu'] and br['mtu'] > link_mtu:
            self.chk.add(where, 'mtu %d is larger than the mtu %d of its uplink %s' % (br['mtu'], link_mtu, uplink),
                         'raise the mtu of %s to at least %d' % (uplink, br['mtu']))

    def bridge_l3(self, where, opts, br):
        chk = self.chk
        nets = []
        for value in _as_list(chk, where, 'addresses', opts.get('addresses')):
            net = _parse_interface_address(chk, where, value)
            if net is not None:
                nets.append(net)
        br['_nets'] = nets
        br['addresses'] = [format_address(n) for n in nets]
        br['dhcp4'] = _as_bool(chk, where, 'dhcp4', opts.get('dhcp4'), False)
        br['dhcp6'] = _as_bool(chk, where, 'dhcp6', opts.get('dhcp6'), False)
        for key, version in (('gateway4', 4), ('gateway6', 6)):
            value = opts.get(key)
            if value is None:
                continue
            ip = _parse_ip(value)
            if ip is None or ip.version != version:
                chk.add(where, '%s %r is not an IPv%d address' % (key, value, version),
                        'write a plain IPv%d address without prefix, e.g. %s' % (version, '198.51.100.1' if version == 4 else '2001:db8::1'))
                continue
            br[key] = str(ip)
        ns = _as_mapping(chk, where + ' nameservers', opts.get('nameservers'))
        chk.unknown_keys(where + ' nameservers', ns, NAMESERVER_KEYS)
        for value in _as_list(chk, where + ' nameservers', 'addresses', ns.get('addresses')):
            ip = _parse_ip(value)
            if ip is None:
                chk.add(where, 'nameserver %r is not an IP address' % (value,), 'write the DNS server as a plain IP address')
            else:
                br['nameservers']['addresses'].append(str(ip))
        for value in _as_list(chk, where + ' nameservers', 'search', ns.get('search')):
            if not isinstance(value, str) or not DOMAIN_RE.match(value):
                chk.add(where, 'search domain %r is not a domain name' % (value,), 'write a DNS domain such as mycloud.local')
            else:
                br['nameservers']['search'].append(value)
        for index, route in enumerate(_as_list(chk, where, 'routes', opts.get('routes'))):
            rwhere = '%s route %d' % (where, index + 1)
            route = _as_mapping(chk, rwhere, route)
            chk.unknown_keys(rwhere, route, ROUTE_KEYS)
            if route.get('to') is None or route.get('via') is None:
                chk.add(rwhere, 'needs both to and via', 'write e.g. {to: 203.0.113.0/24, via: 198.51.100.1}')
                continue
            to = _parse_route_target(chk, rwhere, route['to'])
            via = _parse_ip(route['via'])
            if via is None:
                chk.add(rwhere, 'via %r is not an IP address' % (route['via'],), 'write the next hop as a plain IP address')
                continue
            if to is None:
                continue
            family = _route_family(to) or via.version
            if family != via.version:
                chk.add(rwhere, 'destination %s and next hop %s are different IP versions' % (to, via),
                        'use an IPv%d next hop' % family)
                continue
            if to == 'default':
                to = '0.0.0.0/0' if via.version == 4 else '::/0'
            metric = _as_int(chk, rwhere, 'metric', route.get('metric'), 0, 4294967295)
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
                if _is_default(route['to']):
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

    # -- derived objects -------------------------------------------------------------------------
    def vlans(self, bridges):
        out = {}
        for name, br in bridges.items():
            if br['vlan_interface']:
                out[br['vlan_interface']] = {'name': br['vlan_interface'], 'id': br['vlan'],
                                             'link': br['uplink'], 'bridge': name}
        return out

    def cloudstack_port_names(self, bridges):
        for name, br in bridges.items():
            port = br['port']
            if port and not CLOUDSTACK_PORT_RE.match(port):
                self.chk.add('bridge %s' % name,
                             "its port %s does not match a name the CloudStack agent accepts as a bridge's physical device (%s)"
                             % (port, CLOUDSTACK_PORT_HUMAN),
                             'rename %s (e.g. bond%s or eth%s), or set check_cloudstack_port_names: false for hosts not used by CloudStack'
                             % (port, br['vlan'] or 0, br['vlan'] or 0))

    def traffic_labels(self, given, bridges):
        chk = self.chk
        labels = _as_mapping(chk, 'kvm_network.traffic_labels', given)
        out = {}
        for kind, bridge in labels.items():
            where = 'traffic label %s' % kind
            if kind not in TRAFFIC_TYPES:
                chk.add(where, 'is not a CloudStack traffic type', 'use one of %s' % ', '.join(TRAFFIC_TYPES))
                continue
            if bridge not in bridges:
                chk.add(where, 'names bridge %s, which is not in kvm_network.bridges' % (bridge,),
                        'use one of %s' % (', '.join(sorted(bridges, key=natural_key)) or 'the bridges you define'))
                continue
            out[kind] = bridge
        return dict((k, out[k]) for k in TRAFFIC_TYPES if k in out)


def normalise(data, host=None):
    """Validate ``data`` (a kvm_network mapping) and return the normalised model.

    Raises ModelError with one message per problem.
    """
    return _Normaliser(_plain_copy(data), host).run()


def resolve_renderer(model, facts=None, override=None, host=None):
    """Pick the renderer for a host: the override, the model's own choice, or by OS facts.

    ``facts`` is the host's ansible_facts (distribution, distribution_major_version, os_family).
    """
    prefix = 'host %s: ' % host if host else ''
    choice = override or model.get('renderer') or 'auto'
    if choice not in RENDERERS:
        raise ModelError(['%skvm_network.renderer: unknown renderer %r. Fix: use one of %s.' % (prefix, choice, ', '.join(RENDERERS))])
    if choice != 'auto':
        return choice
    facts = facts or {}
    distro = facts.get('distribution') or facts.get('ansible_distribution')
    family = facts.get('os_family') or facts.get('ansible_os_family')
    major = facts.get('distribution_major_version') or facts.get('ansible_distribution_major_version')
    if not distro and not family:
        raise ModelError(['%skvm_network.renderer: renderer is auto but no OS facts are known for this host. '
                          'Fix: gather facts (gather_subset: [distribution]) or set kvm_network.renderer / '
                          'kvm_network_renderer to netplan, ifupdown, networkmanager or ifcfg.' % prefix])
    if distro == 'Ubuntu':
        return 'netplan'
    if distro == 'Debian' or family == 'Debian':
        return 'ifupdown'
    if family == 'RedHat':
        try:
            number = int(str(major).split('.', maxsplit=1)[0])
        except ValueError:
            number = 0
        return 'ifcfg' if number and number <= 7 else 'networkmanager'
    raise ModelError(['%skvm_network.renderer: renderer is auto and %s (%s) is not a system this collection knows. '
                      'Fix: set kvm_network.renderer to netplan, ifupdown, networkmanager or ifcfg.' % (prefix, distro, family)])
