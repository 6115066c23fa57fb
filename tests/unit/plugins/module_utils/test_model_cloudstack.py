# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the CloudStack agent makes of a model: label devices and VLAN bridge names."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import cloudstack
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise

MODEL = normalise({
    'ethernets': {'eth0': {}, 'eth1': {}},
    'bonds': {'bond0': {'interfaces': ['eth0', 'eth1']}},
    'bridges': {'cloudbr0': {'uplink': 'bond0'}, 'cloudbr100': {'uplink': 'bond0', 'vlan': 100},
                'hostonly0': {}},
    'traffic_labels': {'guest': 'cloudbr0', 'public': 'bond0', 'storage': 'cloudbr100'},
})


@pytest.mark.parametrize('label, device', [
    ('cloudbr0', 'bond0'), ('cloudbr100', 'bond0'), ('bond0', 'bond0'), ('hostonly0', 'hostonly0'),
])
def test_agent_device(label, device):
    assert cloudstack.agent_device(MODEL, label) == device


@pytest.mark.parametrize('device, highest', [
    ('bond0', 4094), ('cloudbr0', 4094), ('bond0.100', 999), ('enp175s0f0', 99), ('enp175s0f0np0', 0),
])
def test_highest_vlan_that_fits(device, highest):
    assert cloudstack.highest_vlan_that_fits(device) == highest
    if highest:
        assert len(cloudstack.vlan_bridge_name(device, highest)) <= 15
        assert highest == 4094 or len(cloudstack.vlan_bridge_name(device, highest + 1)) > 15


def test_short_devices_warn_nothing():
    assert cloudstack.label_warnings(MODEL) == []


def test_a_device_with_no_room_at_all():
    model = normalise({'ethernets': {'enx525400000001': {}}, 'bridges': {'cloudbr0': {'uplink': 'enx525400000001'}},
                       'traffic_labels': {'public': 'cloudbr0'}})
    [warning] = cloudstack.label_warnings(model)
    assert warning.startswith('traffic label public (cloudbr0): CloudStack names the bridge of a VLAN public network '
                              'brenx525400000001-<vlan>')
    assert 'no VLAN at all can be used' in warning
