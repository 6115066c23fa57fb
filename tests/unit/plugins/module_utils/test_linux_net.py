# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers of _linux_net on recorded tool output (fixtures/ip, fixtures/ovs_facts)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import io
import json
import os

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import linux as facts_linux
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import ovs as facts_ovs
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import ovs_rows_from_documents
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import owners as facts_owners
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts import view as facts_view
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import parse_json_documents


FIX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'modules', 'fixtures')


def jload(*parts):
    with io.open(os.path.join(FIX, *parts), encoding='utf-8') as f:
        return json.load(f)


def text(*parts):
    with io.open(os.path.join(FIX, *parts), encoding='utf-8') as f:
        return f.read()


def ovs_rows(name):
    return ovs_rows_from_documents(parse_json_documents(text('ovs_facts', name + '.stdout')))


def host(name, ovs=None):
    d = ('ip', name)
    links = facts_linux.parse_links(jload(*d + ('link.json',)))
    sysr = facts_linux.SysReader(os.path.join(FIX, 'ip', name, 'root'))
    facts = {
        'links': links,
        'addresses': facts_linux.parse_addresses(jload(*d + ('addr.json',))),
        'routes': facts_linux.parse_default_routes(jload(*d + ('route4.json',)), jload(*d + ('route6.json',))),
        'linux_bridges': facts_linux.linux_bridges(links, sysr),
        'bonds': facts_linux.linux_bonds(links, sysr.proc_bonding()),
        'vlans': facts_linux.linux_vlans(links, sysr.proc_vlans()),
        'ovs': facts_ovs.parse_ovs(ovs_rows(ovs)) if ovs else {},
    }
    return facts, sysr


# --- ip -j ---------------------------------------------------------------------------------

def test_parse_links_real_recording():
    links = facts_linux.parse_links(jload('ip', 'linux_bridge_host', 'link.json'))
    assert sorted(links) == ['cloud0', 'cloudbr0', 'cloudbr1', 'eth0', 'eth1', 'lo', 'vnet0']
    assert links['lo']['type'] == 'loopback'
    assert links['cloudbr0']['type'] == 'bridge'
    assert links['eth0']['type'] == 'veth'
    assert links['eth0']['master'] == 'cloudbr0' and links['eth0']['slave_type'] == 'bridge'
    assert links['vnet0']['type'] == 'tun'
    assert links['eth0']['mac'] == '52:54:00:aa:bb:01'
    assert links['eth0']['state'] == 'up' and links['eth0']['admin_up'] and links['eth0']['carrier']


def test_parse_links_bond_slave_permanent_mac():
    links = facts_linux.parse_links(jload('ip', 'bond_vlan_host', 'link.json'))
    assert links['eth0']['mac'] == '52:54:00:aa:bb:02'          # the bond's MAC
    assert links['eth0']['permanent_mac'] == '52:54:00:aa:bb:01'
    assert links['bond100']['type'] == 'vlan' and links['bond100']['link'] == 'bond0'
    assert links['eth4']['type'] == 'ethernet' and links['eth4']['master'] is None


def test_parse_addresses_scopes_and_dynamic():
    addrs = facts_linux.parse_addresses(jload('ip', 'bond_vlan_host', 'addr.json'))
    assert [a['cidr'] for a in addrs['cloudbr0']] == ['198.51.100.20/24', '2001:db8::20/64', 'fe80::5054:ff:feaa:bb02/64']
    assert addrs['cloudbr0'][2]['scope'] == 'link'
    assert addrs['eth4'][0]['dynamic'] is True and addrs['eth4'][0]['family'] == 4
    assert addrs['bond0'] == []


def test_parse_default_routes_sorted_by_metric():
    r = facts_linux.parse_default_routes(jload('ip', 'bond_vlan_host', 'route4.json'), jload('ip', 'bond_vlan_host', 'route6.json'))
    assert [x['dev'] for x in r['ipv4']] == ['cloudbr0', 'eth4']
    assert r['ipv6'] == [{'gateway': '2001:db8::1', 'dev': 'cloudbr0', 'metric': 1024, 'protocol': 'static'}]
    assert facts_linux.parse_default_routes(None, []) == {'ipv4': [], 'ipv6': []}


