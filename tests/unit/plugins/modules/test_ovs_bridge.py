# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ovs_bridge against recorded ovs-vsctl output (fixtures/ovs/*.json, made by fixtures/ovs/record.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.modules import ovs_bridge
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.replay import (
    SNAPSHOT_ARGV,
    run_ovs_module,
    txn_argv,
)

CREATED_REAL = ['state', 'fake', 'datapath_type', 'fail_mode', 'stp_enable', 'other_config', 'external_ids']
CREATED_FAKE = ['state', 'fake', 'parent', 'vlan', 'datapath_type', 'stp_enable', 'other_config', 'external_ids']
FAKE100 = {'name': 'cloudbr100', 'parent': 'cloudbr0', 'vlan': 100}
SETTINGS = {'name': 'cloudbr0', 'fail_mode': 'secure', 'stp_enable': True, 'other_config': {'stp-forward-delay': 4},
            'external_ids': {'managed-by': 'ansible'}}

# id, module args, before fixture, after fixture, transaction commands, differing parameters, recreated
CHANGES = [
    ('create', {'name': 'cloudbr0'}, 'empty', 'bridges', [['--may-exist', 'add-br', 'cloudbr0']], CREATED_REAL,
     False),
    ('create-netdev', {'name': 'cloudbr0', 'datapath_type': 'netdev'}, 'empty', 'bridges_netdev',
     [['--may-exist', 'add-br', 'cloudbr0'], ['set', 'Bridge', 'cloudbr0', 'datapath_type=netdev']], CREATED_REAL,
     False),
    ('create-with-settings', dict(SETTINGS, name='cloudbr2'), 'seed', 'bridge_cloudbr2_with_settings',
     [['--may-exist', 'add-br', 'cloudbr2'],
      ['set', 'Bridge', 'cloudbr2', 'fail_mode=secure', 'stp_enable=true', 'other_config:stp-forward-delay=4',
       'external_ids:managed-by=ansible']], CREATED_REAL, False),
    ('create-fake', {'name': 'cloudbr2', 'parent': 'cloudbr1', 'vlan': 300}, 'seed', 'bridge_cloudbr2_fake',
     [['--may-exist', 'add-br', 'cloudbr2', 'cloudbr1', '300']], CREATED_FAKE, False),
    ('create-fake-with-ids', dict(FAKE100, external_ids={'role': 'storage'}), 'bridges_without_fake',
     'bridge_settings', [['--may-exist', 'add-br', 'cloudbr100', 'cloudbr0', '100'],
                         ['br-set-external-id', 'cloudbr100', 'role', 'storage']], CREATED_FAKE, False),
    ('settings', SETTINGS, 'seed', 'bridge_settings',
     [['set', 'Bridge', 'cloudbr0', 'fail_mode=secure', 'stp_enable=true'],
      ['set', 'Bridge', 'cloudbr0', 'other_config:stp-forward-delay=4'],
      ['set', 'Bridge', 'cloudbr0', 'external_ids:managed-by=ansible']],
     ['fail_mode', 'stp_enable', 'other_config', 'external_ids'], False),
    ('settings-back', {'name': 'cloudbr0', 'fail_mode': 'standalone', 'stp_enable': False,
                       'other_config_exclusive': True, 'external_ids': {'managed-by': None}}, 'bridge_settings', 'seed',
     [['set', 'Bridge', 'cloudbr0', 'fail_mode=standalone', 'stp_enable=false'],
      ['remove', 'Bridge', 'cloudbr0', 'other_config', 'stp-forward-delay'],
      ['remove', 'Bridge', 'cloudbr0', 'external_ids', 'managed-by']],
     ['fail_mode', 'stp_enable', 'other_config', 'external_ids'], False),
    ('datapath-in-place', {'name': 'cloudbr1', 'datapath_type': 'netdev'}, 'seed', 'seed_netdev',
     [['set', 'Bridge', 'cloudbr1', 'datapath_type=netdev']], ['datapath_type'], False),
    ('datapath-back-to-system', {'name': 'cloudbr1', 'datapath_type': 'system'}, 'seed_netdev', 'seed',
     [['set', 'Bridge', 'cloudbr1', 'datapath_type=system']], ['datapath_type'], False),
    ('fake-ids', dict(FAKE100, external_ids={'role': 'storage'}), 'seed', 'bridge_settings',
     [['br-set-external-id', 'cloudbr100', 'role', 'storage']], ['external_ids'], False),
    ('fake-ids-removed', dict(FAKE100, external_ids={'role': None}), 'bridge_settings', 'seed',
     [['br-set-external-id', 'cloudbr100', 'role']], ['external_ids'], False),
    ('fake-vlan-change', dict(FAKE100, vlan=200), 'seed', 'bridge_fake_vlan200',
     [['--if-exists', 'del-br', 'cloudbr100'], ['--may-exist', 'add-br', 'cloudbr100', 'cloudbr0', '200']],
     ['vlan'], True),
    ('fake-vlan-change-forced', dict(FAKE100, vlan=200, force=True), 'bridge_fake_with_port', 'bridge_fake_vlan200',
     [['--if-exists', 'del-br', 'cloudbr100'], ['--may-exist', 'add-br', 'cloudbr100', 'cloudbr0', '200']],
     ['vlan'], True),
    ('fake-parent-change', {'name': 'cloudbr100', 'parent': 'cloudbr1', 'vlan': 100}, 'seed',
     'bridge_fake_on_cloudbr1',
     [['--if-exists', 'del-br', 'cloudbr100'], ['--may-exist', 'add-br', 'cloudbr100', 'cloudbr1', '100']],
     ['parent'], True),
    ('real-to-fake', {'name': 'cloudbr2', 'parent': 'cloudbr1', 'vlan': 300}, 'bridge_cloudbr2_real',
     'bridge_cloudbr2_fake',
     [['--if-exists', 'del-br', 'cloudbr2'], ['--may-exist', 'add-br', 'cloudbr2', 'cloudbr1', '300']],
     ['fake', 'parent', 'vlan', 'fail_mode'], True),
    ('fake-to-real', {'name': 'cloudbr2'}, 'bridge_cloudbr2_fake', 'bridge_cloudbr2_real',
     [['--if-exists', 'del-br', 'cloudbr2'], ['--may-exist', 'add-br', 'cloudbr2']],
     ['fake', 'parent', 'vlan', 'fail_mode'], True),
    ('remove-empty-fake', {'name': 'cloudbr2', 'state': 'absent'}, 'bridge_cloudbr2_fake', 'seed',
     [['--if-exists', 'del-br', 'cloudbr2']], ['state'], False),
    ('remove-forced', {'name': 'cloudbr1', 'state': 'absent', 'force': True}, 'seed', 'without_cloudbr1',
     [['--if-exists', 'del-br', 'cloudbr1']], ['state'], False),
]


