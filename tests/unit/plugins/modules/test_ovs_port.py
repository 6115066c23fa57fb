# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ovs_port against recorded ovs-vsctl output (fixtures/ovs/*.json, made by fixtures/ovs/record.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.modules import ovs_port
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.replay import (
    SNAPSHOT_ARGV,
    run_ovs_module,
    txn_argv,
)

STORAGE0 = {'bridge': 'cloudbr0', 'port': 'storage0', 'type': 'internal', 'tag': 200}
CREATED = ['state', 'bridge', 'interfaces', 'type', 'interface_options', 'trunks', 'other_config', 'external_ids']
CREATED_TAGGED = ['state', 'bridge', 'interfaces', 'type', 'interface_options', 'tag', 'trunks', 'other_config',
                  'external_ids']

# id, module args, before fixture, after fixture, transaction commands, differing parameters, recreated
CHANGES = [
    ('create-system-port', {'bridge': 'cloudbr0', 'port': 'vnet0'}, 'seed', 'ports',
     [['add-port', 'cloudbr0', 'vnet0']], CREATED, False),
    ('create-internal-tagged', STORAGE0, 'seed', 'ports',
     [['add-port', 'cloudbr0', 'storage0', 'tag=200'], ['set', 'Interface', 'storage0', 'type=internal']],
     CREATED_TAGGED, False),
    ('create-on-fake-bridge', {'bridge': 'cloudbr100', 'port': 'vnet1'}, 'seed', 'ports',
     [['add-port', 'cloudbr100', 'vnet1', 'tag=100']], CREATED_TAGGED, False),
    ('create-patch', {'bridge': 'cloudbr0', 'port': 'patch-a', 'type': 'patch', 'peer': 'patch-b'}, 'seed', 'ports',
     [['add-port', 'cloudbr0', 'patch-a'], ['set', 'Interface', 'patch-a', 'type=patch', 'options:peer=patch-b']],
     CREATED, False),
    ('create-trunk-with-ids', {'bridge': 'cloudbr1', 'port': 'eth9', 'trunks': [400, 300], 'vlan_mode': 'trunk',
                               'external_ids': {'role': 'uplink'}, 'other_config': {'priority-tags': True}},
     'seed', 'ports',
     [['add-port', 'cloudbr1', 'eth9', 'trunks=[300,400]', 'vlan_mode=trunk', 'other_config:priority-tags=true',
       'external_ids:role=uplink']],
     ['state', 'bridge', 'interfaces', 'type', 'interface_options', 'trunks', 'vlan_mode', 'other_config',
      'external_ids'], False),
    ('tag-and-type-drift', STORAGE0, 'ports_drift', 'ports',
     [['set', 'Port', 'storage0', 'tag=200'], ['set', 'Interface', 'storage0', 'type=internal']],
     ['type', 'tag'], False),
    ('external-id-removed', dict(STORAGE0, external_ids={'owner': None}, tag=300, type='system'), 'ports_drift',
     'ports_drift_no_owner', [['remove', 'Port', 'storage0', 'external_ids', 'owner']], ['external_ids'], False),
    ('patch-peer-drift', {'bridge': 'cloudbr0', 'port': 'patch-a', 'type': 'patch', 'peer': 'patch-b'},
     'ports_drift', 'ports', [['set', 'Interface', 'patch-a', 'options:peer=patch-b']], ['interface_options'], False),
    ('trunks-and-exclusive-other-config', {'bridge': 'cloudbr1', 'port': 'eth9', 'trunks': [300, 400],
                                           'other_config': {'priority-tags': 'true'},
                                           'other_config_exclusive': True}, 'ports_drift', 'ports',
     [['set', 'Port', 'eth9', 'trunks=[300,400]'], ['remove', 'Port', 'eth9', 'other_config', 'extra']],
     ['trunks', 'other_config'], False),
    ('type-back-to-system', dict(STORAGE0, type='system'), 'ports', 'ports_drift_type_only',
     [['set', 'Interface', 'storage0', 'type=""']], ['type'], False),
    ('untag', {'bridge': 'cloudbr0', 'port': 'storage0', 'tag': -1}, 'ports', 'ports_storage0_untagged',
     [['clear', 'Port', 'storage0', 'tag']], ['tag'], False),
    ('move-to-other-bridge', {'bridge': 'cloudbr0', 'port': 'vnet0'}, 'ports_drift', 'ports',
     [['--if-exists', 'del-port', 'vnet0'], ['add-port', 'cloudbr0', 'vnet0']], ['bridge'], True),
    ('remove', {'port': 'storage0', 'state': 'absent'}, 'ports', 'ports_without_storage0',
     [['--if-exists', 'del-port', 'storage0']], ['state'], False),
]