@pytest.mark.parametrize('item, expected', [
    ({'ifname': 'x', 'link_type': 'ether'}, 'ethernet'),
    ({'ifname': 'x', 'link_type': 'ether', 'linkinfo': {'info_kind': 'bond'}}, 'bond'),
    ({'ifname': 'x', 'link_type': 'ether', 'linkinfo': {'info_slave_kind': 'bond'}}, 'ethernet'),
    ({'ifname': 'x', 'link_type': 'loopback'}, 'loopback'),
    ({'ifname': 'x', 'link_type': 'none'}, 'none'),
    ({'ifname': 'x'}, 'unknown'),
])
def test_link_type(item, expected):
    assert facts_linux.link_type(item) == expected


# --- /proc ------------------------------------------------------------------------------------

SEED_BONDING = u"""Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)

Bonding Mode: fault-tolerance (active-backup)
Primary Slave: None
Currently Active Slave: eth0
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 00:0c:29:b5:59:32
Slave queue ID: 0

Slave Interface: eth1
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 3
Permanent HW addr: 00:0C:29:B5:59:3C
Slave queue ID: 0
"""


def test_parse_proc_bonding_seed_text():
    b = facts_linux.parse_proc_bonding(SEED_BONDING)
    assert b['mode'] == 'active-backup'
    assert b['primary'] is None and b['active'] == 'eth0'
    assert (b['miimon'], b['updelay'], b['downdelay']) == (100, 0, 0)
    assert [m['name'] for m in b['members']] == ['eth0', 'eth1']
    assert b['members'][1] == {'name': 'eth1', 'mii_status': 'down', 'permanent_mac': '00:0c:29:b5:59:3c',
                               'link_failure_count': 3}


def test_parse_proc_bonding_8023ad():
    b = facts_linux.parse_proc_bonding(text('ip', 'bond_vlan_host', 'root', 'proc', 'net', 'bonding', 'bond1'))
    assert b['mode'] == '802.3ad' and b['xmit_hash_policy'] == 'layer3+4' and b['lacp_rate'] == 'fast'
    assert b['active'] is None
    assert [m['name'] for m in b['members']] == ['eth2', 'eth3']


@pytest.mark.parametrize('line, mode', [
    ('Bonding Mode: load balancing (round-robin)', 'balance-rr'),
    ('Bonding Mode: load balancing (xor)', 'balance-xor'),
    ('Bonding Mode: fault-tolerance (broadcast)', 'broadcast'),
    ('Bonding Mode: transmit load balancing', 'balance-tlb'),
    ('Bonding Mode: adaptive load balancing', 'balance-alb'),
    ('Bonding Mode: something new (future-mode)', 'future-mode'),
])
def test_proc_bonding_modes(line, mode):
    assert facts_linux.parse_proc_bonding(line + '\n')['mode'] == mode


def test_proc_bonding_primary_with_reselect_and_garbage():
    b = facts_linux.parse_proc_bonding('garbage line\nPrimary Slave: eth1 (primary_reselect always)\nMII Polling Interval (ms): x\n')
    assert b['primary'] == 'eth1' and b['miimon'] is None and b['members'] == []


def test_parse_proc_vlan_config():
    v = facts_linux.parse_proc_vlan_config(text('ip', 'bond_vlan_host', 'root', 'proc', 'net', 'vlan', 'config'))
    assert v == {'bond100': {'id': 100, 'link': 'bond0'}}
    assert facts_linux.parse_proc_vlan_config(None) == {}


def test_sysreader_missing_files_are_empty(tmp_path):
    s = facts_linux.SysReader(str(tmp_path))
    assert s.proc_bonding() == {} and s.proc_vlans() == {}
    assert s.sys_bridge('cloudbr0') is None and s.networkd_link(3) is None
    assert s.ifupdown_up() == set() and s.ifcfg_files() == {}


def test_sysreader_sys_bridge_and_state_files():
    s = facts_linux.SysReader(os.path.join(FIX, 'ip', 'linux_bridge_host', 'root'))
    assert s.sys_bridge('cloudbr1') == {'stp_state': 0, 'forward_delay': 1500, 'ports': ['eth1']}
    assert s.ifupdown_up() == set(['lo', 'eth0', 'eth1', 'cloudbr0', 'cloudbr1'])
    s = facts_linux.SysReader(os.path.join(FIX, 'ip', 'ovs_host', 'root'))
    assert sorted(s.ifcfg_files()) == ['bond0', 'cloudbr0', 'cloudbr100', 'eth0']
    assert s.is_physical('eth0') and not s.is_physical('cloudbr0')


