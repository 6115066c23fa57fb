# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_networks against a fake libvirt connection: define, update live, restart with consent and
plug guests back, prune, check mode and diff. (The same against a real libvirtd runs on the lab.)"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import xml.etree.ElementTree as ET

import pytest

from unittest import mock

from ansible_collections.cloudstack_kvm.networking.plugins.modules import libvirt_networks
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import FakeRunCommand, run_module


class LibvirtError(Exception):
    pass


class FakeNetwork(object):
    """A network as libvirt keeps it: the stored XML (libvirt adds a uuid and a MAC), running or not."""

    def __init__(self, conn, xml):
        self.conn = conn
        self.stored = self._as_libvirt_stores(xml)
        self.active = False
        self.auto = False
        self.updates = []
        self.calls = []

    @staticmethod
    def _as_libvirt_stores(xml):
        root = ET.fromstring(xml)
        if root.find('uuid') is None:   # libvirt makes one up for a new network
            ET.SubElement(root, 'uuid').text = '3e3fce45-4f53-4fa7-bb32-%012x' % len(xml)
        if root.find('bridge') is not None and root.find('forward') is None or \
                (root.find('forward') is not None and root.find('forward').get('mode') in ('nat', 'route')):
            ET.SubElement(root, 'mac', address='52:54:00:35:55:2d')
            if root.find('bridge') is not None and not root.find('bridge').get('name'):
                root.find('bridge').set('name', 'virbr7')
        return ET.tostring(root, encoding='unicode')

    def name(self):
        return ET.fromstring(self.stored).findtext('name')

    def UUIDString(self):
        return ET.fromstring(self.stored).findtext('uuid')

    def XMLDesc(self, flags=0):
        return self.stored

    def isActive(self):
        return self.active

    def create(self):
        self.calls.append('create')
        self.active = True

    def destroy(self):
        self.calls.append('destroy')
        self.active = False

    def undefine(self):
        self.calls.append('undefine')
        del self.conn.networks[self.name()]

    def update(self, command, section, parent, xml, flags):
        self.updates.append((command, section, parent, xml, flags))

    def autostart(self):
        return self.auto

    def setAutostart(self, flag):
        self.calls.append('autostart=%d' % flag)
        self.auto = bool(flag)

    def bridgeName(self):
        return ET.fromstring(self.stored).find('bridge').get('name')


class FakeDomain(object):
    def __init__(self, name, network, dev, mac):
        self._name = name
        self.xml = ("<domain><name>%s</name><devices><interface type='network'><mac address='%s'/>"
                    "<source network='%s'/><target dev='%s'/></interface></devices></domain>" % (name, mac, network, dev))

    def name(self):
        return self._name

    def XMLDesc(self, flags=0):
        return self.xml


class FakeConn(object):
    def __init__(self):
        self.networks = {}
        self.domains = []
        self.closed = False

    def listNetworks(self):
        return [n for n, net in self.networks.items() if net.active]

    def listDefinedNetworks(self):
        return [n for n, net in self.networks.items() if not net.active]

    def networkLookupByName(self, name):
        return self.networks[name]

    def networkDefineXML(self, xml):
        name = ET.fromstring(xml).findtext('name')
        old = self.networks.get(name)
        net = FakeNetwork(self, xml)
        if old is not None and net.UUIDString() != old.UUIDString():
            # what libvirt 9.0 answers (network_conf.c, virNetworkObjAssignDef)
            raise LibvirtError("operation failed: network '%s' already exists with uuid %s" % (name, old.UUIDString()))
        if old is not None:
            net.active, net.auto, net.calls, net.updates = old.active, old.auto, old.calls, old.updates
        net.calls.append('define')
        self.networks[name] = net
        return net

    def listAllDomains(self, flags=0):
        return self.domains

    def close(self):
        self.closed = True


class FakeLibvirt(object):
    libvirtError = LibvirtError

    def __init__(self, conn):
        self.conn = conn

    def open(self, uri):
        return self.conn


