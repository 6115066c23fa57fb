# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OVS modules against a real Open vSwitch database.

An ``ovsdb-server`` (only the database server: no ovs-vswitchd, no datapath, no network device)
runs from binaries unpacked by ``tests/unit/tools/fetch-ovs-binaries.sh`` on a unix socket in a
temporary directory; the modules' real planning and the real ovs-vsctl run against it through
the client with ``db`` and ``no_wait``. Every change is followed by an idempotency rerun
(changed=False) and a check-mode run that must leave the database byte-for-byte unchanged.
Skipped, with the reason, when the binaries have not been fetched.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl, Transaction
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    OvsError,
    OvsParameterError,
    OvsStateError,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import apply_plan, object_module
from ansible_collections.cloudstack_kvm.networking.plugins.modules import ovs_bond, ovs_bridge, ovs_port
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.ovsdb_server import (
    OvsdbServer,
    missing_binaries,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import set_module_args

pytestmark = pytest.mark.skipif(missing_binaries() is not None, reason=missing_binaries() or '')


@pytest.fixture(scope='module')
def ovsdb_server():
    server = OvsdbServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ovsdb(ovsdb_server):
    """The module-wide server with an empty database for each test."""
    ovsdb_server.reset()
    return ovsdb_server


def dump(server):
    """Everything in the configuration tables, for comparing before/after a check-mode run."""
    out = server.run('--format=json', '--data=json', '--', 'list', 'Bridge', '--', 'list', 'Port',
                     '--', 'list', 'Interface')
    return out


def run(server, module, args, check_mode=False, diff=True):
    """Run ``module``'s real logic against ``server``; OvsError propagates."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with set_module_args(args):
        mod = object_module(module.argument_spec(), **module.OBJECT['constraints'])
    client = OvsVsctl(mod, binary=server.vsctl, db=server.db, no_wait=True, environ=server.environ)
    planner = module.OBJECT['planner'](mod.params, check_mode=mod.check_mode)
    return apply_plan(mod, client, planner, module.OBJECT['result_key'])


def converge(server, module, args):
    """check mode (predicts, changes nothing) -> apply -> idempotency rerun -> check mode again.

    Returns the result of the applying run. The check-mode run must predict exactly the commands
    the real run executes.
    """
    before = dump(server)
    predicted = run(server, module, args, check_mode=True)
    assert dump(server) == before, 'check mode changed the database'
    applied = run(server, module, args)
    assert applied['changed'] == predicted['changed']
    assert applied['commands'] == predicted['commands']
    assert applied['diff'] == predicted['diff']
    rerun = run(server, module, args)
    assert rerun['changed'] is False, 'not idempotent: %s' % json.dumps(rerun['differences'])
    assert rerun['commands'] == []
    after = dump(server)
    check = run(server, module, args, check_mode=True)
    assert check['changed'] is False
    assert dump(server) == after
    return applied


def vsctl_get(server, table, record, column):
    return server.run('get', table, record, column).strip()


SEED_BOND0 = {'bridge': 'cloudbr0', 'port': 'bond0', 'interfaces': ['eth0', 'eth1'], 'bond_mode': 'active-backup',
              'lacp': 'off', 'other_config': {'bond-detect-mode': 'miimon', 'bond-miimon-interval': 100}}
SEED_BOND1 = dict(SEED_BOND0, bridge='cloudbr1', port='bond1', interfaces=['eth2', 'eth3'])


def build_seed(server, datapath_type='system'):
    for br in ('cloudbr0', 'cloudbr1'):
        converge(server, ovs_bridge, {'name': br, 'datapath_type': datapath_type})
    converge(server, ovs_bridge, {'name': 'cloudbr100', 'parent': 'cloudbr0', 'vlan': 100})
    converge(server, ovs_bond, SEED_BOND0)
    converge(server, ovs_bond, SEED_BOND1)


@pytest.mark.parametrize('datapath_type', ['system', 'netdev'])
def test_seed_topology(ovsdb, datapath_type):
    build_seed(ovsdb, datapath_type)
    assert sorted(ovsdb.run('list-br').split()) == ['cloudbr0', 'cloudbr1', 'cloudbr100']
    assert ovsdb.run('br-to-parent', 'cloudbr100').strip() == 'cloudbr0'
    assert ovsdb.run('br-to-vlan', 'cloudbr100').strip() == '100'
    expected_dp = '""' if datapath_type == 'system' else 'netdev'
    assert vsctl_get(ovsdb, 'Bridge', 'cloudbr0', 'datapath_type') == expected_dp
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr1').split()) == ['eth2', 'eth3']
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'bond_mode') == 'active-backup'
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'other_config:bond-miimon-interval') == '"100"'


def test_bond_members_mode_and_options_in_place(ovsdb):
    build_seed(ovsdb)
    uuid_before = vsctl_get(ovsdb, 'Port', 'bond0', '_uuid')
    result = converge(ovsdb, ovs_bond, dict(SEED_BOND0, interfaces=['eth0', 'eth4'], bond_mode='balance-tcp',
                                            lacp='active', bond_updelay=200, bond_downdelay=100,
                                            other_config={'lacp-time': 'fast'}))
    assert result['changed'] is True
    assert result['recreated'] is False
    assert vsctl_get(ovsdb, 'Port', 'bond0', '_uuid') == uuid_before, 'the port was recreated'
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth4']
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'lacp') == 'active'
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'bond_updelay') == '200'
    # other_config not exclusive: the seed's keys stay.
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'other_config:bond-detect-mode') == 'miimon'
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'other_config:lacp-time') == 'fast'
    assert result['bond']['interfaces'] == ['eth0', 'eth4']
    assert result['diff']['before']['interfaces'] == ['eth0', 'eth1']


def test_bond_repairs_drift_made_by_hand(ovsdb):
    build_seed(ovsdb)
    ovsdb.run('--', 'add-bond-iface', 'bond0', 'eth5', '--', 'del-bond-iface', 'bond0', 'eth1',
              '--', 'set', 'Port', 'bond0', 'bond_mode=balance-slb', 'bond_updelay=50', 'tag=42',
              'other_config:bond-miimon-interval=250', 'other_config:extra=1')
    check = run(ovsdb, ovs_bond, SEED_BOND0, check_mode=True)
    assert check['changed'] is True
    assert sorted(d['name'] for d in check['differences']) == ['bond_mode', 'interfaces', 'other_config']
    result = converge(ovsdb, ovs_bond, dict(SEED_BOND0, bond_updelay=0, tag=-1, other_config_exclusive=True))
    names = sorted(d['name'] for d in result['differences'])
    assert names == ['bond_mode', 'bond_updelay', 'interfaces', 'other_config', 'tag']
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth1']
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'tag') == '[]'
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'other_config') == '{bond-detect-mode=miimon, bond-miimon-interval="100"}'


def test_bond_recreated_when_moving_bridge_or_from_plain_port(ovsdb):
    build_seed(ovsdb)
    ovsdb.run('del-port', 'bond1')
    result = converge(ovsdb, ovs_bond, dict(SEED_BOND0, bridge='cloudbr1'))
    assert result['recreated'] is True
    assert 'cloudbr0' in result['recreate_reason']
    assert ovsdb.run('port-to-br', 'bond0').strip() == 'cloudbr1'
    ovsdb.run('del-port', 'bond0')
    ovsdb.run('add-port', 'cloudbr0', 'bond0', 'tag=7')
    result = converge(ovsdb, ovs_bond, SEED_BOND0)
    assert result['recreated'] is True
    assert 'plain port' in result['recreate_reason']
    # Unmanaged settings of the old port are carried over.
    assert vsctl_get(ovsdb, 'Port', 'bond0', 'tag') == '7'


def test_bond_on_fake_bridge_and_removal(ovsdb):
    build_seed(ovsdb)
    ovsdb.run('del-port', 'bond1')
    args = dict(SEED_BOND1, bridge='cloudbr100')
    result = converge(ovsdb, ovs_bond, args)
    assert result['bond']['bridge'] == 'cloudbr0'
    assert result['bond']['tag'] == 100
    assert ovsdb.run('port-to-br', 'bond1').strip() == 'cloudbr100'
    # The same bond described through the parent bridge and the tag is already there.
    assert run(ovsdb, ovs_bond, dict(SEED_BOND1, bridge='cloudbr0', tag=100))['changed'] is False
    with pytest.raises(OvsParameterError, match='fake bridge on VLAN 100'):
        run(ovsdb, ovs_bond, dict(args, tag=5))
    converge(ovsdb, ovs_bond, {'port': 'bond1', 'state': 'absent'})
    assert 'bond1' not in ovsdb.run('list-ports', 'cloudbr0').split()


def test_bond_refusals(ovsdb):
    build_seed(ovsdb)
    before = dump(ovsdb)
    with pytest.raises(OvsParameterError, match='balance-tcp needs LACP'):
        run(ovsdb, ovs_bond, dict(SEED_BOND0, bond_mode='balance-tcp'))
    with pytest.raises(OvsStateError, match='interface eth2 is already a member of bond bond1'):
        run(ovsdb, ovs_bond, dict(SEED_BOND0, interfaces=['eth0', 'eth2']))
    with pytest.raises(OvsParameterError, match='at least two interfaces'):
        run(ovsdb, ovs_bond, dict(SEED_BOND0, interfaces=['eth0']))
    with pytest.raises(OvsStateError, match='bridge nobr does not exist'):
        run(ovsdb, ovs_bond, dict(SEED_BOND0, bridge='nobr', port='bond9', interfaces=['eth7', 'eth8']))
    assert dump(ovsdb) == before


def test_port_lifecycle(ovsdb):
    build_seed(ovsdb)
    converge(ovsdb, ovs_port, {'bridge': 'cloudbr0', 'port': 'storage0', 'type': 'internal', 'tag': 200,
                               'external_ids': {'owner': 'test', 'note': '$HOME ~/x, "quoted" {a=b}'}})
    assert vsctl_get(ovsdb, 'Interface', 'storage0', 'type') == 'internal'
    # Values reach the database verbatim: no shell, no ~/$VAR expansion, quoting done right.
    assert json.loads(vsctl_get(ovsdb, 'Port', 'storage0', 'external_ids:note')) == '$HOME ~/x, "quoted" {a=b}'
    result = converge(ovsdb, ovs_port, {'bridge': 'cloudbr0', 'port': 'storage0', 'tag': -1, 'trunks': [100, 200],
                                        'vlan_mode': 'trunk', 'other_config': {'priority-tags': True}})
    assert result['recreated'] is False
    assert vsctl_get(ovsdb, 'Port', 'storage0', 'trunks') == '[100, 200]'
    assert vsctl_get(ovsdb, 'Port', 'storage0', 'other_config') == '{priority-tags="true"}'
    result = converge(ovsdb, ovs_port, {'bridge': 'cloudbr1', 'port': 'storage0'})
    assert result['recreated'] is True
    assert 'cannot move a port between bridges' in result['recreate_reason']
    assert ovsdb.run('port-to-br', 'storage0').strip() == 'cloudbr1'
    assert vsctl_get(ovsdb, 'Interface', 'storage0', 'type') == 'internal'
    converge(ovsdb, ovs_port, {'bridge': 'cloudbr1', 'port': 'storage0', 'state': 'absent'})
    assert 'storage0' not in ovsdb.run('list-ports', 'cloudbr1').split()


def test_port_patch_pair_and_type_change(ovsdb):
    build_seed(ovsdb)
    converge(ovsdb, ovs_port, {'bridge': 'cloudbr0', 'port': 'patch-a', 'type': 'patch', 'peer': 'patch-b'})
    converge(ovsdb, ovs_port, {'bridge': 'cloudbr1', 'port': 'patch-b', 'type': 'patch', 'peer': 'patch-a'})
    assert vsctl_get(ovsdb, 'Interface', 'patch-a', 'options:peer') == 'patch-b'
    result = converge(ovsdb, ovs_port, {'bridge': 'cloudbr0', 'port': 'patch-a', 'type': 'internal',
                                        'interface_options': {'peer': None}})
    assert result['recreated'] is False
    assert vsctl_get(ovsdb, 'Interface', 'patch-a', 'type') == 'internal'
    assert vsctl_get(ovsdb, 'Interface', 'patch-a', 'options') == '{}'
    with pytest.raises(OvsParameterError, match='needs its peer'):
        run(ovsdb, ovs_port, {'bridge': 'cloudbr0', 'port': 'patch-c', 'type': 'patch'})


def test_bridge_settings_in_place(ovsdb):
    build_seed(ovsdb)
    args = {'name': 'cloudbr0', 'datapath_type': 'netdev', 'fail_mode': 'secure', 'stp_enable': True,
            'other_config': {'stp-forward-delay': 4}, 'external_ids': {'managed-by': 'ansible'}}
    result = converge(ovsdb, ovs_bridge, args)
    assert result['recreated'] is False
    assert vsctl_get(ovsdb, 'Bridge', 'cloudbr0', 'fail_mode') == 'secure'
    assert vsctl_get(ovsdb, 'Bridge', 'cloudbr0', 'other_config:stp-forward-delay') == '"4"'
    converge(ovsdb, ovs_bridge, {'name': 'cloudbr0', 'datapath_type': 'system', 'fail_mode': 'standalone',
                                 'stp_enable': False, 'other_config_exclusive': True,
                                 'external_ids': {'managed-by': None}})
    assert vsctl_get(ovsdb, 'Bridge', 'cloudbr0', 'other_config') == '{}'
    assert vsctl_get(ovsdb, 'Bridge', 'cloudbr0', 'external_ids') == '{}'
    # The fake bridge's external IDs live on its Port, as br-set-external-id keeps them.
    converge(ovsdb, ovs_bridge, {'name': 'cloudbr100', 'parent': 'cloudbr0', 'vlan': 100,
                                 'external_ids': {'role': 'storage'}})
    assert ovsdb.run('br-get-external-id', 'cloudbr100', 'role').strip() == 'storage'


def test_bridge_recreate_and_removal_need_force_with_ports(ovsdb):
    build_seed(ovsdb)
    converge(ovsdb, ovs_port, {'bridge': 'cloudbr100', 'port': 'vnet0'})
    before = dump(ovsdb)
    with pytest.raises(OvsStateError, match='still has ports: vnet0'):
        run(ovsdb, ovs_bridge, {'name': 'cloudbr100', 'parent': 'cloudbr0', 'vlan': 200})
    with pytest.raises(OvsStateError, match=r'bond0 \(bond\), cloudbr100 \(fake bridge\), vnet0'):
        run(ovsdb, ovs_bridge, {'name': 'cloudbr0', 'state': 'absent'})
    assert dump(ovsdb) == before
    result = converge(ovsdb, ovs_bridge, {'name': 'cloudbr100', 'parent': 'cloudbr0', 'vlan': 200, 'force': True})
    assert result['recreated'] is True
    assert 'VLAN 100' in result['recreate_reason']
    assert ovsdb.run('br-to-vlan', 'cloudbr100').strip() == '200'
    converge(ovsdb, ovs_bridge, {'name': 'cloudbr1', 'state': 'absent', 'force': True})
    assert sorted(ovsdb.run('list-br').split()) == ['cloudbr0', 'cloudbr100']
    # real -> fake conversion of an empty bridge recreates it without force
    converge(ovsdb, ovs_bridge, {'name': 'cloudbr1'})
    result = converge(ovsdb, ovs_bridge, {'name': 'cloudbr1', 'parent': 'cloudbr0', 'vlan': 300})
    assert result['recreated'] is True
    assert ovsdb.run('br-to-parent', 'cloudbr1').strip() == 'cloudbr0'


def test_transaction_is_atomic(ovsdb):
    """A failing command leaves nothing of the transaction behind."""
    build_seed(ovsdb)
    before = dump(ovsdb)
    with set_module_args({}):
        mod = AnsibleModule(argument_spec={})
    client = OvsVsctl(mod, binary=ovsdb.vsctl, db=ovsdb.db, no_wait=True, environ=ovsdb.environ)
    txn = Transaction()
    txn.add('set', 'Port', 'bond0', 'bond_mode=balance-slb')
    txn.add('add-bond', 'cloudbr1', 'bondx', 'eth2', 'eth9')
    with pytest.raises(OvsError) as err:
        client.transact(txn)
    assert 'eth2' in err.value.stderr
    assert err.value.cmd[-1] == 'eth9'
    assert dump(ovsdb) == before