def test_ifupdown_single_state_file(tmp_path):
    (tmp_path / 'run' / 'network').mkdir(parents=True)
    (tmp_path / 'run' / 'network' / 'ifstate').write_text(u'lo=lo\nbond0=bond0\n')
    assert facts_linux.SysReader(str(tmp_path)).ifupdown_up() == set(['lo', 'bond0'])


# --- Linux sections ----------------------------------------------------------------------------

def test_linux_bonds_from_json():
    facts, dummy = host('bond_vlan_host')
    b0 = facts['bonds']['bond0']
    assert b0['mode'] == 'active-backup' and b0['active'] == 'eth1'
    assert b0['members'] == ['eth1', 'eth0']          # enslavement order, from /proc
    assert b0['lacp_rate'] is None and b0['xmit_hash_policy'] is None
    assert b0['member_permanent_macs'] == {'eth1': '52:54:00:aa:bb:02', 'eth0': '52:54:00:aa:bb:01'}
    b1 = facts['bonds']['bond1']
    assert (b1['mode'], b1['lacp_rate'], b1['xmit_hash_policy']) == ('802.3ad', 'fast', 'layer3+4')


def test_linux_bonds_old_iproute2_falls_back_to_proc():
    """No info_data and no slave state in JSON (old iproute2): /proc/net/bonding fills in."""
    data = jload('ip', 'bond_vlan_host', 'link.json')
    for item in data:
        info = item.get('linkinfo') or {}
        info.pop('info_data', None) if info.get('info_kind') == 'bond' else None
        info.pop('info_slave_data', None)
        item.pop('permaddr', None)
    links = facts_linux.parse_links(data)
    sysr = facts_linux.SysReader(os.path.join(FIX, 'ip', 'bond_vlan_host', 'root'))
    b = facts_linux.linux_bonds(links, sysr.proc_bonding())['bond0']
    assert (b['mode'], b['miimon'], b['updelay'], b['active']) == ('active-backup', 100, 0, 'eth1')
    assert b['member_permanent_macs']['eth0'] == '52:54:00:aa:bb:01'


def test_linux_bonds_active_from_slave_state():
    data = jload('ip', 'bond_vlan_host', 'link.json')
    for item in data:
        if item['ifname'] == 'bond0':
            del item['linkinfo']['info_data']['active_slave']
    links = facts_linux.parse_links(data)
    assert facts_linux.linux_bonds(links, {})['bond0']['active'] == 'eth1'


def test_linux_bonds_without_proc():
    links = facts_linux.parse_links(jload('ip', 'bond_vlan_host', 'link.json'))
    b = facts_linux.linux_bonds(links, {})['bond0']
    assert b['members'] == ['eth0', 'eth1']   # ifindex order without /proc
    assert b['active'] == 'eth1'


def test_linux_vlans_json_and_proc_fallback():
    links = facts_linux.parse_links(jload('ip', 'bond_vlan_host', 'link.json'))
    assert facts_linux.linux_vlans(links, {}) == {'bond100': {'id': 100, 'link': 'bond0', 'protocol': '802.1Q'}}
    assert facts_linux.linux_vlans({}, {'vlan7': {'id': 7, 'link': 'eth0'}}) == {
        'vlan7': {'id': 7, 'link': 'eth0', 'protocol': '802.1Q'}}


def test_linux_bridges_json_and_sysfs_fallback():
    facts, sysr = host('linux_bridge_host')
    lb = facts['linux_bridges']
    assert lb['cloudbr0'] == {'ports': ['eth0', 'vnet0'], 'stp': False, 'forward_delay': 0, 'mtu': 1500,
                              'mac': '52:54:00:aa:bb:01'}
    assert lb['cloudbr1']['forward_delay'] == 15
    data = jload('ip', 'linux_bridge_host', 'link.json')
    for item in data:
        if item['ifname'] == 'cloudbr1':
            del item['linkinfo']['info_data']
        item.pop('master', None)
    lb = facts_linux.linux_bridges(facts_linux.parse_links(data), sysr)
    assert lb['cloudbr1'] == {'ports': ['eth1'], 'stp': False, 'forward_delay': 15, 'mtu': 1500,
                              'mac': '52:54:00:aa:bb:02'}


