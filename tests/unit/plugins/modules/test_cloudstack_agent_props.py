# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudstack_agent_props against real files in a temporary directory."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import os
import stat

import pytest

from unittest import mock

from ansible.module_utils import basic

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.properties import loads
from ansible_collections.cloudstack_kvm.networking.plugins.modules import cloudstack_agent_props as mod

from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import (
    FakeRunCommand, load_fixture, run_module,
)

INSTALL = load_fixture('properties', 'cases', 'agent_install.properties')
PERSISTED = load_fixture('properties', 'cases', 'agent_persisted.properties')
OVS_HOST = load_fixture('ovs_facts', 'ovs_host.stdout')


@pytest.fixture
def sysroot(tmp_path, monkeypatch):
    """A /sys with Linux bridges cloudbr0 and cloudbr1 and a plain NIC eth0."""
    root = tmp_path / 'root'
    for br in ('cloudbr0', 'cloudbr1'):
        (root / 'sys' / 'class' / 'net' / br / 'bridge').mkdir(parents=True)
    (root / 'sys' / 'class' / 'net' / 'eth0').mkdir(parents=True)
    monkeypatch.setattr(mod, 'SYS_ROOT', str(root))
    return root


@pytest.fixture
def no_ovs(monkeypatch):
    real = basic.AnsibleModule.get_bin_path

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        if arg == 'ovs-vsctl':
            return None
        return real(self, arg, required=required, opt_dirs=opt_dirs)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)


@pytest.fixture
def with_ovs(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                        lambda self, arg, required=False, opt_dirs=None: '/usr/bin/' + arg)


def fs_fake():
    """A run_command that answers the lsattr calls of Ansible's file handling (no attributes)."""
    return FakeRunCommand().expect(match=lambda argv: os.path.basename(argv[0]) == 'lsattr', rc=1, repeat=True)


def tool_calls(fake, tool):
    return [c['argv'] for c in fake.calls if os.path.basename(c['argv'][0]) == tool]


def write(path, text):
    with io.open(str(path), 'wb') as f:
        f.write(text.encode('latin-1'))


def read(path):
    with io.open(str(path), 'rb') as f:
        return f.read().decode('latin-1')


def backups(path):
    d = os.path.dirname(str(path))
    base = os.path.basename(str(path))
    return [n for n in os.listdir(d) if n.startswith(base + '.') and n.endswith('~')]


def props(path, **kw):
    args = {'path': str(path)}
    args.update(kw)
    return args


# --- set / change / unset / no-op ----------------------------------------------------------

def test_set_new_keys_appends_and_keeps_everything_else(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, fake = run_module(mod.main, props(f, properties={
        'network.bridge.type': 'native', 'guest.network.device': 'cloudbr0', 'public.network.device': 'cloudbr1'}),
        run_command=fs_fake())
    assert result['changed'] is True, result
    text = read(f)
    assert text.startswith(INSTALL)
    assert text[len(INSTALL):] == ('network.bridge.type=native\nguest.network.device=cloudbr0\n'
                                   'public.network.device=cloudbr1\n')
    assert result['properties']['guest.network.device'] == 'cloudbr0'
    assert [d['name'] for d in result['differences']] == ['network.bridge.type', 'guest.network.device',
                                                          'public.network.device']
    assert all(d['active'] is None for d in result['differences'])
    assert len(backups(f)) == 1
    assert result['backup_file'].startswith(str(f))
    assert tool_calls(fake, 'ovs-vsctl') == []


def test_change_rewrites_only_that_line(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'workers': 10, 'port': '8250'}))
    assert result['changed'] is True
    assert read(f) == INSTALL.replace('workers=5\n', 'workers=10\n')
    assert result['differences'] == [{'name': 'workers', 'active': '5', 'wanted': '10'}]


