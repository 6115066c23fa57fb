# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_network_facts end to end on recorded hosts: ip JSON, /proc and /sys trees, OVS JSON."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible.module_utils import basic

from ansible_collections.cloudstack_kvm.networking.plugins.modules import host_network_facts as mod
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import (
    FakeRunCommand, load_fixture, run_module,
)

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
IP = '/usr/sbin/ip'
VSCTL = '/usr/bin/ovs-vsctl'
NMCLI = '/usr/bin/nmcli'

LINK = [IP, '-j', '-d', 'link', 'show']
ADDR = [IP, '-j', 'addr', 'show']
ROUTE4 = [IP, '-j', '-4', 'route', 'show', 'default']
ROUTE6 = [IP, '-j', '-6', 'route', 'show', 'default']
NM = [NMCLI, '--terse', '--fields', 'DEVICE,NAME,FILENAME', 'connection', 'show', '--active']


def is_ovs_query(argv):
    return argv[:5] == [VSCTL, '--timeout=5', '--format=json', '--data=json', '--'] and 'list' in argv


@pytest.fixture
def tools(monkeypatch):
    """Which tools the host has; get_bin_path answers for those only."""
    present = set(['ip'])

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        if arg in present:
            return {'ip': IP, 'ovs-vsctl': VSCTL, 'nmcli': NMCLI}.get(arg, '/usr/bin/' + arg)
        if required:
            self.fail_json(msg='missing %s' % arg)
        return None
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    return present


def ip_fake(host, fake=None):
    fake = fake or FakeRunCommand()
    for argv, name in ((LINK, 'link.json'), (ADDR, 'addr.json'), (ROUTE4, 'route4.json'), (ROUTE6, 'route6.json')):
        fake.expect(argv=argv, stdout=load_fixture('ip', host, name))
    return fake


def use_root(monkeypatch, host):
    monkeypatch.setattr(mod, 'SYS_ROOT', os.path.join(FIX, 'ip', host, 'root'))


def facts_of(result):
    assert not result.get('failed'), result
    assert result['changed'] is False
    return result['ansible_facts']['host_network']


def assert_env(fake):
    for call in fake.calls:
        assert call['kwargs'].get('environ_update', {}).get('LC_ALL') == 'C', call


# --- hosts ------------------------------------------------------------------------------------

def test_linux_bridge_host_without_ovs(monkeypatch, tools):
    use_root(monkeypatch, 'linux_bridge_host')
    result, fake = run_module(mod.main, {}, run_command=ip_fake('linux_bridge_host'))
    facts = facts_of(result)
    assert fake.argvs == [LINK, ADDR, ROUTE4, ROUTE6]        # no ovs-vsctl, no nmcli
    assert_env(fake)
    assert sorted(facts) == ['addresses', 'bonds', 'cloud0', 'links', 'linux_bridges', 'model', 'ovs', 'owners',
                             'routes', 'vlans']
    assert facts['ovs'] == {'available': False, 'reason': 'ovs-vsctl is not installed'}
    assert facts['bonds'] == {} and facts['vlans'] == {}
    assert facts['linux_bridges']['cloudbr0']['ports'] == ['eth0', 'vnet0']
    assert facts['links']['eth0']['physical'] is False and 'info_data' not in facts['links']['eth0']
    assert facts['owners']['eth0'] == {'owner': 'ifupdown', 'file': None}
    assert facts['owners']['cloud0'] == {'owner': 'unknown', 'file': None}
    assert facts['cloud0']['type'] == 'linux_bridge' and facts['cloud0']['addresses'] == ['169.254.0.1/16']
    assert facts['model']['backend'] == 'linux_bridge'
    assert facts['model']['bridges']['cloudbr0']['gateway4'] == '198.51.100.1'