# --- OVS -----------------------------------------------------------------------------------------

def test_parse_ovs_seed_topology():
    ovs = facts_ovs.parse_ovs(ovs_rows('ovs_host'))
    assert ovs['version'] == '3.1.0'
    assert sorted(ovs['bridges']) == ['cloud0', 'cloudbr0', 'cloudbr1', 'cloudbr100']
    fake = ovs['bridges']['cloudbr100']
    assert (fake['fake'], fake['parent'], fake['vlan'], fake['datapath_type']) == (True, 'cloudbr0', 100, 'system')
    br0 = ovs['bridges']['cloudbr0']
    assert sorted(br0['ports']) == ['bond0', 'cloudbr0', 'cloudbr100', 'vnet0']
    assert br0['ports']['bond0']['type'] == 'bond' and br0['ports']['bond0']['interfaces'] == ['eth0', 'eth1']
    assert br0['ports']['vnet0']['type'] == 'vm'
    assert br0['ports']['cloudbr100'] == {'type': 'internal', 'tag': 100, 'trunks': [], 'vlan_mode': None,
                                          'interfaces': ['cloudbr100'], 'fake_bridge': True}
    assert ovs['bonds']['bond0'] == {
        'bridge': 'cloudbr0', 'mode': 'active-backup', 'lacp': 'off', 'lacp_rate': None, 'miimon': 100,
        'updelay': 0, 'downdelay': 0, 'primary': 'eth0', 'members': ['eth0', 'eth1'], 'active': 'eth1',
        'active_mac': '52:54:00:aa:bb:02'}
    b1 = ovs['bonds']['bond1']
    assert (b1['mode'], b1['lacp'], b1['lacp_rate'], b1['miimon'], b1['updelay'], b1['downdelay'], b1['active']) == \
        ('balance-tcp', 'active', 'fast', 0, 200, 100, 'eth2')
    assert ovs['internal_ports']['cloudbr100'] == {'bridge': 'cloudbr0', 'port': 'cloudbr100', 'tag': 100}
    assert ovs['interfaces']['vnet0']['vm'] is True
    assert ovs['interfaces']['eth1']['mac_in_use'] == '52:54:00:aa:bb:02'


def test_parse_ovs_active_member_ambiguous_or_unset():
    rows = ovs_rows('ovs_host')
    for r in rows['Interface']:
        if r['name'] in ('eth0', 'eth1'):
            r['mac_in_use'] = '52:54:00:aa:bb:02'    # both members report one MAC: cannot tell
    for r in rows['Port']:
        if r['name'] == 'bond1':
            r['bond_active_slave'] = []
    ovs = facts_ovs.parse_ovs(rows)
    assert ovs['bonds']['bond0']['active'] is None
    assert ovs['bonds']['bond1']['active'] is None and ovs['bonds']['bond1']['active_mac'] is None


def test_parse_ovs_single_nic_netdev():
    ovs = facts_ovs.parse_ovs(ovs_rows('ovs_single_nic'))
    br0 = ovs['bridges']['cloudbr0']
    assert br0['datapath_type'] == 'netdev' and br0['stp'] is True and br0['forward_delay'] == 4
    assert br0['ports']['eth0']['type'] == 'system'
    assert ovs['bridges']['cloudbr200']['vlan'] == 200
    assert ovs['bonds'] == {}
    assert ovs['interfaces']['cloudbr1']['link_state'] == 'down'


def test_parse_ovs_empty():
    ovs = facts_ovs.parse_ovs(ovs_rows('ovs_empty'))
    assert ovs == {'version': '3.1.0', 'bridges': {}, 'bonds': {}, 'internal_ports': {}, 'interfaces': {}}


# --- owners ---------------------------------------------------------------------------------------

def test_split_terse_escapes():
    assert facts_owners.split_terse('weird\\:name:conn\\:x:/a\\\\b') == ['weird:name', 'conn:x', '/a\\b']


