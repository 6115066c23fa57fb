# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_ovs.py: OVSDB JSON decoding, argument encoding, the client, the snapshot."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import client as ovs_client
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import db as ovs_db
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import plan as ovs_plan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import snapshot as ovs_snapshot
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl, Transaction
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    OvsCommandError,
    OvsError,
    OvsOutputError,
    OvsParameterError,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.replay import (
    SNAPSHOT_ARGS,
    SNAPSHOT_ARGV,
    VSCTL,
    fixture_text,
    snapshot_of,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import FakeRunCommand


class StubModule(object):
    """Just what OvsVsctl uses of AnsibleModule."""

    def __init__(self, fake=None, bin_path=VSCTL, params=None):
        self.fake = fake or FakeRunCommand()
        self.bin_path = bin_path
        self.params = params or {}

    def run_command(self, args, **kwargs):
        return self.fake(self, args, **kwargs)

    def get_bin_path(self, name, required=False):
        assert name == 'ovs-vsctl'
        assert required is False
        return self.bin_path


# --- decoding ------------------------------------------------------------------------------------

@pytest.mark.parametrize('datum, expected', [
    ('cloudbr0', 'cloudbr0'),
    (100, 100),
    (True, True),
    (1.5, 1.5),
    (['set', []], []),
    (['set', [100, 200]], [100, 200]),
    (['map', []], {}),
    (['map', [['bond-detect-mode', 'miimon'], ['bond-miimon-interval', '100']]],
     {'bond-detect-mode': 'miimon', 'bond-miimon-interval': '100'}),
    (['uuid', '0c22f2d7-83ec-4bed-bc9b-b5edc81a5b06'], '0c22f2d7-83ec-4bed-bc9b-b5edc81a5b06'),
    (['named-uuid', 'row1'], 'row1'),
    (['set', [['uuid', 'a'], ['uuid', 'b']]], ['a', 'b']),
    (['map', [['k', ['uuid', 'u1']]]], {'k': 'u1'}),
])
def test_decode_datum(datum, expected):
    assert ovs_db.decode_datum(datum) == expected


@pytest.mark.parametrize('datum', [['set'], ['bag', []], [1, 2], ['set', [], 'x']])
def test_decode_datum_rejects_garbage(datum):
    with pytest.raises(OvsOutputError):
        ovs_db.decode_datum(datum)


@pytest.mark.parametrize('value, expected', [([], None), ([7], 7), (7, 7), ('secure', 'secure')])
def test_optional(value, expected):
    assert ovs_db.optional(value) == expected


def test_optional_rejects_two_values():
    with pytest.raises(OvsOutputError):
        ovs_db.optional([1, 2])


@pytest.mark.parametrize('value, expected', [([], []), ('u', ['u']), (['a', 'b'], ['a', 'b'])])
def test_as_list(value, expected):
    assert ovs_db.as_list(value) == expected


def test_parse_json_documents_one_per_command():
    docs = ovs_db.parse_json_documents(fixture_text('seed'))
    headings = [d['headings'][:2] for d in docs]
    assert headings == [['ovs_version'], ['_uuid', 'name'], ['_uuid', 'name'], ['_uuid', 'name']]
    assert ovs_db.parse_json_documents('{"a":1}{"b":2}\n\n') == [{'a': 1}, {'b': 2}]
    assert ovs_db.parse_json_documents('') == []


def test_parse_json_documents_rejects_text():
    with pytest.raises(OvsOutputError, match='not JSON'):
        ovs_db.parse_json_documents('{"data":[]}\novs-vsctl: unix:/x: database connection failed')


def test_table_rows():
    rows = ovs_db.table_rows({'headings': ['name', 'tag', 'trunks'], 'data': [['p1', ['set', []], ['set', [1, 2]]]]})
    assert rows == [{'name': 'p1', 'tag': [], 'trunks': [1, 2]}]
    with pytest.raises(OvsOutputError, match='2 values for 3 headings'):
        ovs_db.table_rows({'headings': ['a', 'b', 'c'], 'data': [[1, 2]]})
    with pytest.raises(OvsOutputError, match='not an ovs-vsctl JSON table'):
        ovs_db.table_rows(['data'])


# --- encoding ------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('active-backup', 'active-backup'),
    ('100', '100'),
    ('eth0.100', 'eth0.100'),
    ('', '""'),
    ('a b,c', '"a b,c"'),
    ('x:y', '"x:y"'),
    ('say "hi"', '"say \\"hi\\""'),
    ('{}', '"{}"'),
])
def test_quote(text, expected):
    assert ovs_db.quote(text) == expected


