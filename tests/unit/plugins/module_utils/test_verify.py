# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_verify: the wanted model against host_network_facts built from recorded tool output
(tests/unit/plugins/modules/fixtures/ip and ovs_facts), with hand-made drift of every kind,
and the brctl/ovs-vsctl style summary (golden files in fixtures/verify/)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import io
import json
import os
import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import _common as common
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import linux as facts_linux
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import ovs as facts_ovs
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import view as facts_view
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify import compare as verify_compare
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify import summary as verify_summary
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import parse_json_documents
from ansible_collections.cloudstack_kvm.networking.plugins.filter import kvm_network_verify as filters
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import ovs_rows_from_documents, patched

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(os.path.dirname(HERE), 'modules', 'fixtures')
GOLDEN = os.path.join(HERE, 'fixtures', 'verify')


def _jload(*parts):
    with io.open(os.path.join(FIX, *parts), encoding='utf-8') as f:
        return json.load(f)


def _text(*parts):
    with io.open(os.path.join(FIX, *parts), encoding='utf-8') as f:
        return f.read()


def raw_facts(ip_host, ovs=None):
    """The raw sections host_network_facts gathers, parsed from a recorded host."""
    d = ('ip', ip_host)
    links = facts_linux.parse_links(_jload(*d + ('link.json',)))
    sysr = facts_linux.SysReader(os.path.join(FIX, 'ip', ip_host, 'root'))
    if ovs:
        docs = parse_json_documents(_text('ovs_facts', ovs + '.stdout'))
        ovs_facts = facts_ovs.parse_ovs(ovs_rows_from_documents(docs))
        ovs_facts['available'] = True
    else:
        ovs_facts = {'available': False, 'reason': 'ovs-vsctl is not installed'}
    return {
        'links': links,
        'addresses': facts_linux.parse_addresses(_jload(*d + ('addr.json',))),
        'routes': facts_linux.parse_default_routes(_jload(*d + ('route4.json',)), _jload(*d + ('route6.json',))),
        'linux_bridges': facts_linux.linux_bridges(links, sysr),
        'bonds': facts_linux.linux_bonds(links, sysr.proc_bonding()),
        'vlans': facts_linux.linux_vlans(links, sysr.proc_vlans()),
        'ovs': ovs_facts,
    }


def host_network(raw):
    """The facts as the module returns them: raw sections plus the model view built from them."""
    facts = copy.deepcopy(raw)
    facts['model'] = facts_view.build_model(facts)
    for link in facts['links'].values():
        link.pop('info_data', None)
        link.pop('slave_data', None)
    return facts


# The wanted models that describe each recorded host exactly.
LINUX_BOND_VLAN = {
    'backend': 'linux_bridge',
    'ethernets': {'eth0': {'match': {'macaddress': '52:54:00:aa:bb:01'}}, 'eth1': {}, 'eth2': {}, 'eth3': {}},
    'bonds': {
        'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 100, 'updelay': 0, 'downdelay': 0},
        'bond1': {'interfaces': ['eth2', 'eth3'], 'mode': '802.3ad', 'miimon': 100, 'lacp_rate': 'fast',
                  'xmit_hash_policy': 'layer3+4'},
    },
    'bridges': {
        'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '2001:db8::20/64'],
                     'gateway4': '198.51.100.1', 'gateway6': '2001:db8::1'},
        'cloudbr1': {'uplink': 'bond1'},
        'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'vlan_interface': 'bond100', 'addresses': ['203.0.113.20/24']},
    },
    'traffic_labels': {'management': 'cloudbr0', 'guest': 'cloudbr0', 'public': 'cloudbr1', 'storage': 'cloudbr100'},
}

LINUX_PLAIN = {
    'backend': 'linux_bridge',
    'ethernets': {'eth0': {}, 'eth1': {}},
    'bridges': {
        'cloudbr0': {'uplink': 'eth0', 'addresses': ['198.51.100.20/24', '2001:db8::20/64'],
                     'gateway4': '198.51.100.1', 'gateway6': '2001:db8::1'},
        'cloudbr1': {'uplink': 'eth1'},
    },
}

OVS_SEED = {
    'backend': 'openvswitch',
    'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}},
    'bonds': {
        'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'lacp': 'off', 'miimon': 100, 'primary': 'eth0'},
        'bond1': {'interfaces': ['eth2', 'eth3'], 'mode': 'balance-tcp', 'lacp': 'active', 'lacp_rate': 'fast', 'miimon': 0},
    },
    'bridges': {
        'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.20/24'], 'gateway4': '198.51.100.1'},
        'cloudbr1': {'uplink': 'bond1'},
        'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'addresses': ['203.0.113.20/24']},
    },
}


def ovs_seed_raw():
    """ovs_host as recorded, except bond1's delays: the model refuses updelay/downdelay with
    carrier detection (miimon 0), which the recording has."""
    raw = raw_facts('ovs_host', ovs='ovs_host')
    raw['ovs']['bonds']['bond1']['updelay'] = 0
    raw['ovs']['bonds']['bond1']['downdelay'] = 0
    return raw


OVS_NETDEV = {
    'backend': 'openvswitch',
    'ovs': {'datapath_type': 'netdev'},
    'ethernets': {'eth0': {'mtu': 9000}},
    'bridges': {
        'cloudbr0': {'uplink': 'eth0', 'stp': True, 'forward_delay': 4},
        'cloudbr200': {'uplink': 'eth0', 'vlan': 200},
    },
}


def ovs_netdev_raw():
    """A single-NIC netdev OVS host: the ovs_single_nic database (jumbo eth0 on cloudbr0, STP on,
    fake bridge cloudbr200, host-only cloudbr1) on the empty_host recording, with the NIC's link
    (as linux_bridge_host recorded a veth NIC, out of any bridge) added."""
    raw = raw_facts('empty_host', ovs='ovs_single_nic')
    nic = raw_facts('linux_bridge_host')['links']['eth0']
    nic.update({'master': None, 'slave_type': None, 'mtu': 9000, 'ifindex': 2})
    raw['links']['eth0'] = nic
    return raw


