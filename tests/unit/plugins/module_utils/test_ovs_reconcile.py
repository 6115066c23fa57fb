# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole-host Open vSwitch reconcile (_ovs_reconcile.StatePlanner / reconcile).

Planning is checked on recorded snapshots (tests/unit/plugins/modules/fixtures/ovs); the real
thing runs against a throw-away ovsdb-server (no ovs-vswitchd, no datapath, no network device):
every reconcile is followed by a rerun that must change nothing and a check-mode run that must
leave the database as it is, and check mode must predict the exact transaction a real run runs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import desired as ovs_desired
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsStateError
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import state as state_mod
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.state import (
    StatePlanner,
    bridge_params,
    reconcile,
    uplink_params,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.ovsdb_server import (
    missing_binaries,
    server_for_tests,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.replay import snapshot_of
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import set_module_args

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)

needs_ovsdb = pytest.mark.skipif(missing_binaries() is not None, reason=missing_binaries() or '')


def seed_model(datapath_type='system', **changes):
    data = copy.deepcopy(SEED['openvswitch'])
    data['ovs'] = {'datapath_type': datapath_type}
    for key, value in changes.items():
        data[key] = value
    return model_normalise.normalise(data, 'kvm1')


def seed_state(datapath_type='system', **changes):
    return ovs_desired.desired_state(seed_model(datapath_type, **changes))


def managed(model):
    return list(model['ethernets']) + list(model['bonds'])


# --- parameters from the desired state -------------------------------------------------------------

def test_bridge_params_real_fake_and_stp():
    state = seed_state('netdev')
    assert bridge_params(state['bridges']['cloudbr0'])['datapath_type'] == 'netdev'
    assert bridge_params(state['bridges']['cloudbr0'])['other_config'] is None
    fake = bridge_params(state['bridges']['cloudbr100'])
    assert (fake['parent'], fake['vlan'], fake['datapath_type']) == ('cloudbr0', 100, None)
    data = copy.deepcopy(SEED['openvswitch'])
    data['bridges']['cloudbr1'].update({'stp': True, 'forward_delay': 4})
    params = bridge_params(ovs_desired.desired_state(model_normalise.normalise(data))['bridges']['cloudbr1'])
    assert params['stp_enable'] is True
    assert params['other_config'] == {'stp-forward-delay': '4'}


def test_uplink_params_manage_every_bond_option_the_model_has():
    params = uplink_params(seed_state()['ports']['bond0'])
    assert params['interfaces'] == ['eth0', 'eth1']
    assert (params['bond_mode'], params['lacp'], params['bond_updelay'], params['bond_downdelay']) == \
        ('active-backup', 'off', 0, 0)
    # Keys the model does not set are managed as absent; the uplink is an untagged trunk.
    assert params['other_config'] == {'bond-detect-mode': 'miimon', 'bond-miimon-interval': '100',
                                      'lacp-time': None, 'bond-primary': None}
    assert params['tag'] == -1


# --- planning on recorded snapshots ------------------------------------------------------------------

def test_empty_database_one_transaction_same_in_check_mode():
    state = seed_state()
    real = StatePlanner(state, check_mode=False)(snapshot_of('empty'))
    check = StatePlanner(state, check_mode=True)(snapshot_of('empty'))
    assert real.txn.commands == check.txn.commands
    assert real.warnings == check.warnings == []
    # Options (--may-exist) stripped: parents before the fake bridge, bridges before their bonds.
    cmds = [[a for a in c if not a.startswith('--')] for c in real.txn.commands]
    adds = [' '.join(c[:2]) for c in cmds if c[0] in ('add-br', 'add-bond')]
    assert adds == ['add-br cloudbr0', 'add-br cloudbr1', 'add-br cloudbr100', 'add-bond cloudbr0', 'add-bond cloudbr1']
    assert ['add-br', 'cloudbr100', 'cloudbr0', '100'] in cmds


def test_seed_database_is_a_no_op():
    plan = StatePlanner(seed_state(), check_mode=False)(snapshot_of('seed'))
    assert not plan.changed, plan.tracker.differences
    assert not plan.tracker.has_differences


def test_datapath_drift_is_corrected_on_every_real_bridge_only():
    plan = StatePlanner(seed_state('netdev'))(snapshot_of('seed'))
    assert plan.txn.commands == [['set', 'Bridge', 'cloudbr0', 'datapath_type=netdev'],
                                 ['set', 'Bridge', 'cloudbr1', 'datapath_type=netdev']]
    names = sorted(d['name'] for d in plan.tracker.differences)
    assert names == ['bridge cloudbr0.datapath_type', 'bridge cloudbr1.datapath_type']


def test_guest_and_foreign_ports_are_kept_and_reported():
    # ports.json: the seed plus vnet0 (guest), storage0 (tagged internal), patch-a, vnet1 on the
    # fake bridge, and eth9 on cloudbr1.
    planner = StatePlanner(seed_state())
    plan = planner(snapshot_of('ports'))
    assert not plan.changed, plan.txn.commands
    found = dict((p['port'], p) for p in planner.foreign_ports)
    assert sorted(found) == ['eth9', 'patch-a', 'patch-b', 'storage0', 'vnet0', 'vnet1']
    assert found['vnet0']['guest'] and found['vnet1']['guest']
    assert not found['eth9']['guest']
    warned = ' '.join(plan.warnings)
    assert 'eth9' in warned and 'storage0' in warned and 'vnet0' not in warned


def test_bond_of_the_model_replaces_a_stale_single_nic_port():
    model = seed_model()
    plan = StatePlanner(ovs_desired.desired_state(model), managed(model))(snapshot_of('ports'))
    # eth9 is not the model's: it stays.
    assert ['--if-exists', 'del-port', 'eth9'] not in plan.txn.commands
    data = copy.deepcopy(SEED['openvswitch'])
    data['ethernets']['eth9'] = {}
    data['bonds']['bond1']['interfaces'] = ['eth2', 'eth9']
    model = model_normalise.normalise(data)
    plan = StatePlanner(ovs_desired.desired_state(model), managed(model))(snapshot_of('ports'))
    assert plan.txn.commands[0] == ['--if-exists', 'del-port', 'eth9']
    assert any(c[:4] == ['create', 'Interface', 'name=eth9'] or c[1:4] == ['create', 'Interface', 'name=eth9']
               for c in plan.txn.commands)


# --- against a real ovsdb-server ---------------------------------------------------------------------

ovsdb_server = pytest.fixture(scope='module', name='ovsdb_server')(server_for_tests)


@pytest.fixture
def ovsdb(ovsdb_server):
    ovsdb_server.reset()
    return ovsdb_server


def dump(server):
    return server.run('--format=json', '--data=json', '--', 'list', 'Bridge', '--', 'list', 'Port',
                      '--', 'list', 'Interface')


def run(server, model, check_mode=False):
    with set_module_args({'_ansible_check_mode': check_mode, '_ansible_diff': True}):
        module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    client = OvsVsctl(module, binary=server.vsctl, db=server.db, no_wait=True, environ=server.environ)
    return reconcile(module, client, ovs_desired.desired_state(model), managed(model))


def converge(server, model):
    """check mode predicts -> real run does exactly that -> rerun and check mode change nothing."""
    before = dump(server)
    predicted = run(server, model, check_mode=True)
    assert dump(server) == before, 'check mode changed the database'
    applied = run(server, model)
    assert applied['commands'] == predicted['commands']
    assert applied['changed'] == predicted['changed']
    rerun = run(server, model)
    assert rerun['changed'] is False, rerun['differences']
    assert rerun['commands'] == []
    after = dump(server)
    assert run(server, model, check_mode=True)['changed'] is False
    assert dump(server) == after
    return applied


def get(server, table, record, column):
    return server.run('get', table, record, column).strip()


@needs_ovsdb
@pytest.mark.parametrize('datapath_type', ['system', 'netdev'])
def test_seed_from_nothing_in_one_transaction(ovsdb, datapath_type):
    result = converge(ovsdb, seed_model(datapath_type))
    assert result['changed'] is True
    assert len(result['commands']) == 1
    assert sorted(ovsdb.run('list-br').split()) == ['cloudbr0', 'cloudbr1', 'cloudbr100']
    assert ovsdb.run('br-to-parent', 'cloudbr100').strip() == 'cloudbr0'
    assert ovsdb.run('br-to-vlan', 'cloudbr100').strip() == '100'
    assert get(ovsdb, 'Bridge', 'cloudbr1', 'datapath_type') == ('netdev' if datapath_type == 'netdev' else '""')
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth1']
    assert get(ovsdb, 'Port', 'bond1', 'other_config:bond-miimon-interval') == '"100"'


@needs_ovsdb
def test_networkmanager_tagged_internal_port_becomes_a_fake_bridge(ovsdb):
    converge(ovsdb, seed_model())
    # What NetworkManager's ovs-port (tag 100) + ovs-interface (internal) profiles create.
    ovsdb.run('del-br', 'cloudbr100')
    ovsdb.run('add-port', 'cloudbr0', 'cloudbr100', 'tag=100', '--', 'set', 'Interface', 'cloudbr100', 'type=internal')
    uuid = get(ovsdb, 'Port', 'cloudbr100', '_uuid')
    assert ovsdb.run('list-br').split() == ['cloudbr0', 'cloudbr1']
    result = converge(ovsdb, seed_model())
    assert [c for c in result['commands'][0] if c in ('set', 'Port', 'cloudbr100', 'fake_bridge=true')] == \
        ['set', 'Port', 'cloudbr100', 'fake_bridge=true']
    assert result['differences'] == [{'name': 'bridge cloudbr100.fake_bridge', 'active': False, 'wanted': True}]
    assert get(ovsdb, 'Port', 'cloudbr100', '_uuid') == uuid, 'the port was recreated'
    assert ovsdb.run('br-exists', 'cloudbr100') == ''
    assert ovsdb.run('br-to-parent', 'cloudbr100').strip() == 'cloudbr0'


@needs_ovsdb
def test_drift_repaired_in_place_in_one_transaction(ovsdb):
    data = copy.deepcopy(SEED['openvswitch'])
    data['bonds']['bond0'].update({'primary': 'eth0', 'updelay': 200, 'downdelay': 100, 'mtu': 9000})
    data['bridges']['cloudbr0']['mtu'] = 9000
    model = model_normalise.normalise(data)
    converge(ovsdb, model)
    assert get(ovsdb, 'Interface', 'cloudbr0', 'mtu_request') == '9000'
    bond0 = get(ovsdb, 'Port', 'bond0', '_uuid')
    # By hand: a member swapped on each bond, a mode and an option changed, a guest plugged in.
    ovsdb.run('--', 'add-bond-iface', 'bond0', 'eth5', '--', 'del-bond-iface', 'bond0', 'eth1',
              '--', 'add-bond-iface', 'bond1', 'eth6', '--', 'del-bond-iface', 'bond1', 'eth3',
              '--', 'set', 'Port', 'bond0', 'bond_mode=balance-slb', 'other_config:bond-primary=eth5',
              '--', 'set', 'Interface', 'cloudbr0', 'mtu_request=1500',
              '--', 'add-port', 'cloudbr0', 'vnet7')
    result = converge(ovsdb, model)
    assert len(result['commands']) == 1
    # Two bonds gain a member in one transaction: each has its own row id.
    argv = result['commands'][0]
    assert '--id=@b0m0' in argv and '--id=@b1m0' in argv
    assert get(ovsdb, 'Port', 'bond0', '_uuid') == bond0, 'bond0 was recreated'
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth1', 'vnet7']
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr1').split()) == ['eth2', 'eth3']
    assert get(ovsdb, 'Port', 'bond0', 'bond_mode') == 'active-backup'
    assert get(ovsdb, 'Port', 'bond0', 'other_config:bond-primary') == 'eth0'
    assert get(ovsdb, 'Interface', 'cloudbr0', 'mtu_request') == '9000'
    assert result['foreign_ports'] == [{'bridge': 'cloudbr0', 'port': 'vnet7', 'guest': True}]


@needs_ovsdb
def test_model_option_removed_is_removed_and_foreign_keys_stay(ovsdb):
    data = copy.deepcopy(SEED['openvswitch'])
    data['bonds']['bond1'].update({'primary': 'eth2'})
    converge(ovsdb, model_normalise.normalise(data))
    ovsdb.run('set', 'Port', 'bond1', 'other_config:lacp-fallback-ab=true')
    del data['bonds']['bond1']['primary']
    result = converge(ovsdb, model_normalise.normalise(data))
    assert [d['name'] for d in result['differences']] == ['bond bond1.other_config']
    assert ovsdb.run('--if-exists', 'get', 'Port', 'bond1', 'other_config:bond-primary').strip() == ''
    assert get(ovsdb, 'Port', 'bond1', 'other_config:lacp-fallback-ab') == '"true"'


@needs_ovsdb
def test_bridges_the_model_does_not_name_are_left_alone(ovsdb):
    ovsdb.run('add-br', 'br-ex')
    ovsdb.run('add-port', 'br-ex', 'eth7')
    converge(ovsdb, seed_model())
    data = copy.deepcopy(SEED['openvswitch'])
    del data['bridges']['cloudbr100']
    del data['traffic_labels']['storage']
    result = converge(ovsdb, model_normalise.normalise(data))
    assert result['changed'] is False
    # Removal of a bridge is the network configuration's job (ifdown, netplan apply, nmcli):
    # the reconcile never deletes a bridge.
    assert sorted(ovsdb.run('list-br').split()) == ['br-ex', 'cloudbr0', 'cloudbr1', 'cloudbr100']


@needs_ovsdb
def test_a_port_that_is_not_the_models_is_never_taken_apart(ovsdb):
    ovsdb.run('add-br', 'cloudbr1')
    ovsdb.run('add-bond', 'cloudbr1', 'legacy', 'eth3', 'eth4')
    before = dump(ovsdb)
    with pytest.raises(OvsStateError, match='interface eth3 is already a member of bond legacy'):
        run(ovsdb, seed_model())
    assert dump(ovsdb) == before


class _OneInterfaceSnapshot(object):
    def __init__(self, iface):
        self.iface = iface

    def port(self, name):
        return {'interfaces': ['if0']}

    def interface(self, name):
        return self.iface


@pytest.mark.parametrize('name, iface, guest', [
    ('csdpdk-3', {'type': 'dpdkvhostuser', 'external_ids': {}}, True),      # CloudStack's DPDK guest (DpdkDriverImpl)
    ('vhu7', {'type': 'dpdkvhostuserclient', 'external_ids': {}}, True),    # a vhost-user guest whatever its name
    ('port9', {'type': '', 'external_ids': {'vm-id': 'a1b2'}}, True),       # libvirt's external IDs
    ('vnet4', {'type': '', 'external_ids': {}}, True),
    ('eth9', {'type': '', 'external_ids': {}}, False),
    ('dpdk0', {'type': 'dpdk', 'external_ids': {}}, False),                 # a DPDK uplink is no guest
])
def test_guest_ports_by_name_type_and_external_ids(name, iface, guest):
    assert state_mod.is_guest_port(_OneInterfaceSnapshot(iface), name) is guest


# --- changes between two models (the change catalogue's Open vSwitch cases, on a real database) ------

def recabled(**bonds):
    data = copy.deepcopy(SEED['openvswitch'])
    for name, members in bonds.items():
        data['bonds'][name]['interfaces'] = members
    return model_normalise.normalise(data)


@needs_ovsdb
def test_members_moved_between_two_bonds_that_both_stay_in_one_transaction(ovsdb):
    converge(ovsdb, seed_model())
    bond0 = get(ovsdb, 'Port', 'bond0', '_uuid')
    result = converge(ovsdb, recabled(bond0=['eth0', 'eth2'], bond1=['eth1', 'eth3']))
    assert len(result['commands']) == 1
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth2']
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr1').split()) == ['eth1', 'eth3']
    assert get(ovsdb, 'Port', 'bond0', '_uuid') == bond0, 'bond0 was recreated'
    # And back: the other way round is the same kind of change.
    converge(ovsdb, seed_model())
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth1']


@needs_ovsdb
def test_a_bond_replaced_by_one_of_its_nics_and_back(ovsdb):
    converge(ovsdb, seed_model())
    data = copy.deepcopy(SEED['openvswitch'])
    del data['bonds']['bond1']
    data['bridges']['cloudbr1']['uplink'] = 'eth2'
    # eth3 stays in the model, unused: bond1 holds nothing but the model's NICs, so it is the
    # model's old bond and goes in the same transaction.
    result = converge(ovsdb, model_normalise.normalise(data))
    argv = result['commands'][0]
    assert argv[argv.index('del-port') - 1:argv.index('del-port') + 2] == ['--if-exists', 'del-port', 'bond1']
    assert sorted(ovsdb.run('list-ports', 'cloudbr1').split()) == ['eth2']
    assert ovsdb.run('port-to-br', 'eth2').strip() == 'cloudbr1'
    converge(ovsdb, seed_model())
    assert sorted(ovsdb.run('list-ports', 'cloudbr1').split()) == ['bond1']
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr1').split()) == ['eth2', 'eth3']


@needs_ovsdb
def test_a_bond_holding_a_nic_the_model_does_not_name_is_not_taken_apart(ovsdb):
    converge(ovsdb, seed_model())
    data = copy.deepcopy(SEED['openvswitch'])
    del data['bonds']['bond1']
    del data['ethernets']['eth3']
    data['bridges']['cloudbr1']['uplink'] = 'eth2'
    before = dump(ovsdb)
    with pytest.raises(OvsStateError, match=r'interface eth2 is already a member of bond bond1 .*del-port cloudbr1 bond1'):
        run(ovsdb, model_normalise.normalise(data))
    assert dump(ovsdb) == before


@needs_ovsdb
def test_a_member_moved_to_a_bond_on_another_bridge_leaves_the_old_bond_a_bond(ovsdb):
    data = copy.deepcopy(SEED['openvswitch'])
    data['ethernets']['eth4'] = {}
    data['bonds']['bond1']['interfaces'] = ['eth2', 'eth3', 'eth4']
    converge(ovsdb, model_normalise.normalise(data))
    data['bonds']['bond0']['interfaces'] = ['eth0', 'eth1', 'eth4']
    data['bonds']['bond1']['interfaces'] = ['eth2', 'eth3']
    converge(ovsdb, model_normalise.normalise(data))
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr0').split()) == ['eth0', 'eth1', 'eth4']
    assert sorted(ovsdb.run('list-ifaces', 'cloudbr1').split()) == ['eth2', 'eth3']