@pytest.mark.parametrize('column, value, expected', [
    ('tag', 100, 'tag=100'),
    ('stp_enable', True, 'stp_enable=true'),
    ('stp_enable', False, 'stp_enable=false'),
    ('bond_mode', 'balance-slb', 'bond_mode=balance-slb'),
    ('trunks', [100, 200], 'trunks=[100,200]'),
    ('trunks', [], 'trunks=[]'),
    ('external_ids', {'b': '2', 'a': 'x y'}, 'external_ids={a="x y",b=2}'),
    ('type', '', 'type=""'),
])
def test_column_arg(column, value, expected):
    assert ovs_db.column_arg(column, value) == expected


def test_map_key_arg():
    assert ovs_db.map_key_arg('other_config', 'bond-miimon-interval', '100') == 'other_config:bond-miimon-interval=100'
    assert ovs_db.map_key_arg('external_ids', 'x:y', 'a b') == 'external_ids:"x:y"="a b"'


@pytest.mark.parametrize('value, expected', [(100, '100'), (True, 'true'), (False, 'false'), ('fast', 'fast'),
                                             (1.5, '1.5')])
def test_config_string(value, expected):
    assert ovs_db.config_string(value) == expected


def test_normalise_map_param():
    assert ovs_db.normalise_map_param(None) is None
    assert ovs_db.normalise_map_param({'bond-miimon-interval': 100, 'lacp-fallback-ab': True, 'gone': None}) == {
        'bond-miimon-interval': '100', 'lacp-fallback-ab': 'true', 'gone': None}


@pytest.mark.parametrize('active, given, exclusive, expected', [
    ({'a': '1'}, None, False, {'a': '1'}),
    ({'a': '1'}, {'b': '2'}, False, {'a': '1', 'b': '2'}),
    ({'a': '1', 'b': '2'}, {'b': None}, False, {'a': '1'}),
    ({'a': '1'}, {'a': '3'}, False, {'a': '3'}),
    ({'a': '1', 'c': '3'}, {'b': '2', 'd': None}, True, {'b': '2'}),
    (None, {'a': '1'}, False, {'a': '1'}),
])
def test_wanted_map(active, given, exclusive, expected):
    assert ovs_db.wanted_map(active, given, exclusive) == expected


def test_map_changes():
    assert ovs_db.map_changes({'a': '1', 'b': '2', 'c': '3'}, {'a': '1', 'b': '9', 'd': '4'}) == (
        {'b': '9', 'd': '4'}, ['c'])
    assert ovs_db.map_changes(None, {}) == ({}, [])


def test_transaction():
    txn = Transaction()
    assert not txn
    txn.add('del-port', 'bond0', options=['--if-exists']).add('add-bond', 'cloudbr0', 'bond0', 'eth0', 'eth1')
    txn.add('set', 'Port', 'bond0', 'tag=%d' % 5)
    assert len(txn) == 3
    assert txn.args() == ['--', '--if-exists', 'del-port', 'bond0', '--', 'add-bond', 'cloudbr0', 'bond0', 'eth0',
                          'eth1', '--', 'set', 'Port', 'bond0', 'tag=5']
    other = Transaction().add('clear', 'Port', 'bond0', 'tag')
    assert txn.extend(other).commands[-1] == ['clear', 'Port', 'bond0', 'tag']
    with pytest.raises(TypeError, match='opts'):
        txn.add('x', opts=[])


def test_map_column_commands():
    txn = Transaction()
    ovs_client.map_column_commands(txn, 'Port', 'bond0', 'other_config', {'a': '1', 'x:y': '2'}, {'a': '5', 'n': 'v w'})
    assert txn.commands == [['remove', 'Port', 'bond0', 'other_config', '"x:y"'],
                            ['set', 'Port', 'bond0', 'other_config:a=5', 'other_config:n="v w"']]
    txn = Transaction()
    ovs_client.map_column_commands(txn, 'Port', 'bond0', 'other_config', {'a': '1'}, {'a': '1'})
    assert not txn