# The lab VMs recorded by fixtures/ip/tools/record_host.py after site.yml ran there with these
# models (molecule/network_vms), each with a guest's tap vnet0 added on cloudbr0 by hand.
LAB_VM_LINUX = {
    'backend': 'linux_bridge',
    'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}},
    'bonds': {
        'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 100, 'updelay': 0,
                  'downdelay': 0, 'primary': 'eth0'},
        'bond1': {'interfaces': ['eth2', 'eth3'], 'mode': 'active-backup', 'miimon': 100, 'updelay': 0,
                  'downdelay': 0, 'primary': 'eth2'},
    },
    'bridges': {
        'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.11/24']},
        'cloudbr1': {'uplink': 'bond1'},
        'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'addresses': ['203.0.113.11/24']},
    },
}

LAB_VM_OVS = {
    'backend': 'openvswitch',
    'ovs': {'datapath_type': 'system'},
    'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}},
    'bonds': {
        'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'lacp': 'off', 'miimon': 100},
        'bond1': {'interfaces': ['eth2', 'eth3'], 'mode': 'active-backup', 'lacp': 'off', 'miimon': 100},
    },
    'bridges': {
        'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.12/24']},
        'cloudbr1': {'uplink': 'bond1'},
        'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'addresses': ['203.0.113.12/24']},
    },
}


def messages(wanted, raw, model_only=False):
    facts = host_network(raw)
    return [d['message'] for d in verify_compare.compare(model_normalise.normalise(wanted, 'kvm1'), facts['model'] if model_only else facts)]


# --- the recorded hosts match their models -------------------------------------------------------

@pytest.mark.parametrize('wanted, raw', [
    (LINUX_BOND_VLAN, lambda: raw_facts('bond_vlan_host')),
    (LINUX_PLAIN, lambda: raw_facts('linux_bridge_host')),
    (OVS_SEED, ovs_seed_raw),
    (OVS_NETDEV, ovs_netdev_raw),
    (LAB_VM_LINUX, lambda: raw_facts('bond_vlan_vm')),
    (LAB_VM_OVS, lambda: raw_facts('ovs_kernel_vm', ovs='ovs_kernel_vm')),
], ids=['bond_vlan_host', 'linux_bridge_host', 'ovs_host', 'ovs_single_nic', 'bond_vlan_vm', 'ovs_kernel_vm'])
@pytest.mark.parametrize('model_only', [False, True], ids=['facts', 'model_only'])
def test_recorded_host_matches_its_model(wanted, raw, model_only):
    assert messages(wanted, raw(), model_only) == []


def test_recorded_vm_linux_bonds_and_vlan():
    """A real kernel's bonding, 802.1Q and bridge state (not hand-written) reads as the seed's."""
    facts = host_network(raw_facts('bond_vlan_vm'))
    bond0 = facts['bonds']['bond0']
    assert (bond0['mode'], bond0['miimon'], bond0['primary'], bond0['active']) == ('active-backup', 100, 'eth0', 'eth0')
    assert bond0['member_permanent_macs'] == {'eth0': '52:54:00:c5:01:00', 'eth1': '52:54:00:c5:01:01'}
    assert facts['vlans'] == {'bond0.100': {'id': 100, 'link': 'bond0', 'protocol': '802.1Q'}}
    bridges = facts['model']['bridges']
    assert (bridges['cloudbr0']['uplink'], bridges['cloudbr100']['uplink'], bridges['cloudbr100']['vlan']) == ('bond0', 'bond0', 100)
    assert 'vnet0' in bridges['cloudbr0']['ports']


def test_recorded_vm_ovs_kernel_datapath():
    facts = host_network(raw_facts('ovs_kernel_vm', ovs='ovs_kernel_vm'))
    ovs = facts['ovs']
    assert ovs['bridges']['cloudbr0']['datapath_type'] == 'system'
    assert ovs['bridges']['cloudbr0']['ports']['vnet0']['type'] == 'vm'
    assert ovs['bridges']['cloudbr0']['ports']['cloudbr100']['fake_bridge'] is True
    assert sorted(ovs['bonds']['bond0']['members']) == ['eth0', 'eth1']
    # The kernel datapath carries bonds and the VLAN: no Linux bond or 802.1Q device.
    assert facts['bonds'] == {} and facts['vlans'] == {}


def test_fixtures_are_what_the_tests_assume():
    """The hosts carry what the 'not a difference' cases rely on: a guest tap on cloudbr0,
    an unmodelled NIC with DHCP, cloud0, a guest port on the OVS bridge."""
    facts = host_network(raw_facts('bond_vlan_host'))
    assert facts['links']['vnet0']['type'] == 'tun' and 'vnet0' in facts['model']['bridges']['cloudbr0']['ports']
    assert facts['addresses']['eth4'][0]['dynamic'] and 'eth4' not in LINUX_BOND_VLAN['ethernets']
    assert 'cloud0' in facts['linux_bridges']
    ovs = host_network(ovs_seed_raw())
    assert ovs['ovs']['bridges']['cloudbr0']['ports']['vnet0']['type'] == 'vm'
    assert ovs['ovs']['bridges']['cloudbr0']['ports']['cloudbr100']['fake_bridge'] is True


# --- drift, Linux bridge (bond_vlan_host) --------------------------------------------------------

def _link_master(raw, name, master):
    raw['links'][name]['master'] = master
    raw['links'][name]['slave_type'] = 'bridge' if master else None


