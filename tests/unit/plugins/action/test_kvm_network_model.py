# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kvm_network_model action: validate once, choose the renderer, render, fail cleanly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

from unittest import mock

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.cloudstack_kvm.networking.plugins.action import kvm_network_model as action_mod
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.renderers import render

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)
UBUNTU = {'distribution': 'Ubuntu', 'os_family': 'Debian', 'distribution_major_version': '24'}
TWO_BRIDGES = {
    'ethernets': {'eth0': {}, 'eth1': {}},
    'bridges': {'cloudbr0': {'uplink': 'eth0', 'addresses': ['198.51.100.11/24'], 'gateway4': '198.51.100.1'},
                'cloudbr1': {'uplink': 'eth1'}},
    'traffic_labels': {'management': 'cloudbr0'},
}


def run(args, facts=None, gathered=None, check_mode=False):
    """Run the action as a task of host kvm1; ``gathered`` answers a setup call (None: none may run)."""
    task = Task()
    task.args = args
    task.check_mode = check_mode
    action = action_mod.ActionModule(task, mock.MagicMock(), PlayContext(), DataLoader(), None, None)
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, module_args))
        assert gathered is not None, 'the action contacted the host'
        return gathered
    task_vars = {'inventory_hostname': 'kvm1', 'ansible_facts': facts or {}}
    with mock.patch.object(action, '_execute_module', execute_module):
        return action.run(task_vars=task_vars), calls


def test_validates_chooses_and_renders_without_contacting_the_host():
    result, calls = run({'model': SEED['linux_bridge'], 'render': True, 'ovs_database_only': True}, facts=UBUNTU)
    assert not result.get('failed'), result
    assert calls == []
    assert result['changed'] is False
    assert result['model'] == normalise(SEED['linux_bridge'], 'kvm1')
    assert result['renderer'] == 'netplan'
    expected = render(normalise(SEED['linux_bridge'], 'kvm1'), 'netplan', {'host': 'kvm1', 'ovs_database_only': True})
    assert result['rendered']['files'] == expected['files']
    assert result['needs'] == {'kernel_modules': ['bridge', 'bonding', '8021q'], 'linux_bonds': True, 'vlans': True,
                               'nameservers': True, 'ipv6': [], 'management_address': '192.168.100.20',
                               'gateways': [{'target': '192.168.100.1', 'bridge': 'cloudbr0'}], 'sriov': [],
                               'forwarding': {'ip': False, 'accept_bridged': False}}


def test_a_bad_model_fails_once_with_every_problem():
    bad = copy.deepcopy(TWO_BRIDGES)
    bad['bridges']['cloudbr0']['uplink'] = 'eth9'
    bad['bridges']['cloudbr1']['vlan'] = 5000
    result, calls = run({'model': bad, 'render': True}, facts=UBUNTU)
    assert result['failed'] is True and calls == []
    lines = result['msg'].splitlines()
    assert lines[0] == 'kvm_network is invalid for host kvm1 (2 problems):'
    assert lines[1].startswith('  - host kvm1: bridge cloudbr0: uplink eth9 is not a declared ethernet or bond.')
    assert lines[2].startswith('  - host kvm1: bridge cloudbr1: vlan 5000 is outside 1-4094.')
    assert 'model' not in result and 'rendered' not in result


def test_the_model_is_normalised_once_per_host_and_run():
    first, dummy = run({'model': TWO_BRIDGES}, facts=UBUNTU)
    with mock.patch.object(action_mod.front_door, 'validate', side_effect=AssertionError('normalised again')):
        again, dummy = run({'model': copy.deepcopy(TWO_BRIDGES), 'previous': first}, facts=UBUNTU)
    assert again['model'] == first['model'] and again['fingerprint'] == first['fingerprint']
    # Another model (or another host) is normalised afresh.
    changed = copy.deepcopy(TWO_BRIDGES)
    changed['bridges']['cloudbr1']['mtu'] = 1400
    other, dummy = run({'model': changed, 'previous': first}, facts=UBUNTU)
    assert other['fingerprint'] != first['fingerprint'] and other['model']['bridges']['cloudbr1']['mtu'] == 1400