def test_port_column_commands_and_creation_args():
    txn = Transaction()
    active = {'tag': 5, 'trunks': [1], 'vlan_mode': None, 'other_config': {'k': 'v'}, 'external_ids': {}}
    wanted = {'tag': None, 'trunks': [1, 2], 'vlan_mode': 'trunk', 'other_config': {}, 'external_ids': {'o': 'a'}}
    ovs_plan.port_column_commands(txn, 'p', active, wanted, ('tag', 'trunks', 'vlan_mode', 'other_config',
                                                             'external_ids'))
    assert txn.commands == [['clear', 'Port', 'p', 'tag'],
                            ['set', 'Port', 'p', 'trunks=[1,2]', 'vlan_mode=trunk'],
                            ['remove', 'Port', 'p', 'other_config', 'k'],
                            ['set', 'Port', 'p', 'external_ids:o=a']]
    assert ovs_plan.creation_column_args(wanted, ('tag', 'trunks', 'vlan_mode', 'other_config', 'external_ids')) == [
        'trunks=[1,2]', 'vlan_mode=trunk', 'external_ids:o=a']


@pytest.mark.parametrize('params, message', [
    ({'tag': 4096}, 'tag 4096 is out of range'),
    ({'tag': -2}, 'tag -2 is out of range'),
    ({'trunks': [10, 5000]}, 'trunk VLAN 5000 is out of range'),
])
def test_validate_vlan_params(params, message):
    with pytest.raises(OvsParameterError, match=message):
        ovs_plan.validate_vlan_params(params, 'port p')
    ovs_plan.validate_vlan_params({'tag': -1, 'trunks': [0, 4095]}, 'port p')


def test_wanted_port_columns():
    have = {'other_config': {'a': '1'}, 'external_ids': {'x': '1'}}
    params = {'tag': -1, 'trunks': [200, 100, 100], 'vlan_mode': 'access', 'other_config': {'b': 2},
              'other_config_exclusive': False, 'external_ids': {'x': None}}
    assert ovs_plan.wanted_port_columns(params, have) == {
        'tag': None, 'trunks': [100, 200], 'vlan_mode': 'access', 'other_config': {'a': '1', 'b': '2'},
        'external_ids': {}}
    # a fake bridge's VLAN fixes the tag; exclusive without keys empties other_config
    assert ovs_plan.wanted_port_columns({'other_config_exclusive': True}, have, vlan=100) == {
        'tag': 100, 'other_config': {}}
    assert ovs_plan.wanted_port_columns({}, None) == {}


# --- the client ----------------------------------------------------------------------------------

def test_error_fail_kwargs():
    err = OvsCommandError('boom', cmd=['ovs-vsctl'], rc=1, stderr='bad')
    assert err.fail_kwargs() == {'msg': 'boom', 'cmd': ['ovs-vsctl'], 'rc': 1, 'stderr': 'bad'}
    assert OvsError('plain').fail_kwargs() == {'msg': 'plain'}


def test_client_base_argv_options():
    module = StubModule()
    assert OvsVsctl(module).base_argv() == [VSCTL, '--timeout=10']
    client = OvsVsctl(module, db='unix:/tmp/x/db.sock', timeout=3, no_wait=True, binary='/opt/ovs-vsctl')
    assert client.base_argv() == ['/opt/ovs-vsctl', '--timeout=3', '--db=unix:/tmp/x/db.sock', '--no-wait']
    from_params = OvsVsctl.from_module(StubModule(params={'database': 'unix:/run/db.sock', 'timeout': 4}))
    assert from_params.base_argv() == [VSCTL, '--timeout=4', '--db=unix:/run/db.sock']


def test_client_needs_ovs_vsctl():
    with pytest.raises(OvsCommandError, match='ovs-vsctl was not found on the host: install Open vSwitch'):
        OvsVsctl(StubModule(bin_path=None))


def test_snapshot_argv_is_one_call_with_pinned_locale():
    fake = FakeRunCommand().expect(argv=SNAPSHOT_ARGV, stdout=fixture_text('seed'))
    client = OvsVsctl(StubModule(fake))
    assert client.query_argv(client.snapshot_queries()) == SNAPSHOT_ARGS
    snap = client.snapshot()
    assert snap.ovs_version == '2.9.2'
    assert len(fake.calls) == 1
    kwargs = fake.calls[0]['kwargs']
    assert kwargs['environ_update']['LC_ALL'] == 'C' and kwargs['environ_update']['LANG'] == 'C'
    assert '/usr/sbin' in kwargs['environ_update']['PATH'].split(':')
    assert kwargs['expand_user_and_vars'] is False


