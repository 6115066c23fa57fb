# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent.properties keys a host gets from its model."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudstack_kvm.networking.plugins.filter.cloudstack_agent_properties import (
    cloudstack_agent_properties,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.agent import value_problems

with open(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)


def test_linux_bridge_host():
    props = cloudstack_agent_properties(SEED['linux_bridge'], 'kvm1', servers=['ms1.example.org', '198.51.100.5'],
                                        algorithm='roundrobin', check_interval=300)
    assert props == {
        'network.bridge.type': 'native', 'libvirt.vif.driver': 'com.cloud.hypervisor.kvm.resource.BridgeVifDriver',
        'guest.network.device': 'cloudbr0', 'public.network.device': 'cloudbr1', 'private.network.device': 'cloudbr0',
        'host': 'ms1.example.org,198.51.100.5@roundrobin', 'host.lb.check.interval': '300'}
    assert value_problems(props) == []


def test_openvswitch_host_with_dpdk_and_an_override():
    props = cloudstack_agent_properties(SEED['openvswitch'], 'kvm1', dpdk=True, dpdk_ovs_path='/var/run/openvswitch',
                                        extra={'workers': '8', 'libvirt.vif.driver': 'my.own.VifDriver'})
    assert props['network.bridge.type'] == 'openvswitch'
    assert props['libvirt.vif.driver'] == 'my.own.VifDriver'
    assert props['openvswitch.dpdk.enabled'] == 'true' and props['openvswitch.dpdk.ovs.path'] == '/var/run/openvswitch'
    assert props['workers'] == '8' and 'host' not in props


def test_labels_that_are_missing_are_not_written():
    model = copy.deepcopy(SEED['linux_bridge'])
    model['traffic_labels'] = {'guest': 'cloudbr1'}
    props = cloudstack_agent_properties(model)
    assert [k for k in props if k.endswith('.network.device')] == ['guest.network.device']


@pytest.mark.parametrize('kwargs, fragment', [
    ({'dpdk': True, 'dpdk_ovs_path': '/var/run/openvswitch'}, 'host kvm1: DPDK was asked for, but kvm_network.backend is linux_bridge'),
    ({'algorithm': 'shuffle'}, 'without management servers'),
    ({'servers': ['ms1'], 'algorithm': 'fastest'}, "algorithm 'fastest' is not one the agent knows"),
])
def test_refused_on_the_controller(kwargs, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        cloudstack_agent_properties(SEED['linux_bridge'], 'kvm1', **kwargs)
    assert fragment in str(err.value)


def test_dpdk_without_path_is_refused():
    with pytest.raises(AnsibleFilterError, match='openvswitch.dpdk.ovs.path'):
        cloudstack_agent_properties(SEED['openvswitch'], 'kvm1', dpdk=True)