@pytest.mark.parametrize('case_id, module_args, before, after, commands, differences, recreated',
                         CHANGES, ids=[c[0] for c in CHANGES])
def test_change_applied(case_id, module_args, before, after, commands, differences, recreated):
    result, fake = run_ovs_module(ovs_port.main, module_args, before, after)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    expected = txn_argv(*commands)
    assert fake.argvs == [SNAPSHOT_ARGV, expected, SNAPSHOT_ARGV]
    assert result['commands'] == [expected]
    assert [d['name'] for d in result['differences']] == differences
    assert result['recreated'] is recreated


@pytest.mark.parametrize('case_id, module_args, before, after, commands, differences, recreated',
                         CHANGES, ids=[c[0] for c in CHANGES])
def test_change_in_check_mode_runs_nothing(case_id, module_args, before, after, commands, differences, recreated):
    result, fake = run_ovs_module(ovs_port.main, module_args, before, check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['commands'] == [txn_argv(*commands)]
    assert result['recreated'] is recreated


NOOPS = [
    ('system-port', {'bridge': 'cloudbr0', 'port': 'vnet0'}, 'ports'),
    ('internal-tagged', dict(STORAGE0, external_ids={}), 'ports'),
    ('fake-bridge-member-by-fake-name', {'bridge': 'cloudbr100', 'port': 'vnet1'}, 'ports'),
    ('fake-bridge-member-by-parent-and-tag', {'bridge': 'cloudbr0', 'port': 'vnet1', 'tag': 100}, 'ports'),
    ('patch', {'bridge': 'cloudbr1', 'port': 'patch-b', 'type': 'patch', 'peer': 'patch-a'}, 'ports'),
    ('trunk-order-and-ints', {'bridge': 'cloudbr1', 'port': 'eth9', 'trunks': [400, 300, 300],
                              'other_config': {'priority-tags': True}, 'vlan_mode': 'trunk'}, 'ports'),
    ('bridge-local-port', {'bridge': 'cloudbr0', 'port': 'cloudbr0', 'type': 'internal'}, 'ports'),
    ('absent-already', {'port': 'storage0', 'state': 'absent'}, 'ports_without_storage0'),
    ('absent-on-other-bridge', {'port': 'vnet0', 'bridge': 'cloudbr1', 'state': 'absent'}, 'ports'),
]


@pytest.mark.parametrize('case_id, module_args, before', NOOPS, ids=[c[0] for c in NOOPS])
@pytest.mark.parametrize('check_mode', [False, True])
def test_noop(case_id, module_args, before, check_mode):
    result, fake = run_ovs_module(ovs_port.main, module_args, before, check_mode=check_mode)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert result['commands'] == []
    assert fake.argvs == [SNAPSHOT_ARGV]


def test_bond_becomes_plain_port_by_recreation():
    result, fake = run_ovs_module(ovs_port.main, {'bridge': 'cloudbr1', 'port': 'bond1'}, 'seed', check_mode=True)
    assert result['recreated'] is True
    assert result['recreate_reason'] == ('port bond1 exists as a bond of eth2, eth3; it is recreated with one '
                                         'interface named bond1')
    assert result['commands'] == [txn_argv(['--if-exists', 'del-port', 'bond1'],
                                           ['add-port', 'cloudbr1', 'bond1', 'other_config:bond-detect-mode=miimon',
                                            'other_config:bond-miimon-interval=100'])]
    assert result['diff']['before']['interfaces'] == ['eth2', 'eth3']
    assert result['diff']['after']['interfaces'] == ['bond1']


def test_move_reports_reason_and_diff():
    result, _fake = run_ovs_module(ovs_port.main, {'bridge': 'cloudbr0', 'port': 'vnet0'}, 'ports_drift',
                                   check_mode=True)
    assert result['recreate_reason'] == ('port vnet0 is on bridge cloudbr1, wanted on cloudbr0; Open vSwitch cannot '
                                         'move a port between bridges')
    assert result['diff']['before']['bridge'] == 'cloudbr1'
    assert result['diff']['after']['bridge'] == 'cloudbr0'


def test_diff_shows_port_and_interface():
    result, _fake = run_ovs_module(ovs_port.main, STORAGE0, 'ports_drift', check_mode=True)
    assert result['diff'] == {
        'before': {'state': 'present', 'bridge': 'cloudbr0', 'interfaces': ['storage0'], 'type': 'system',
                   'interface_options': {}, 'tag': 300, 'trunks': [], 'vlan_mode': None, 'other_config': {},
                   'external_ids': {'owner': 'someone'}},
        'after': {'state': 'present', 'bridge': 'cloudbr0', 'interfaces': ['storage0'], 'type': 'internal',
                  'interface_options': {}, 'tag': 200, 'trunks': [], 'vlan_mode': None, 'other_config': {},
                  'external_ids': {'owner': 'someone'}},
    }
    assert result['port'] == result['diff']['after']


def test_absent_on_other_bridge_warns():
    result, _fake = run_ovs_module(ovs_port.main, {'port': 'vnet0', 'bridge': 'cloudbr1', 'state': 'absent'}, 'ports')
    assert result['warnings'] == ['port vnet0 is on bridge cloudbr0, not on cloudbr1: left alone']


FAILURES = [
    ('port-is-fake-bridge', {'bridge': 'cloudbr0', 'port': 'cloudbr100'}, 'seed',
     'cloudbr100 is a fake bridge (a VLAN bridge on cloudbr0), not a plain port'),
    ('interface-in-bond', {'bridge': 'cloudbr0', 'port': 'eth0'}, 'seed',
     'port eth0: interface eth0 is already a member of bond bond0 on bridge cloudbr0'),
    ('patch-without-peer', {'bridge': 'cloudbr0', 'port': 'patch-c', 'type': 'patch'}, 'seed',
     'port patch-c: a patch port needs its peer'),
    ('peer-on-internal', {'bridge': 'cloudbr0', 'port': 'storage0', 'peer': 'x'}, 'ports',
     'port storage0: peer only applies to type patch, the port is internal'),
    ('fake-bridge-tag-mismatch', {'bridge': 'cloudbr100', 'port': 'vnet1', 'tag': 7}, 'ports',
     'bridge cloudbr100 is a fake bridge on VLAN 100, which fixes the tag; tag 7 contradicts it'),
    ('missing-bridge', {'bridge': 'cloudbr9', 'port': 'vnet5'}, 'seed',
     'port vnet5: bridge cloudbr9 does not exist; create it first'),
    ('tag-out-of-range', {'bridge': 'cloudbr0', 'port': 'vnet5', 'tag': 4096}, 'seed', 'tag 4096 is out of range'),
    ('trunk-out-of-range', {'bridge': 'cloudbr0', 'port': 'vnet5', 'trunks': [1, 9999]}, 'seed',
     'trunk VLAN 9999 is out of range'),
    ('bridge-required', {'port': 'vnet5'}, 'seed', 'state is present but all of the following are missing: bridge'),
]


@pytest.mark.parametrize('case_id, module_args, before, message', FAILURES, ids=[c[0] for c in FAILURES])
def test_failures_change_nothing(case_id, module_args, before, message):
    result, fake = run_ovs_module(ovs_port.main, module_args, before)
    assert result.get('failed') is True
    assert message in result['msg']
    assert len(fake.argvs) <= 1


def test_check_mode_with_missing_bridge_plans_and_warns():
    result, fake = run_ovs_module(ovs_port.main, {'bridge': 'cloudbr9', 'port': 'vnet5', 'type': 'internal'}, 'seed',
                                  check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['commands'] == [txn_argv(['add-port', 'cloudbr9', 'vnet5'],
                                           ['set', 'Interface', 'vnet5', 'type=internal'])]
    assert result['warnings'] == ['bridge cloudbr9 does not exist (yet): planned as if an earlier task created it']