def _port_to(raw, bridge, old, new):
    ports = raw['linux_bridges'][bridge]['ports']
    ports[ports.index(old)] = new
    _link_master(raw, old, None)
    _link_master(raw, new, bridge)


def _add_port(raw, bridge, port):
    raw['linux_bridges'][bridge]['ports'].append(port)
    _link_master(raw, port, bridge)


def _del_address(raw, ifname, cidr):
    raw['addresses'][ifname] = [a for a in raw['addresses'][ifname] if a['cidr'] != cidr]


def _add_address(raw, ifname, cidr, dynamic=False):
    addr, plen = cidr.split('/')
    raw['addresses'].setdefault(ifname, []).append({
        'address': addr, 'prefixlen': int(plen), 'cidr': cidr, 'family': 6 if ':' in addr else 4,
        'scope': 'global', 'dynamic': dynamic})


def _bond(raw, name, **values):
    raw['bonds'][name].update(values)


def _drop_member(raw, bond, member):
    raw['bonds'][bond]['members'].remove(member)
    _link_master(raw, member, None)


def _route4(raw, routes):
    raw['routes']['ipv4'] = routes


def _mtu(raw, section, name, mtu):
    raw[section][name]['mtu'] = mtu
    if section != 'links':
        raw['links'][name]['mtu'] = mtu


LINUX_DRIFT = [
    # (id, change to the wanted model, change to the host, expected messages)
    ('bridge port replaced', None,
     lambda r: _port_to(r, 'cloudbr0', 'bond0', 'eth4'),
     ['bridge cloudbr0: port bond0 expected, found eth4']),
    ('bridge port gone', None,
     lambda r: (r['linux_bridges']['cloudbr1']['ports'].remove('bond1'), _link_master(r, 'bond1', None)),
     ['bridge cloudbr1: port bond1 expected, found none']),
    ('extra NIC on a managed bridge', None,
     lambda r: _add_port(r, 'cloudbr1', 'eth4'),
     ['bridge cloudbr1: port eth4 unexpected']),
    ('guest taps on a managed bridge are not differences', None,
     lambda r: r['links'].update({'vnet7': dict(r['links']['vnet0'], ifindex=40)}) or _add_port(r, 'cloudbr1', 'vnet7'),
     []),
    ('unmodelled bridge and NIC are left alone', None,
     lambda r: (r['linux_bridges'].update({'br-lab': {'ports': ['eth4'], 'stp': True, 'forward_delay': 15,
                                                      'mtu': 9000, 'mac': None}}),
                _link_master(r, 'eth4', 'br-lab'), _add_address(r, 'br-lab', '192.0.2.9/24')),
     []),
    ('address missing', None,
     lambda r: _del_address(r, 'cloudbr100', '203.0.113.20/24'),
     ['bridge cloudbr100: address 203.0.113.20/24 missing']),
    ('address unexpected', None,
     lambda r: _add_address(r, 'cloudbr1', '203.0.113.99/24'),
     ['bridge cloudbr1: address 203.0.113.99/24 unexpected']),
    ('address order and IPv6 spelling do not matter',
     lambda w: patched(w, 'bridges.cloudbr0.addresses', ['2001:DB8:0::20/64', '198.51.100.20/24']), None,
     []),
    ('dhcp on a managed bridge', None,
     lambda r: _add_address(r, 'cloudbr1', '192.0.2.77/24', dynamic=True),
     ['bridge cloudbr1: dhcp4 true, expected false']),
    ('gateway missing', None,
     lambda r: _route4(r, [x for x in r['routes']['ipv4'] if x['dev'] != 'cloudbr0']),
     ['bridge cloudbr0: gateway4 none, expected 198.51.100.1']),
    ('gateway wrong', None,
     lambda r: r['routes']['ipv4'][0].update({'gateway': '198.51.100.254'}),
     ['bridge cloudbr0: gateway4 198.51.100.254, expected 198.51.100.1']),
    ('gateway on a bridge that has none in the model', None,
     lambda r: r['routes']['ipv4'].append({'gateway': '203.0.113.1', 'dev': 'cloudbr100', 'metric': 50, 'protocol': 'static'}),
     ['bridge cloudbr100: gateway4 203.0.113.1, expected none']),
    ('default route given as a route, not gateway4',
     lambda w: patched(patched(w, 'bridges.cloudbr0.gateway4', None), 'bridges.cloudbr0.routes',
                       [{'to': 'default', 'via': '198.51.100.1'}]), None,
     []),
    ('IPv6 gateway missing', None,
     lambda r: r['routes'].update({'ipv6': []}),
     ['bridge cloudbr0: gateway6 none, expected 2001:db8::1']),
    ('bond mode', None,
     lambda r: _bond(r, 'bond0', mode='balance-rr'),
     ['bond bond0: mode balance-rr, expected active-backup']),
    ('bond mode as a number is its name', lambda w: patched(w, 'bonds.bond0.mode', 1),
     lambda r: _bond(r, 'bond0', mode='1'),
     []),
    ('bond member missing', None,
     lambda r: _drop_member(r, 'bond1', 'eth3'),
     ['bond bond1: member eth3 missing']),
    ('bond member unexpected', None,
     lambda r: (r['bonds']['bond1']['members'].append('eth4'), _link_master(r, 'eth4', 'bond1')),
     ['bond bond1: member eth4 unexpected']),
    ('bond miimon and delays', None,
     lambda r: _bond(r, 'bond0', miimon=200, updelay=400, downdelay=200),
     ['bond bond0: miimon 200, expected 100', 'bond bond0: updelay 400, expected 0',
      'bond bond0: downdelay 200, expected 0']),
    ('bond delays unset in the model are 0', lambda w: patched(patched(w, 'bonds.bond0.updelay', None), 'bonds.bond0.downdelay', None),
     None, []),
    ('bond primary', lambda w: patched(w, 'bonds.bond0.primary', 'eth0'), None,
     ['bond bond0: primary none, expected eth0']),
    ('bond primary set by hand', None, lambda r: _bond(r, 'bond0', primary='eth1'),
     ['bond bond0: primary eth1, expected none']),
    ('LACP rate unset in the model is slow', lambda w: patched(w, 'bonds.bond1.lacp_rate', None), None,
     ['bond bond1: lacp_rate fast, expected slow']),
    ('hash policy unset in the model is layer2', lambda w: patched(w, 'bonds.bond1.xmit_hash_policy', None), None,
     ['bond bond1: xmit_hash_policy layer3+4, expected layer2']),
    ('bond mtu', None, lambda r: _mtu(r, 'bonds', 'bond0', 9000),
     ['bond bond0: mtu 9000, expected 1500']),
    ('bond missing', None,
     lambda r: (r['bonds'].pop('bond1'), r['linux_bridges']['cloudbr1']['ports'].remove('bond1')),
     ['bond bond1: missing', 'bridge cloudbr1: port bond1 expected, found none']),
    ('VLAN id', None, lambda r: r['vlans']['bond100'].update({'id': 200}),
     ['vlan bond100: id 200, expected 100']),
    ('VLAN link', None, lambda r: r['vlans']['bond100'].update({'link': 'bond1'}),
     ['vlan bond100: link bond1, expected bond0']),
    ('VLAN device missing', None,
     lambda r: (r['vlans'].pop('bond100'), r['linux_bridges']['cloudbr100']['ports'].remove('bond100')),
     ['vlan bond100: missing (VLAN 100 on bond0)', 'bridge cloudbr100: port bond100 expected, found none']),
    ('bridge missing', None, lambda r: r['linux_bridges'].pop('cloudbr1'),
     ['bridge cloudbr1: missing']),
    ('ethernet missing', lambda w: patched(w, 'ethernets.eth5', {}), None,
     ['ethernet eth5: missing']),
    ('MAC case does not matter', lambda w: patched(w, 'ethernets.eth0.match.macaddress', '52:54:00:AA:BB:01'), None,
     []),
    ('MAC differs', lambda w: patched(w, 'ethernets.eth0.match.macaddress', '52:54:00:aa:bb:99'), None,
     ['ethernet eth0: macaddress 52:54:00:aa:bb:01, expected 52:54:00:aa:bb:99']),
    ('unset MTU is 1500', None, lambda r: _mtu(r, 'linux_bridges', 'cloudbr1', 9000),
     ['bridge cloudbr1: mtu 9000, expected 1500']),
    ('a bridge without MTU takes its uplink\'s',
     lambda w: patched(patched(patched(w, 'bonds.bond0.mtu', 9000), 'ethernets.eth0.mtu', 9000), 'ethernets.eth1.mtu', 9000),
     None,
     ['ethernet eth0: mtu 1500, expected 9000', 'ethernet eth1: mtu 1500, expected 9000',
      'bond bond0: mtu 1500, expected 9000', 'bridge cloudbr0: mtu 1500, expected 9000',
      'bridge cloudbr100: mtu 1500, expected 9000']),
    ('forward_delay does not matter without STP', None,
     lambda r: r['linux_bridges']['cloudbr1'].update({'forward_delay': 15}),
     []),
    ('STP turned on by hand', None,
     lambda r: r['linux_bridges']['cloudbr1'].update({'stp': True, 'forward_delay': 15}),
     ['bridge cloudbr1: stp true, expected false', 'bridge cloudbr1: forward_delay 15, expected 0']),
    ('STP wanted', lambda w: patched(w, 'bridges.cloudbr1.stp', True), None,
     ['bridge cloudbr1: stp false, expected true', 'bridge cloudbr1: forward_delay 0, expected 15']),
    ('Open vSwitch wanted, Linux found',
     lambda w: dict(patched(patched(w, 'backend', 'openvswitch'), 'traffic_labels', None), bonds={
         'bond0': {'interfaces': ['eth0', 'eth1']}, 'bond1': {'interfaces': ['eth2', 'eth3']}},
         bridges={'cloudbr0': dict(w['bridges']['cloudbr0']), 'cloudbr1': {'uplink': 'bond1'}}),
     None,
     ['bond bond0: a Linux bond, expected an Open vSwitch bond', 'bond bond1: a Linux bond, expected an Open vSwitch bond',
      'bridge cloudbr0: a Linux bridge, expected an Open vSwitch bridge',
      'bridge cloudbr1: a Linux bridge, expected an Open vSwitch bridge']),
]


