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
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.test_render_ifupdown import (
    SEED_OVS_INTERFACES,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.test_verify import (
    LINUX_BOND_VLAN,
    LINUX_PLAIN,
    OVS_SEED,
)

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)


def seed_file(name):
    """A file of seed 000, as the guide gives it (tests/unit/fixtures/seed000/)."""
    with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000', name)) as fh:
        return fh.read()


# Seed 000's netplan file for Ubuntu 18.04, as the guide gives it, with its optional storage VLAN.
SEED_NETPLAN = seed_file('netplan.txt')
SEED_NETPLAN_VLAN = seed_file('netplan-vlan.txt')


def without_labels(data):
    data = copy.deepcopy(data)
    data.pop('traffic_labels', None)
    return data


ROUND_TRIP_MODELS = [
    ('seed000 linux bridge', SEED['linux_bridge']),
    ('seed000 openvswitch', SEED['openvswitch']),
    ('linux bond vlan', LINUX_BOND_VLAN),
    ('linux plain', LINUX_PLAIN),
    ('openvswitch seed', OVS_SEED),
]


def parser_for(renderer):
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import parsed, parsed_ifcfg, parsed_nm
    return {'netplan': parsed.parse_netplan, 'ifupdown': parsed.parse_ifupdown, 'ifcfg': parsed_ifcfg.parse_ifcfg,
            'networkmanager': parsed_nm.parse_networkmanager}[renderer]


@pytest.mark.parametrize('renderer', ['netplan', 'ifupdown', 'ifcfg', 'networkmanager'])
@pytest.mark.parametrize('name, data', ROUND_TRIP_MODELS, ids=[n for n, d in ROUND_TRIP_MODELS])
def test_what_the_collection_renders_parses_back_to_the_same_model(renderer, name, data):
    model = normalise(without_labels(data), 'kvm1')
    if renderer == 'ifcfg' and name == 'linux bond vlan':
        pytest.skip('its VLAN device bond100 is a name EL 7 initscripts cannot take a VLAN id from: not renderable')
    files = render(model, renderer, {'host': 'kvm1', 'hostname': 'kvm1.example', 'ovs_database_only': True})['files']
    result = parser_for(renderer)([(f['path'], f['content']) for f in files if not f['path'].endswith('.link')])
    if renderer == 'ifupdown':
        # ifupdown's NIC names given by MAC live in .link files, not in the interfaces file.
        for eth in model['ethernets'].values():
            eth['match'] = {}
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
    with pytest.raises(AnsibleFilterError, match="format 'systemd-networkd' is not one it reads yet"):
        kvm_network_parsed(SEED_NETPLAN, 'systemd-networkd')
    assert kvm_network_parsed(dict(seed_files('linux_bridge')), 'ifcfg')['kvm_network']['bonds']['bond1']['mode'] == \
        'active-backup'
    assert kvm_network_parsed(SEED_INTERFACES_OVS, 'ifupdown')['kvm_network']['backend'] == 'openvswitch'
    with pytest.raises(AnsibleFilterError, match='is not valid YAML'):
        kvm_network_parsed('network: [')


# Seed 000's /etc/network/interfaces for Open vSwitch on Ubuntu, as the guide prints it (with its storage
# VLAN): the renderer's tests keep it.
SEED_INTERFACES_OVS = SEED_OVS_INTERFACES