def test_noop_changes_nothing_and_makes_no_backup(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    before = os.stat(str(f))
    result, dummy = run_module(mod.main, props(f, properties={'workers': 5, 'port': 8250, 'cluster': 'default'},
                                               unset=['not.there']), diff=True)
    assert result['changed'] is False
    assert result['differences'] == []
    assert result['diff']['before'] == result['diff']['after'] == INSTALL
    assert read(f) == INSTALL
    assert os.stat(str(f)).st_mtime == before.st_mtime
    assert backups(f) == []


def test_unset_with_null_and_unset_list(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL + 'domr.scripts.dir=dup\n')
    result, dummy = run_module(mod.main, props(f, properties={'pod': None}, unset=['domr.scripts.dir']))
    assert result['changed'] is True
    text = read(f)
    assert 'pod=default' not in text and 'domr.scripts.dir' not in text.replace('#', '').split('Location')[1]
    assert '#pod= The pod which the agent belongs to\n' in text  # comments stay
    assert 'pod' not in result['properties'] and 'domr.scripts.dir' not in result['properties']
    assert sorted(d['name'] for d in result['differences']) == ['domr.scripts.dir', 'pod']
    assert loads(text) == dict((k, v) for k, v in loads(INSTALL).items() if k not in ('pod', 'domr.scripts.dir'))


def test_bool_and_int_values_are_java_strings(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, '')
    result, dummy = run_module(mod.main, props(f, properties={'vm.rng.enable': True, 'workers': 3}))
    assert read(f) == 'vm.rng.enable=true\nworkers=3\n'
    assert result['properties'] == {'vm.rng.enable': 'true', 'workers': '3'}


def test_agent_rewritten_file_with_escapes_is_noop(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, PERSISTED)
    result, dummy = run_module(mod.main, props(f, properties={
        'host': 'ms1.example.org,10.0.0.2,2001:db8::10', 'cluster': 'default'}))
    assert result['changed'] is False
    assert read(f) == PERSISTED


# --- the host list -----------------------------------------------------------------------------

HOST_CASES = [
    # (file value, wanted, options, changed, value written)
    ('ms1,ms2@roundrobin', 'ms1,ms2', {}, False, None),
    ('ms1,ms2@roundrobin', ['ms1', 'ms2'], {}, False, None),
    ('ms2,ms1@roundrobin', ['ms1', 'ms2'], {}, False, None),                 # MS reorders for LB
    ('ms2,ms1@roundrobin', ['ms1', 'ms2'], {'host_order': 'strict'}, True, 'ms1,ms2@roundrobin'),
    ('ms2,ms1', ['ms1', 'ms2'], {}, True, 'ms1,ms2'),                       # no suffix: order counts
    ('ms2,ms1', ['ms1', 'ms2'], {'host_order': 'ignore'}, False, None),
    ('ms1,ms2@roundrobin', 'ms1,ms2', {'host_compare': 'with_algorithm'}, True, 'ms1,ms2'),
    ('ms1,ms2@roundrobin', 'ms1,ms2@roundrobin', {'host_compare': 'with_algorithm'}, False, None),
    ('ms1,ms2@roundrobin', 'ms1,ms2@shuffle', {}, True, 'ms1,ms2@shuffle'),  # user's own suffix counts
    ('ms1,ms2@roundrobin', ['ms1', 'ms3'], {}, True, 'ms1,ms3@roundrobin'),  # keeps the agent's suffix
    ('ms1,ms2@roundrobin', ['ms1'], {}, True, 'ms1@roundrobin'),
    (None, ['ms1', 'ms2@static'], {}, True, 'ms1,ms2@static'),
    ('localhost', 'ms1, ms2', {}, True, 'ms1,ms2'),
    ('ms1 , ms2', 'ms1,ms2', {}, False, None),
]


@pytest.mark.parametrize('active, wanted, opts, changed, written', HOST_CASES)
def test_host_list(tmp_path, sysroot, no_ovs, active, wanted, opts, changed, written):
    f = tmp_path / 'agent.properties'
    original = 'port=8250\n' + ('host=%s\n' % active if active is not None else '')
    write(f, original)
    args = props(f, properties={'host': wanted}, backup=False)
    args.update(opts)
    result, dummy = run_module(mod.main, args)
    assert result['changed'] is changed, result
    if written is None:
        assert read(f) == original
        assert result['differences'] == []
    else:
        assert loads(read(f))['host'] == written
        assert result['differences'] == [{'name': 'host', 'active': active, 'wanted': written}]


def test_agent_rewrite_after_module_does_not_flap(tmp_path, sysroot, no_ovs):
    """Module writes the list, the agent rewrites it with @roundrobin and reorders: no change."""
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    first, dummy = run_module(mod.main, props(f, properties={'host': ['ms1', 'ms2', 'ms3']}))
    assert first['changed'] is True
    assert loads(read(f))['host'] == 'ms1,ms2,ms3'
    # What PropertiesStorage.persist does: Properties.store of the whole file, new order.
    write(f, '#agent.properties\n#Sun Nov 22 06:47:15 UTC 2026\nhost=ms2,ms3,ms1@roundrobin\n'
             'host.lb.check.interval=0\nport=8250\n')
    second, dummy = run_module(mod.main, props(f, properties={'host': ['ms1', 'ms2', 'ms3']}))
    assert second['changed'] is False


# --- validation ---------------------------------------------------------------------------------

BAD_VALUES = [
    ({'network.bridge.type': 'ovs'}, 'network.bridge.type', 'native (Linux bridge), openvswitch or tungsten'),
    ({'network.bridge.type': 'native '}, 'network.bridge.type', 'the agent does not trim values'),
    ({'libvirt.vif.driver': 'OvsVifDriver'}, 'libvirt.vif.driver', 'Java class name'),
    ({'libvirt.vif.driver': 'com.cloud.Bad Driver'}, 'libvirt.vif.driver', 'Java class name'),
    ({'host.lb.check.interval': -1}, 'host.lb.check.interval', '0 or more'),
    ({'port': 70000}, 'port', 'TCP port'),
    ({'port': 'http'}, 'port', 'TCP port'),
    ({'workers': 0}, 'workers', '1 or more'),
    ({'openvswitch.dpdk.enabled': 'yes'}, 'openvswitch.dpdk.enabled', 'true or false'),
    ({'host': 'ms1;ms2'}, 'host', 'neither an IP address nor a host name'),
    ({'host': 'ms1,ms2@fastest'}, 'host', 'static, roundrobin, shuffle'),
    ({'host': ''}, 'host', 'at least one management server'),
    ({'guest.network.device': 'a/b'}, 'guest.network.device', 'at most 15 characters'),
]


@pytest.mark.parametrize('properties, key, fix', BAD_VALUES)
def test_bad_values_fail_before_writing(tmp_path, sysroot, no_ovs, properties, key, fix):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties=properties))
    assert result['failed'] is True
    assert 'key %s' % key in result['msg']
    assert fix in result['msg']
    assert str(f) in result['msg']
    assert read(f) == INSTALL
    assert backups(f) == []


