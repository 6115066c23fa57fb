# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt networks: the inventory's list checked and normalised, rendered as network XML, compared
semantically with what libvirt returns, and the live updates or restart a change needs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import definition, netxml, plan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise as normalise_model

HOST_MODEL = normalise_model({
    'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {'macvtap': True}, 'eth3': {}, 'eth4': {'macvtap': True}},
    'bridges': {'cloudbr0': {'uplink': 'eth0', 'addresses': ['198.51.100.11/24']}, 'cloudbr1': {'uplink': 'eth1'}},
}, 'kvm1')
OVS_MODEL = normalise_model({
    'backend': 'openvswitch',
    'ethernets': {'eth0': {}, 'eth1': {}},
    'bridges': {'cloudbr0': {'uplink': 'eth0', 'addresses': ['198.51.100.11/24']}, 'cloudbr1': {'uplink': 'eth1'}},
}, 'kvm1')

NAT = {'name': 'guests', 'kind': 'nat', 'bridge': 'virbr10', 'domain': 'guests.example',
       'ips': [{'address': '203.0.113.1/24', 'dhcp': {
           'ranges': [{'start': '203.0.113.100', 'end': '203.0.113.199'}],
           'hosts': [{'mac': '52:54:00:AA:00:01', 'name': 'vm1', 'ip': '203.0.113.10'}]}}],
       'dns': {'hosts': [{'ip': '203.0.113.5', 'names': ['repo', 'repo.guests.example']}]}}

# What libvirt 9.0 returns for NAT once defined and started (uuid, mac, nat ports added; attribute order its own).
NAT_LIVE = """<network connections='1'>
  <name>guests</name>
  <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>
  <forward mode='nat'>
    <nat>
      <port start='1024' end='65535'/>
    </nat>
  </forward>
  <bridge name='virbr10' stp='on' delay='0'/>
  <mac address='52:54:00:35:55:2d'/>
  <domain name='guests.example'/>
  <dns>
    <host ip='203.0.113.5'>
      <hostname>repo.guests.example</hostname>
      <hostname>repo</hostname>
    </host>
  </dns>
  <ip address='203.0.113.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='203.0.113.100' end='203.0.113.199'/>
      <host mac='52:54:00:aa:00:01' name='vm1' ip='203.0.113.10'/>
    </dhcp>
  </ip>
</network>
"""


def one(item, model=None):
    return definition.normalise([item], model or HOST_MODEL, 'kvm1')[item['name']]


def problems(items, model=None):
    with pytest.raises(definition.DefinitionError) as err:
        definition.normalise(items, model or HOST_MODEL, 'kvm1')
    return err.value.problems


def test_a_nat_network_renders_and_equals_what_libvirt_returns_for_it():
    net = one(NAT)
    assert net['autostart'] is True and net['stp'] is True
    wanted = netxml.canonical(netxml.render(net))
    assert netxml.comparable(wanted, netxml.canonical(NAT_LIVE)) == wanted
    assert plan.plan(wanted, netxml.canonical(NAT_LIVE)) == {'updates': [], 'restart': [], 'differences': []}


def test_a_bridge_name_left_to_libvirt_is_not_a_difference():
    item = dict(NAT, bridge=None)
    wanted = netxml.canonical(netxml.render(one(item)))
    assert 'bridge name' not in netxml.render(one(item))
    assert plan.plan(wanted, netxml.canonical(NAT_LIVE))['differences'] == []


def test_dhcp_hosts_ranges_and_dns_hosts_are_live_updates():
    item = copy.deepcopy(NAT)
    item['ips'][0]['dhcp']['hosts'].append({'mac': '52:54:00:aa:00:02', 'ip': '203.0.113.11'})
    item['ips'][0]['dhcp']['ranges'] = [{'start': '203.0.113.150', 'end': '203.0.113.199'}]
    item['dns']['hosts'] = []
    result = plan.plan(netxml.canonical(netxml.render(one(item))), netxml.canonical(NAT_LIVE))
    assert result['restart'] == []
    assert [u.report()['section'] + ' ' + u.report()['command'] for u in result['updates']] == [
        'ip-dhcp-host add-last', 'ip-dhcp-range delete', 'ip-dhcp-range add-last', 'dns-host delete']
    assert result['updates'][0].xml == '<host mac="52:54:00:aa:00:02" ip="203.0.113.11" />'
    assert result['updates'][0].parent == -1
    assert result['differences'] == ['DHCP host 203.0.113.11 (52:54:00:aa:00:02) added',
                                     'DHCP range 203.0.113.100-203.0.113.199 removed',
                                     'DHCP range 203.0.113.150-203.0.113.199 added', 'DNS host 203.0.113.5 removed']