@pytest.mark.parametrize('change_wanted, change_host, expected', [c[1:] for c in LINUX_DRIFT],
                         ids=[c[0] for c in LINUX_DRIFT])
def test_linux_drift(change_wanted, change_host, expected):
    wanted = change_wanted(copy.deepcopy(LINUX_BOND_VLAN)) if change_wanted else LINUX_BOND_VLAN
    raw = raw_facts('bond_vlan_host')
    if change_host:
        change_host(raw)
    assert messages(wanted, raw) == expected


def test_difference_record_shape():
    raw = raw_facts('bond_vlan_host')
    _port_to(raw, 'cloudbr0', 'bond0', 'eth4')
    _bond(raw, 'bond0', mode='balance-rr')
    diffs = verify_compare.compare(model_normalise.normalise(LINUX_BOND_VLAN), host_network(raw))
    assert diffs == [
        {'object': 'bond bond0', 'kind': 'bond.mode', 'field': 'mode', 'expected': 'active-backup',
         'found': 'balance-rr', 'message': 'bond bond0: mode balance-rr, expected active-backup'},
        {'object': 'bridge cloudbr0', 'kind': 'bridge.port', 'field': 'port', 'expected': 'bond0',
         'found': ['eth4'], 'message': 'bridge cloudbr0: port bond0 expected, found eth4'},
    ]
    assert set(d['kind'] for d in diffs) <= set(verify_compare.KINDS)