NAT = {'name': 'guests', 'kind': 'nat', 'bridge': 'virbr10',
       'ips': [{'address': '203.0.113.1/24', 'dhcp': {'ranges': [{'start': '203.0.113.100', 'end': '203.0.113.199'}]}}]}


def apply(conn, tmp_path, networks, check_mode=False, fake=None, **args):
    args = dict(args, networks=networks, state_file=os.path.join(str(tmp_path), 'libvirt-networks.json'))
    with mock.patch.object(libvirt_networks, 'libvirt', FakeLibvirt(conn)):
        result, fake = run_module(libvirt_networks.main, args, run_command=fake or FakeRunCommand(),
                                  check_mode=check_mode, diff=True)
    return result


def owned(tmp_path):
    with open(os.path.join(str(tmp_path), 'libvirt-networks.json')) as fh:
        return json.load(fh)['networks']


def test_a_missing_network_is_defined_started_and_autostarted_then_left_alone(tmp_path):
    conn = FakeConn()
    check = apply(conn, tmp_path, [NAT], check_mode=True)
    assert check['changed'] is True and check['networks']['guests']['action'] == 'created' and conn.networks == {}
    result = apply(conn, tmp_path, [NAT])
    assert not result.get('failed'), result.get('msg')
    net = conn.networks['guests']
    assert net.calls == ['define', 'autostart=1', 'create'] and net.active and net.auto
    assert owned(tmp_path) == ['guests'] and result['owned'] == ['guests']
    assert 'range start="203.0.113.100"' in result['diff'][0]['after']
    again = apply(conn, tmp_path, [NAT])
    assert again['changed'] is False and again['networks']['guests']['action'] == 'unchanged'
    assert 'diff' not in again or again['diff'] == []


def test_a_dhcp_host_is_added_live_and_in_the_stored_definition(tmp_path):
    conn = FakeConn()
    apply(conn, tmp_path, [NAT])
    bigger = copy.deepcopy(NAT)
    bigger['ips'][0]['dhcp']['hosts'] = [{'mac': '52:54:00:aa:00:02', 'ip': '203.0.113.11'}]
    check = apply(conn, tmp_path, [bigger], check_mode=True)
    assert check['networks']['guests']['action'] == 'updated' and conn.networks['guests'].updates == []
    result = apply(conn, tmp_path, [bigger])
    assert result['networks']['guests']['updates'][0]['what'] == 'DHCP host 203.0.113.11 (52:54:00:aa:00:02) added'
    # ADD_LAST, IP_DHCP_HOST, the only <ip>, AFFECT_LIVE|AFFECT_CONFIG.
    assert conn.networks['guests'].updates == [(3, 4, -1, '<host mac="52:54:00:aa:00:02" ip="203.0.113.11" />', 3)]
    assert 'define' not in conn.networks['guests'].calls[1:] and 'destroy' not in conn.networks['guests'].calls
    assert result['diff'][0]['before'] != result['diff'][0]['after']


def test_a_restart_with_running_guests_needs_consent_and_plugs_them_back(tmp_path):
    conn = FakeConn()
    apply(conn, tmp_path, [NAT])
    conn.domains = [FakeDomain('vm1', 'guests', 'vnet3', '52:54:00:aa:00:01'),
                    FakeDomain('other', 'elsewhere', 'vnet4', '52:54:00:aa:00:09')]
    wider = dict(copy.deepcopy(NAT), domain='guests.example')
    refused = apply(conn, tmp_path, [wider])
    assert refused['failed'] is True
    assert refused['msg'].startswith('libvirt network guests: domain None, wanted guests.example needs the network '
                                     'restarted (libvirt cannot change it live), and running guests use it: vm1 (vnet3).')
    assert 'kvm_libvirt_allow_restart: true' in refused['msg']
    refused_check = apply(conn, tmp_path, [wider], check_mode=True)
    assert refused_check['failed'] is True
    fake = FakeRunCommand()
    fake.expect(argv=['ip', 'link', 'set', 'dev', 'vnet3', 'master', 'virbr10'])
    fake.expect(argv=['ip', 'link', 'set', 'dev', 'vnet3', 'up'])
    result = apply(conn, tmp_path, [wider], fake=fake, allow_restart=True)
    assert not result.get('failed'), result.get('msg')
    entry = result['networks']['guests']
    assert entry['action'] == 'restarted' and entry['restart'] == ['domain None, wanted guests.example']
    assert entry['guests'] == [{'domain': 'vm1', 'mac': '52:54:00:aa:00:01', 'dev': 'vnet3'}]
    assert entry['reattached'] == [{'domain': 'vm1', 'mac': '52:54:00:aa:00:01', 'dev': 'vnet3', 'bridge': 'virbr10'}]
    assert conn.networks['guests'].calls[-3:] == ['define', 'destroy', 'create']
    assert fake.unused() == []
    assert apply(conn, tmp_path, [wider])['changed'] is False