def test_good_known_values_pass(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        result, dummy = run_module(mod.main, props(f, properties={
            'network.bridge.type': 'native', 'libvirt.vif.driver': 'com.cloud.hypervisor.kvm.resource.BridgeVifDriver',
            'host.lb.check.interval': 0, 'port': 8250, 'host': '10.0.0.1,ms2.example.org,2001:db8::10@shuffle'}))
    assert result['changed'] is True, result
    assert warn.call_count == 0


def test_list_for_other_key_fails(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'port': [1, 2]}))
    assert result['failed'] and 'only accepted for host' in result['msg']


def test_key_in_properties_and_unset_fails(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}, unset=['port']))
    assert result['failed'] and 'both set' in result['msg']


def test_vif_driver_mismatch_warns(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        result, dummy = run_module(mod.main, props(f, properties={
            'network.bridge.type': 'native', 'libvirt.vif.driver': 'com.cloud.hypervisor.kvm.resource.OvsVifDriver'}))
    assert result['changed'] is True
    assert any('wrong kind of bridge' in str(c) for c in warn.call_args_list)


# --- bridges ---------------------------------------------------------------------------------------

def test_native_device_must_exist(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'guest.network.device': 'cloudbr9'}))
    assert result['failed'] is True
    assert 'key guest.network.device: there is no Linux bridge or device cloudbr9 on this host' in result['msg']
    assert 'validate_bridges: false' in result['msg']
    assert read(f) == INSTALL


def test_native_label_may_name_a_plain_device(tmp_path, sysroot, no_ovs):
    # BridgeVifDriver uses a label that is no bridge as it is (LibvirtComputingResource.getPif).
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'public.network.device': 'eth0'}))
    assert result['changed'] is True, result
    assert 'public.network.device=eth0\n' in read(f)