def test_model_only_recognises_guest_ports_by_name():
    raw = raw_facts('bond_vlan_host')
    _add_port(raw, 'cloudbr1', 'eth4')
    raw['links']['vnet9'] = dict(raw['links']['vnet0'], ifindex=41)
    _add_port(raw, 'cloudbr1', 'vnet9')
    assert messages(LINUX_BOND_VLAN, raw, model_only=True) == ['bridge cloudbr1: port eth4 unexpected']


def test_plain_linux_bridge_host_drift():
    """linux_bridge_host (the real iproute2 recording): NICs as bridge ports, no bonds."""
    raw = raw_facts('linux_bridge_host')
    _port_to(raw, 'cloudbr1', 'eth1', 'eth0')
    raw['linux_bridges']['cloudbr0']['ports'].remove('eth0')
    _del_address(raw, 'cloudbr0', '2001:db8::20/64')
    assert messages(LINUX_PLAIN, raw) == [
        'bridge cloudbr0: port eth0 expected, found none',
        'bridge cloudbr0: address 2001:db8::20/64 missing',
        'bridge cloudbr1: port eth1 expected, found eth0',
    ]


# --- drift, Open vSwitch (ovs_host, ovs_single_nic) ----------------------------------------------

def _ovs_port(raw, bridge, port, ptype='system', interfaces=None, fake=False, tag=None):
    raw['ovs']['bridges'][bridge]['ports'][port] = {
        'type': ptype, 'tag': tag, 'trunks': [], 'vlan_mode': None,
        'interfaces': interfaces or [port], 'fake_bridge': fake}


def _ovs_bond(raw, name, **values):
    raw['ovs']['bonds'][name].update(values)


OVS_DRIFT = [
    ('datapath type', lambda w: patched(w, 'ovs', {'datapath_type': 'netdev'}), None,
     ['bridge cloudbr0: datapath_type system, expected netdev', 'bridge cloudbr1: datapath_type system, expected netdev']),
    ('fake bridge parent and tag',
     lambda w: patched(w, 'bridges.cloudbr100', {'uplink': 'bond1', 'vlan': 300, 'addresses': ['203.0.113.20/24']}), None,
     ['bridge cloudbr100: parent cloudbr0, expected cloudbr1', 'bridge cloudbr100: vlan 100, expected 300']),
    ('real bridge where a fake one is wanted', None,
     lambda r: r['ovs']['bridges']['cloudbr100'].update({'fake': False, 'parent': None, 'vlan': None}),
     ['bridge cloudbr100: a real bridge, expected a fake bridge of cloudbr0 with VLAN 100']),
    ('fake bridge where a real one is wanted', None,
     lambda r: r['ovs']['bridges']['cloudbr1'].update({'fake': True, 'parent': 'cloudbr0', 'vlan': 7}),
     ['bridge cloudbr1: a fake bridge (parent cloudbr0, VLAN 7), expected a real bridge']),
    ('bond_mode', None, lambda r: _ovs_bond(r, 'bond0', mode='balance-slb'),
     ['bond bond0: mode balance-slb, expected active-backup']),
    ('lacp', None, lambda r: _ovs_bond(r, 'bond0', lacp='active', lacp_rate='slow'),
     ['bond bond0: lacp active, expected off']),
    ('lacp-time', None, lambda r: _ovs_bond(r, 'bond1', lacp_rate='slow'),
     ['bond bond1: lacp_rate slow, expected fast']),
    ('miimon (other_config bond-detect-mode)', None, lambda r: _ovs_bond(r, 'bond0', miimon=0),
     ['bond bond0: miimon 0, expected 100']),
    ('miimon interval', lambda w: patched(w, 'bonds.bond0.miimon', 200), None,
     ['bond bond0: miimon 100, expected 200']),
    ('primary member', None, lambda r: _ovs_bond(r, 'bond0', primary='eth1'),
     ['bond bond0: primary eth1, expected eth0']),
    ('bond member missing', None,
     lambda r: (_ovs_bond(r, 'bond0', members=['eth0']), r['ovs']['bridges']['cloudbr0']['ports']['bond0'].update(
         {'interfaces': ['eth0']})),
     ['bond bond0: member eth1 missing']),
    ('bond replaced by one NIC', None,
     lambda r: (r['ovs']['bonds'].pop('bond0'), r['ovs']['bridges']['cloudbr0']['ports'].pop('bond0'),
                _ovs_port(r, 'cloudbr0', 'eth0')),
     ['bond bond0: missing', 'bridge cloudbr0: port bond0 expected, found eth0']),
    ('extra NIC on a managed bridge', None, lambda r: _ovs_port(r, 'cloudbr1', 'eth4'),
     ['bridge cloudbr1: port eth4 unexpected']),
    ('extra internal port on a managed bridge', None, lambda r: _ovs_port(r, 'cloudbr1', 'mgmt0', ptype='internal'),
     ['bridge cloudbr1: port mgmt0 unexpected']),
    # CloudStack's DPDK guests (DpdkDriverImpl: csdpdk-N, dpdkvhostuser/dpdkvhostuserclient): by
    # name, and by type whatever the name.
    ('CloudStack DPDK guest ports are not differences', None,
     lambda r: (_ovs_port(r, 'cloudbr1', 'csdpdk-1', ptype='dpdkvhostuser'),
                _ovs_port(r, 'cloudbr0', 'vhu-guest7', ptype='dpdkvhostuserclient')),
     []),
    ('guest, tunnel and CloudStack fake-bridge ports are not differences', None,
     lambda r: (_ovs_port(r, 'cloudbr1', 'vnet5', ptype='vm'), _ovs_port(r, 'cloudbr1', 'vx1', ptype='vxlan'),
                _ovs_port(r, 'cloudbr1', 'brcloudbr1-300', ptype='internal', fake=True, tag=300)),
     []),
    ('address missing on the internal interface', None,
     lambda r: _del_address(r, 'cloudbr0', '198.51.100.20/24'),
     ['bridge cloudbr0: address 198.51.100.20/24 missing']),
    ('address on the fake bridge moved', None,
     lambda r: (_del_address(r, 'cloudbr100', '203.0.113.20/24'), _add_address(r, 'cloudbr100', '203.0.113.21/24')),
     ['bridge cloudbr100: address 203.0.113.20/24 missing', 'bridge cloudbr100: address 203.0.113.21/24 unexpected']),
    ('bridge missing', None,
     lambda r: (r['ovs']['bridges'].pop('cloudbr100'), r['ovs']['bridges']['cloudbr0']['ports'].pop('cloudbr100')),
     ['bridge cloudbr100: missing']),
    ('modelled MTU on the internal interface',
     lambda w: patched(patched(w, 'bridges.cloudbr1.mtu', 9000), 'bonds.bond1.mtu', 9000), None,
     ['ethernet eth2: mtu 1500, expected 9000', 'ethernet eth3: mtu 1500, expected 9000',
      'bridge cloudbr1: mtu 1500, expected 9000']),
    ('Linux wanted, Open vSwitch found',
     lambda w: dict(patched(w, 'backend', 'linux_bridge'), bonds={
         'bond0': {'interfaces': ['eth0', 'eth1'], 'primary': 'eth0'}, 'bond1': {'interfaces': ['eth2', 'eth3']}}),
     None,
     ['bond bond0: an Open vSwitch bond, expected a Linux bond', 'bond bond1: an Open vSwitch bond, expected a Linux bond',
      'vlan bond0.100: missing (VLAN 100 on bond0)',
      'bridge cloudbr0: an Open vSwitch bridge, expected a Linux bridge',
      'bridge cloudbr1: an Open vSwitch bridge, expected a Linux bridge',
      'bridge cloudbr100: an Open vSwitch bridge, expected a Linux bridge']),
]


