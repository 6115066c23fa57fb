# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netplan configuration turned into kvm_network offline (_model/parsed.py): what the collection
renders parses back to the same model, and seed 000's hand-written file to the model it describes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.parsed import ParseError, parse_netplan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.renderers import render
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.test_verify import (
    LINUX_BOND_VLAN,
    LINUX_PLAIN,
    OVS_SEED,
)

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)

# Seed 000's netplan file for Ubuntu 18.04, as the guide gives it, with its optional storage VLAN.
SEED_NETPLAN = """network:
    ethernets:
        eth0:
            dhcp4: no
        eth1:
            dhcp4: no
        eth2:
            dhcp4: no
        eth3:
            dhcp4: no
    bonds:
        bond0:
            dhcp4: no
            interfaces:
                - eth0
                - eth1
            parameters:
                mode: active-backup
                primary: eth0
        bond1:
            dhcp4: no
            interfaces:
                - eth2
                - eth3
            parameters:
                mode: active-backup
                primary: eth2
    bridges:
        cloudbr0:
            addresses:
                - 192.168.100.20/24
            gateway4: 192.168.100.1
            nameservers:
                search: [mycloud.local]
                addresses: [192.168.100.5,192.168.100.6]
            interfaces:
                - bond0
        cloudbr1:
            dhcp4: no
            interfaces:
                - bond1
    version: 2
"""
SEED_NETPLAN_VLAN = """network:
    vlans:
        bond100:
            id: 100
            link: bond0
            dhcp4: no
    bridges:
        cloudbr100:
            addresses:
               - 10.0.100.20/24
            interfaces:
               - bond100
"""


def without_labels(data):
    data = copy.deepcopy(data)
    data.pop('traffic_labels', None)
    return data


@pytest.mark.parametrize('name, data', [
    ('seed000 linux bridge', SEED['linux_bridge']),
    ('seed000 openvswitch', SEED['openvswitch']),
    ('linux bond vlan', LINUX_BOND_VLAN),
    ('linux plain', LINUX_PLAIN),
    ('openvswitch seed', OVS_SEED),
])
def test_what_the_collection_renders_parses_back_to_the_same_model(name, data):
    data = without_labels(data)
    if data.get('ovs', {}).get('datapath_type') not in (None, 'system'):
        pytest.skip('the datapath type lives in the Open vSwitch database, not in netplan')
    model = normalise(data, 'kvm1')
    files = render(model, 'netplan', {'host': 'kvm1', 'ovs_database_only': True})['files']
    result = parse_netplan([(f['path'], f['content']) for f in files])
    assert normalise(result['kvm_network'], 'kvm1') == model


def test_seed_000s_hand_written_netplan_file_parses_to_the_model_it_describes():
    result = parse_netplan([('/etc/netplan/50-cloud-init.yaml', SEED_NETPLAN),
                            ('/etc/netplan/50-cloud-init.yaml (storage VLAN)', SEED_NETPLAN_VLAN)])
    assert result['kvm_network'] == {
        'backend': 'linux_bridge',
        'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}},
        'bonds': {
            # netplan without mii-monitor-interval leaves the kernel's miimon 0 (the guide's text says 100).
            'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 0, 'primary': 'eth0'},
            'bond1': {'interfaces': ['eth2', 'eth3'], 'mode': 'active-backup', 'miimon': 0, 'primary': 'eth2'},
        },
        'bridges': {
            'cloudbr0': {'uplink': 'bond0', 'addresses': ['192.168.100.20/24'], 'gateway4': '192.168.100.1',
                         'nameservers': {'addresses': ['192.168.100.5', '192.168.100.6'], 'search': ['mycloud.local']}},
            'cloudbr1': {'uplink': 'bond1'},
            'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'vlan_interface': 'bond100', 'addresses': ['10.0.100.20/24']},
        },
    }
    normalise(result['kvm_network'], 'kvm1')
    assert result['left_out'] == ['traffic_labels (management, guest, public, storage): CloudStack\'s, not in netplan; '
                                  'add them']


def test_what_the_model_cannot_say_is_named():
    text = """network:
  version: 2
  ethernets:
    eno1: {dhcp4: true}
    eno2: {match: {driver: ixgbe}, set-name: eno2, wakeonlan: true}
    eno3: {}
  vlans:
    vlan7: {id: 7, link: eno3}
  bridges:
    br0: {interfaces: [eno2, eno3], macaddress: "52:54:00:00:00:01"}
"""
    left_out = parse_netplan([('01-netcfg.yaml', text)])['left_out']
    assert 'ethernet eno1: has addresses or DHCP of its own; the model puts addresses on bridges only (put it under a ' \
        'bridge: uplink eno1)' in left_out
    assert 'ethernet eno2: match.driver (the model matches NICs by MAC only): left out' in left_out
    assert 'bridge br0: has 2 ports (eno2, eno3); the model gives a bridge one uplink: eno2 kept' in left_out
    assert 'bridge br0: macaddress is not something kvm_network expresses: left out' in left_out
    assert any(line.startswith('vlan vlan7: no bridge uses it') for line in left_out)


def test_a_file_that_is_not_yaml_is_refused_naming_it():
    with pytest.raises(ParseError, match='bad.yaml is not valid YAML'):
        parse_netplan([('bad.yaml', 'network: [')])


def test_the_filter_takes_files_as_a_mapping_a_list_or_one_text():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.cloudstack_kvm.networking.plugins.filter.kvm_network import kvm_network_parsed
    one = kvm_network_parsed(SEED_NETPLAN)
    assert kvm_network_parsed({'/etc/netplan/50-cloud-init.yaml': SEED_NETPLAN}) == one
    assert kvm_network_parsed([SEED_NETPLAN, SEED_NETPLAN_VLAN])['kvm_network']['bridges']['cloudbr100']['vlan'] == 100
    with pytest.raises(AnsibleFilterError, match="format 'ifupdown' is not one it reads yet"):
        kvm_network_parsed(SEED_NETPLAN, 'ifupdown')
    with pytest.raises(AnsibleFilterError, match='is not valid YAML'):
        kvm_network_parsed('network: [')
