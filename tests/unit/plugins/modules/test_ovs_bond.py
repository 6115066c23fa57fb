# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ovs_bond against recorded ovs-vsctl output (fixtures/ovs/*.json, made by fixtures/ovs/record.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.modules import ovs_bond
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs import replay
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.replay import (
    SNAPSHOT_ARGV,
    iface_uuid,
    run_ovs_module,
    txn_argv,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import FakeRunCommand, run_module

SEED_OPTIONS = ['bond_mode=active-backup', 'lacp=off', 'other_config:bond-detect-mode=miimon',
                'other_config:bond-miimon-interval=100']
BOND0 = {'bridge': 'cloudbr0', 'port': 'bond0', 'interfaces': ['eth0', 'eth1'], 'bond_mode': 'active-backup',
         'lacp': 'off', 'other_config': {'bond-detect-mode': 'miimon', 'bond-miimon-interval': 100}}
BOND1 = dict(BOND0, bridge='cloudbr1', port='bond1', interfaces=['eth2', 'eth3'])


def args(**kw):
    a = dict(BOND0)
    a.update(kw)
    return a


# id, module args, before fixture, after fixture, expected transaction commands (callable for
# UUIDs from the fixture), names of the differing parameters, recreated
CHANGES = [
    ('create', BOND0, 'bridges', 'seed_without_bond1',
     [['add-bond', 'cloudbr0', 'bond0', 'eth0', 'eth1'] + SEED_OPTIONS],
     ['state', 'bridge', 'interfaces', 'bond_mode', 'lacp', 'bond_updelay', 'bond_downdelay', 'trunks',
      'other_config', 'external_ids'], False),
    ('create-netdev-minimal', {'bridge': 'cloudbr1', 'port': 'bond1', 'interfaces': ['eth3', 'eth2']},
     'bridges_netdev', 'seed_netdev',
     [['add-bond', 'cloudbr1', 'bond1', 'eth3', 'eth2']],
     ['state', 'bridge', 'interfaces', 'bond_mode', 'lacp', 'bond_updelay', 'bond_downdelay', 'trunks',
      'other_config', 'external_ids'], False),
    ('members-swapped', BOND0, 'bond_members_swapped', 'seed',
     lambda: [['--id=@m0', 'create', 'Interface', 'name=eth1'], ['add', 'Port', 'bond0', 'interfaces', '@m0'],
              ['remove', 'Port', 'bond0', 'interfaces', iface_uuid('bond_members_swapped', 'eth4')]],
     ['interfaces'], False),
    ('member-added-by-hand', BOND0, 'bond_member_added', 'seed',
     lambda: [['remove', 'Port', 'bond0', 'interfaces', iface_uuid('bond_member_added', 'eth4')]],
     ['interfaces'], False),
    ('member-replaced-by-module', args(interfaces=['eth0', 'eth4']), 'seed', 'bond_members_swapped',
     lambda: [['--id=@m0', 'create', 'Interface', 'name=eth4'], ['add', 'Port', 'bond0', 'interfaces', '@m0'],
              ['remove', 'Port', 'bond0', 'interfaces', iface_uuid('seed', 'eth1')]],
     ['interfaces'], False),
    ('mode', BOND0, 'bond_mode_slb', 'seed', [['set', 'Port', 'bond0', 'bond_mode=active-backup']],
     ['bond_mode'], False),
    ('lacp-and-mode', BOND0, 'bond_lacp_tcp', 'seed',
     [['set', 'Port', 'bond0', 'bond_mode=active-backup', 'lacp=off']], ['bond_mode', 'lacp'], False),
    ('lacp-passive', BOND0, 'bond_lacp_passive', 'seed', [['set', 'Port', 'bond0', 'lacp=off']], ['lacp'], False),
    ('to-balance-tcp', args(bond_mode='balance-tcp', lacp='active'), 'seed', 'bond_lacp_tcp',
     [['set', 'Port', 'bond0', 'bond_mode=balance-tcp', 'lacp=active']], ['bond_mode', 'lacp'], False),
    ('other-config-merge', BOND0, 'bond_other_config', 'bond_other_config_merged',
     [['set', 'Port', 'bond0', 'other_config:bond-miimon-interval=100']], ['other_config'], False),
    ('other-config-exclusive', args(other_config_exclusive=True), 'bond_other_config', 'seed',
     [['remove', 'Port', 'bond0', 'other_config', 'lacp-time'],
      ['set', 'Port', 'bond0', 'other_config:bond-miimon-interval=100']], ['other_config'], False),
    ('other-config-remove-key', args(other_config={'lacp-time': None, 'bond-miimon-interval': '100'}),
     'bond_other_config', 'seed',
     [['remove', 'Port', 'bond0', 'other_config', 'lacp-time'],
      ['set', 'Port', 'bond0', 'other_config:bond-miimon-interval=100']], ['other_config'], False),
    ('delays', args(bond_updelay=0, bond_downdelay=0), 'bond_delays', 'seed',
     [['set', 'Port', 'bond0', 'bond_updelay=0', 'bond_downdelay=0']], ['bond_updelay', 'bond_downdelay'], False),
    ('set-delays', args(bond_updelay=100, bond_downdelay=50), 'seed', 'bond_delays',
     [['set', 'Port', 'bond0', 'bond_updelay=100', 'bond_downdelay=50']], ['bond_updelay', 'bond_downdelay'], False),
    ('tag-and-trunks-removed', args(tag=-1, trunks=[]), 'bond_vlan', 'seed',
     [['clear', 'Port', 'bond0', 'tag'], ['set', 'Port', 'bond0', 'trunks=[]']], ['tag', 'trunks'], False),
    ('tag-set', args(tag=42, trunks=[200, 100], vlan_mode='native-untagged'), 'seed', 'bond_vlan',
     [['set', 'Port', 'bond0', 'tag=42', 'trunks=[100,200]', 'vlan_mode=native-untagged']],
     ['tag', 'trunks', 'vlan_mode'], False),
    ('external-ids-set', args(external_ids={'owner': 'ansible'}), 'seed', 'bond_external_ids',
     [['set', 'Port', 'bond0', 'external_ids:owner=ansible']], ['external_ids'], False),
    ('external-ids-removed', args(external_ids={'owner': None}), 'bond_external_ids', 'seed',
     [['remove', 'Port', 'bond0', 'external_ids', 'owner']], ['external_ids'], False),
    ('recreate-plain-port', BOND0, 'bond_plain_port', 'seed',
     [['--if-exists', 'del-port', 'bond0'],
      ['add-bond', 'cloudbr0', 'bond0', 'eth0', 'eth1', 'bond_mode=active-backup', 'lacp=off', 'tag=7',
       'other_config:bond-detect-mode=miimon', 'other_config:bond-miimon-interval=100']],
     ['interfaces', 'other_config'], True),
    ('recreate-other-bridge', BOND0, 'bond_other_bridge', 'seed',
     [['--if-exists', 'del-port', 'bond0'], ['add-bond', 'cloudbr0', 'bond0', 'eth0', 'eth1'] + SEED_OPTIONS],
     ['bridge'], True),
    ('recreate-onto-fake-bridge', dict(BOND1, bridge='cloudbr100'), 'seed', 'bond_on_fake_bridge',
     [['--if-exists', 'del-port', 'bond1'],
      ['add-bond', 'cloudbr100', 'bond1', 'eth2', 'eth3', 'bond_mode=active-backup', 'lacp=off', 'tag=100',
       'other_config:bond-detect-mode=miimon', 'other_config:bond-miimon-interval=100']],
     ['bridge', 'tag'], True),
    ('remove', {'port': 'bond1', 'state': 'absent'}, 'seed', 'seed_without_bond1',
     [['--if-exists', 'del-port', 'bond1']], ['state'], False),
    ('remove-on-named-bridge', {'port': 'bond1', 'bridge': 'cloudbr1', 'state': 'absent'}, 'seed',
     'seed_without_bond1', [['--if-exists', 'del-port', 'bond1']], ['state'], False),
]


@pytest.mark.parametrize('case_id, module_args, before, after, commands, differences, recreated',
                         CHANGES, ids=[c[0] for c in CHANGES])
def test_change_applied(case_id, module_args, before, after, commands, differences, recreated):
    if callable(commands):
        commands = commands()
    result, fake = run_ovs_module(ovs_bond.main, module_args, before, after)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    expected = txn_argv(*commands)
    assert fake.argvs == [SNAPSHOT_ARGV, expected, SNAPSHOT_ARGV]
    assert result['commands'] == [expected]
    assert [d['name'] for d in result['differences']] == differences
    assert result['recreated'] is recreated
    assert (result['recreate_reason'] is not None) is recreated


@pytest.mark.parametrize('case_id, module_args, before, after, commands, differences, recreated',
                         CHANGES, ids=[c[0] for c in CHANGES])
def test_change_in_check_mode_runs_nothing(case_id, module_args, before, after, commands, differences, recreated):
    if callable(commands):
        commands = commands()
    result, fake = run_ovs_module(ovs_bond.main, module_args, before, check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == [SNAPSHOT_ARGV], 'check mode ran more than the read'
    assert result['commands'] == [txn_argv(*commands)]
    assert [d['name'] for d in result['differences']] == differences
    assert result['recreated'] is recreated


NOOPS = [
    ('seed-bond0', BOND0, 'seed'),
    ('seed-bond1', BOND1, 'seed'),
    ('netdev', BOND1, 'seed_netdev'),
    ('members-in-other-order', args(interfaces=['eth1', 'eth0']), 'seed'),
    ('only-members-given', {'bridge': 'cloudbr0', 'port': 'bond0', 'interfaces': ['eth0', 'eth1']}, 'bond_vlan'),
    ('unset-mode-and-lacp-are-defaults', BOND0, 'bond_unset_defaults'),
    ('delays-unmanaged', BOND0, 'bond_delays'),
    ('other-config-ints-and-strings', args(other_config={'bond-miimon-interval': '100'}), 'seed'),
    ('fake-bridge-by-name', dict(BOND1, bridge='cloudbr100'), 'bond_on_fake_bridge'),
    ('fake-bridge-as-parent-and-tag', dict(BOND1, bridge='cloudbr0', tag=100), 'bond_on_fake_bridge'),
    ('absent-already', {'port': 'bond1', 'state': 'absent'}, 'seed_without_bond1'),
    ('tag-cleared-already', args(tag=-1, trunks=[]), 'seed'),
]


@pytest.mark.parametrize('case_id, module_args, before', NOOPS, ids=[c[0] for c in NOOPS])
@pytest.mark.parametrize('check_mode', [False, True])
def test_noop(case_id, module_args, before, check_mode):
    result, fake = run_ovs_module(ovs_bond.main, module_args, before, check_mode=check_mode)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert result['commands'] == []
    assert result['differences'] == []
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['diff']['before'] == result['diff']['after']


def test_absent_on_other_bridge_leaves_port_and_warns():
    result, fake = run_ovs_module(ovs_bond.main, {'port': 'bond1', 'bridge': 'cloudbr0', 'state': 'absent'}, 'seed')
    assert result['changed'] is False
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['warnings'] == ['port bond1 is on bridge cloudbr1, not on cloudbr0: left alone']
    assert result['bond']['interfaces'] == ['eth2', 'eth3']


def test_diff_and_result_show_the_truth():
    module_args = args(interfaces=['eth0', 'eth4'], bond_mode='balance-tcp', lacp='active',
                       other_config={'lacp-time': 'fast'})
    result, _fake = run_ovs_module(ovs_bond.main, module_args, 'seed', check_mode=True)
    before, after = result['diff']['before'], result['diff']['after']
    assert before == {'state': 'present', 'bridge': 'cloudbr0', 'interfaces': ['eth0', 'eth1'],
                      'bond_mode': 'active-backup', 'lacp': 'off', 'bond_updelay': 0, 'bond_downdelay': 0,
                      'tag': None, 'trunks': [], 'vlan_mode': None,
                      'other_config': {'bond-detect-mode': 'miimon', 'bond-miimon-interval': '100'},
                      'external_ids': {}}
    assert after == dict(before, interfaces=['eth0', 'eth4'], bond_mode='balance-tcp', lacp='active',
                         other_config={'bond-detect-mode': 'miimon', 'bond-miimon-interval': '100',
                                       'lacp-time': 'fast'})
    assert result['bond'] == after
    assert result['differences'][0] == {'name': 'interfaces', 'active': ['eth0', 'eth1'], 'wanted': ['eth0', 'eth4']}


def test_diff_for_create_and_remove():
    created, _fake = run_ovs_module(ovs_bond.main, BOND0, 'bridges', check_mode=True)
    assert created['diff']['before'] == {'state': 'absent'}
    assert created['diff']['after']['interfaces'] == ['eth0', 'eth1']
    removed, _fake = run_ovs_module(ovs_bond.main, {'port': 'bond0', 'state': 'absent'}, 'seed', check_mode=True)
    assert removed['diff']['after'] == {'state': 'absent'}
    assert removed['bond'] is None
    assert removed['diff']['before']['bridge'] == 'cloudbr0'


def test_no_diff_key_without_diff_mode():
    result, _fake = run_ovs_module(ovs_bond.main, BOND0, 'bond_mode_slb', check_mode=True, diff=False)
    assert 'diff' not in result
    assert result['changed'] is True


def test_recreate_reasons_name_the_cause():
    plain, _fake = run_ovs_module(ovs_bond.main, BOND0, 'bond_plain_port', check_mode=True)
    assert plain['recreate_reason'] == ('port bond0 exists as a plain port (interface bond0), not a bond; '
                                        'it is recreated as a bond')
    moved, _fake = run_ovs_module(ovs_bond.main, BOND0, 'bond_other_bridge', check_mode=True)
    assert moved['recreate_reason'] == ('port bond0 is on bridge cloudbr1, wanted on cloudbr0; '
                                        'Open vSwitch cannot move a port between bridges')


def test_check_mode_with_missing_bridge_plans_and_warns():
    result, fake = run_ovs_module(ovs_bond.main, dict(BOND0, bridge='cloudbr9', port='bond9',
                                                      interfaces=['eth7', 'eth8']), 'seed', check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result['commands'] == [txn_argv(['add-bond', 'cloudbr9', 'bond9', 'eth7', 'eth8'] + SEED_OPTIONS)]
    assert 'bridge cloudbr9 does not exist (yet)' in result['warnings'][0]


def test_database_and_timeout_options_reach_every_call():
    base = [replay.VSCTL, '--timeout=3', '--db=unix:/run/openvswitch/db.sock']
    fake = FakeRunCommand()
    fake.expect(argv=base + replay.SNAPSHOT_ARGS, stdout=replay.fixture_text('bond_mode_slb'))
    fake.expect(argv=base + ['--', 'set', 'Port', 'bond0', 'bond_mode=active-backup'])
    fake.expect(argv=base + replay.SNAPSHOT_ARGS, stdout=replay.fixture_text('seed'))
    with mock.patch.object(AnsibleModule, 'get_bin_path', return_value=replay.VSCTL):
        result, fake = run_module(ovs_bond.main, dict(BOND0, database='unix:/run/openvswitch/db.sock', timeout=3),
                                  run_command=fake)
    assert result['changed'] is True
    assert fake.unused() == []


FAILURES = [
    ('balance-tcp-without-lacp', args(bond_mode='balance-tcp'), 'seed',
     'bond bond0: bond_mode balance-tcp needs LACP'),
    ('balance-tcp-with-existing-lacp-off', {'bridge': 'cloudbr0', 'port': 'bond0', 'interfaces': ['eth0', 'eth1'],
                                            'bond_mode': 'balance-tcp'}, 'seed', 'balance-tcp needs LACP'),
    ('lacp-off-on-existing-balance-tcp', {'bridge': 'cloudbr0', 'port': 'bond0', 'interfaces': ['eth0', 'eth1'],
                                          'lacp': 'off'}, 'bond_lacp_tcp', 'balance-tcp needs LACP'),
    ('one-member', args(interfaces=['eth0']), 'seed',
     'bond bond0: Open vSwitch needs at least two interfaces in a bond'),
    ('duplicate-member', args(interfaces=['eth0', 'eth1', 'eth0']), 'seed', 'interfaces listed more than once: eth0'),
    ('member-is-the-port', args(interfaces=['eth0', 'bond0']), 'seed', 'cannot also be one of its own interfaces'),
    ('member-in-other-bond', args(interfaces=['eth0', 'eth2']), 'seed',
     'interface eth2 is already a member of bond bond1 on bridge cloudbr1'),
    ('member-is-plain-port', args(interfaces=['eth0', 'vnet0']), 'ports',
     'interface vnet0 is already port vnet0 on bridge cloudbr0'),
    ('member-is-bridge-local-port', args(interfaces=['eth0', 'cloudbr1']), 'seed',
     'interface cloudbr1 is already port cloudbr1 on bridge cloudbr1'),
    ('missing-bridge', dict(BOND0, bridge='cloudbr9'), 'seed',
     'bond bond0: bridge cloudbr9 does not exist; create it first'),
    ('fake-bridge-tag-mismatch', dict(BOND1, bridge='cloudbr100', tag=5), 'seed',
     'bridge cloudbr100 is a fake bridge on VLAN 100, which fixes the tag; tag 5 contradicts it'),
    ('port-is-a-fake-bridge', dict(BOND0, port='cloudbr100'), 'seed', 'cloudbr100 is a fake bridge'),
    ('negative-delay', args(bond_updelay=-5), 'seed', 'bond_updelay must be 0 or more'),
    ('tag-out-of-range', args(tag=5000), 'seed', 'tag 5000 is out of range'),
    ('missing-interfaces', {'bridge': 'cloudbr0', 'port': 'bond0'}, 'seed', 'state is present but all of the '
                                                                            'following are missing: interfaces'),
]


@pytest.mark.parametrize('case_id, module_args, before, message', FAILURES, ids=[c[0] for c in FAILURES])
def test_failures_change_nothing(case_id, module_args, before, message):
    result, fake = run_ovs_module(ovs_bond.main, module_args, before)
    assert result.get('failed') is True
    assert message in result['msg']
    assert len(fake.argvs) <= 1, 'a failing call must not run a transaction'


def test_ovs_vsctl_failure_is_reported_with_command_and_stderr():
    stderr = 'ovs-vsctl: transaction error: {"details":"constraint violation"}'
    result, fake = run_ovs_module(ovs_bond.main, BOND0, 'bond_mode_slb', txn_rc=1, txn_stderr=stderr)
    assert result['failed'] is True
    assert result['msg'] == 'ovs-vsctl failed (rc=1): ' + stderr
    assert result['cmd'] == txn_argv(['set', 'Port', 'bond0', 'bond_mode=active-backup'])
    assert result['stderr'] == stderr
    assert len(fake.argvs) == 2


def test_verification_catches_a_change_that_did_not_stick():
    result, fake = run_ovs_module(ovs_bond.main, BOND0, 'bond_mode_slb', after='bond_mode_slb')
    assert result['failed'] is True
    assert 'still differs in: bond_mode' in result['msg']
    assert len(fake.argvs) == 3


def test_missing_ovs_vsctl():
    result, fake = run_ovs_module(ovs_bond.main, BOND0, 'seed', bin_path=None)
    assert result['failed'] is True
    assert 'ovs-vsctl was not found on the host' in result['msg']
    assert fake.argvs == []