@pytest.mark.parametrize('change, reason', [
    ({'kind': 'routed'}, 'forward_mode nat, wanted route'),
    ({'bridge': 'virbr11'}, 'bridge virbr10, wanted virbr11'),
    ({'stp': False}, 'stp True, wanted False'),
    ({'domain': 'other.example'}, 'domain guests.example, wanted other.example'),
    ({'mtu': 9000}, 'mtu None, wanted 9000'),
])
def test_what_libvirt_cannot_change_live_needs_a_restart(change, reason):
    item = dict(copy.deepcopy(NAT), **change)
    result = plan.plan(netxml.canonical(netxml.render(one(item))), netxml.canonical(NAT_LIVE))
    assert result['restart'] == [reason]


def test_an_address_change_needs_a_restart_and_its_dhcp_updates_are_moot():
    item = copy.deepcopy(NAT)
    item['ips'] = [{'address': '203.0.113.1/25'}]
    result = plan.plan(netxml.canonical(netxml.render(one(item))), netxml.canonical(NAT_LIVE))
    assert result['restart'] == ['ipv4 address 203.0.113.1/24, wanted 203.0.113.1/25']


def test_openvswitch_portgroups_are_compared_and_updated_by_name():
    item = {'name': 'ovs', 'kind': 'openvswitch', 'bridge': 'cloudbr1', 'portgroups': [
        {'name': 'vlan-100', 'vlan': 100, 'default': True},
        {'name': 'trunk', 'trunk': [200, 201], 'native_vlan': 300}]}
    net = one(item, OVS_MODEL)
    text = netxml.render(net)
    assert '<virtualport type="openvswitch" />' in text
    assert '<portgroup name="trunk"><vlan trunk="yes"><tag id="200" /><tag id="201" /><tag id="300" ' \
           'nativeMode="untagged" /></vlan></portgroup>' in text
    live = netxml.canonical(text)
    assert live['portgroups'][0] == {'name': 'trunk', 'default': False, 'vlan': None, 'trunk': [200, 201],
                                     'native_vlan': 300}
    item['portgroups'][0]['vlan'] = 101
    item['portgroups'].append({'name': 'vlan-300', 'vlan': 300})
    result = plan.plan(netxml.canonical(netxml.render(one(item, OVS_MODEL))), live)
    assert result['restart'] == []
    assert [(u.report()['command'], u.what) for u in result['updates']] == [
        ('modify', 'portgroup vlan-100 changed'), ('add-last', 'portgroup vlan-300 added')]


def test_macvtap_devices_are_live_updates_and_the_mode_a_restart():
    item = {'name': 'direct', 'kind': 'macvtap', 'mode': 'vepa', 'devices': ['eth2']}
    live = netxml.canonical(netxml.render(one(item)))
    assert live['forward_mode'] == 'vepa' and live['forward_interfaces'] == ['eth2']
    bigger = dict(item, devices=['eth2', 'eth4'])
    assert [u.what for u in plan.plan(netxml.canonical(netxml.render(one(bigger))), live)['updates']] == [
        'device eth4 added']
    assert plan.plan(netxml.canonical(netxml.render(one(dict(item, mode='private')))), live)['restart'] == [
        'forward_mode vepa, wanted private']


def test_a_hostdev_pool_ignores_the_vfs_libvirt_lists_when_active():
    item = {'name': 'sriov', 'kind': 'hostdev', 'pf': 'eth4'}
    text = netxml.render(one(item))
    assert text == ('<network><name>sriov</name><forward mode="hostdev" managed="yes"><pf dev="eth4" /></forward>'
                    '</network>')
    active = text.replace('<pf dev="eth4" />', '<pf dev="eth4" /><address type="pci" domain="0x0000" bus="0x03" '
                          'slot="0x10" function="0x1" />')
    assert plan.plan(netxml.canonical(text), netxml.canonical(active))['differences'] == []