@pytest.mark.parametrize('change_wanted, change_host, expected', [c[1:] for c in OVS_DRIFT],
                         ids=[c[0] for c in OVS_DRIFT])
def test_ovs_drift(change_wanted, change_host, expected):
    wanted = change_wanted(copy.deepcopy(OVS_SEED)) if change_wanted else OVS_SEED
    raw = ovs_seed_raw()
    if change_host:
        change_host(raw)
    assert messages(wanted, raw) == expected


OVS_NETDEV_DRIFT = [
    ('STP off by hand', None,
     lambda r: r['ovs']['bridges']['cloudbr0'].update({'stp': False}),
     ['bridge cloudbr0: stp false, expected true']),
    ('forward delay unset on the host is 15', None,
     lambda r: r['ovs']['bridges']['cloudbr0'].update({'forward_delay': None}),
     ['bridge cloudbr0: forward_delay 15, expected 4']),
    ('system datapath found', None,
     lambda r: r['ovs']['bridges']['cloudbr0'].update({'datapath_type': 'system'}),
     ['bridge cloudbr0: datapath_type system, expected netdev']),
    ('NIC port replaced', None,
     lambda r: (r['ovs']['bridges']['cloudbr0']['ports'].pop('eth0'), _ovs_port(r, 'cloudbr0', 'eth1')),
     ['bridge cloudbr0: port eth0 expected, found eth1']),
    ('host-only bridge with a NIC', lambda w: patched(w, 'bridges.cloudbr1', {}),
     lambda r: _ovs_port(r, 'cloudbr1', 'eth1'),
     ['bridge cloudbr1: port eth1 unexpected (the model gives this bridge no uplink)']),
]


@pytest.mark.parametrize('change_wanted, change_host, expected', [c[1:] for c in OVS_NETDEV_DRIFT],
                         ids=[c[0] for c in OVS_NETDEV_DRIFT])
def test_ovs_netdev_drift(change_wanted, change_host, expected):
    wanted = change_wanted(copy.deepcopy(OVS_NETDEV)) if change_wanted else OVS_NETDEV
    raw = ovs_netdev_raw()
    if change_host:
        change_host(raw)
    assert messages(wanted, raw) == expected


def test_ovs_model_only_uses_the_global_datapath_type():
    facts = host_network(ovs_netdev_raw())
    wanted = model_normalise.normalise(patched(OVS_NETDEV, 'ovs', {'datapath_type': 'system'}))
    found = [d['message'] for d in verify_compare.compare(wanted, facts['model'])]
    assert found == ['bridge cloudbr0: datapath_type netdev, expected system']


# --- ignore ------------------------------------------------------------------------------------------

def _some_differences():
    raw = raw_facts('bond_vlan_host')
    _bond(raw, 'bond0', miimon=200)
    _bond(raw, 'bond1', miimon=300)
    _del_address(raw, 'cloudbr100', '203.0.113.20/24')
    _mtu(raw, 'linux_bridges', 'cloudbr1', 9000)
    return verify_compare.compare(model_normalise.normalise(LINUX_BOND_VLAN), host_network(raw))