def test_os_facts_are_read_only_when_the_renderer_is_chosen_by_os():
    gathered = {'ansible_facts': dict(UBUNTU, hostname='kvm1')}
    result, calls = run({'model': TWO_BRIDGES}, gathered=gathered)
    assert calls == [('ansible.legacy.setup', {'gather_subset': ['min']})]
    assert result['renderer'] == 'netplan' and result['ansible_facts'] == gathered['ansible_facts']
    for args in ({'model': TWO_BRIDGES, 'renderer': 'ifupdown'}, {'model': dict(TWO_BRIDGES, renderer='ifcfg')},
                 {'model': TWO_BRIDGES, 'choose_renderer': False}):
        result, calls = run(args)
        assert calls == [] and not result.get('failed'), result
    # gather_facts: false contacts no host: the renderer must then be known.
    result, calls = run({'model': TWO_BRIDGES, 'gather_facts': False})
    assert calls == [] and result['failed'] is True
    assert 'renderer is auto but no OS facts are known for this host' in result['msg']


def test_runs_in_check_mode_and_refuses_unknown_options():
    result, dummy = run({'model': TWO_BRIDGES, 'renderer': 'netplan'}, check_mode=True)
    assert not result.get('failed') and result['renderer'] == 'netplan'
    result, dummy = run({'model': TWO_BRIDGES, 'renderer': 'systemd'})
    assert result['failed'] is True and 'renderer' in result['msg'] and 'netplan' in result['msg']


def test_openvswitch_render_carries_the_database_state():
    result, dummy = run({'model': SEED['openvswitch'], 'render': True, 'renderer': 'ifupdown'})
    assert result['needs']['kernel_modules'] == ['openvswitch'] and result['needs']['linux_bonds'] is False
    assert 'cloudbr100' in result['rendered']['ovs_state']['bridges']
    assert 'add-br cloudbr100 cloudbr0 100' in result['rendered']['ovs_script']


@pytest.mark.parametrize('model, where', [
    ({'bridges': {'cloudbr0': {'addresses': ['2001:db8::11/64'], 'gateway6': '2001:db8::1'}}},
     ['2001:db8::11/64', 'cloudbr0']),
    ({'bridges': {'cloudbr0': {'dhcp6': True}}}, ['cloudbr0']),
])
def test_needs_say_where_ipv6_is_used(model, where):
    result, dummy = run({'model': model, 'choose_renderer': False})
    assert result['needs']['ipv6'] == where and result['needs']['management_address'] == ''


def test_warns_once_when_a_guest_label_device_is_too_long_for_the_agents_vlan_bridges():
    model = copy.deepcopy(TWO_BRIDGES)
    model['ethernets'] = {'eth0': {}, 'enp175s0f0': {}}
    model['bridges']['cloudbr1']['uplink'] = 'enp175s0f0'
    model['traffic_labels'].update({'guest': 'cloudbr1', 'public': 'cloudbr0'})
    result, dummy = run({'model': model, 'choose_renderer': False})
    assert result['warnings'] == [
        "host kvm1: traffic label guest (cloudbr1): CloudStack names the bridge of a VLAN guest network "
        "brenp175s0f0-<vlan>, which for VLAN 4094 is 17 characters, over Linux's 15; only VLANs up to 99 can "
        "be used. Fix: give enp175s0f0 a shorter name (at most 8 characters)"]
    again, dummy = run({'model': model, 'choose_renderer': False, 'previous': {'fingerprint': result['fingerprint'], 'model': result['model']}})
    assert 'warnings' not in again


def test_no_vlan_bridge_warning_on_openvswitch():
    model = copy.deepcopy(TWO_BRIDGES)
    model.update(backend='openvswitch', ethernets={'eth0': {}, 'enp175s0f0': {}})
    model['bridges']['cloudbr1']['uplink'] = 'enp175s0f0'
    model['traffic_labels']['guest'] = 'cloudbr1'
    result, dummy = run({'model': model, 'choose_renderer': False})
    assert not result.get('failed'), result
    assert 'warnings' not in result