@pytest.mark.parametrize('case_id, module_args, before, after, commands, differences, recreated',
                         CHANGES, ids=[c[0] for c in CHANGES])
def test_change_applied(case_id, module_args, before, after, commands, differences, recreated):
    result, fake = run_ovs_module(ovs_bridge.main, module_args, before, after)
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
    result, fake = run_ovs_module(ovs_bridge.main, module_args, before, check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['commands'] == [txn_argv(*commands)]
    assert result['recreated'] is recreated


NOOPS = [
    ('real', {'name': 'cloudbr0'}, 'seed'),
    ('netdev', {'name': 'cloudbr0', 'datapath_type': 'netdev'}, 'seed_netdev'),
    ('empty-datapath-is-system', {'name': 'cloudbr0', 'datapath_type': 'system'}, 'seed'),
    ('unset-fail-mode-is-standalone', {'name': 'cloudbr0', 'fail_mode': 'standalone', 'stp_enable': False}, 'seed'),
    ('settings', SETTINGS, 'bridge_settings'),
    ('settings-ints-as-strings', dict(SETTINGS, other_config={'stp-forward-delay': '4'}), 'bridge_settings'),
    ('fake', FAKE100, 'seed'),
    ('fake-ids', dict(FAKE100, external_ids={'role': 'storage'}), 'bridge_settings'),
    ('fake-with-ports', FAKE100, 'bridge_fake_with_port'),
    ('absent-already', {'name': 'cloudbr9', 'state': 'absent'}, 'seed'),
]


@pytest.mark.parametrize('case_id, module_args, before', NOOPS, ids=[c[0] for c in NOOPS])
@pytest.mark.parametrize('check_mode', [False, True])
def test_noop(case_id, module_args, before, check_mode):
    result, fake = run_ovs_module(ovs_bridge.main, module_args, before, check_mode=check_mode)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert result['commands'] == []
    assert fake.argvs == [SNAPSHOT_ARGV]


def test_diff_and_result_for_fake_vlan_change():
    result, _fake = run_ovs_module(ovs_bridge.main, dict(FAKE100, vlan=200), 'seed', check_mode=True)
    assert result['diff'] == {
        'before': {'state': 'present', 'fake': True, 'parent': 'cloudbr0', 'vlan': 100, 'datapath_type': 'system',
                   'fail_mode': None, 'stp_enable': False, 'other_config': {}, 'external_ids': {}},
        'after': {'state': 'present', 'fake': True, 'parent': 'cloudbr0', 'vlan': 200, 'datapath_type': 'system',
                  'fail_mode': None, 'stp_enable': False, 'other_config': {}, 'external_ids': {}},
    }
    assert result['recreate_reason'] == ('fake bridge cloudbr100 is on cloudbr0 VLAN 100, wanted on cloudbr0 VLAN 200; '
                                         'Open vSwitch cannot change that in place')
    assert result['bridge'] == result['diff']['after']


def test_diff_for_create_and_remove():
    created, _fake = run_ovs_module(ovs_bridge.main, {'name': 'cloudbr0'}, 'empty', check_mode=True)
    assert created['diff']['before'] == {'state': 'absent'}
    assert created['diff']['after']['datapath_type'] == 'system'
    removed, _fake = run_ovs_module(ovs_bridge.main, {'name': 'cloudbr1', 'state': 'absent', 'force': True}, 'seed',
                                    check_mode=True)
    assert removed['diff']['after'] == {'state': 'absent'}
    assert removed['bridge'] is None


def test_check_mode_with_missing_parent_plans_and_warns():
    result, fake = run_ovs_module(ovs_bridge.main, {'name': 'cloudbr100', 'parent': 'cloudbr0', 'vlan': 100}, 'empty',
                                  check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['commands'] == [txn_argv(['--may-exist', 'add-br', 'cloudbr100', 'cloudbr0', '100'])]
    assert result['warnings'] == ['parent bridge cloudbr0 does not exist (yet): planned as if an earlier task created it']


FAILURES = [
    ('remove-with-ports', {'name': 'cloudbr0', 'state': 'absent'}, 'ports',
     'bridge cloudbr0 still has ports: bond0 (bond), cloudbr100 (fake bridge), patch-a, storage0, vnet0, vnet1; '
     'deleting it would delete them. Remove or move them first, or set force: true'),
    ('remove-fake-with-ports', {'name': 'cloudbr100', 'state': 'absent'}, 'bridge_fake_with_port',
     'bridge cloudbr100 still has ports: vnet1; deleting it would delete them'),
    ('recreate-fake-with-ports', dict(FAKE100, vlan=200), 'bridge_fake_with_port',
     'bridge cloudbr100 still has ports: vnet1; recreating it would delete them'),
    ('real-to-fake-with-ports', {'name': 'cloudbr1', 'parent': 'cloudbr0', 'vlan': 5}, 'seed',
     'bridge cloudbr1 still has ports: bond1 (bond); recreating it'),
    ('missing-parent', FAKE100, 'empty', 'fake bridge cloudbr100: parent bridge cloudbr0 does not exist'),
    ('parent-is-fake', {'name': 'cloudbr2', 'parent': 'cloudbr100', 'vlan': 5}, 'seed',
     'fake bridge cloudbr2: parent cloudbr100 is itself a fake bridge (on cloudbr0); the parent must be a real bridge'),
    ('name-taken-by-port', {'name': 'cloudbr2'}, 'bridge_port_named_cloudbr2',
     'bridge cloudbr2: a port of that name already exists on bridge cloudbr1'),
    ('real-only-options-on-fake', dict(FAKE100, datapath_type='netdev', stp_enable=True), 'seed',
     'bridge cloudbr100: datapath_type, stp_enable apply to real bridges only'),
    ('vlan-out-of-range', dict(FAKE100, vlan=4096), 'seed', 'vlan 4096 is out of range 0-4095'),
    ('own-parent', {'name': 'cloudbr0', 'parent': 'cloudbr0', 'vlan': 5}, 'seed', 'cannot be its own parent'),
    ('parent-without-vlan', {'name': 'cloudbr100', 'parent': 'cloudbr0'}, 'seed',
     'parameters are required together: parent, vlan'),
]


@pytest.mark.parametrize('case_id, module_args, before, message', FAILURES, ids=[c[0] for c in FAILURES])
def test_failures_change_nothing(case_id, module_args, before, message):
    result, fake = run_ovs_module(ovs_bridge.main, module_args, before)
    assert result.get('failed') is True
    assert message in result['msg']
    assert len(fake.argvs) <= 1
