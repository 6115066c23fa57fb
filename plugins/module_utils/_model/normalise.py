# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host network model ``kvm_network``: parse, validate and normalise.

``normalise(data, host)`` turns what a user wrote into one canonical dict that every renderer,
module and verify step consumes, or raises :class:`ModelError` listing every problem found (one
message per problem, each naming the host, the object, what is wrong and how to fix it).
A model that is already normalised (it carries ``normalised: SCHEMA``) is returned as it is, so
the controller normalises once per host and every later stage takes the result.

The normalised model (all names sorted naturally, every option present)::

    normalised: 1                    # SCHEMA: this dict is normalise()'s output
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
bridge's VLAN. Addresses, gateways, routes and DNS are checked by ``addressing.AddressRules``;
single values by ``values``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    LACP_MODES,
    LACP_NEGOTIATING,
    RENDERERS as SYSTEMS,
    VLAN_MAX,
    VLAN_MIN,
    LINUX_BOND_MODE_NUMBERS,
    LINUX_BOND_MODES,
    LINUX_PRIMARY_MODES,
    LINUX_XMIT_HASH_MODES,
    OVS_BOND_MODES,
    natural_key,
    plain_copy,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.addressing import AddressRules
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import sriov
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.values import (
    IFNAME_MAX,
    MAC_RE,
    Checker,
    as_bool,
    as_int,
    as_list,
    as_mapping,
    check_ifname,
)

# The version of the normalised shape, carried as ``normalised`` by every normalised model. A
# model with another value was normalised by another release of the collection: it is refused
# with a message saying to pass the raw kvm_network.
SCHEMA = 1

BACKENDS = ('linux_bridge', 'openvswitch')
RENDERERS = ('auto',) + SYSTEMS
TRAFFIC_TYPES = ('management', 'guest', 'public', 'storage')

LACP_RATES = ('slow', 'fast')
XMIT_HASH_POLICIES = ('layer2', 'layer2+3', 'layer3+4', 'encap2+3', 'encap3+4', 'vlan+srcmac')
DATAPATH_TYPES = ('system', 'netdev')


# The CloudStack KVM agent finds a Linux bridge's physical device by listing the bridge's ports
# (/sys/class/net/BR/brif) and taking one whose name matches these patterns, case-sensitively and
# as a prefix (LibvirtComputingResource.isInterface and ifNamePatterns, also used by
# BridgeVifDriver). A port named otherwise is invisible to it and the traffic label fails. Open
# vSwitch hosts are not checked: OvsVifDriver plugs guests into the bridge itself.
CLOUDSTACK_PORT_PATTERNS = (r'eth', r'bond', r'vlan', r'vx', r'em', r'ens', r'eno', r'enp', r'team',
                            r'enx', r'dummy', r'lo', r'p\d+p\d+')
CLOUDSTACK_PORT_RE = re.compile(r'^(?:%s)' % '|'.join(CLOUDSTACK_PORT_PATTERNS))
CLOUDSTACK_PORT_HUMAN = 'eth*, bond*, vlan*, vx*, em*, ens*, eno*, enp*, team*, enx*, dummy*, lo*, p<n>p<n>*'

TOP_KEYS = ('backend', 'renderer', 'ethernets', 'bonds', 'bridges', 'traffic_labels', 'ovs',
            'check_cloudstack_port_names', 'forwarding')
FORWARDING_KEYS = ('ip', 'accept_bridged')
ETHERNET_KEYS = ('match', 'mtu', 'sriov', 'macvtap')
MATCH_KEYS = ('macaddress',)
BOND_KEYS = ('interfaces', 'mode', 'miimon', 'updelay', 'downdelay', 'primary', 'lacp',
             'lacp_rate', 'xmit_hash_policy', 'mtu')
BRIDGE_KEYS = ('uplink', 'vlan', 'vlan_interface', 'addresses', 'dhcp4', 'dhcp6', 'gateway4',
               'gateway6', 'nameservers', 'routes', 'mtu', 'stp', 'forward_delay')