def test_fixture_headings_match_client_columns():
    """The recorded fixtures answer exactly the columns the client asks for."""
    for name in ('empty', 'seed', 'ports', 'bridge_settings'):
        docs = ovs_db.parse_json_documents(fixture_text(name))
        assert [tuple(d['headings']) for d in docs] == [
            ovs_db.OPEN_VSWITCH_COLUMNS, ovs_db.BRIDGE_COLUMNS, ovs_db.PORT_COLUMNS, ovs_db.INTERFACE_COLUMNS]


def test_client_query_find_and_list():
    out = json.dumps({'headings': ['name', 'tag'], 'data': [['vnet1', 100]]})
    fake = FakeRunCommand()
    fake.expect(argv=[VSCTL, '--timeout=10', '--format=json', '--data=json', '--', '--columns=name,tag', 'find',
                      'Port', 'tag=100'], stdout=out)
    fake.expect(argv=[VSCTL, '--timeout=10', '--format=json', '--data=json', '--', 'list', 'Port', 'vnet1'],
                stdout=out)
    client = OvsVsctl(StubModule(fake))
    assert client.query([('find', 'Port', ['name', 'tag'], ['tag=100'])]) == [[{'name': 'vnet1', 'tag': 100}]]
    assert client.query([('list', 'Port', None, ['vnet1'])]) == [[{'name': 'vnet1', 'tag': 100}]]


def test_client_query_count_mismatch():
    fake = FakeRunCommand().expect(match=lambda argv: True, stdout='{"headings":[],"data":[]}')
    with pytest.raises(OvsOutputError, match='1 JSON tables for 4 queries'):
        OvsVsctl(StubModule(fake)).snapshot()


def test_client_command_failure_carries_command_and_stderr():
    stderr = 'ovs-vsctl: cannot create an interface named eth2 because a port named eth2 already exists\n'
    fake = FakeRunCommand().expect(match=lambda argv: True, rc=1, stderr=stderr)
    client = OvsVsctl(StubModule(fake))
    txn = Transaction().add('add-bond', 'cloudbr0', 'bond0', 'eth2', 'eth3')
    with pytest.raises(OvsCommandError) as err:
        client.transact(txn)
    assert err.value.cmd == [VSCTL, '--timeout=10', '--', 'add-bond', 'cloudbr0', 'bond0', 'eth2', 'eth3']
    assert err.value.rc == 1
    assert err.value.stderr == stderr.strip()
    assert err.value.msg == 'ovs-vsctl failed (rc=1): ' + stderr.strip()


def test_client_timeout_message():
    fake = FakeRunCommand().expect(match=lambda argv: True, rc=142, stderr='')
    with pytest.raises(OvsCommandError, match='timed out after 10 seconds .is ovs-vswitchd running'):
        OvsVsctl(StubModule(fake)).transact(Transaction().add('add-br', 'x'))


# --- the snapshot --------------------------------------------------------------------------------

def test_snapshot_seed():
    snap = snapshot_of('seed')
    assert sorted(snap.bridges) == ['cloudbr0', 'cloudbr1', 'cloudbr100']
    br0 = snap.bridge('cloudbr0')
    assert br0['fake'] is False and br0['datapath_type'] == 'system' and br0['fail_mode'] is None
    assert br0['ports'] == ['bond0', 'cloudbr0', 'cloudbr100']
    fake = snap.bridge('cloudbr100')
    assert (fake['fake'], fake['parent'], fake['vlan'], fake['ports']) == (True, 'cloudbr0', 100, [])
    bond0 = snap.port('bond0')
    assert bond0['interfaces'] == ['eth0', 'eth1']
    assert (bond0['bridge'], bond0['bond_mode'], bond0['lacp'], bond0['tag'], bond0['trunks']) == (
        'cloudbr0', 'active-backup', 'off', None, [])
    assert bond0['other_config'] == {'bond-detect-mode': 'miimon', 'bond-miimon-interval': '100'}
    assert snap.interface('eth0')['port'] == 'bond0'
    assert snap.interface('cloudbr100')['type'] == 'internal'
    assert snap.interface('eth0')['type'] == 'system'
    assert snap.port('cloudbr100')['fake_bridge'] is True
    assert snap.resolve_bridge('cloudbr100') == ('cloudbr0', 100)
    assert snap.resolve_bridge('cloudbr1') == ('cloudbr1', None)
    assert snap.resolve_bridge('nope') is None
    assert snap.foreign_ports('cloudbr0') == ['bond0', 'cloudbr100']
    assert snap.foreign_ports('cloudbr100') == []
    assert sorted(snap.as_dict()) == ['bridges', 'interfaces', 'ovs_version', 'ports']


