# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The realised network gathered as a kvm_network (_facts/gathered.py), on recorded hosts: it
validates, and compared with the host it came from it has no difference (the round trip)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.gathered import gathered
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import compare
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.test_verify import (
    host_network,
    ovs_seed_raw,
    raw_facts,
)

HOSTS = {
    'bond_vlan_host': lambda: raw_facts('bond_vlan_host'),
    'ovs_host': ovs_seed_raw,
}


@pytest.mark.parametrize('name', sorted(HOSTS))
def test_the_gathered_model_validates_and_round_trips(name):
    facts = host_network(HOSTS[name]())
    result = gathered(facts)
    model = normalise(result['kvm_network'], 'kvm1')
    assert compare(model, facts) == []
    assert all(isinstance(line, str) and line for line in result['left_out'])


def test_a_linux_bond_host_reads_like_a_hand_written_model():
    result = gathered(host_network(raw_facts('bond_vlan_host')))
    assert result['kvm_network'] == {
        'backend': 'linux_bridge',
        'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {}, 'eth3': {}},
        'bonds': {
            'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup'},
            'bond1': {'interfaces': ['eth2', 'eth3'], 'mode': '802.3ad', 'lacp_rate': 'fast',
                      'xmit_hash_policy': 'layer3+4'},
        },
        'bridges': {
            'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '2001:db8::20/64'],
                         'gateway4': '198.51.100.1', 'gateway6': '2001:db8::1'},
            'cloudbr1': {'uplink': 'bond1'},
            'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'vlan_interface': 'bond100', 'addresses': ['203.0.113.20/24']},
        },
    }
    assert any(line.startswith('traffic_labels') for line in result['left_out'])


def test_what_the_model_cannot_say_is_named_not_dropped():
    raw = raw_facts('ovs_host', ovs='ovs_host')      # bond1 with delays under carrier detection, as recorded
    result = gathered(host_network(raw))
    assert [l for l in result['left_out'] if l.startswith('bond bond1')] == [
        'bond bond1: updelay %s and downdelay %s with carrier detection (no miimon): the model sets the delays only '
        'with miimon' % (raw['ovs']['bonds']['bond1']['updelay'], raw['ovs']['bonds']['bond1']['downdelay'])]


def owned_by(facts, owner, **others):
    owners = dict((name, {'owner': owner, 'file': None}) for name in facts['model']['bridges'])
    owners.update((name, {'owner': o, 'file': None}) for name, o in others.items())
    return dict(facts, owners=owners)


@pytest.mark.parametrize('owner', ['netplan', 'ifupdown', 'networkmanager', 'ifcfg'])
def test_the_renderer_is_the_system_that_configures_the_bridges_now(owner):
    # Taking the host over with another system would re-create every interface.
    result = gathered(owned_by(host_network(raw_facts('bond_vlan_host')), owner))
    assert result['kvm_network']['renderer'] == owner
    assert not [line for line in result['left_out'] if line.startswith('renderer')]
    assert normalise(result['kvm_network'], 'kvm1')['renderer'] == owner


def test_no_renderer_when_the_bridges_have_no_single_system_it_renders_for():
    facts = host_network(raw_facts('bond_vlan_host'))
    bridges = sorted(facts['model']['bridges'])
    for owners in (owned_by(facts, 'netplan', **{bridges[0]: 'ifupdown'}), owned_by(facts, 'networkd'),
                   owned_by(facts, 'unknown')):
        result = gathered(owners)
        assert 'renderer' not in result['kvm_network']
        said = [line for line in result['left_out'] if line.startswith('renderer: the bridges are configured by')]
        assert len(said) == 1 and 'set renderer to the one that should own them' in said[0]
    assert 'renderer' not in gathered(facts)['kvm_network'], 'no owners read: nothing said about the renderer'


def test_the_bridge_the_host_is_reached_on_is_labelled_management():
    facts = host_network(raw_facts('bond_vlan_host'))
    bridge, entry = sorted((n, b) for n, b in gathered(facts)['kvm_network']['bridges'].items() if b.get('addresses'))[0]
    reached = entry['addresses'][0].split('/')[0]
    result = gathered(facts, reached)
    assert result['kvm_network']['traffic_labels'] == {'management': bridge}
    assert [line for line in result['left_out'] if line.startswith('traffic_labels: management is %s' % bridge)]
    assert normalise(result['kvm_network'], 'kvm1')['traffic_labels']['management'] == bridge
    elsewhere = gathered(facts, '192.0.2.1')
    assert 'traffic_labels' not in elsewhere['kvm_network']
    assert [line for line in elsewhere['left_out'] if line.startswith('traffic_labels (management, guest')]