def test_decide_owners_all_stacks():
    links = facts_linux.parse_links(jload('ip', 'bond_vlan_host', 'link.json'))
    sysr = facts_linux.SysReader(os.path.join(FIX, 'ip', 'bond_vlan_host', 'root'))
    networkd = dict((n, sysr.networkd_link(l['ifindex'])) for n, l in links.items()
                    if sysr.networkd_link(l['ifindex']) is not None)
    nm = {'eth4': {'connection': 'Wired', 'file': '/etc/NetworkManager/system-connections/Wired.nmconnection'}}
    owners = facts_owners.decide_owners(links, nm, networkd, set(['vnet0']), {'cloud0': '/etc/sysconfig/network-scripts/ifcfg-cloud0'})
    assert 'lo' not in owners
    assert owners['cloudbr0'] == {'owner': 'netplan', 'file': '/run/systemd/network/10-netplan-cloudbr0.network'}
    assert owners['eth4'] == {'owner': 'networkmanager', 'file': '/etc/NetworkManager/system-connections/Wired.nmconnection'}
    assert owners['vnet0']['owner'] == 'ifupdown'
    assert owners['cloud0']['owner'] == 'ifcfg'      # networkd says unmanaged
    owners = facts_owners.decide_owners(links, None, networkd, set(), {})
    assert owners['eth4'] == {'owner': 'networkd', 'file': '/etc/systemd/network/20-eth4.network'}
    assert owners['cloud0'] == {'owner': 'unknown', 'file': None}


def test_parse_nmcli_active():
    nm = facts_owners.parse_nmcli_active(text('ip', 'ovs_host', 'nmcli_active.txt'))
    assert nm['weird:name'] == {'connection': 'conn:with:colons', 'file': '/etc/NetworkManager/system-connections/x.nmconnection'}
    assert nm['cloudbr100']['file'].endswith('netplan-cloudbr100.nmconnection')


# --- model ----------------------------------------------------------------------------------------

def test_model_linux_bridge_host():
    facts, dummy = host('linux_bridge_host')
    m = facts_view.build_model(facts)
    assert m['backend'] == 'linux_bridge'
    assert sorted(m['bridges']) == ['cloudbr0', 'cloudbr1']   # cloud0 is not the user's
    b = m['bridges']['cloudbr0']
    assert (b['uplink'], b['uplink_kind'], b['vlan'], b['port']) == ('eth0', 'ethernet', None, 'eth0')
    assert b['addresses'] == ['198.51.100.20/24', '2001:db8::20/64']
    assert (b['gateway4'], b['gateway6'], b['stp'], b['forward_delay'], b['mtu']) == ('198.51.100.1', '2001:db8::1', False, 0, 1500)
    assert m['ethernets']['eth1'] == {'name': 'eth1', 'match': {'macaddress': '52:54:00:aa:bb:02'}, 'mtu': 1500,
                                      'bond': None, 'bridge': 'cloudbr1', 'sriov': None,
                                      'state': 'up'}
    assert 'ovs' not in m


def test_model_bond_vlan_host():
    facts, dummy = host('bond_vlan_host')
    m = facts_view.build_model(facts)
    assert m['backend'] == 'linux_bridge'
    assert m['bonds']['bond0']['interfaces'] == ['eth0', 'eth1']
    assert m['bonds']['bond0']['bridge'] == 'cloudbr0' and m['bonds']['bond0']['active'] == 'eth1'
    assert m['bonds']['bond1']['primary'] is None
    b100 = m['bridges']['cloudbr100']
    assert (b100['uplink'], b100['vlan'], b100['vlan_interface'], b100['port'], b100['uplink_kind']) == \
        ('bond0', 100, 'bond100', 'bond100', 'bond')
    assert b100['addresses'] == ['203.0.113.20/24'] and b100['gateway4'] is None
    assert m['ethernets']['eth0']['match']['macaddress'] == '52:54:00:aa:bb:01'   # permanent, not bond's
    assert m['ethernets']['eth0']['bond'] == 'bond0'
    assert m['vlans'] == {'bond100': {'name': 'bond100', 'id': 100, 'link': 'bond0', 'bridge': 'cloudbr100'}}
    assert 'eth4' in m['ethernets'] and 'eth4' not in m['bridges']