def test_bond_vlan_host(monkeypatch, tools):
    use_root(monkeypatch, 'bond_vlan_host')
    result, fake = run_module(mod.main, {}, run_command=ip_fake('bond_vlan_host'))
    facts = facts_of(result)
    assert facts['bonds']['bond0']['active'] == 'eth1'
    assert facts['vlans'] == {'bond100': {'id': 100, 'link': 'bond0', 'protocol': '802.1Q'}}
    assert facts['links']['eth0']['physical'] is True
    assert facts['owners']['cloudbr100']['owner'] == 'netplan'
    assert facts['owners']['eth4']['owner'] == 'networkd'
    m = facts['model']
    assert m['bridges']['cloudbr100']['uplink'] == 'bond0' and m['bridges']['cloudbr100']['vlan'] == 100
    assert m['bonds']['bond1']['mode'] == '802.3ad'


def test_gathered_alone_reads_what_the_model_needs_and_returns_only_itself(monkeypatch, tools):
    use_root(monkeypatch, 'bond_vlan_host')
    result, fake = run_module(mod.main, {'gather': ['gathered'], 'ovs': 'false'}, run_command=ip_fake('bond_vlan_host'))
    facts = facts_of(result)
    assert sorted(facts) == ['gathered']
    gathered = facts['gathered']
    assert gathered['kvm_network']['bridges']['cloudbr100'] == {'uplink': 'bond0', 'vlan': 100,
                                                                'vlan_interface': 'bond100',
                                                                'addresses': ['203.0.113.20/24']}
    assert 'ethernet eth4: no bridge or bond of the model uses it' in ' '.join(gathered['left_out'])
    every, dummy = run_module(mod.main, {'ovs': 'false'}, run_command=ip_fake('bond_vlan_host'))
    assert 'gathered' not in facts_of(every), 'all is every reading, not the gathered view'


def test_ovs_host_with_ifcfg_owners(monkeypatch, tools):
    tools.add('ovs-vsctl')
    use_root(monkeypatch, 'ovs_host')
    fake = ip_fake('ovs_host').expect(match=is_ovs_query, stdout=load_fixture('ovs_facts', 'ovs_host.stdout'))
    result, fake = run_module(mod.main, {}, run_command=fake)
    facts = facts_of(result)
    assert_env(fake)
    ovs_calls = [a for a in fake.argvs if a[0] == VSCTL]
    assert len(ovs_calls) == 1                                       # one call reads all four tables
    assert ovs_calls[0].count('list') == 4
    assert facts['ovs']['available'] is True and facts['ovs']['version'] == '3.1.0'
    assert facts['ovs']['bonds']['bond0']['active'] == 'eth1'
    assert facts['ovs']['bridges']['cloudbr100']['parent'] == 'cloudbr0'
    assert facts['linux_bridges'] == {}
    assert facts['cloud0']['type'] == 'openvswitch'
    assert facts['owners']['cloudbr0'] == {'owner': 'ifcfg', 'file': '/etc/sysconfig/network-scripts/ifcfg-cloudbr0'}
    assert facts['owners']['eth2']['owner'] == 'unknown'
    m = facts['model']
    assert m['backend'] == 'openvswitch'
    assert (m['bridges']['cloudbr100']['uplink'], m['bridges']['cloudbr100']['vlan']) == ('bond0', 100)
    assert m['bonds']['bond1']['lacp'] == 'active'


def test_ovs_host_with_networkmanager(monkeypatch, tools):
    tools.update(['ovs-vsctl', 'nmcli'])
    use_root(monkeypatch, 'ovs_host')
    fake = ip_fake('ovs_host').expect(match=is_ovs_query, stdout=load_fixture('ovs_facts', 'ovs_host.stdout'))
    fake.expect(argv=NM, stdout=load_fixture('ip', 'ovs_host', 'nmcli_active.txt'))
    result, fake = run_module(mod.main, {'gather': ['owners']}, run_command=fake)
    facts = facts_of(result)
    assert sorted(facts) == ['owners']
    assert fake.argvs == [LINK, NM]
    assert facts['owners']['cloudbr0'] == {
        'owner': 'networkmanager', 'file': '/etc/NetworkManager/system-connections/ovs-if-cloudbr0.nmconnection'}
    assert facts['owners']['cloudbr100']['owner'] == 'netplan'
    assert facts['owners']['eth1']['owner'] == 'unknown'