@pytest.mark.parametrize('bad', [
    {'backend': 'linux_bridge', 'bridges': {'cloudbr0': {'uplink': 'bond9'}}},
    {'backend': 'linux_bridge', 'ethernets': {'eth0': {}}, 'bridges': {'cloudbr0': {'uplink': 'eth0', 'vlan': 5000}}},
])
def test_the_action_and_the_filters_refuse_a_model_in_the_same_words(bad):
    """One front door: the action (what the roles call) and the filters fail with one text."""
    from ansible.errors import AnsibleFilterError
    from ansible_collections.cloudstack_kvm.networking.plugins.filter import kvm_network as filters
    result, dummy = run({'model': bad, 'render': True, 'renderer': 'netplan'})
    assert result['failed'] and 'host kvm1: bridge cloudbr0: ' in result['msg']
    for call in (lambda: filters.kvm_network_validate(bad, 'kvm1'),
                 lambda: filters.kvm_network_render(bad, 'netplan', host='kvm1')):
        with pytest.raises(AnsibleFilterError) as failed:
            call()
        assert str(failed.value) == result['msg']


@pytest.mark.parametrize('model', [None, 'cloudbr0', ['eth0']])
def test_a_host_without_a_model_is_told_to_define_one(model):
    result, calls = run({'model': model, 'render': True}, facts=UBUNTU)
    assert result['failed'] is True and calls == []
    assert result['msg'] == ('host kvm1: kvm_network is not defined (or not a mapping). Fix: define it in the '
                             'inventory (see docs/model.md and examples/).')


def test_traffic_targets_are_checked_against_the_model():
    targets = [{'bridge': 'cloudbr1', 'target': '198.51.100.254'}, {'bridge': 'cloudbr9', 'target': '198.51.100.1'}]
    result, calls = run({'model': TWO_BRIDGES, 'choose_renderer': False, 'traffic': targets})
    assert result['failed'] is True and calls == []
    assert result['msg'] == ('host kvm1: kvm_network_verify_traffic: 198.51.100.1 through cloudbr9: cloudbr9 is not a '
                             'bridge of the model (cloudbr0, cloudbr1). Fix: name one of them')
    result, calls = run({'model': TWO_BRIDGES, 'choose_renderer': False, 'traffic': targets[:1]})
    assert not result.get('failed') and result['model']['bridges']['cloudbr1']['uplink'] == 'eth1'


def test_a_render_says_what_the_host_gets():
    result, calls = run({'model': TWO_BRIDGES, 'render': True}, facts=UBUNTU)
    assert result['msg'] == 'linux_bridge by netplan: %s' % ', '.join(f['path'] for f in result['rendered']['files'])
    result, calls = run({'model': TWO_BRIDGES, 'choose_renderer': False})
    assert calls == []
    assert 'msg' not in result


def test_libvirt_networks_are_checked_against_the_model_on_the_controller():
    networks = [{'name': 'public', 'kind': 'bridge', 'bridge': 'cloudbr1'},
                {'name': 'wrong', 'kind': 'bridge', 'bridge': 'cloudbr7'}]
    result, calls = run({'model': TWO_BRIDGES, 'choose_renderer': False, 'libvirt_networks': networks})
    assert result['failed'] is True and calls == []
    assert result['msg'] == (
        'kvm_libvirt_networks is invalid for host kvm1 (1 problem):\n  - host kvm1: libvirt network wrong: bridge '
        'cloudbr7 is not a bridge of it in the host model (kvm_network), and a bridge network needs a Linux bridge. '
        'Fix: name one of cloudbr0, cloudbr1.')
    result, calls = run({'model': TWO_BRIDGES, 'choose_renderer': False, 'libvirt_networks': networks[:1]})
    assert result['libvirt_networks'] == {'public': {'name': 'public', 'kind': 'bridge', 'autostart': True,
                                                     'state': 'present', 'bridge': 'cloudbr1'}}