def test_model_dhcp_address_is_not_static():
    facts, dummy = host('bond_vlan_host')
    facts['linux_bridges']['cloudbr9'] = {'ports': ['eth4'], 'stp': False, 'forward_delay': 0, 'mtu': 1500, 'mac': None}
    facts['addresses']['cloudbr9'] = facts['addresses']['eth4']
    b = facts_view.build_model(facts)['bridges']['cloudbr9']
    assert b['addresses'] == [] and b['dhcp4'] is True and b['uplink'] == 'eth4'


def test_model_ovs_host():
    facts, dummy = host('ovs_host', ovs='ovs_host')
    m = facts_view.build_model(facts)
    assert m['backend'] == 'openvswitch'
    assert m['ovs'] == {'datapath_type': 'system'}
    assert sorted(m['bridges']) == ['cloudbr0', 'cloudbr1', 'cloudbr100']
    b0 = m['bridges']['cloudbr0']
    assert (b0['uplink'], b0['uplink_kind'], b0['addresses'], b0['gateway4'], b0['type']) == \
        ('bond0', 'bond', ['198.51.100.20/24'], '198.51.100.1', 'openvswitch')
    b100 = m['bridges']['cloudbr100']
    assert (b100['uplink'], b100['vlan'], b100['parent'], b100['addresses']) == ('bond0', 100, 'cloudbr0', ['203.0.113.20/24'])
    bond1 = m['bonds']['bond1']
    assert (bond1['lacp'], bond1['mode'], bond1['lacp_rate'], bond1['bridge']) == ('active', 'balance-tcp', 'fast', 'cloudbr1')
    assert m['bonds']['bond0']['primary'] == 'eth0'
    assert m['ethernets']['eth0']['bond'] == 'bond0'
    assert m['vlans'] == {}


def test_model_ovs_single_nic():
    facts, dummy = host('empty_host')
    facts['ovs'] = facts_ovs.parse_ovs(ovs_rows('ovs_single_nic'))
    m = facts_view.build_model(facts)
    assert m['backend'] == 'openvswitch' and m['ovs'] == {'datapath_type': 'netdev'}
    assert m['bridges']['cloudbr0']['uplink'] == 'eth0'
    assert m['bridges']['cloudbr0']['uplink_kind'] is None      # eth0 is not a link of this host
    assert (m['bridges']['cloudbr200']['uplink'], m['bridges']['cloudbr200']['vlan']) == ('eth0', 200)
    assert m['bridges']['cloudbr1']['uplink'] is None


def test_model_empty_host():
    facts, dummy = host('empty_host')
    m = facts_view.build_model(facts)
    assert m == {'backend': None, 'ethernets': {}, 'bonds': {}, 'bridges': {}, 'vlans': {}}


def test_backend_mixed_and_ignored_bridges():
    assert facts_view.detect_backend({'cloud0': {}, 'virbr0': {}}, {'bridges': {'cloudbr0': {}}}) == 'openvswitch'
    assert facts_view.detect_backend({'cloudbr0': {}}, {'bridges': {'cloud0': {}}}) == 'linux_bridge'
    assert facts_view.detect_backend({'cloudbr0': {}}, {'bridges': {'cloudbr1': {}}}) == 'mixed'
    assert facts_view.detect_backend({}, {}) is None


def test_cloud0():
    facts, dummy = host('bond_vlan_host')
    c = facts_view.cloud0_facts(facts['links'], facts['addresses'], facts['linux_bridges'], {})
    assert c == {'type': 'linux_bridge', 'state': 'up', 'addresses': ['169.254.0.1/16'], 'ports': []}
    facts, dummy = host('ovs_host', ovs='ovs_host')
    c = facts_view.cloud0_facts(facts['links'], facts['addresses'], facts['linux_bridges'], facts['ovs'])
    assert c['type'] == 'openvswitch' and c['ports'] == []
    facts, dummy = host('empty_host')
    assert facts_view.cloud0_facts(facts['links'], facts['addresses'], {}, {}) is None


def test_build_model_does_not_mutate_input():
    facts, dummy = host('ovs_host', ovs='ovs_host')
    snapshot = copy.deepcopy(facts)
    facts_view.build_model(facts)
    assert facts == snapshot