def test_a_stopped_network_is_redefined_without_a_restart_and_started(tmp_path):
    conn = FakeConn()
    apply(conn, tmp_path, [NAT])
    conn.networks['guests'].active = False
    result = apply(conn, tmp_path, [dict(NAT, stp=False)])
    assert result['networks']['guests']['action'] == 'redefined'
    assert conn.networks['guests'].calls[-2:] == ['define', 'create']


def test_networks_dropped_from_the_list_are_removed_but_not_libvirts_default_unless_asked(tmp_path):
    conn = FakeConn()
    conn.networkDefineXML("<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>"
                          "<ip address='192.168.122.1' netmask='255.255.255.0'/></network>").active = True
    apply(conn, tmp_path, [NAT, dict(NAT, name='more', bridge='virbr11', ips=[{'address': '203.0.114.1/24'}])])
    assert sorted(conn.networks) == ['default', 'guests', 'more']
    result = apply(conn, tmp_path, [NAT])
    assert result['networks']['more']['action'] == 'removed' and sorted(conn.networks) == ['default', 'guests']
    assert owned(tmp_path) == ['guests']
    result = apply(conn, tmp_path, [NAT], remove_default=True)
    assert result['networks']['default']['action'] == 'removed' and sorted(conn.networks) == ['guests']


def test_a_network_in_use_is_not_removed_without_consent(tmp_path):
    conn = FakeConn()
    apply(conn, tmp_path, [NAT])
    conn.domains = [FakeDomain('vm1', 'guests', 'vnet3', '52:54:00:aa:00:01')]
    result = apply(conn, tmp_path, [])
    assert result['failed'] is True and 'running guests use it: vm1 (vnet3)' in result['msg']
    assert 'guests' in conn.networks


def test_a_bad_definition_fails_before_libvirt_is_asked(tmp_path):
    conn = FakeConn()
    result = apply(conn, tmp_path, [dict(NAT, kind='natt')])
    assert result['failed'] is True
    assert result['msg'].startswith('kvm_libvirt_networks is invalid (1 problem):\n  - libvirt network guests: kind '
                                    "'natt' is not one of nat, routed")


def test_without_the_binding_the_module_says_what_to_install(tmp_path):
    with mock.patch.object(libvirt_networks, 'libvirt', None):
        result, dummy = run_module(libvirt_networks.main, {'networks': [NAT]})
    assert result['failed'] is True and 'python3-libvirt' in result['msg']


@pytest.mark.parametrize('kind_args', [
    {'name': 'ovs', 'kind': 'openvswitch', 'bridge': 'cloudbr1', 'portgroups': [{'name': 'v100', 'vlan': 100}]},
    {'name': 'direct', 'kind': 'macvtap', 'mode': 'passthrough', 'devices': ['eth2']},
    {'name': 'sriov', 'kind': 'hostdev', 'pf': 'eth4'},
    {'name': 'host', 'kind': 'bridge', 'bridge': 'cloudbr0'},
    {'name': 'iso', 'kind': 'isolated', 'ips': [{'address': '2001:db8:5::1/64'}]},
])
def test_every_kind_converges_in_one_run(tmp_path, kind_args):
    conn = FakeConn()
    assert apply(conn, tmp_path, [kind_args])['networks'][kind_args['name']]['action'] == 'created'
    assert apply(conn, tmp_path, [kind_args])['changed'] is False