def test_networkmanager_not_running(monkeypatch, tools):
    tools.add('nmcli')
    use_root(monkeypatch, 'ovs_host')
    fake = ip_fake('ovs_host').expect(argv=NM, rc=8, stderr='Error: NetworkManager is not running.')
    result, dummy = run_module(mod.main, {'gather': ['owners']}, run_command=fake)
    assert facts_of(result)['owners']['cloudbr0']['owner'] == 'ifcfg'


def test_empty_host(monkeypatch, tools):
    use_root(monkeypatch, 'empty_host')
    result, dummy = run_module(mod.main, {}, run_command=ip_fake('empty_host'))
    facts = facts_of(result)
    assert facts['model'] == {'backend': None, 'ethernets': {}, 'bonds': {}, 'bridges': {}, 'vlans': {}}
    assert facts['cloud0'] is None and facts['owners'] == {} and facts['routes'] == {'ipv4': [], 'ipv6': []}


# --- options ----------------------------------------------------------------------------------

@pytest.mark.parametrize('gather, argvs, keys', [
    (['links'], [LINK], ['links']),
    (['bonds'], [LINK], ['bonds']),
    (['bridges', 'vlans'], [LINK], ['linux_bridges', 'vlans']),
    (['routes'], [ROUTE4, ROUTE6], ['routes']),
    (['addresses'], [LINK, ADDR], ['addresses']),
    (['model'], [LINK, ADDR, ROUTE4, ROUTE6], ['model']),
])
def test_gather_subset(monkeypatch, tools, gather, argvs, keys):
    use_root(monkeypatch, 'bond_vlan_host')
    result, fake = run_module(mod.main, {'gather': gather}, run_command=ip_fake('bond_vlan_host'))
    assert sorted(facts_of(result)) == keys
    assert fake.argvs == argvs


def test_ovs_auto_database_down_warns(monkeypatch, tools):
    tools.add('ovs-vsctl')
    use_root(monkeypatch, 'empty_host')
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, w: warnings.append(w))
    fake = ip_fake('empty_host').expect(match=is_ovs_query, rc=1,
                                        stderr='ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)')
    result, dummy = run_module(mod.main, {'gather': ['ovs', 'model']}, run_command=fake)
    facts = facts_of(result)
    assert facts['ovs']['available'] is False and 'database connection failed' in facts['ovs']['reason']
    assert len(warnings) == 1 and 'could not be read' in warnings[0]
    assert facts['model']['backend'] is None


def test_ovs_true_fails_when_database_down(monkeypatch, tools):
    tools.add('ovs-vsctl')
    use_root(monkeypatch, 'empty_host')
    fake = ip_fake('empty_host').expect(match=is_ovs_query, rc=1, stderr='database connection failed')
    result, dummy = run_module(mod.main, {'ovs': 'true', 'gather': ['ovs']}, run_command=fake)
    assert result['failed'] is True
    assert 'cannot read the Open vSwitch database' in result['msg'] and 'ovs: auto' in result['msg']
    assert result['rc'] == 1 and result['cmd'][0] == VSCTL


def test_ovs_true_fails_without_ovs_vsctl(monkeypatch, tools):
    use_root(monkeypatch, 'empty_host')
    result, dummy = run_module(mod.main, {'ovs': True, 'gather': ['ovs']}, run_command=ip_fake('empty_host'))
    assert result['failed'] is True
    assert 'ovs-vsctl was not found' in result['msg']


def test_ovs_false_never_runs_ovs_vsctl(monkeypatch, tools):
    tools.add('ovs-vsctl')
    use_root(monkeypatch, 'ovs_host')
    result, fake = run_module(mod.main, {'ovs': 'false'}, run_command=ip_fake('ovs_host'))
    facts = facts_of(result)
    assert all(a[0] != VSCTL for a in fake.argvs)
    assert facts['ovs'] == {'available': False, 'reason': 'not read (ovs: false)'}
    assert facts['model']['backend'] is None


def test_ovs_empty_database(monkeypatch, tools):
    tools.add('ovs-vsctl')
    use_root(monkeypatch, 'linux_bridge_host')
    fake = ip_fake('linux_bridge_host').expect(match=is_ovs_query, stdout=load_fixture('ovs_facts', 'ovs_empty.stdout'))
    result, dummy = run_module(mod.main, {'gather': ['ovs', 'model']}, run_command=fake)
    facts = facts_of(result)
    assert facts['ovs']['available'] is True and facts['ovs']['bridges'] == {}
    assert facts['model']['backend'] == 'linux_bridge' and 'ovs' not in facts['model']