def test_seed_000s_ovs_interfaces_file_parses_and_its_slips_are_named():
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.parsed import parse_ifupdown
    result = parse_ifupdown([('/etc/network/interfaces', SEED_INTERFACES_OVS)])
    model = result['kvm_network']
    assert model['backend'] == 'openvswitch'
    # ovs_option (not ovs_options) is not read by ifupdown's Open vSwitch scripts: the bonds keep OVS's defaults.
    assert model['bonds']['bond0'] == {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 0}
    assert model['bridges']['cloudbr100'] == {'uplink': 'bond0', 'vlan': 100, 'addresses': ['10.0.100.20/24']}
    assert model['bridges']['cloudbr0']['gateway4'] == '192.168.100.100'
    assert 'addresses' not in model['bridges']['cloudbr0']
    # cloudbr1 has no OVSBridge stanza: bond1 names it, and ovs-vsctl add-br made it (the database keeps it).
    assert model['bridges']['cloudbr1'] == {'uplink': 'bond1'} and 'cloudbr1' not in model['ethernets']
    assert model['ethernets'] == {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}}
    # Without its address (the netmask is a typo) cloudbr0's gateway is in no subnet: the model check says so.
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import ModelError
    with pytest.raises(ModelError, match='gateway4 192.168.100.100 is in no subnet'):
        normalise(model, 'kvm1')
    left_out = result['left_out']
    assert 'cloudbr0: netmask 255.255.155.0 is not a netmask (its ones are not contiguous): address 192.168.100.20 ' \
        'left out (write the address with its prefix)' in left_out
    assert 'bond0: ovs_option bond_mode=active-backup other_config:miimon=100 is not something kvm_network ' \
        'expresses: left out' in left_out
    assert any(line.startswith('bond1: ovs_option') for line in left_out)


def seed_files(kind):
    base = os.path.join(HERE, 'fixtures', 'seed000_ifcfg', kind)
    out = []
    for root, dummy, names in os.walk(base):
        for n in sorted(names):
            with open(os.path.join(root, n)) as fh:
                out.append(('/' + os.path.relpath(os.path.join(root, n), base), fh.read()))
    return sorted(out)


def test_seed_000s_centos_files_parse_to_the_models_they_describe():
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.parsed_ifcfg import parse_ifcfg
    result = parse_ifcfg(seed_files('linux_bridge'))
    model = result['kvm_network']
    assert model['bonds']['bond0'] == {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 100,
                                       'updelay': 0, 'downdelay': 0}
    assert model['bridges'] == {
        'cloudbr0': {'uplink': 'bond0', 'addresses': ['192.168.100.20/24'], 'gateway4': '192.168.100.1'},
        'cloudbr1': {'uplink': 'bond1'},
        'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'addresses': ['10.0.100.20/24']},
    }
    assert model['ethernets'] == {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}}
    assert 'ethernet eth0: HWADDR=00:0C:12:xx:xx:xx is not a MAC address: left out' in result['left_out']
    normalise(model, 'kvm1')
    result = parse_ifcfg(seed_files('openvswitch'))
    model = result['kvm_network']
    assert model['backend'] == 'openvswitch'
    assert model['bonds']['bond1'] == {'interfaces': ['eth2', 'eth3'], 'mode': 'active-backup', 'miimon': 100}
    assert model['bridges']['cloudbr100'] == {'uplink': 'bond0', 'vlan': 100, 'addresses': ['10.0.100.20/24']}
    assert model['bridges']['cloudbr0'] == {'uplink': 'bond0', 'addresses': ['192.168.100.20/24'],
                                            'gateway4': '192.168.100.1'}
    normalise(model, 'kvm1')


def seed_gathered():
    """What host_network_facts gathers from a host seed 000's netplan file built (no DNS: the
    network does not show it)."""
    model = parse_netplan([('/etc/netplan/50-cloud-init.yaml', SEED_NETPLAN)])['kvm_network']
    del model['bridges']['cloudbr0']['nameservers']
    return {'kvm_network': model, 'left_out': ['DNS servers and search domains: not read from the network; add '
                                               'nameservers to the bridge that has them', 'ethernet mgmt0: left out']}


