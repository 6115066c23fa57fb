# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Open vSwitch part of a safe apply's rollback (_ovs.restore), against a throw-away
ovsdb-server: whatever a change did to the managed bridges, the restore gives back the same rows
under the same UUIDs, so ``ovs-vsctl show`` prints the same bytes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os

import pytest
import yaml

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import restore as ovs_restore
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.desired import desired_state
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.state import reconcile
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.ovsdb_server import (
    server_for_tests,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import set_module_args

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)

ovsdb_server = pytest.fixture(scope='module', name='ovsdb_server')(server_for_tests)


@pytest.fixture
def ovsdb(ovsdb_server):
    ovsdb_server.reset()
    return ovsdb_server


def client_for(server):
    with set_module_args({}):
        module = AnsibleModule(argument_spec={})
    return OvsVsctl(module, binary=server.vsctl, db=server.db, no_wait=True, environ=server.environ)


def converge(server, data):
    model = normalise(data, 'kvm1')  # seed 000 on Open vSwitch, built by the whole-host reconcile
    client = client_for(server)
    return reconcile(client.module, client, desired_state(model), list(model['ethernets']) + list(model['bonds']))


def everything(server):
    """Every row of the four tables, configuration and references, with UUIDs."""
    return server.run('--format=json', '--data=json', '--', 'list', 'Open_vSwitch', '--', 'list', 'Bridge',
                      '--', 'list', 'Port', '--', 'list', 'Interface')


def seed():
    return copy.deepcopy(SEED['openvswitch'])


def test_save_keeps_only_the_managed_bridges_ports_and_interfaces(ovsdb):
    converge(ovsdb, seed())
    ovsdb.run('add-br', 'other0', '--', 'add-port', 'other0', 'eth9')
    saved = ovs_restore.save(ovs_restore.read_raw(client_for(ovsdb)), ['cloudbr0', 'cloudbr1'])
    names = dict((t, [json.dumps(r['name']) for r in rows]) for t, rows in saved['tables'].items())
    assert names['Bridge'] == ['"cloudbr0"', '"cloudbr1"']
    assert sorted(json.loads(n) for n in names['Port']) == ['bond0', 'bond1', 'cloudbr0', 'cloudbr1', 'cloudbr100']
    assert 'eth9' not in [json.loads(n) for n in names['Interface']]
    assert all(set(r) - {'_uuid'} <= set(ovs_restore.CONFIG_COLUMNS[t]) for t, rows in saved['tables'].items()
               for r in rows)


def test_nothing_changed_nothing_to_restore(ovsdb):
    converge(ovsdb, seed())
    client = client_for(ovsdb)
    saved = ovs_restore.save(ovs_restore.read_raw(client), ['cloudbr0', 'cloudbr1'])
    assert ovs_restore.restore(client, saved) == []


def test_a_changed_uplink_and_a_removed_bridge_are_put_back_byte_for_byte(ovsdb):
    converge(ovsdb, seed())
    client = client_for(ovsdb)
    show = ovsdb.run('show')
    rows = everything(ovsdb)
    saved = ovs_restore.save(ovs_restore.read_raw(client), ['cloudbr0', 'cloudbr1'])
    # The change: cloudbr0 moves from bond0 to a NIC of its own, bond options change, cloudbr1 goes,
    # the fake bridge gets another VLAN.
    ovsdb.run('del-port', 'bond0', '--', 'add-port', 'cloudbr0', 'eth0', '--', 'set', 'Interface', 'eth0',
              'mtu_request=9000')
    ovsdb.run('set', 'Port', 'bond1', 'bond_mode=balance-slb', 'other_config:bond-miimon-interval=200')
    ovsdb.run('del-br', 'cloudbr1')
    ovsdb.run('set', 'Port', 'cloudbr100', 'tag=200')
    assert ovsdb.run('show') != show
    ops = ovs_restore.restore(client, saved)
    assert ops
    assert ovsdb.run('show') == show
    assert everything(ovsdb) == rows, 'every row and column as before, UUIDs included'
    assert ovs_restore.restore(client, saved) == [], 'a second restore has nothing to do'


def test_bridges_and_ports_the_change_added_go_guests_stay(ovsdb):
    converge(ovsdb, seed())
    client = client_for(ovsdb)
    saved = ovs_restore.save(ovs_restore.read_raw(client), ['cloudbr0', 'cloudbr1', 'cloudbr2'])
    ovsdb.run('add-br', 'cloudbr2', '--', 'add-port', 'cloudbr0', 'eth7',
              '--', 'add-port', 'cloudbr0', 'vnet3', '--', 'set', 'Interface', 'vnet3', 'external_ids:vm-id=v1')
    ovs_restore.restore(client, saved)
    bridges = ovsdb.run('list-br').split()
    ports = ovsdb.run('list-ports', 'cloudbr0').split()
    assert 'cloudbr2' not in bridges
    assert 'eth7' not in ports and 'vnet3' in ports, 'the guest port plugged in meanwhile stays'


def test_bridges_it_does_not_manage_are_left_alone(ovsdb):
    converge(ovsdb, seed())
    client = client_for(ovsdb)
    saved = ovs_restore.save(ovs_restore.read_raw(client), ['cloudbr0', 'cloudbr1'])
    ovsdb.run('add-br', 'other0', '--', 'add-port', 'other0', 'eth9')
    ovs_restore.restore(client, saved)
    assert 'other0' in ovsdb.run('list-br').split()
    assert ovsdb.run('list-ports', 'other0').split() == ['eth9']


def test_operations_are_planned_without_a_server():
    uuid = 'aaaaaaaa-0000-4000-8000-000000000001'
    saved = {'bridge_names': ['br0'], 'tables': {
        'Bridge': [{'_uuid': ['uuid', uuid], 'name': 'br0', 'ports': ['set', []], 'stp_enable': False}],
        'Port': [], 'Interface': []}}
    now = {'Open_vSwitch': [{'_uuid': ['uuid', 'o'], 'bridges': ['set', []]}], 'Bridge': [], 'Port': [],
           'Interface': []}
    ops = ovs_restore.restore_operations(saved, now)
    assert ops == [
        {'op': 'insert', 'table': 'Bridge', 'uuid': uuid, 'row': {'name': 'br0', 'ports': ['set', []],
                                                                  'stp_enable': False}},
        {'op': 'mutate', 'table': 'Open_vSwitch', 'where': [],
         'mutations': [['bridges', 'insert', ['set', [['uuid', uuid]]]]]},
    ]