@pytest.mark.parametrize('ignore, left', [
    ([], ['bond bond0: miimon 200, expected 100', 'bond bond1: miimon 300, expected 100',
          'bridge cloudbr1: mtu 9000, expected 1500', 'bridge cloudbr100: address 203.0.113.20/24 missing']),
    (['bond.miimon'], ['bridge cloudbr1: mtu 9000, expected 1500', 'bridge cloudbr100: address 203.0.113.20/24 missing']),
    (['bond bond1', 'bridge'], ['bond bond0: miimon 200, expected 100']),
    ([' bridge.mtu '], ['bond bond0: miimon 200, expected 100', 'bond bond1: miimon 300, expected 100',
                        'bridge cloudbr100: address 203.0.113.20/24 missing']),
    (['bond.mode', 'vlan'], ['bond bond0: miimon 200, expected 100', 'bond bond1: miimon 300, expected 100',
                             'bridge cloudbr1: mtu 9000, expected 1500',
                             'bridge cloudbr100: address 203.0.113.20/24 missing']),
])
def test_drop_ignored(ignore, left):
    assert [d['message'] for d in verify_compare.drop_ignored(_some_differences(), ignore)] == left


# --- normalisation helpers -------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('2001:DB8:0:0::20/64', '2001:db8::20/64'),
    ('198.51.100.20/24', '198.51.100.20/24'),
    ('not-an-address', 'not-an-address'),
])
def test_canonical_address(value, expected):
    assert verify_compare.canonical_address(value) == expected


@pytest.mark.parametrize('value, expected', [(1, 'active-backup'), ('4', '802.3ad'), ('balance-xor', 'balance-xor'),
                                             (None, None)])
def test_linux_bond_mode(value, expected):
    assert common.linux_bond_mode(value) == expected


# --- summary -----------------------------------------------------------------------------------------

SUMMARIES = [
    ('bond_vlan_host', lambda: raw_facts('bond_vlan_host')),
    ('linux_bridge_host', lambda: raw_facts('linux_bridge_host')),
    ('ovs_host', lambda: raw_facts('ovs_host', ovs='ovs_host')),
    ('ovs_single_nic', ovs_netdev_raw),
]


@pytest.mark.parametrize('name, raw', SUMMARIES, ids=[s[0] for s in SUMMARIES])
def test_summary_golden(name, raw):
    """The summary of each recorded host, compared with fixtures/verify/NAME.txt (rewrite them
    with VERIFY_GOLDEN_UPDATE=1 after an intended change, then review the diff)."""
    facts = host_network(raw())
    facts['owners'] = {'cloudbr0': {'owner': 'netplan', 'file': '/run/systemd/network/10-netplan-cloudbr0.network'}}
    text = verify_summary.summary(facts, 'kvm1')
    path = os.path.join(GOLDEN, name + '.txt')
    if os.environ.get('VERIFY_GOLDEN_UPDATE'):
        with io.open(path, 'w', encoding='utf-8') as f:
            f.write(text)
    with io.open(path, encoding='utf-8') as f:
        assert text == f.read()


def test_summary_linux_reads_like_the_seed_checks():
    text = verify_summary.summary(host_network(raw_facts('bond_vlan_host')), 'kvm1')
    lines = text.splitlines()
    assert lines[0] == 'host kvm1: backend linux_bridge'
    assert 'cloudbr0        no              bond0' in lines
    assert 'cloudbr100      no              bond100' in lines
    i = lines.index('# cat /proc/net/bonding/bond0')
    assert lines[i + 1:i + 4] == ['Bonding Mode: fault-tolerance (active-backup)', 'Primary Slave: None',
                                  'Currently Active Slave: eth1']
    assert 'Bonding Mode: IEEE 802.3ad Dynamic link aggregation' in lines
    assert 'bond100        | 100  | bond0' in lines
    assert '# ovs-vsctl show' not in lines


def test_summary_ovs_reads_like_ovs_vsctl_show():
    lines = verify_summary.summary(host_network(raw_facts('ovs_host', ovs='ovs_host'))).splitlines()
    assert lines[0] == 'backend openvswitch'
    i = lines.index('    Bridge cloudbr0')
    assert lines[i + 1:i + 4] == ['        Port bond0', '            Interface eth0', '            Interface eth1']
    assert '    Bridge cloudbr100' not in lines          # a fake bridge is a port of its parent
    j = lines.index('        Port cloudbr100')
    assert lines[j + 1:j + 4] == ['            tag: 100', '            Interface cloudbr100', '                type: internal']
    k = lines.index('---- bond0 ----')
    assert lines[k + 1] == 'bond_mode: active-backup'
    assert 'active member mac: 52:54:00:aa:bb:02(eth1)' in lines
    assert '# brctl show' not in lines


def test_summary_without_raw_sections_and_without_bridges():
    facts = host_network(raw_facts('bond_vlan_host'))
    text = verify_summary.summary({'model': facts['model']}, 'kvm1')
    assert '# bridges' in text and 'cloudbr100      linux_bridge    bond100' in text
    empty = host_network(raw_facts('empty_host'))
    text = verify_summary.summary(empty, 'kvm3')
    assert text.splitlines()[0] == 'host kvm3: no Linux or Open vSwitch bridge'
    assert '# Open vSwitch not read: ovs-vsctl is not installed' in text
    assert verify_summary.summary({}) == 'no Linux or Open vSwitch bridge\n'


# --- filters -----------------------------------------------------------------------------------------

def test_filter_differences_validates_and_ignores():
    facts = host_network(raw_facts('bond_vlan_host'))
    assert filters.kvm_network_differences(LINUX_BOND_VLAN, facts, host='kvm1') == []
    wanted = patched(LINUX_BOND_VLAN, 'bonds.bond0.miimon', 200)
    diffs = filters.kvm_network_differences(wanted, facts, 'kvm1')
    assert [d['message'] for d in diffs] == ['bond bond0: miimon 100, expected 200']
    assert filters.kvm_network_differences(wanted, facts, 'kvm1', ['bond.miimon']) == []