OVS_KEYS = ('datapath_type',)

BOND_DEFAULTS = {'mode': 'active-backup', 'miimon': 100}


class ModelError(Exception):
    """Raised with every problem found in a model; ``problems`` is a list of messages."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ModelError, self).__init__('\n'.join(self.problems))

    def report(self, host=None):
        """The problems as one text: a head line, then one ``  - problem`` line each."""
        count = len(self.problems)
        head = 'kvm_network is invalid%s (%d problem%s):' % (' for host %s' % host if host else '', count,
                                                             '' if count == 1 else 's')
        return '\n'.join([head] + ['  - %s' % p for p in self.problems])


def is_normalised(data):
    """Whether ``data`` is normalise()'s output (of this release)."""
    return isinstance(data, dict) and data.get('normalised') == SCHEMA


def _sorted_dict(mapping):
    return dict((k, mapping[k]) for k in sorted(mapping, key=natural_key))


class _Normaliser(AddressRules):

    def __init__(self, data, host):
        self.chk = Checker(host)
        self.data = data

    # -- top level -------------------------------------------------------------------------------
    def run(self):
        chk = self.chk
        data = self.data
        if data is None or not isinstance(data, dict):
            chk.add('kvm_network', 'is missing or not a mapping (got %r)' % (type(data).__name__,),
                    'define kvm_network with at least backend and bridges (see docs/model.md)')
            raise ModelError(chk.problems)
        if 'normalised' in data:
            chk.add('kvm_network', 'is the output of another release of the collection (normalised: %r, this one '
                    'writes %d)' % (data['normalised'], SCHEMA),
                    'pass kvm_network as written in the inventory, not a normalised copy')
        chk.unknown_keys('kvm_network', dict((k, v) for k, v in data.items() if k != 'normalised'), TOP_KEYS)

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

        ovs = as_mapping(chk, 'kvm_network.ovs', data.get('ovs'))
        chk.unknown_keys('kvm_network.ovs', ovs, OVS_KEYS)
        datapath = ovs.get('datapath_type', 'system')
        if datapath not in DATAPATH_TYPES:
            chk.add('kvm_network.ovs.datapath_type', 'unknown datapath type %r' % (datapath,),
                    'use system (kernel datapath) or netdev (userspace datapath)')
            datapath = 'system'
        check_names = as_bool(chk, 'kvm_network', 'check_cloudstack_port_names',
                              data.get('check_cloudstack_port_names'), True)
        forwarding = self.forwarding(as_mapping(chk, 'kvm_network.forwarding', data.get('forwarding')))

        self.names = {}
        ethernets = self.ethernets(as_mapping(chk, 'kvm_network.ethernets', data.get('ethernets')))
        bonds = self.bonds(as_mapping(chk, 'kvm_network.bonds', data.get('bonds')), ethernets)
        given_bridges = as_mapping(chk, 'kvm_network.bridges', data.get('bridges'))
        if not given_bridges and (data.get('bridges') is None or isinstance(data.get('bridges'), dict)):
            # An empty model would render no file, and the apply would prune every file of ours:
            # the host's bridges gone because a variable came out empty. Never by accident.
            chk.add('kvm_network.bridges', 'no bridge is defined, so the host would lose every bridge the collection '
                    'configured', 'describe the host\'s bridges (at least its management bridge, for example '
                    'cloudbr0: {uplink: eth0}); check that the variable that fills kvm_network is not empty')
        bridges = self.bridges(given_bridges, ethernets, bonds)
        vlans = self.vlans(bridges)
        if self.ovs:
            for bname, bond in bonds.items():
                if not bond['bridge']:
                    chk.add('bond %s' % bname, 'is the uplink of no bridge; an Open vSwitch bond is a port of a bridge',
                            'set uplink: %s on a bridge, or remove the bond' % bname)
        self.addresses_and_gateways(bridges)
        for name, eth in ethernets.items():
            holder = ('bond %s' % eth['bond']) if eth['bond'] else ('bridge %s' % eth['bridge']) if eth['bridge'] else None
            if eth['macvtap'] and holder:
                chk.add('ethernet %s' % name, 'is a macvtap lower device (macvtap: true) and %s holds it; guests\' '
                        'macvtap interfaces on a NIC a bridge or bond holds get no traffic' % holder,
                        'take %s out of %s, or drop macvtap: true' % (name, holder))
        if check_names and not self.ovs:
            self.cloudstack_port_names(bridges)
        labels = self.traffic_labels(data.get('traffic_labels'), bridges, ethernets, bonds, vlans)

        if chk.problems:
            raise ModelError(chk.problems)
        return {
            'normalised': SCHEMA,
            'backend': backend,
            'renderer': renderer,
            'check_cloudstack_port_names': check_names,
            'ovs': {'datapath_type': datapath},
            'forwarding': forwarding,
            'ethernets': _sorted_dict(ethernets),
            'bonds': _sorted_dict(bonds),
            'bridges': _sorted_dict(bridges),
            'vlans': _sorted_dict(vlans),
            'traffic_labels': labels,
        }

    def forwarding(self, given):
        """Seed 003's host settings for guests on its bridges: ``ip`` (net.ipv4.ip_forward=1) and
        ``accept_bridged`` (FORWARD accepts bridged frames: -m physdev --physdev-is-bridged -j ACCEPT)."""
        chk = self.chk
        chk.unknown_keys('kvm_network.forwarding', given, FORWARDING_KEYS)
        out = dict((key, as_bool(chk, 'kvm_network.forwarding', key, given.get(key), False)) for key in FORWARDING_KEYS)
        if out['accept_bridged'] and self.ovs:
            chk.add('kvm_network.forwarding.accept_bridged', 'is for Linux bridges: frames an Open vSwitch bridge '
                    'forwards never pass the iptables FORWARD chain', 'drop accept_bridged, or use backend: linux_bridge')
        return out

    def claim_name(self, kind, name):
        where = '%s %s' % (kind, name)
        if not check_ifname(self.chk, where, name):
            return False
        if name in self.names:
            self.chk.add(where, "the name '%s' is already used by %s %s" % (name, self.names[name], name),
                         'give every ethernet, bond, bridge and VLAN device its own name')
            return False
        self.names[name] = kind
        return True

    def declared(self, kind, given, keys):
        """(name, where, options) of each object of ``kind`` given as {name: options} that claims a
        free name, its options as a mapping (unknown keys reported). A generator: each name is
        claimed as the caller comes to it."""
        for name, opts in given.items():
            if not self.claim_name(kind, name):
                continue
            where = '%s %s' % (kind, name)
            opts = as_mapping(self.chk, where, opts)
            self.chk.unknown_keys(where, opts, keys)
            yield name, where, opts

    # -- ethernets -------------------------------------------------------------------------------
    def ethernets(self, given):
        chk = self.chk
        out = {}
        macs = {}
        for name, where, opts in self.declared('ethernet', given, ETHERNET_KEYS):
            match = as_mapping(chk, where + ' match', opts.get('match'))
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
                'mtu': as_int(chk, where, 'mtu', opts.get('mtu'), 68, 65535),
                'bond': None,
                'bridge': None,
                'sriov': sriov.parse(chk, where, opts.get('sriov')),
                # A lower device of guests' macvtap (direct) interfaces: up, held by no bridge or bond.
                'macvtap': as_bool(chk, where, 'macvtap', opts.get('macvtap'), False),
            }
        return out

    # -- bonds -----------------------------------------------------------------------------------
    def bonds(self, given, ethernets):
        chk = self.chk
        out = {}
        for name, where, opts in self.declared('bond', given, BOND_KEYS):
            bond = {
                'name': name, 'interfaces': [], 'mode': None, 'miimon': None, 'updelay': None,
                'downdelay': None, 'primary': None, 'lacp': None, 'lacp_rate': None,
                'xmit_hash_policy': None, 'mtu': None, 'bridge': None,
            }
            members = as_list(chk, where, 'interfaces', opts.get('interfaces'))
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
            bond['miimon'] = as_int(chk, where, 'miimon', opts.get('miimon', BOND_DEFAULTS['miimon']), 0, 1000000, ' ms')
            bond['updelay'] = as_int(chk, where, 'updelay', opts.get('updelay'), 0, 1000000, ' ms')
            bond['downdelay'] = as_int(chk, where, 'downdelay', opts.get('downdelay'), 0, 1000000, ' ms')
            bond['mtu'] = as_int(chk, where, 'mtu', opts.get('mtu'), 68, 65535)
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

        negotiates = mode == '802.3ad' or bond['lacp'] in LACP_NEGOTIATING
        if negotiates and len(members) < 2:
            how = 'mode 802.3ad' if mode == '802.3ad' else 'lacp ' + bond['lacp']
            chk.add(where, 'LACP (%s) with %d member%s' % (how, len(members), '' if len(members) == 1 else 's'),
                    'an aggregate needs at least two members: add one or use mode active-backup')
        if self.ovs and 0 < len(members) < 2 and not negotiates:
            chk.add(where, 'has one member; an Open vSwitch bond needs at least two',
                    'add a second NIC, or make the NIC itself the uplink of the bridge')
        if self.ovs and mode == 'balance-tcp' and bond['lacp'] not in LACP_NEGOTIATING:
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
            elif mode not in LINUX_XMIT_HASH_MODES:
                chk.add(where, 'xmit_hash_policy does not apply to mode %s' % mode,
                        'drop it, or use one of the modes %s' % ', '.join(LINUX_XMIT_HASH_MODES))
            else:
                bond['xmit_hash_policy'] = policy

        primary = opts.get('primary')
        if primary is not None:
            primary_modes = ('active-backup',) if self.ovs else LINUX_PRIMARY_MODES
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
        for name, where, opts in self.declared('bridge', given, BRIDGE_KEYS):
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

            br['vlan'] = as_int(chk, where, 'vlan', opts.get('vlan'), VLAN_MIN, VLAN_MAX)
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
            br['mtu'] = as_int(chk, where, 'mtu', opts.get('mtu'), 68, 65535)
            br['stp'] = as_bool(chk, where, 'stp', opts.get('stp'), False)
            low = 2 if br['stp'] else 0
            fd = as_int(chk, where, 'forward_delay', opts.get('forward_delay'), low, 30, ' seconds')
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

    def traffic_labels(self, given, bridges, ethernets, bonds, vlans):
        """{traffic type: device}. A label names a bridge; on a Linux bridge host it may also name a
        plain device (NIC, bond, VLAN device), which the agent uses as it is (BridgeVifDriver); on
        Open vSwitch it must be a bridge, the device OvsVifDriver plugs guests into."""
        chk = self.chk
        labels = as_mapping(chk, 'kvm_network.traffic_labels', given)
        devices = {}
        for plain in ([] if self.ovs else [ethernets, bonds, vlans]):
            devices.update(plain)
        out = {}
        for kind, device in labels.items():
            where = 'traffic label %s' % kind
            if kind not in TRAFFIC_TYPES:
                chk.add(where, 'is not a CloudStack traffic type', 'use one of %s' % ', '.join(TRAFFIC_TYPES))
                continue
            if device not in bridges and device not in devices:
                what = 'a bridge' if self.ovs else 'a bridge or a device'
                chk.add(where, 'names %s, which is not %s of kvm_network' % (device, what),
                        'use one of %s' % (', '.join(sorted(bridges, key=natural_key)) or 'the bridges you define'))
                continue
            out[kind] = device
        return dict((k, out[k]) for k in TRAFFIC_TYPES if k in out)


def normalise(data, host=None):
    """Validate ``data`` (a kvm_network mapping) and return the normalised model.

    A model that is normalised already is returned as a plain copy, not checked again. Raises
    ModelError with one message per problem.
    """
    data = plain_copy(data)
    if is_normalised(data):
        return data
    return _Normaliser(data, host).run()