def test_snapshot_netdev_and_empty():
    assert snapshot_of('seed_netdev').bridge('cloudbr1')['datapath_type'] == 'netdev'
    assert snapshot_of('seed_netdev').bridge('cloudbr100')['datapath_type'] == 'netdev'
    empty = snapshot_of('empty')
    assert (empty.bridges, empty.ports, empty.interfaces, empty.ovs_version) == ({}, {}, {}, None)


def test_snapshot_ports_and_fake_bridge_membership():
    snap = snapshot_of('ports')
    vnet1 = snap.port('vnet1')
    assert (vnet1['bridge'], vnet1['vsctl_bridge'], vnet1['tag']) == ('cloudbr0', 'cloudbr100', 100)
    storage0 = snap.port('storage0')
    assert (storage0['bridge'], storage0['vsctl_bridge'], storage0['tag']) == ('cloudbr0', 'cloudbr0', 200)
    assert snap.bridge('cloudbr100')['ports'] == ['vnet1']
    assert snap.interface('patch-a')['options'] == {'peer': 'patch-b'}
    eth9 = snap.port('eth9')
    assert (eth9['trunks'], eth9['vlan_mode'], eth9['external_ids']) == ([300, 400], 'trunk', {'role': 'uplink'})
    assert snap.foreign_ports('cloudbr100') == ['vnet1']


def test_snapshot_bridge_settings_and_fake_ids():
    snap = snapshot_of('bridge_settings')
    br0 = snap.bridge('cloudbr0')
    assert (br0['fail_mode'], br0['stp_enable'], br0['other_config'], br0['external_ids']) == (
        'secure', True, {'stp-forward-delay': '4'}, {'managed-by': 'ansible'})
    assert snap.bridge('cloudbr100')['external_ids'] == {'role': 'storage'}
    assert snap.port('cloudbr100')['external_ids'] == {'fake-bridge-role': 'storage'}


def test_snapshot_rejects_dangling_references():
    with pytest.raises(OvsOutputError, match='missing interface'):
        ovs_snapshot.OvsSnapshot.from_rows([], [], [{'_uuid': 'p', 'name': 'x', 'interfaces': ['nope']}], [])
    with pytest.raises(OvsOutputError, match='missing port'):
        ovs_snapshot.OvsSnapshot.from_rows([], [{'_uuid': 'b', 'name': 'br', 'ports': 'nope'}], [], [])


# --- the common flow -----------------------------------------------------------------------------

class FlowModule(StubModule):
    def __init__(self, fake, check_mode=False, diff=True):
        super(FlowModule, self).__init__(fake)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


def _planner(changed, differs, warning=None):
    def plan(snapshot):
        p = ovs_plan.OvsPlan()
        p.tracker.add('tag', 1, 2 if differs else 1)
        p.before = {'state': 'present', 'tag': 1}
        p.after = {'state': 'present', 'tag': 2 if differs else 1}
        if changed:
            p.txn.add('set', 'Port', 'p', 'tag=2')
        if warning:
            p.warnings.append(warning)
        return p
    return plan


def test_apply_plan_refuses_inconsistent_plans():
    for changed, differs in ((True, False), (False, True)):
        fake = FakeRunCommand().expect(argv=SNAPSHOT_ARGV, stdout=fixture_text('seed'))
        with pytest.raises(ovs_db.OvsStateError, match='internal error'):
            ovs_plan.apply_plan(FlowModule(fake), OvsVsctl(FlowModule(fake)), _planner(changed, differs), 'port')


def test_apply_plan_check_mode_and_warnings():
    fake = FakeRunCommand().expect(argv=SNAPSHOT_ARGV, stdout=fixture_text('seed'))
    module = FlowModule(fake, check_mode=True)
    result = ovs_plan.apply_plan(module, OvsVsctl(module), _planner(True, True, warning='careful'), 'port')
    assert fake.argvs == [SNAPSHOT_ARGV]
    assert result == {'changed': True, 'commands': [[VSCTL, '--timeout=10', '--', 'set', 'Port', 'p', 'tag=2']],
                      'differences': [{'name': 'tag', 'active': 1, 'wanted': 2}], 'recreated': False,
                      'recreate_reason': None, 'port': {'state': 'present', 'tag': 2},
                      'diff': {'before': {'state': 'present', 'tag': 1}, 'after': {'state': 'present', 'tag': 2}}}
    assert module.warnings == ['careful']