@pytest.mark.parametrize('args, fragment', [
    ((patched(patched(LINUX_BOND_VLAN, 'bridges.cloudbr100.vlan', 5000), 'bridges.cloudbr100.vlan_interface', None),
      {}, 'kvm1'),
     'kvm_network is invalid for host kvm1 (1 problem):\n  - host kvm1: bridge cloudbr100: vlan 5000 is outside 1-4094'),
    ((LINUX_BOND_VLAN, 'facts', 'kvm1'), 'must be the host_network facts'),
    ((LINUX_BOND_VLAN, {}, 'kvm1', 'bond.miimon'), 'ignore must be a list'),
])
def test_filter_differences_errors(args, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        filters.kvm_network_differences(*args)
    assert fragment in str(err.value)


def test_filter_summary():
    facts = host_network(raw_facts('ovs_host', ovs='ovs_host'))
    assert filters.kvm_network_summary(facts, 'kvm2') == verify_summary.summary(facts, 'kvm2')
    with pytest.raises(AnsibleFilterError, match='must be the host_network facts'):
        filters.kvm_network_summary(None)
    assert set(filters.FilterModule().filters()) == set(['kvm_network_differences', 'kvm_network_drop_ignored',
                                                         'kvm_network_summary', 'kvm_network_traffic_problems'])


def test_filter_traffic_problems_are_the_modules_checks():
    model = {'ethernets': {'eth0': {}}, 'bridges': {'cloudbr0': {'uplink': 'eth0'}}}
    targets = [{'bridge': 'cloudbr0', 'target': '198.51.100.254'},
               {'bridge': 'eth0', 'target': '198.51.100.1', 'count': 2},
               {'bridge': 'cloudbr0', 'target': '-f', 'count': 0}]
    assert filters.kvm_network_traffic_problems(targets, model, 'kvm1') == [
        'kvm_network_verify_traffic: 198.51.100.1 through eth0: eth0 is not a bridge of the model (cloudbr0). '
        'Fix: name one of them',
        'kvm_network_verify_traffic: -f through cloudbr0: the target must be an address or a host name. '
        'Fix: e.g. 198.51.100.1',
        'kvm_network_verify_traffic: -f through cloudbr0: count must be at least 1, not 0']
    with pytest.raises(AnsibleFilterError, match='must be a list'):
        filters.kvm_network_traffic_problems('cloudbr0', model)


def test_filter_differences_add_the_targets_that_did_not_answer():
    facts = host_network(raw_facts('bond_vlan_host'))
    answered = {'item': {'bridge': 'cloudbr0', 'target': '198.51.100.1', 'count': 3}, 'answered': True, 'reason': ''}
    silent = {'item': {'bridge': 'cloudbr100', 'target': '203.0.113.9', 'count': 3}, 'answered': False,
              'reason': 'no answer from 203.0.113.9 through cloudbr100 (3 sent, 0 received)'}
    wanted = patched(LINUX_BOND_VLAN, 'bonds.bond0.miimon', 200)
    diffs = filters.kvm_network_differences(wanted, facts, 'kvm1', traffic=[answered, silent])
    assert [(d['object'], d['kind'], d['expected']) for d in diffs] == [
        ('bond bond0', 'bond.miimon', 200), ('bridge cloudbr100', 'bridge.traffic', '203.0.113.9')]
    assert diffs[1]['message'] == 'bridge cloudbr100: no answer from 203.0.113.9 through cloudbr100 (3 sent, 0 received)'
    assert filters.kvm_network_differences(LINUX_BOND_VLAN, facts, 'kvm1', ['bridge.traffic'], [silent]) == []
    assert filters.kvm_network_differences(LINUX_BOND_VLAN, facts, 'kvm1', ['bridge cloudbr100'], [silent]) == []
    with pytest.raises(AnsibleFilterError, match='traffic must be the list of ping results'):
        filters.kvm_network_differences(LINUX_BOND_VLAN, facts, 'kvm1', traffic=['198.51.100.1'])


def test_filter_drop_ignored():
    diffs = _some_differences()
    traffic = {'object': 'bridge cloudbr0', 'kind': 'bridge.traffic', 'field': 'traffic', 'expected': '192.0.2.1',
               'found': '100% packet loss', 'message': 'bridge cloudbr0: no answer from 192.0.2.1'}
    assert filters.kvm_network_drop_ignored(diffs + [traffic], ['bond', 'bridge.traffic']) == diffs[2:]
    assert filters.kvm_network_drop_ignored([traffic], ['bridge cloudbr1']) == [traffic]
    with pytest.raises(AnsibleFilterError, match='ignore must be a list'):
        filters.kvm_network_drop_ignored(diffs, 'bond')
    with pytest.raises(AnsibleFilterError, match='must be a list of differences'):
        filters.kvm_network_drop_ignored([{'message': 'x'}], [])


def test_every_difference_kind_the_code_emits_is_listed_and_documented():
    """KINDS is the documented list (kvm_network_verify_ignore takes its entries): every kind
    compare.py and the traffic filter emit is in it, and the role's documentation names each."""
    plugins = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins')
    with open(os.path.join(plugins, 'module_utils', '_verify', 'compare.py')) as f:
        emitted = set('%s.%s' % m for m in re.findall(r"d\.\w+\('(\w+)', \w+, '(\w+)'", f.read()))
    with open(os.path.join(plugins, 'filter', 'kvm_network_verify.py')) as f:
        emitted |= set(re.findall(r"'kind': '(\w+\.\w+)'", f.read()))
    assert len(emitted) > 25 and emitted <= set(verify_compare.KINDS), emitted - set(verify_compare.KINDS)
    with open(os.path.join(plugins, '..', 'docs', 'roles', 'kvm_network_verify.md')) as f:
        table = dict(re.findall(r"^\| `(\w+)` \| (.*) \|$", f.read(), re.M))
    for kind in verify_compare.KINDS:
        kind_type, field = kind.split('.')
        assert '`%s`' % field in table.get(kind_type, ''), 'docs/roles/kvm_network_verify.md lacks %s' % kind