def test_adopted_takes_each_bridges_dns_servers_from_the_hosts_own_files():
    from ansible_collections.cloudstack_kvm.networking.plugins.filter.kvm_network import kvm_network_adopted
    files = {'/etc/netplan/50-cloud-init.yaml': SEED_NETPLAN, '/etc/hosts': '127.0.0.1 localhost\n'}
    result = kvm_network_adopted(seed_gathered(), files)
    assert result['kvm_network']['bridges']['cloudbr0']['nameservers'] == {
        'addresses': ['192.168.100.5', '192.168.100.6'], 'search': ['mycloud.local']}
    assert 'nameservers' not in result['kvm_network']['bridges']['cloudbr1']
    assert result['left_out'][0] == 'ethernet mgmt0: left out'
    assert result['left_out'][1].startswith('DNS servers and search domains: taken from /etc/netplan/50-cloud-init.yaml '
                                            'for cloudbr0;')
    assert normalise(result['kvm_network'], 'kvm1')['bridges']['cloudbr0']['nameservers']['search'] == ['mycloud.local']
    # ifupdown's dns-nameserver, on seed 000's Open vSwitch host.
    ovs = parse_netplan([('x', SEED_NETPLAN)])['kvm_network']
    ovs['bridges']['cloudbr0'].pop('nameservers')
    result = kvm_network_adopted({'kvm_network': ovs, 'left_out': []},
                                 {'/etc/network/interfaces': SEED_INTERFACES_OVS})
    assert result['kvm_network']['bridges']['cloudbr0']['nameservers'] == {'addresses': ['192.168.100.5']}


def test_adopted_says_what_it_could_not_read_and_keeps_the_gathered_model():
    from ansible_collections.cloudstack_kvm.networking.plugins.filter.kvm_network import kvm_network_adopted
    gathered = seed_gathered()
    result = kvm_network_adopted(gathered, {'/etc/netplan/01-broken.yaml': 'network: ['})
    assert result['kvm_network'] == gathered['kvm_network']
    assert [line for line in result['left_out'] if line.startswith(
        'files that could not be read for DNS servers: /etc/netplan/01-broken.yaml (/etc/netplan/01-broken.yaml is not '
        'valid YAML')]
    assert [line for line in result['left_out'] if 'neither the network nor the host' in line]
    assert kvm_network_adopted(gathered)['kvm_network'] == gathered['kvm_network']
    with pytest.raises(Exception, match='give host_network_facts'):
        kvm_network_adopted({'bridges': {}}, {})


def test_adopted_takes_the_traffic_labels_from_the_agents_properties():
    from ansible_collections.cloudstack_kvm.networking.plugins.filter.kvm_network import kvm_network_adopted
    gathered = seed_gathered()
    gathered['kvm_network']['traffic_labels'] = {'management': 'cloudbr0'}
    gathered['left_out'].append('traffic_labels: management is cloudbr0, the bridge with the address the host is '
                                'reached at (192.168.100.20); guest, public and storage ...')
    properties = ('# written by cloudstack-setup-agent\nprivate.network.device=cloudbr0\npublic.network.device=cloudbr1\n'
                  'guest.network.device=cloudbr1\nnetwork.bridge.type=native\n')
    result = kvm_network_adopted(gathered, {'/etc/cloudstack/agent/agent.properties': properties})
    wanted = {'guest': 'cloudbr1', 'management': 'cloudbr0', 'public': 'cloudbr1'}
    assert result['kvm_network']['traffic_labels'] == wanted
    labels = [line for line in result['left_out'] if line.startswith('traffic_labels')]
    assert labels == ['traffic_labels: guest, management, public taken from /etc/cloudstack/agent/agent.properties; '
                      'storage traffic is the zone\'s: add it where it has a bridge of its own']
    assert normalise(result['kvm_network'], 'kvm1')['traffic_labels']['guest'] == 'cloudbr1'
    # A device that is not a bridge of the model is named, not taken.
    result = kvm_network_adopted(gathered, {'/etc/cloudstack/agent/agent.properties': 'guest.network.device=br-gone\n'})
    assert result['kvm_network']['traffic_labels'] == {'management': 'cloudbr0'}
    assert [line for line in result['left_out'] if 'names br-gone for guest traffic, which is not a bridge' in line]