def test_check_mode_same_facts(monkeypatch, tools):
    use_root(monkeypatch, 'bond_vlan_host')
    normal, dummy = run_module(mod.main, {}, run_command=ip_fake('bond_vlan_host'))
    check, dummy = run_module(mod.main, {}, run_command=ip_fake('bond_vlan_host'), check_mode=True)
    assert facts_of(check) == facts_of(normal)


# --- failures ---------------------------------------------------------------------------------

def test_ip_without_json_support(monkeypatch, tools):
    use_root(monkeypatch, 'empty_host')
    fake = FakeRunCommand().expect(argv=LINK, rc=0, stdout='1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue\n')
    result, dummy = run_module(mod.main, {'gather': ['links']}, run_command=fake)
    assert result['failed'] is True
    assert 'did not print JSON' in result['msg'] and 'iproute2 4.14' in result['msg']


def test_ip_error(monkeypatch, tools):
    use_root(monkeypatch, 'empty_host')
    fake = FakeRunCommand().expect(argv=LINK, rc=255, stderr='Option "-j" is unknown, try "ip -help".')
    result, dummy = run_module(mod.main, {'gather': ['links']}, run_command=fake)
    assert result['failed'] is True
    assert 'Option "-j" is unknown' in result['msg'] and result['rc'] == 255 and result['cmd'] == LINK


def test_ipv6_disabled_is_no_route(monkeypatch, tools):
    use_root(monkeypatch, 'empty_host')
    fake = FakeRunCommand().expect(argv=ROUTE4, stdout='[]').expect(
        argv=ROUTE6, rc=2, stderr='RTNETLINK answers: Address family not supported by protocol')
    result, dummy = run_module(mod.main, {'gather': ['routes']}, run_command=fake)
    assert facts_of(result)['routes'] == {'ipv4': [], 'ipv6': []}


def test_ip_missing(monkeypatch, tools):
    tools.discard('ip')
    use_root(monkeypatch, 'empty_host')
    result, dummy = run_module(mod.main, {})
    assert result['failed'] is True and 'install iproute2' in result['msg']


def test_bad_gather_choice(monkeypatch, tools):
    result, dummy = run_module(mod.main, {'gather': ['everything']})
    assert result['failed'] is True and 'gather' in result['msg']


# --- traffic --------------------------------------------------------------------------------------

def test_traffic_is_pinged_after_the_read_in_the_same_call(monkeypatch, tools):
    use_root(monkeypatch, 'linux_bridge_host')
    tools.add('ping')
    fake = ip_fake('linux_bridge_host')
    fake.expect(argv=['/usr/bin/ping', '-n', '-c', '1', '-w', '3', '-I', 'cloudbr0', '198.51.100.254'], rc=1,
                stdout='3 packets transmitted, 0 received, 100% packet loss, time 2030ms\n')
    result, fake = run_module(mod.main, {'traffic': [{'bridge': 'cloudbr0', 'target': '198.51.100.254'}]},
                              run_command=fake)
    facts_of(result)
    assert fake.argvs[:4] == [LINK, ADDR, ROUTE4, ROUTE6]
    assert result['traffic'] == [{'item': {'target': '198.51.100.254', 'bridge': 'cloudbr0', 'count': 3}, 'rc': 1,
                                  'stdout_lines': ['3 packets transmitted, 0 received, 100% packet loss, time 2030ms'],
                                  'stderr_lines': [], 'answered': False,
                                  'reason': 'none of 3 pings to 198.51.100.254 through cloudbr0 answered'}]


def test_a_bad_traffic_target_fails_before_anything_runs(monkeypatch, tools):
    use_root(monkeypatch, 'linux_bridge_host')
    result, fake = run_module(mod.main, {'traffic': [{'bridge': 'cloudbr0', 'target': '-f'}]})
    assert result['failed'] and fake.argvs == []
    assert result['msg'] == ('traffic: -f through cloudbr0: the target must be an address or a host name. '
                             'Fix: e.g. 198.51.100.1')