def add_port(sysroot, bridge, port, vlan_on=None):
    (sysroot / 'sys' / 'class' / 'net' / bridge / 'brif' / port).mkdir(parents=True)
    if vlan_on:
        (sysroot / 'proc' / 'net' / 'vlan').mkdir(parents=True, exist_ok=True)
        (sysroot / 'proc' / 'net' / 'vlan' / port).write_text(
            u'%s  VID: 100\t REORDER_HDR: 1  dev->priv_flags: 1001\nDevice: %s\n' % (port, vlan_on))


@pytest.mark.parametrize('port, ok', [('bond0', True), ('enp3s0f0', True), ('vx100', True), ('p2p1', True),
                                      ('uplink0', False), ('peth0', False), ('Bond0', False)])
def test_native_bridge_needs_a_port_the_agent_recognises(tmp_path, sysroot, no_ovs, port, ok):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    add_port(sysroot, 'cloudbr0', port)
    add_port(sysroot, 'cloudbr0', 'vnet0')    # a guest's tap: never the physical device
    result, dummy = run_module(mod.main, props(f, properties={'guest.network.device': 'cloudbr0'}))
    if ok:
        assert result['changed'] is True, result
    else:
        assert result['failed'] is True
        assert ('key guest.network.device: Linux bridge cloudbr0 has no port the agent accepts as its physical '
                'device (ports: %s, vnet0)' % port) in result['msg']


def test_no_port_name_check_on_openvswitch_or_tungsten(tmp_path, sysroot, with_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    add_port(sysroot, 'cloudbr1', 'uplink0')
    result, dummy = run_module(mod.main, props(f, properties={'network.bridge.type': 'Tungsten',
                                                              'guest.network.device': 'cloudbr1'}))
    assert result['changed'] is True, result
    assert 'network.bridge.type=Tungsten\n' in read(f)


def test_long_guest_device_warns_about_the_agents_vlan_bridges(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    add_port(sysroot, 'cloudbr0', 'enp175s0f0.100', vlan_on='enp175s0f0')
    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        result, dummy = run_module(mod.main, props(f, properties={'guest.network.device': 'cloudbr0'}))
    assert result['changed'] is True, result
    said = [str(c) for c in warn.call_args_list]
    assert any('on enp175s0f0 brenp175s0f0-<vlan>' in w and 'above VLAN 99' in w for w in said), said


def test_dpdk_needs_its_path_and_openvswitch(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'openvswitch.dpdk.enabled': True}))
    assert result['failed'] is True
    assert 'DPDK is on but network.bridge.type is native' in result['msg']
    assert 'DPDK is on but openvswitch.dpdk.ovs.path is not set' in result['msg']
    assert read(f) == INSTALL
    result, dummy = run_module(mod.main, props(f, validate_bridges=False, properties={
        'openvswitch.dpdk.enabled': 'TRUE', 'openvswitch.dpdk.ovs.path': '/var/run/openvswitch',
        'network.bridge.type': 'openvswitch'}))
    assert result['changed'] is True, result


def test_misspelt_dpdk_key_warns(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        result, dummy = run_module(mod.main, props(f, properties={'openvswitch.dpdk.enable': 'false',
                                                                  'my.own.key': 'x'}))
    assert result['changed'] is True
    said = [str(c) for c in warn.call_args_list]
    assert len(said) == 1 and 'key openvswitch.dpdk.enable is not read by the CloudStack agent; did you mean ' \
        'openvswitch.dpdk.enabled?' in said[0], said


def test_validate_bridges_false_skips_check(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'guest.network.device': 'cloudbr9'},
                                               validate_bridges=False))
    assert result['changed'] is True


def _ovs_fake():
    return fs_fake().expect(match=lambda argv: argv[0].endswith('ovs-vsctl') and 'list' in argv,
                            stdout=OVS_HOST, repeat=True)


