# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kvm_network model: valid models normalise as documented, invalid ones fail with one
message per problem naming the host, the object, what is wrong and the fix."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import renderers as render_renderers
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import patched


FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
with open(os.path.join(FIXTURES, 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)


def linux(**changes):
    """Seed 000 on linux_bridge with top-level sections replaced or patched."""
    data = copy.deepcopy(SEED['linux_bridge'])
    data.update(changes)
    return data


def ovs(**changes):
    data = copy.deepcopy(SEED['openvswitch'])
    data.update(changes)
    return data


def problems(data, host='kvm1'):
    with pytest.raises(model_normalise.ModelError) as err:
        model_normalise.normalise(data, host)
    return err.value.problems


# -- valid models ----------------------------------------------------------------------------------

def test_seed_linux_bridge_normalises():
    norm = model_normalise.normalise(SEED['linux_bridge'], 'kvm1')
    assert norm['backend'] == 'linux_bridge'
    assert list(norm['bridges']) == ['cloudbr0', 'cloudbr1', 'cloudbr100']
    br100 = norm['bridges']['cloudbr100']
    assert br100['vlan_interface'] == 'bond0.100' and br100['port'] == 'bond0.100'
    assert norm['vlans'] == {'bond0.100': {'name': 'bond0.100', 'id': 100, 'link': 'bond0', 'bridge': 'cloudbr100'}}
    assert norm['bonds']['bond0']['bridge'] == 'cloudbr0'
    assert norm['ethernets']['eth2']['bond'] == 'bond1'
    assert norm['bridges']['cloudbr0']['nameservers'] == {
        'addresses': ['192.168.100.5', '192.168.100.6'], 'search': ['mycloud.local']}
    assert norm['bridges']['cloudbr1']['forward_delay'] == 0
    assert norm['traffic_labels']['storage'] == 'cloudbr100'


def test_seed_openvswitch_normalises_to_fake_bridge():
    norm = model_normalise.normalise(SEED['openvswitch'], 'kvm1')
    br100 = norm['bridges']['cloudbr100']
    assert br100['parent'] == 'cloudbr0' and br100['vlan'] == 100 and br100['vlan_interface'] is None
    assert norm['vlans'] == {}
    assert norm['bonds']['bond0']['lacp'] == 'off'
    assert norm['ovs'] == {'datapath_type': 'system'}


def test_normalise_does_not_change_input():
    data = linux()
    before = copy.deepcopy(data)
    model_normalise.normalise(data, 'kvm1')
    assert data == before


@pytest.mark.parametrize('given, expected', [
    ('1', 'active-backup'), (4, '802.3ad'), ('balance-alb', 'balance-alb'),
])
def test_linux_numeric_bond_modes(given, expected):
    data = patched(linux(), 'bonds.bond1.mode', given)
    data = patched(data, 'bonds.bond1.primary', None)
    assert model_normalise.normalise(data)['bonds']['bond1']['mode'] == expected


def test_addresses_are_normalised():
    data = patched(linux(), 'bridges.cloudbr1.addresses', ['2001:DB8:0:0::20/64', '203.0.113.7/24'])
    data = patched(data, 'bridges.cloudbr1.gateway6', '2001:db8::1')
    br = model_normalise.normalise(data)['bridges']['cloudbr1']
    assert br['addresses'] == ['2001:db8::20/64', '203.0.113.7/24']
    assert br['gateway6'] == '2001:db8::1'


def test_yaml_off_is_lacp_off():
    data = patched(ovs(), 'bonds.bond0.lacp', False)
    assert model_normalise.normalise(data)['bonds']['bond0']['lacp'] == 'off'


def test_stp_defaults_forward_delay_15():
    data = patched(linux(), 'bridges.cloudbr1.stp', True)
    assert model_normalise.normalise(data)['bridges']['cloudbr1']['forward_delay'] == 15


def test_host_only_bridge_and_single_nic_bridge():
    data = {
        'backend': 'linux_bridge',
        'ethernets': {'eno1': {'match': {'macaddress': '52:54:00:AA:BB:01'}}},
        'bridges': {'cloudbr0': {'uplink': 'eno1', 'dhcp4': True}, 'virbr9': {'addresses': ['198.51.100.1/24']}},
    }
    norm = model_normalise.normalise(data)
    assert norm['bridges']['virbr9']['uplink'] is None and norm['bridges']['virbr9']['port'] is None
    assert norm['bridges']['cloudbr0']['port'] == 'eno1'
    assert norm['ethernets']['eno1']['match'] == {'macaddress': '52:54:00:aa:bb:01'}
    assert norm['ethernets']['eno1']['bridge'] == 'cloudbr0'


def test_routes_and_default_route_forms():
    data = patched(linux(), 'bridges.cloudbr0.routes', [{'to': '203.0.113.0/24', 'via': '192.168.100.254', 'metric': 50}])
    br = model_normalise.normalise(data)['bridges']['cloudbr0']
    assert br['routes'] == [{'to': '203.0.113.0/24', 'via': '192.168.100.254', 'metric': 50}]


def test_gateway_reachable_through_dhcp_is_accepted():
    data = patched(linux(), 'bridges.cloudbr1.dhcp4', True)
    data = patched(data, 'bridges.cloudbr0.gateway4', None)
    data = patched(data, 'bridges.cloudbr1.gateway4', '203.0.113.1')
    assert model_normalise.normalise(data)['bridges']['cloudbr1']['gateway4'] == '203.0.113.1'


def test_link_local_ipv6_gateway_with_ipv6_address():
    data = patched(linux(), 'bridges.cloudbr1.addresses', ['2001:db8::20/64'])
    data = patched(data, 'bridges.cloudbr1.gateway6', 'fe80::1')
    assert model_normalise.normalise(data)['bridges']['cloudbr1']['gateway6'] == 'fe80::1'


# LibvirtComputingResource.ifNamePatterns, matched by isInterface as case-sensitive prefixes.
@pytest.mark.parametrize('port, accepted', [
    ('eth0', True), ('bond0', True), ('vlan100', True), ('vxlan5', True), ('em1', True), ('ens3', True),
    ('eno1', True), ('enp3s0', True), ('team0', True), ('enx525400000001', True), ('dummy0', True),
    ('lo1', True), ('p1p1', True), ('p10p2x', True),
    ('peth0', False), ('Eth0', False), ('uplink0', False), ('p1x1', False), ('pp1', False), ('ib0', False),
])
def test_cloudstack_port_names_are_the_agents(port, accepted):
    data = {'backend': 'linux_bridge', 'ethernets': {port: {}}, 'bridges': {'br0': {'uplink': port}}}
    if accepted:
        assert model_normalise.normalise(data)['bridges']['br0']['port'] == port
    else:
        assert any("its port %s does not match" % port in p for p in problems(data))


def test_cloudstack_port_names_not_checked_on_openvswitch():
    # OvsVifDriver plugs guests into the bridge itself: the uplink's name does not matter.
    data = {'backend': 'openvswitch', 'ethernets': {'uplink0': {}}, 'bridges': {'cloudbr0': {'uplink': 'uplink0'}}}
    assert model_normalise.normalise(data)['bridges']['cloudbr0']['port'] == 'uplink0'


def test_traffic_label_may_name_a_plain_device_on_linux_bridge():
    data = patched(patched(linux(), 'traffic_labels.public', 'bond1'), 'traffic_labels.storage', 'bond0.100')
    labels = model_normalise.normalise(data)['traffic_labels']
    assert labels['public'] == 'bond1' and labels['storage'] == 'bond0.100'


def test_cloudstack_port_name_check_can_be_disabled():
    # Seed 002: the NIC renamed peth0 and enslaved to a bridge that takes the NIC's old name.
    data = {
        'backend': 'linux_bridge', 'check_cloudstack_port_names': False,
        'ethernets': {'peth0': {'match': {'macaddress': '52:54:00:00:00:01'}}},
        'bridges': {'br0': {'uplink': 'peth0', 'dhcp4': True}},
    }
    assert model_normalise.normalise(data)['bridges']['br0']['port'] == 'peth0'


# -- invalid models: each case names the object and the fix ----------------------------------------

INVALID = [
    # (id, model, expected fragments of one message)
    ('model-not-a-mapping', None, ['kvm_network', 'is missing or not a mapping']),
    ('unknown-top-key', linux(bridge={}), ["unknown option 'bridge'", "did you mean 'bridges'?"]),
    ('unknown-backend', linux(backend='ovs'), ['kvm_network.backend', "unknown backend 'ovs'", 'linux_bridge or openvswitch']),
    ('unknown-renderer', linux(renderer='systemd'), ['kvm_network.renderer', "unknown renderer 'systemd'"]),
    ('unknown-datapath', ovs(ovs={'datapath_type': 'dpdk'}), ['datapath_type', "'dpdk'", 'netdev']),
    ('bond-unknown-member', patched(linux(), 'bonds.bond0.interfaces', ['eth0', 'eth9']),
     ['bond bond0', 'member eth9 is not declared under ethernets', 'add eth9 to kvm_network.ethernets']),
    ('bond-member-is-bond', patched(linux(), 'bonds.bond1.interfaces', ['eth2', 'bond0']),
     ['bond bond1', 'member bond0 is a bond, not an ethernet']),
    ('nic-in-two-bonds', patched(linux(), 'bonds.bond1.interfaces', ['eth1', 'eth2', 'eth3']),
     ['bond bond1', 'member eth1 is already a member of bond bond0', 'one bond only']),
    ('nic-in-bond-and-bridge', patched(linux(), 'bridges.cloudbr1.uplink', 'eth2'),
     ['bridge cloudbr1', 'uplink eth2 is a member of bond bond1', 'use bond bond1 as the uplink']),
    ('member-listed-twice', patched(linux(), 'bonds.bond0.interfaces', ['eth0', 'eth0', 'eth1']),
     ['bond bond0', 'lists eth0 twice']),
    ('bond-without-members', patched(linux(), 'bonds.bond1.interfaces', []),
     ['bond bond1', 'has no member interfaces']),
    ('bond-interfaces-string', patched(linux(), 'bonds.bond1.interfaces', 'eth2 eth3'),
     ['bond bond1', 'interfaces must be a list', "interfaces: [eth2 eth3]"]),
    ('lacp-one-member-linux', patched(patched(patched(linux(), 'bonds.bond1.interfaces', ['eth2']), 'bonds.bond1.mode', '802.3ad'),
                                      'bonds.bond1.primary', None),
     ['bond bond1', 'LACP (mode 802.3ad) with 1 member', 'at least two members']),
    ('lacp-one-member-ovs', patched(patched(ovs(), 'bonds.bond1.interfaces', ['eth2']), 'bonds.bond1.lacp', 'active'),
     ['bond bond1', 'LACP (lacp active) with 1 member']),
    ('ovs-bond-one-member', patched(ovs(), 'bonds.bond1.interfaces', ['eth2']),
     ['bond bond1', 'an Open vSwitch bond needs at least two']),
    ('linux-mode-on-ovs', patched(ovs(), 'bonds.bond0.mode', '802.3ad'),
     ['bond bond0', "mode '802.3ad' is not a Open vSwitch bond mode", 'balance-slb']),
    ('ovs-mode-on-linux', patched(linux(), 'bonds.bond1.mode', 'balance-slb'),
     ['bond bond1', "mode 'balance-slb' is not a Linux bond mode"]),
    ('lacp-on-linux', patched(linux(), 'bonds.bond0.lacp', 'active'),
     ['bond bond0', 'lacp does not apply to backend linux_bridge', 'mode 802.3ad']),
    ('lacp-bad-value', patched(ovs(), 'bonds.bond0.lacp', 'on'),
     ['bond bond0', "lacp 'on' is not off, active or passive"]),
    ('balance-tcp-without-lacp', patched(ovs(), 'bonds.bond0.mode', 'balance-tcp'),
     ['bond bond0', 'balance-tcp needs LACP', 'set lacp: active']),
    ('lacp-rate-wrong-mode', patched(linux(), 'bonds.bond0.lacp_rate', 'fast'),
     ['bond bond0', 'lacp_rate does not apply to mode active-backup', 'use mode 802.3ad']),
    ('lacp-rate-lacp-off-ovs', patched(ovs(), 'bonds.bond0.lacp_rate', 'fast'),
     ['bond bond0', 'lacp_rate does not apply to lacp off']),
    ('xmit-hash-on-ovs', patched(ovs(), 'bonds.bond0.xmit_hash_policy', 'layer3+4'),
     ['bond bond0', 'xmit_hash_policy does not apply to backend openvswitch']),
    ('xmit-hash-wrong-mode', patched(linux(), 'bonds.bond0.xmit_hash_policy', 'layer3+4'),
     ['bond bond0', 'xmit_hash_policy does not apply to mode active-backup']),
    ('xmit-hash-unknown', patched(patched(patched(linux(), 'bonds.bond0.mode', 'balance-xor'), 'bonds.bond0.primary', None),
                                  'bonds.bond0.xmit_hash_policy', 'layer5'),
     ['bond bond0', "xmit_hash_policy 'layer5' is unknown"]),
    ('primary-not-member', patched(linux(), 'bonds.bond0.primary', 'eth2'),
     ['bond bond0', 'primary eth2 is not one of its interfaces (eth0, eth1)']),
    ('primary-wrong-mode', patched(linux(), 'bonds.bond0.mode', 'balance-rr'),
     ['bond bond0', 'primary does not apply to linux_bridge mode balance-rr']),
    ('updelay-not-multiple', patched(linux(), 'bonds.bond0.updelay', 150),
     ['bond bond0', 'updelay 150 is not a multiple of miimon 100', 'use a multiple of 100']),
    ('updelay-without-miimon', patched(patched(linux(), 'bonds.bond0.miimon', 0), 'bonds.bond0.updelay', 200),
     ['bond bond0', 'updelay 200 needs link monitoring, but miimon is 0']),
    ('miimon-not-int', patched(linux(), 'bonds.bond0.miimon', 'fast'),
     ['bond bond0', "miimon must be an integer, not 'fast'"]),
    ('bond-unknown-option', patched(linux(), 'bonds.bond0.miimom', 100),
     ['bond bond0', "unknown option 'miimom'", "did you mean 'miimon'?"]),
    ('bond-mtu-above-member', patched(patched(linux(), 'bonds.bond0.mtu', 9000), 'ethernets.eth0', {'mtu': 1500}),
     ['bond bond0', 'mtu 9000 is larger than the mtu 1500 of member eth0']),
    ('unknown-uplink', patched(linux(), 'bridges.cloudbr1.uplink', 'bond7'),
     ['bridge cloudbr1', 'uplink bond7 is not a declared ethernet or bond', 'declare bond7 under ethernets or bonds']),
    ('uplink-is-bridge', patched(linux(), 'bridges.cloudbr1.uplink', 'cloudbr0'),
     ['bridge cloudbr1', 'uplink cloudbr0 is a bridge']),
    ('vlan-out-of-range', patched(linux(), 'bridges.cloudbr100.vlan', 4095),
     ['bridge cloudbr100', 'vlan 4095 is outside 1-4094']),
    ('vlan-zero', patched(linux(), 'bridges.cloudbr100.vlan', 0),
     ['bridge cloudbr100', 'vlan 0 is outside 1-4094']),
    ('vlan-without-uplink', patched(linux(), 'bridges.cloudbr100.uplink', None),
     ['bridge cloudbr100', 'has vlan 100 but no uplink']),
    ('same-vlan-twice', patched(linux(), 'bridges.cloudbr200', {'uplink': 'bond0', 'vlan': 100}),
     ['bridge cloudbr200', 'VLAN 100 on bond0 is already bridged by cloudbr100']),
    ('two-untagged-bridges-on-uplink', patched(linux(), 'bridges.cloudbr2', {'uplink': 'bond1'}),
     ['bridge cloudbr2', 'uplink bond1 already carries the untagged bridge cloudbr1']),
    ('ovs-fake-bridge-needs-parent', patched(patched(ovs(), 'bridges.cloudbr0', None), 'traffic_labels', {}),
     ['bridge cloudbr100', 'VLAN 100 on bond0 needs an untagged bridge on bond0 to be its parent', 'add a bridge with uplink bond0']),
    ('ovs-fake-bridge-stp', patched(ovs(), 'bridges.cloudbr100.stp', True),
     ['bridge cloudbr100', 'stp does not apply to an Open vSwitch fake bridge']),
    ('vlan-interface-on-ovs', patched(ovs(), 'bridges.cloudbr100.vlan_interface', 'vlan100'),
     ['bridge cloudbr100', 'vlan_interface does not apply to backend openvswitch']),
    ('name-too-long', patched(linux(), 'bridges.cloudbr-storage-01', {'uplink': 'bond0', 'vlan': 101}),
     ["bridge cloudbr-storage-01", "name 'cloudbr-storage-01' is 18 characters; Linux allows at most 15"]),
    ('name-bad-characters', patched(linux(), 'bridges.cloud br9', {}),
     ["bridge cloud br9", "has characters an interface name cannot have"]),
    ('duplicate-name-across-kinds', patched(linux(), 'bridges.bond1', {}),
     ['bridge bond1', "the name 'bond1' is already used by bond bond1"]),
    ('vlan-device-name-collides', patched(linux(), 'bridges.cloudbr100.vlan_interface', 'eth3'),
     ['VLAN device of bridge cloudbr100', "the name 'eth3' is already used by ethernet eth3"]),
    ('address-not-cidr', patched(linux(), 'bridges.cloudbr0.addresses', ['192.168.100.20']),
     ['bridge cloudbr0', 'address 192.168.100.20 has no prefix length', 'e.g. 192.168.100.20/24']),
    ('address-garbage', patched(linux(), 'bridges.cloudbr1.addresses', ['192.168.300.1/24']),
     ['bridge cloudbr1', "address '192.168.300.1/24' is not an IP address in CIDR notation"]),
    ('address-prefix-too-long', patched(linux(), 'bridges.cloudbr1.addresses', ['203.0.113.5/33']),
     ['bridge cloudbr1', "address '203.0.113.5/33' is not an IP address in CIDR notation"]),
    ('network-address', patched(linux(), 'bridges.cloudbr1.addresses', ['203.0.113.0/24']),
     ['bridge cloudbr1', 'address 203.0.113.0/24 is the network address of 203.0.113.0/24', 'e.g. 203.0.113.1/24']),
    ('broadcast-address', patched(linux(), 'bridges.cloudbr1.addresses', ['203.0.113.255/24']),
     ['bridge cloudbr1', 'address 203.0.113.255/24 is the broadcast address of 203.0.113.0/24']),
    ('ipv6-network-address', patched(linux(), 'bridges.cloudbr1.addresses', ['2001:db8:1::/64']),
     ['bridge cloudbr1', 'address 2001:db8:1::/64 is the subnet-router anycast (network) address']),
    ('same-address-twice', patched(linux(), 'bridges.cloudbr1.addresses', ['192.168.100.20/24']),
     ['bridge cloudbr1', 'address 192.168.100.20 is also on bridge cloudbr0']),
    ('same-address-same-bridge', patched(linux(), 'bridges.cloudbr0.addresses', ['192.168.100.20/24', '192.168.100.20/25']),
     ['bridge cloudbr0', 'address 192.168.100.20 is also on this bridge']),
    ('gateway-in-no-subnet', patched(linux(), 'bridges.cloudbr0.gateway4', '198.51.100.1'),
     ['bridge cloudbr0', 'gateway4 198.51.100.1 is in no subnet of this host (this bridge has 192.168.100.20/24)']),
    ('gateway-in-other-bridge', patched(linux(), 'bridges.cloudbr0.gateway4', '10.0.100.1'),
     ['bridge cloudbr0', 'gateway4 10.0.100.1 is not in a subnet of this bridge but of bridge cloudbr100']),
    ('gateway-on-bridge-without-address', patched(linux(), 'bridges.cloudbr1.gateway6', '2001:db8::1'),
     ['bridge cloudbr1', 'gateway6 2001:db8::1 is in no subnet of this host (the bridge has no IPv6 address)']),
    ('gateway-is-own-address', patched(linux(), 'bridges.cloudbr0.gateway4', '192.168.100.20'),
     ['bridge cloudbr0', 'gateway4 192.168.100.20 is an address of this bridge']),
    ('gateway-wrong-family', patched(linux(), 'bridges.cloudbr0.gateway4', '2001:db8::1'),
     ['bridge cloudbr0', "gateway4 '2001:db8::1' is not an IPv4 address"]),
    ('two-default-gateways', patched(linux(), 'bridges.cloudbr100.gateway4', '10.0.100.1'),
     ['kvm_network', 'two IPv4 default gateways: gateway4 of bridge cloudbr0, gateway4 of bridge cloudbr100']),
    ('default-route-plus-gateway', patched(linux(), 'bridges.cloudbr100.routes', [{'to': 'default', 'via': '10.0.100.1'}]),
     ['two IPv4 default gateways', 'default route 1 of bridge cloudbr100']),
    ('route-host-bits', patched(linux(), 'bridges.cloudbr0.routes', [{'to': '203.0.113.5/24', 'via': '192.168.100.1'}]),
     ['bridge cloudbr0 route 1', 'route destination 203.0.113.5/24 has host bits set', 'write the network, 203.0.113.0/24']),
    ('route-missing-via', patched(linux(), 'bridges.cloudbr0.routes', [{'to': '203.0.113.0/24'}]),
     ['bridge cloudbr0 route 1', 'needs both to and via']),
    ('route-family-mismatch', patched(linux(), 'bridges.cloudbr0.routes', [{'to': '2001:db8:5::/48', 'via': '192.168.100.1'}]),
     ['bridge cloudbr0 route 1', 'are different IP versions']),
    ('route-unreachable-via', patched(linux(), 'bridges.cloudbr0.routes', [{'to': '203.0.113.0/24', 'via': '198.51.100.1'}]),
     ['bridge cloudbr0 route 1', 'via 198.51.100.1 is in no subnet of this host']),
    ('nameserver-not-ip', patched(linux(), 'bridges.cloudbr0.nameservers.addresses', ['dns.example']),
     ['bridge cloudbr0', "nameserver 'dns.example' is not an IP address"]),
    ('search-not-domain', patched(linux(), 'bridges.cloudbr0.nameservers.search', ['my cloud']),
     ['bridge cloudbr0', "search domain 'my cloud' is not a domain name"]),
    ('bridge-mtu-above-uplink', patched(linux(), 'bridges.cloudbr1.mtu', 9000),
     ['bridge cloudbr1', 'mtu 9000 is larger than the mtu 1500 of its uplink bond1', 'raise the mtu of bond1']),
    ('mtu-out-of-range', patched(linux(), 'bridges.cloudbr1.mtu', 10),
     ['bridge cloudbr1', 'mtu 10 is outside 68-65535']),
    ('forward-delay-with-stp', patched(patched(linux(), 'bridges.cloudbr1.stp', True), 'bridges.cloudbr1.forward_delay', 1),
     ['bridge cloudbr1', 'forward_delay 1 is outside 2-30']),
    ('stp-not-bool', patched(linux(), 'bridges.cloudbr1.stp', 'maybe'),
     ['bridge cloudbr1', "stp must be true or false, not 'maybe'"]),
    ('bridge-unknown-option', patched(linux(), 'bridges.cloudbr1.gateway', '192.168.100.1'),
     ['bridge cloudbr1', "unknown option 'gateway'", "did you mean 'gateway4' or 'gateway6'?"]),
    ('cloudstack-port-name', {'backend': 'linux_bridge', 'ethernets': {'peth0': {}}, 'bridges': {'br0': {'uplink': 'peth0'}}},
     ['bridge br0', 'its port peth0 does not match a name the CloudStack agent accepts', 'check_cloudstack_port_names: false']),
    ('cloudstack-vlan-interface-name', patched(linux(), 'bridges.cloudbr100.vlan_interface', 'storage100'),
     ['bridge cloudbr100', 'its port storage100 does not match a name the CloudStack agent accepts']),
    ('traffic-label-missing-bridge', patched(linux(), 'traffic_labels.public', 'cloudbr9'),
     ['traffic label public', 'names cloudbr9, which is not a bridge or a device of kvm_network']),
    ('traffic-label-ovs-plain-device', patched(ovs(), 'traffic_labels.public', 'bond1'),
     ['traffic label public', 'names bond1, which is not a bridge of kvm_network']),
    ('traffic-label-unknown-type', patched(linux(), 'traffic_labels.backup', 'cloudbr0'),
     ['traffic label backup', 'is not a CloudStack traffic type']),
    ('mac-invalid', patched(linux(), 'ethernets.eth0', {'match': {'macaddress': '52:54:00:zz:00:01'}}),
     ['ethernet eth0', "match.macaddress '52:54:00:zz:00:01' is not a MAC address"]),
    ('mac-duplicate', patched(patched(linux(), 'ethernets.eth0', {'match': {'macaddress': '52:54:00:00:00:01'}}),
                              'ethernets.eth1', {'match': {'macaddress': '52:54:00:00:00:01'}}),
     ['ethernet eth1', 'match.macaddress 52:54:00:00:00:01 is also the MAC of ethernet eth0']),
    ('nameservers-without-address', patched(linux(), 'bridges.cloudbr1.nameservers', {'addresses': ['192.168.100.5']}),
     ['bridge cloudbr1', 'has nameservers but no address and no DHCP']),
    ('search-without-address', patched(linux(), 'bridges.cloudbr1.nameservers', {'search': ['mycloud.local']}),
     ['bridge cloudbr1', 'has nameservers but no address and no DHCP']),
    ('four-nameservers', patched(linux(), 'bridges.cloudbr0.nameservers.addresses', ['192.168.100.5', '192.168.100.6', '192.168.100.7', '192.168.100.8']),
     ['bridge cloudbr0', '4 nameservers; the resolver uses only the first three']),
    ('link-local-gateway6-without-ipv6', patched(linux(), 'bridges.cloudbr1.gateway6', 'fe80::1'),
     ['bridge cloudbr1', 'gateway6 fe80::1 is in no subnet of this host (the bridge has no IPv6 address)']),
    ('ovs-bond-without-bridge', patched(patched(patched(ovs(), 'ethernets.eth4', {}), 'ethernets.eth5', {}), 'bonds.bond2', {'interfaces': ['eth4', 'eth5']}),
     ['bond bond2', 'is the uplink of no bridge', 'set uplink: bond2 on a bridge']),
    ('ethernet-unknown-option', patched(linux(), 'ethernets.eth0', {'macaddress': '52:54:00:00:00:01'}),
     ['ethernet eth0', "unknown option 'macaddress'"]),
    ('vlan-device-name-too-long',
     {'backend': 'linux_bridge', 'ethernets': {'eth0': {}, 'eth1': {}},
      'bonds': {'bondstorage01': {'interfaces': ['eth0', 'eth1']}},
      'bridges': {'cloudbr0': {'uplink': 'bondstorage01'}, 'cloudbr300': {'uplink': 'bondstorage01', 'vlan': 3000}}},
     ['bridge cloudbr300', 'the VLAN device name bondstorage01.3000 would be longer than 15 characters',
      'set vlan_interface to a shorter name, e.g. vlan3000']),
]


@pytest.mark.parametrize('data, expected', [(c[1], c[2]) for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_model_message(data, expected):
    found = problems(data)
    matching = [p for p in found if all(fragment in p for fragment in expected)]
    assert matching, 'no single message contains %r; got:\n%s' % (expected, '\n'.join(found))
    for message in matching:
        assert message.startswith('host kvm1: ')
        assert '. Fix: ' in message and message.endswith('.')


def test_at_least_forty_invalid_cases():
    assert len(INVALID) >= 40


def test_every_problem_is_reported_at_once():
    data = patched(linux(), 'bridges.cloudbr100.vlan', 5000)
    data = patched(data, 'bridges.cloudbr1.uplink', 'bond9')
    data = patched(data, 'bonds.bond0.mode', 'fastest')
    found = problems(data)
    assert len(found) == 3, found


def test_message_without_host():
    with pytest.raises(model_normalise.ModelError) as err:
        model_normalise.normalise(patched(linux(), 'bridges.cloudbr100.vlan', 5000))
    assert err.value.problems[0].startswith('bridge cloudbr100: vlan 5000')


# -- renderer choice -------------------------------------------------------------------------------

@pytest.mark.parametrize('facts, expected', [
    ({'distribution': 'Ubuntu', 'os_family': 'Debian', 'distribution_major_version': '24'}, 'netplan'),
    ({'distribution': 'Debian', 'os_family': 'Debian', 'distribution_major_version': '12'}, 'ifupdown'),
    ({'distribution': 'Rocky', 'os_family': 'RedHat', 'distribution_major_version': '9'}, 'networkmanager'),
    ({'distribution': 'CentOS', 'os_family': 'RedHat', 'distribution_major_version': '7'}, 'ifcfg'),
    ({'ansible_distribution': 'AlmaLinux', 'ansible_os_family': 'RedHat', 'ansible_distribution_major_version': '8'}, 'networkmanager'),
])
def test_resolve_renderer_by_facts(facts, expected):
    norm = model_normalise.normalise(linux())
    assert render_renderers.resolve_renderer(norm, facts) == expected


def test_resolve_renderer_override_and_model_choice():
    norm = model_normalise.normalise(linux(renderer='ifcfg'))
    assert render_renderers.resolve_renderer(norm, {}) == 'ifcfg'
    assert render_renderers.resolve_renderer(norm, {}, override='netplan') == 'netplan'


def test_resolve_renderer_auto_without_facts_fails_clearly():
    norm = model_normalise.normalise(linux())
    with pytest.raises(model_normalise.ModelError) as err:
        render_renderers.resolve_renderer(norm, None, host='kvm1')
    assert 'host kvm1: kvm_network.renderer: renderer is auto but no OS facts' in str(err.value)
    assert 'kvm_network_renderer' in str(err.value)


def test_resolve_renderer_unknown_os_and_override():
    norm = model_normalise.normalise(linux())
    with pytest.raises(model_normalise.ModelError):
        render_renderers.resolve_renderer(norm, {'distribution': 'FreeBSD', 'os_family': 'FreeBSD'})
    with pytest.raises(model_normalise.ModelError):
        render_renderers.resolve_renderer(norm, {}, override='wicked')


class _NoDeepcopyMapping(dict):
    """Stands in for ansible-core 2.19's lazily templated containers, which must not be
    deep-copied on the controller (the copy drags along a broken plugin loader)."""

    def __deepcopy__(self, memo):
        raise AssertionError('normalise() must not deep-copy the data it is given')


class _NoDeepcopyList(list):
    def __deepcopy__(self, memo):
        raise AssertionError('normalise() must not deep-copy the data it is given')


def _wrap(value):
    if isinstance(value, dict):
        return _NoDeepcopyMapping((k, _wrap(v)) for k, v in value.items())
    if isinstance(value, list):
        return _NoDeepcopyList(_wrap(v) for v in value)
    return value


@pytest.mark.parametrize('backend', ['linux_bridge', 'openvswitch'])
def test_normalise_copies_without_deepcopy_and_leaves_the_input_alone(backend):
    data = _wrap(copy.deepcopy(SEED[backend]))
    before = copy.deepcopy(SEED[backend])
    assert model_normalise.normalise(data, 'h1') == model_normalise.normalise(copy.deepcopy(SEED[backend]), 'h1')
    assert dict(data) == before


@pytest.mark.parametrize('data', [{}, {'backend': 'linux_bridge'}, {'backend': 'openvswitch', 'bridges': {}},
                                  {'ethernets': {'eth0': {}}, 'bridges': None}])
def test_a_model_without_bridges_is_refused(data):
    """Found by the property tests: an empty model rendered no file, and the apply would have
    pruned every file of the collection's (a variable that came out empty takes the bridges down)."""
    with pytest.raises(model_normalise.ModelError) as err:
        model_normalise.normalise(data, 'kvm1')
    assert ('host kvm1: kvm_network.bridges: no bridge is defined, so the host would lose every bridge the collection '
            'configured') in err.value.report('kvm1')