def test_isolated_network_has_no_forward():
    net = one({'name': 'iso', 'kind': 'isolated', 'ips': [{'address': '2001:db8:5::1/64'}]})
    text = netxml.render(net)
    assert '<forward' not in text and 'family="ipv6"' in text


@pytest.mark.parametrize('items, fragment', [
    ([{'name': 'a', 'kind': 'bridge', 'bridge': 'cloudbr9'}],
     'libvirt network a: bridge cloudbr9 is not a bridge of it in the host model (kvm_network), and a bridge network '
     'needs a Linux bridge. Fix: name one of cloudbr0, cloudbr1.'),
    ([{'name': 'a', 'kind': 'openvswitch', 'bridge': 'cloudbr0'}],
     'bridge cloudbr0 is a linux bridge in the host model (kvm_network), and an openvswitch network needs an Open vSwitch'),
    ([dict(NAT, ips=[{'address': '203.0.113.1/24', 'dhcp': {'ranges': [
        {'start': '203.0.113.100', 'end': '203.0.113.150'}, {'start': '203.0.113.140', 'end': '203.0.113.160'}]}}])],
     'dhcp range 2: 203.0.113.140-203.0.113.160 overlaps range 1'),
    ([{'name': 'o', 'kind': 'openvswitch', 'bridge': 'cloudbr0', 'portgroups': [{'name': 'p', 'vlan': 4095}]}],
     'is outside 1-4094'),
    ([{'name': 'o', 'kind': 'openvswitch', 'bridge': 'cloudbr0', 'portgroups': [{'name': 'p', 'vlan': 0}]}],
     'is outside 1-4094'),
    ([{'name': 'o', 'kind': 'openvswitch', 'bridge': 'cloudbr0', 'portgroups': [
        {'name': 'p', 'vlan': 10, 'default': True}, {'name': 'q', 'vlan': 11, 'default': True}]}],
     'has 2 default portgroups (p, q)'),
    ([{'name': 'bad/name', 'kind': 'nat'}], "name 'bad/name' is not a name libvirt accepts here"),
    ([{'name': 'm', 'kind': 'macvtap', 'devices': ['eth7']}],
     'device eth7 is not an interface of the host model (kvm_network)'),
    ([{'name': 'm', 'kind': 'macvtap', 'devices': ['eth3']}],
     'device eth3 is not marked as a macvtap lower device in the host model. Fix: set '
     'kvm_network.ethernets.eth3.macvtap: true'),
    ([dict(NAT, name='one'), dict(NAT, name='two', bridge='virbr11')],
     'libvirt network two: 203.0.113.0/24 overlaps 203.0.113.0/24 of network one'),
    ([{'name': 'n', 'kind': 'nat', 'bridge': 'cloudbr0'}], 'bridge cloudbr0 is an interface of the host model'),
    ([{'name': 'n', 'kind': 'nat', 'forwrd_dev': 'eth1'}], "unknown option 'forwrd_dev'"),
    ([dict(NAT, dns={'hosts': [{'ip': '203.0.113.5', 'names': []}]})], 'dns host 1: names is empty'),
    ([dict(NAT, dns={'hosts': [{'ip': '203.0.113.5', 'names': ['bad name']}]})],
     'dns host 1: names bad name are not host names'),
])
def test_bad_networks_fail_naming_the_object(items, fragment):
    found = problems(items, OVS_MODEL if items[0].get('kind') == 'openvswitch' and 'linux' not in fragment
                     and 'is a linux' not in fragment else HOST_MODEL)
    assert any(fragment in p for p in found), found
    assert all(p.startswith('host kvm1: ') for p in found)


def test_xml_text_keeps_the_attribute_order_and_escapes_as_elementtree_does():
    """Python before 3.8 sorts attributes in ElementTree's output: to_text writes them in the order
    they were set on every Python, escaped as ElementTree escapes them."""
    import xml.etree.ElementTree as ET
    text = '<a z="1&amp;&lt;&quot;" b="&#10;&#09;&#13;">t&amp;<m />tail&gt;<c y="2" x="3">x</c><e></e></a>'
    assert netxml.to_text(ET.fromstring(text)) == (
        '<a z="1&amp;&lt;&quot;" b="&#10;&#09;&#13;">t&amp;<m />tail&gt;<c y="2" x="3">x</c><e /></a>')