def test_openvswitch_devices_checked_in_ovs(tmp_path, sysroot, with_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    fake = _ovs_fake()
    result, fake = run_module(mod.main, props(f, properties={
        'network.bridge.type': 'openvswitch', 'guest.network.device': 'cloudbr0',
        'private.network.device': 'cloudbr100', 'public.network.device': 'cloudbr1'}), run_command=fake)
    assert result['changed'] is True, result
    calls = tool_calls(fake, 'ovs-vsctl')
    assert len(calls) == 1   # one snapshot for all three devices
    assert calls[0][1] == '--timeout=5'


def test_openvswitch_type_from_file_is_used(tmp_path, sysroot, with_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL + 'network.bridge.type=openvswitch\n')
    result, dummy = run_module(mod.main, props(f, properties={'guest.network.device': 'cloudbr7'}),
                               run_command=_ovs_fake())
    assert result['failed'] is True
    assert 'there is no Open vSwitch bridge cloudbr7 on this host' in result['msg']


def test_linux_bridge_with_openvswitch_type_fails(tmp_path, sysroot, with_ovs):
    # cloudbr0 is a Linux bridge in sysroot but not in this OVS database.
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    fake = fs_fake().expect(match=lambda argv: 'list' in argv,
                            stdout=load_fixture('ovs_facts', 'ovs_empty.stdout'))
    result, dummy = run_module(mod.main, props(f, properties={
        'network.bridge.type': 'openvswitch', 'guest.network.device': 'cloudbr0'}), run_command=fake)
    assert result['failed'] is True
    assert 'cloudbr0 is a Linux bridge, but network.bridge.type is openvswitch' in result['msg']


def test_ovs_bridge_with_native_type_fails(tmp_path, sysroot, with_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'public.network.device': 'cloud0'}),
                               run_command=_ovs_fake())
    assert result['failed'] is True
    assert 'cloud0 is an Open vSwitch bridge, but network.bridge.type is native' in result['msg']


def test_ovs_unreadable_is_named(tmp_path, sysroot, with_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    fake = fs_fake().expect(match=lambda argv: 'list' in argv, rc=1,
                            stderr='ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed')
    result, dummy = run_module(mod.main, props(f, properties={
        'network.bridge.type': 'openvswitch', 'guest.network.device': 'cloudbr5'}), run_command=fake)
    assert result['failed'] is True
    assert 'cannot tell whether Open vSwitch bridge cloudbr5 exists' in result['msg']
    assert 'database connection failed' in result['msg']


def test_openvswitch_without_ovs_vsctl(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={
        'network.bridge.type': 'openvswitch', 'guest.network.device': 'cloudbr5'}))
    assert result['failed'] is True
    assert 'ovs-vsctl is not installed' in result['msg']


# --- check mode, diff, create, backup, attributes --------------------------------------------------

def test_check_mode_writes_nothing_but_reports(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    mtime = os.stat(str(f)).st_mtime
    result, dummy = run_module(mod.main, props(f, properties={'workers': 7}, unset=['pod']),
                               check_mode=True, diff=True)
    assert result['changed'] is True
    assert read(f) == INSTALL
    assert os.stat(str(f)).st_mtime == mtime
    assert backups(f) == []
    assert 'backup_file' not in result
    assert result['diff']['before'] == INSTALL
    assert result['diff']['after'] == INSTALL.replace('workers=5\n', 'workers=7\n').replace('pod=default\n', '')
    assert result['diff']['before_header'] == result['diff']['after_header'] == str(f)
    assert result['properties']['workers'] == '7' and 'pod' not in result['properties']


def test_diff_only_in_diff_mode(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    result, dummy = run_module(mod.main, props(f, properties={'workers': 7}, backup=False))
    assert 'diff' not in result
    assert backups(f) == []


def test_create_missing_file(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}, mode='0640'), diff=True)
    assert result['changed'] is True
    assert read(f) == 'port=8250\n'
    assert stat.S_IMODE(os.stat(str(f)).st_mode) == 0o640
    assert result['diff']['before'] == ''
    assert 'backup_file' not in result


def test_create_missing_file_check_mode(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}), check_mode=True)
    assert result['changed'] is True
    assert not f.exists()


def test_missing_file_with_create_false_fails(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}, create=False))
    assert result['failed'] is True
    assert 'does not exist' in result['msg'] and 'create: true' in result['msg']


