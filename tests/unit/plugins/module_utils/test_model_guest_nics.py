# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SR-IOV in the model (ethernets.NAME.sriov): normalised, refused with the fix, handed to host
preparation (needs), compared by verify with the VFs present, shown in the summary, gathered back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.gathered import gathered
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.needs import host_needs
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import ModelError, normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import compare
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.summary import summary
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.test_verify import (
    LINUX_PLAIN,
    host_network,
    raw_facts,
)

SRIOV = {'vfs': 8, 'vf': [{'index': 1, 'mac': '52:54:00:5F:00:02', 'vlan': 200},
                          {'index': 0, 'trust': True, 'spoofchk': 'off'}]}


def with_sriov(sriov, nic='eth1'):
    data = copy.deepcopy(LINUX_PLAIN)
    data['ethernets'][nic] = {'sriov': sriov}
    return data


def problems(sriov):
    with pytest.raises(ModelError) as err:
        normalise(with_sriov(sriov), 'kvm1')
    return err.value.report('kvm1')


def test_sriov_is_normalised_and_handed_to_host_preparation():
    model = normalise(with_sriov(SRIOV), 'kvm1')
    assert model['ethernets']['eth1']['sriov'] == {
        'vfs': 8, 'persist': 'udev', 'driver': None,
        'vf': [{'index': 0, 'mac': None, 'vlan': None, 'trust': True, 'spoofchk': False},
               {'index': 1, 'mac': '52:54:00:5f:00:02', 'vlan': 200, 'trust': None, 'spoofchk': None}]}
    assert model['ethernets']['eth0']['sriov'] is None
    assert host_needs(model)['sriov'] == [dict(model['ethernets']['eth1']['sriov'], pf='eth1')]


@pytest.mark.parametrize('sriov, fragment', [
    ({}, 'ethernet eth1 sriov: vfs is not set. Fix: set vfs to the number of virtual functions'),
    ({'vfs': 0}, 'vfs 0 is outside 1-256'),
    ({'vfs': 4, 'vf': [{'index': 4}]}, 'vf 4: is beyond the 4 VFs asked for (they are numbered 0 to 3)'),
    ({'vfs': 4, 'vf': [{'index': 1}, {'index': 1}]}, 'vf 1: is listed twice'),
    ({'vfs': 4, 'vf': [{'index': 0, 'mac': '01:00:5e:00:00:01'}]}, 'is a multicast address'),
    ({'vfs': 4, 'vf': [{'index': 0, 'vlan': 4095}]}, 'vlan 4095 is outside 0-4094'),
    ({'vfs': 4, 'persist': 'driver'}, "persist: driver needs the driver's module name"),
    ({'vfs': 4, 'driver': 'ixgbe'}, 'driver is set but persist is not driver'),
    ({'vfs': 4, 'persist': 'boot'}, "persist 'boot' is not udev or driver"),
    ({'vfs': 4, 'vf': [{'mac': '52:54:00:5f:00:01'}]}, 'index is not set'),
    ({'vfs': 4, 'numvfs': 4}, "unknown option 'numvfs'"),
])
def test_bad_sriov_is_refused_with_the_fix(sriov, fragment):
    assert fragment in problems(sriov)


def test_verify_compares_the_vfs_present_and_the_summary_shows_them():
    raw = raw_facts('linux_bridge_host')
    raw['links']['eth1']['sriov'] = {'totalvfs': 63, 'numvfs': 0}
    facts = host_network(raw)
    diffs = compare(normalise(with_sriov(SRIOV), 'kvm1'), facts)
    assert [d['message'] for d in diffs] == ['ethernet eth1: sriov_vfs 0, expected 8']
    raw['links']['eth1']['sriov']['numvfs'] = 8
    facts = host_network(raw)
    assert compare(normalise(with_sriov(SRIOV), 'kvm1'), facts) == []
    assert '# SR-IOV (sriov_numvfs)' in summary(facts) and 'eth1' in summary(facts).split('# SR-IOV')[1]
    result = gathered(facts)
    assert result['kvm_network']['ethernets']['eth1'] == {'sriov': {'vfs': 8}}
    assert any(line.startswith('ethernet eth1: its VFs') for line in result['left_out'])


def test_a_macvtap_lower_device_held_by_a_bridge_is_refused():
    data = copy.deepcopy(LINUX_PLAIN)
    data['ethernets']['eth1'] = {'macvtap': True}
    with pytest.raises(ModelError) as err:
        normalise(data, 'kvm1')
    assert 'ethernet eth1: is a macvtap lower device (macvtap: true) and bridge cloudbr1 holds it' in err.value.report('kvm1')


def test_verify_checks_a_macvtap_lower_device_is_up_and_free():
    data = copy.deepcopy(LINUX_PLAIN)
    data['ethernets']['eth2'] = {'macvtap': True}
    raw = raw_facts('linux_bridge_host')
    raw['links']['eth2'] = dict(raw['links']['eth1'], ifindex=99, master=None, state='down', admin_up=False,
                                mac='52:54:00:aa:bb:09', permanent_mac=None, sriov=None)
    facts = host_network(raw)
    diffs = compare(normalise(data, 'kvm1'), facts)
    assert [d['message'] for d in diffs] == ['ethernet eth2: state down, expected up']
    raw['links']['eth2'].update(state='up', master='cloudbr1')
    raw['linux_bridges']['cloudbr1']['ports'].append('eth2')
    diffs = compare(normalise(data, 'kvm1'), host_network(raw))
    assert 'ethernet eth2: held_by bridge cloudbr1, expected none' in [d['message'] for d in diffs]


# --- forwarding (seed 003) ----------------------------------------------------------------------

def test_forwarding_defaults_off_and_reaches_host_preparation():
    assert normalise(LINUX_PLAIN, 'kvm1')['forwarding'] == {'ip': False, 'accept_bridged': False}
    data = copy.deepcopy(LINUX_PLAIN)
    data['forwarding'] = {'ip': True, 'accept_bridged': True}
    assert host_needs(normalise(data, 'kvm1'))['forwarding'] == {'ip': True, 'accept_bridged': True}


def test_forwarding_refuses_unknown_keys_non_booleans_and_open_vswitch():
    data = copy.deepcopy(LINUX_PLAIN)
    data['forwarding'] = {'ipv4': True, 'accept_bridged': 'maybe'}
    with pytest.raises(ModelError) as err:
        normalise(data, 'kvm1')
    report = err.value.report('kvm1')
    assert "unknown option 'ipv4'" in report and 'accept_bridged' in report
    ovs = {'backend': 'openvswitch', 'ethernets': {'eth0': {}}, 'bridges': {'cloudbr0': {'uplink': 'eth0'}},
           'forwarding': {'accept_bridged': True}}
    with pytest.raises(ModelError) as err:
        normalise(ovs, 'kvm1')
    assert 'kvm_network.forwarding.accept_bridged: is for Linux bridges' in err.value.report('kvm1')