def test_missing_file_only_unset_is_noop(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    result, dummy = run_module(mod.main, props(f, unset=['port'], create=False))
    assert result['changed'] is False
    assert not f.exists()


def test_missing_directory_fails_clearly(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'nodir' / 'agent.properties'
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}))
    assert result['failed'] is True
    assert 'directory %s does not exist' % (tmp_path / 'nodir') in result['msg']


def test_mode_change_alone_is_a_change(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    os.chmod(str(f), 0o644)
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}, mode='0600'), check_mode=True)
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(str(f)).st_mode) == 0o644
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}, mode='0600'))
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(str(f)).st_mode) == 0o600
    assert read(f) == INSTALL
    result, dummy = run_module(mod.main, props(f, properties={'port': 8250}, mode='0600'))
    assert result['changed'] is False


def test_malformed_file_fails_with_line(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, 'a=1\nbad=\\u12zz\n')
    result, dummy = run_module(mod.main, props(f, properties={'a': '2'}))
    assert result['failed'] is True
    assert 'line 2' in result['msg'] and 'malformed' in result['msg']


def test_latin1_bytes_preserved(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    with io.open(str(f), 'wb') as fh:
        fh.write(b'# caf\xe9\nname=caf\xe9\n')
    result, dummy = run_module(mod.main, props(f, properties={'new': u'\u00fcber'}, backup=False))
    assert result['changed'] is True
    with io.open(str(f), 'rb') as fh:
        assert fh.read() == b'# caf\xe9\nname=caf\xe9\nnew=\\u00FCber\n'


def test_written_atomically_with_its_final_mode_before_the_rename(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    os.chmod(str(f), 0o640)
    seen = []
    real_rename = os.rename

    def rename(src, dst):
        seen.append((os.path.basename(src), stat.S_IMODE(os.stat(src).st_mode), dst))
        return real_rename(src, dst)
    with mock.patch('os.rename', side_effect=rename):
        result, dummy = run_module(mod.main, props(f, properties={'workers': 9}, backup=False))
    assert result['changed'] is True
    assert seen == [(seen[0][0], 0o640, str(f))] and seen[0][0].startswith('.cloudstack-kvm-')
    assert stat.S_IMODE(os.stat(str(f)).st_mode) == 0o640
    assert [n for n in os.listdir(str(tmp_path)) if n.startswith('.')] == []


def test_idempotent_second_run(tmp_path, sysroot, no_ovs):
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    args = props(f, properties={'network.bridge.type': 'native', 'workers': 4, 'host': ['ms1', 'ms2'],
                                'guest.network.device': 'cloudbr0'}, unset=['zone'])
    first, dummy = run_module(mod.main, args)
    second, dummy = run_module(mod.main, args)
    assert first['changed'] is True and second['changed'] is False
    assert len(backups(f)) == 1


def test_agent_keys_false_edits_another_properties_file(tmp_path, sysroot, no_ovs):
    # server.properties: 'port' is not the agent's port there, and no key is the agent's.
    f = tmp_path / 'server.properties'
    write(f, 'http.port=8080\nhttps.enable=false\n')
    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        result, dummy = run_module(mod.main, props(f, agent_keys=False, validate_bridges=False, properties={
            'https.enable': True, 'port': 'any', 'openvswitch.dpdk.enable': 'x'}))
    assert result['changed'] is True, result
    assert warn.call_count == 0
    assert read(f) == 'http.port=8080\nhttps.enable=true\nport=any\nopenvswitch.dpdk.enable=x\n'


def test_a_bridges_ports_are_listed_once(tmp_path, sysroot, no_ovs):
    """The checker reads a bridge's ports once (it listed them twice: for the message, then again
    for the physical device)."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import SysReader
    f = tmp_path / 'agent.properties'
    write(f, INSTALL)
    add_port(sysroot, 'cloudbr0', 'bond0')
    real = SysReader.listdir
    listed = []

    def counting(self, *parts):
        if parts[-1] == 'brif':
            listed.append(parts)
        return real(self, *parts)
    with mock.patch.object(SysReader, 'listdir', counting):
        result, dummy = run_module(mod.main, props(f, properties={'guest.network.device': 'cloudbr0'}))
    assert result['changed'] is True and len(listed) == 1, listed
