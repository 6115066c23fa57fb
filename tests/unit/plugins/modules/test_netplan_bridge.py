# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netplan_bridge: merge, remove, ownership, check and diff modes, idempotency, validation.

Every test works in a temporary ``root_dir``. Validation runs the real ``netplan generate
--root-dir`` (on the module's own scratch copy) where netplan is installed; tests that need a
specific netplan answer use recorded output instead.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

import pytest
import yaml

from unittest import mock

from ansible.module_utils import basic

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import netplan as render_netplan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import netplan_file as render_netplan_file
from ansible_collections.cloudstack_kvm.networking.plugins.modules import netplan_bridge
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import (
    FakeRunCommand,
    run_module,
)

NETPLAN = shutil.which('netplan')
FILE = '/etc/netplan/60-cloudstack-kvm.yaml'
needs_netplan = pytest.mark.skipif(NETPLAN is None, reason='netplan is not installed (scripts/setup.sh installs netplan.io)')


class RealNetplan(FakeRunCommand):
    """Runs the real netplan for ``netplan generate --root-dir`` and records the call."""

    def __call__(self, module, args, **kwargs):
        argv = list(args)
        self.calls.append({'argv': argv, 'kwargs': kwargs})
        assert argv[1:3] == ['generate', '--root-dir'] and argv[3] != '/', argv
        proc = subprocess.run(argv, cwd=kwargs.get('cwd'), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def generate_ok():
    return FakeRunCommand().expect(match=lambda a: a[1:3] == ['generate', '--root-dir'], repeat=True)


def run(root, args, check_mode=False, diff=False, runner=None):
    args = dict(args, root_dir=str(root))
    with mock.patch.object(basic.AnsibleModule, 'get_bin_path', return_value=NETPLAN or '/usr/sbin/netplan'):
        return run_module(netplan_bridge.main, args, run_command=runner if runner is not None else RealNetplan(),
                          check_mode=check_mode, diff=diff)


def owned(root):
    path = root / FILE.lstrip('/')
    return path.read_text() if path.exists() else None


def network(root):
    return yaml.safe_load(owned(root))['network']


CLOUDBR0 = {'name': 'cloudbr0', 'uplink': 'bond0',
            'bond': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 100, 'primary': 'eth0',
                     'updelay': 0, 'downdelay': 0},
            'addresses': ['192.168.100.20/24'], 'gateway4': '192.168.100.1',
            'nameservers': {'addresses': ['192.168.100.5', '192.168.100.6'], 'search': ['mycloud.local']}}
CLOUDBR1 = {'name': 'cloudbr1', 'uplink': 'bond1',
            'bond': {'interfaces': ['eth2', 'eth3'], 'mode': 'active-backup', 'miimon': 100, 'primary': 'eth2',
                     'updelay': 0, 'downdelay': 0}}
CLOUDBR100 = {'name': 'cloudbr100', 'uplink': 'bond0', 'vlan': 100, 'addresses': ['10.0.100.20/24']}


@pytest.fixture
def root(tmp_path):
    return tmp_path / 'root'


# -- building seed 000 bridge by bridge ----------------------------------------------------------------
@needs_netplan
def test_seed_bridges_one_by_one_equal_the_renderer(root):
    for args in (CLOUDBR0, CLOUDBR1, CLOUDBR100):
        result, calls = run(root, args)
        assert result['changed'] is True, result
        assert result['validated'] is True
        assert len(calls.argvs) == 1
    path = root / FILE.lstrip('/')
    assert oct(os.stat(str(path)).st_mode & 0o777) == '0o600'
    # the same three bridges through the model and the renderer give the same file, byte for byte
    with open(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'seed000.yml')) as fh:
        seed = yaml.safe_load(fh)['linux_bridge']
    rendered = render_netplan.render(model_normalise.normalise(seed))['files'][0]['content']
    assert owned(root) == rendered


@needs_netplan
def test_idempotent_and_check_mode_tells_the_truth(root):
    result, _calls = run(root, CLOUDBR0, check_mode=True, diff=True)
    assert result['changed'] is True and result['validated'] is True
    assert owned(root) is None, 'check mode wrote the file'
    assert result['diff']['before'] == ''
    assert 'cloudbr0' in result['diff']['after']
    assert [d['name'] for d in result['differences']] == ['ethernets.eth0', 'ethernets.eth1', 'bonds.bond0', 'bridges.cloudbr0']

    first, _calls = run(root, CLOUDBR0, diff=True)
    assert first['changed'] is True
    assert first['content'] == owned(root) == result['diff']['after']

    again, calls = run(root, CLOUDBR0, diff=True)
    assert again['changed'] is False
    assert again['differences'] == []
    assert calls.argvs == [], 'no validation needed when nothing changes'
    assert again['diff']['before'] == again['diff']['after']

    check_again, _calls = run(root, CLOUDBR0, check_mode=True)
    assert check_again['changed'] is False


@needs_netplan
def test_update_reports_only_what_changes(root):
    run(root, CLOUDBR0)
    run(root, CLOUDBR1)
    before = owned(root)
    result, _calls = run(root, dict(CLOUDBR0, addresses=['192.168.100.21/24']), diff=True)
    assert result['changed'] is True
    assert [d['name'] for d in result['differences']] == ['bridges.cloudbr0']
    assert result['differences'][0]['active']['addresses'] == ['192.168.100.20/24']
    assert result['differences'][0]['wanted']['addresses'] == ['192.168.100.21/24']
    assert result['diff']['before'] == before
    assert network(root)['bridges']['cloudbr1']['interfaces'] == ['bond1']


@needs_netplan
def test_bond_from_file_reused_and_changed_in_place(root):
    run(root, CLOUDBR0)
    run(root, CLOUDBR100)
    assert network(root)['bonds']['bond0']['parameters']['primary'] == 'eth0'
    result, _calls = run(root, dict(CLOUDBR0, bond=dict(CLOUDBR0['bond'], primary='eth1')))
    assert [d['name'] for d in result['differences']] == ['bonds.bond0']
    assert network(root)['bonds']['bond0']['parameters']['primary'] == 'eth1'
    assert network(root)['vlans']['bond0.100']['link'] == 'bond0'


@needs_netplan
def test_absent_removes_what_only_the_bridge_used(root):
    for args in (CLOUDBR0, CLOUDBR1, CLOUDBR100):
        run(root, args)
    result, _calls = run(root, {'name': 'cloudbr100', 'state': 'absent'})
    assert result['removed'] == ['bridges.cloudbr100', 'vlans.bond0.100']
    assert sorted(network(root)['bridges']) == ['cloudbr0', 'cloudbr1']
    assert 'bond0' in network(root)['bonds'], 'bond0 is still used by cloudbr0'

    result, _calls = run(root, {'name': 'cloudbr1', 'state': 'absent'})
    assert result['removed'] == ['bridges.cloudbr1', 'bonds.bond1', 'ethernets.eth2', 'ethernets.eth3']
    assert sorted(network(root)['ethernets']) == ['eth0', 'eth1']

    again, _calls = run(root, {'name': 'cloudbr1', 'state': 'absent'})
    assert again['changed'] is False and again['removed'] == []

    result, _calls = run(root, {'name': 'cloudbr0', 'state': 'absent'}, diff=True)
    assert result['changed'] is True and result['content'] is None
    assert owned(root) is None, 'an empty owned file is removed'
    assert result['diff']['after'] == ''


@needs_netplan
def test_uplink_change_drops_the_old_bond(root):
    run(root, CLOUDBR0)
    result, _calls = run(root, dict(CLOUDBR0, uplink='eth5', bond=None))
    assert sorted(result['removed']) == ['bonds.bond0', 'ethernets.eth0', 'ethernets.eth1']
    assert network(root)['bridges']['cloudbr0']['interfaces'] == ['eth5']
    assert sorted(network(root)['ethernets']) == ['eth5']


@needs_netplan
def test_backup_and_files_not_owned_are_left_alone(root):
    other = root / 'etc/netplan/50-cloud-init.yaml'
    other.parent.mkdir(parents=True)
    other.write_text('network:\n  version: 2\n  ethernets:\n    eth9:\n      dhcp4: true\n')
    os.chmod(str(other), 0o600)
    run(root, CLOUDBR0)
    result, _calls = run(root, dict(CLOUDBR0, mtu=1400, backup=True))
    assert result['changed'] is True
    assert os.path.exists(result['backup_file'])
    with open(result['backup_file']) as fh:
        assert 'mtu' not in fh.read()
    assert other.read_text().startswith('network:\n  version: 2\n  ethernets:\n    eth9')


@pytest.mark.parametrize('text', [
    'network: {version: 2}\n',
    # The marker named outside a comment line (here after YAML on the same line) is not ours either:
    # one rule for every file the collection owns (_common.has_marker).
    'network: {version: 2}  # copied from the cloudstack_kvm.networking docs\n',
], ids=['no-marker', 'marker-not-on-a-comment-line'])
def test_refuses_a_file_it_does_not_own(root, text):
    path = root / FILE.lstrip('/')
    path.parent.mkdir(parents=True)
    path.write_text(text)
    result, calls = run(root, CLOUDBR0, runner=generate_ok())
    assert result['failed'] is True
    assert 'not written by cloudstack_kvm.networking' in result['msg'] and 'Fix:' in result['msg']
    assert calls.argvs == []
    assert path.read_text() == text


@needs_netplan
def test_netplan_rejects_a_conflict_with_another_file_nothing_written(root):
    # another (not owned) file already puts eth0 into a bond: netplan refuses eth0 in two bonds
    other = root / 'etc/netplan/50-cloud-init.yaml'
    other.parent.mkdir(parents=True)
    other.write_text('network:\n  version: 2\n  ethernets:\n    eth0: {}\n  bonds:\n    bondx:\n      interfaces: [eth0]\n')
    os.chmod(str(other), 0o600)
    result, _calls = run(root, CLOUDBR0)
    assert result['failed'] is True, result
    assert 'netplan rejects the configuration with bridge cloudbr0' in result['msg']
    assert 'eth0' in result['msg']
    assert owned(root) is None


def test_validation_failure_from_recorded_output(root):
    runner = FakeRunCommand().expect(match=lambda a: a[1:3] == ['generate', '--root-dir'], rc=1,
                                     stderr="/x/60-cloudstack-kvm.yaml:5:7: Error in network definition: bond0: "
                                            "The 'ovs-vsctl' tool is required to setup OpenVSwitch interfaces.\n")
    result, calls = run(root, dict(CLOUDBR0, backend='openvswitch', bond=dict(CLOUDBR0['bond'], updelay=None, downdelay=None)),
                        runner=runner)
    assert result['failed'] is True
    assert "ovs-vsctl' tool is required" in result['msg']
    assert result['rc'] == 1
    assert len(calls.argvs) == 1
    assert owned(root) is None


def test_validate_false_skips_netplan(root):
    result, calls = run(root, dict(CLOUDBR0, validate=False), runner=FakeRunCommand())
    assert result['changed'] is True and result['validated'] is False
    assert calls.argvs == []
    assert 'cloudbr0' in network(root)['bridges']


# -- Open vSwitch ------------------------------------------------------------------------------------------
OVS0 = {'name': 'cloudbr0', 'backend': 'openvswitch', 'uplink': 'bond0',
        'bond': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'lacp': 'off', 'miimon': 100},
        'addresses': ['192.168.100.20/24'], 'gateway4': '192.168.100.1',
        'nameservers': {'addresses': ['192.168.100.5'], 'search': ['mycloud.local']}}
OVS1 = {'name': 'cloudbr1', 'backend': 'openvswitch', 'uplink': 'bond1',
        'bond': {'interfaces': ['eth2', 'eth3'], 'mode': 'active-backup', 'lacp': 'off', 'miimon': 100}}
OVS100 = {'name': 'cloudbr100', 'backend': 'openvswitch', 'uplink': 'bond0', 'vlan': 100, 'addresses': ['10.0.100.20/24']}


def test_ovs_seed_bridges_equal_the_renderer(root):
    for args in (OVS0, OVS1, OVS100):
        result, _calls = run(root, args, runner=generate_ok())
        assert result['changed'] is True, result
    with open(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'seed000.yml')) as fh:
        seed = yaml.safe_load(fh)['openvswitch']
    assert owned(root) == render_netplan.render(model_normalise.normalise(seed))['files'][0]['content']
    again, calls = run(root, OVS100, runner=generate_ok())
    assert again['changed'] is False and calls.argvs == []
    # the untagged bridge carries the fake bridge: it cannot go first
    result, _calls = run(root, {'name': 'cloudbr0', 'state': 'absent'}, runner=generate_ok())
    assert result['failed'] is True and 'remove cloudbr100 first' in result['msg']
    result, _calls = run(root, {'name': 'cloudbr100', 'state': 'absent'}, runner=generate_ok())
    assert result['removed'] == ['vlans.cloudbr100']
    assert 'cloudbr0' in network(root)['bridges']


def test_ovs_fake_bridge_needs_its_parent(root):
    result, calls = run(root, OVS100, runner=generate_ok())
    assert result['failed'] is True
    assert 'add the untagged bridge first' in result['msg'] and 'bond0' in result['msg']
    assert calls.argvs == []


def test_ovs_setting_netplan_cannot_carry_fails_clearly(root):
    result, _calls = run(root, dict(OVS0, bond=dict(OVS0['bond'], updelay=200)), runner=generate_ok())
    assert result['failed'] is True
    assert 'bond bond0 updelay (bond_updelay=200)' in result['msg'] and 'Fix:' in result['msg']


# -- bad input fails before anything is read or run ---------------------------------------------------------
@pytest.mark.parametrize('args,fragment', [
    (dict(CLOUDBR0, addresses=['192.168.100.20']), 'address 192.168.100.20 has no prefix length'),
    (dict(CLOUDBR0, gateway4='10.9.9.9'), 'gateway4 10.9.9.9 is in no subnet of this host'),
    (dict(CLOUDBR100, vlan=5000), 'vlan 5000 is outside 1-4094'),
    (dict(CLOUDBR0, bond=dict(CLOUDBR0['bond'], primary='eth7')), 'primary eth7 is not one of its interfaces'),
    (dict(CLOUDBR0, uplink='weird0', bond=None), 'does not match a name the CloudStack agent accepts'),
    (dict(CLOUDBR0, ethernets={'eth9': {}}), 'ethernets eth9 are not used by uplink bond0'),
    (dict(CLOUDBR0, ethernets={'eth0': {'match': {'macaddress': 'zz'}}}), 'is not a MAC address'),
])
def test_invalid_bridge_fails_naming_the_problem(root, args, fragment):
    result, calls = run(root, args, runner=FakeRunCommand())
    assert result['failed'] is True
    assert fragment in result['msg'], result['msg']
    assert 'bridge %s' % args['name'] in result['msg']
    assert 'bridge {0}: bridge {0}:'.format(args['name']) not in result['msg'], 'the bridge is named once'
    assert calls.argvs == []
    assert owned(root) is None


def test_rename_by_mac_and_single_nic(root):
    result, _calls = run(root, {'name': 'cloudbr0', 'uplink': 'eth0', 'dhcp4': True,
                                'ethernets': {'eth0': {'match': {'macaddress': '52:54:00:AA:BB:01'}, 'mtu': 9000}}},
                         runner=generate_ok())
    assert result['changed'] is True
    eth0 = network(root)['ethernets']['eth0']
    assert eth0['match'] == {'macaddress': '52:54:00:aa:bb:01'} and eth0['set-name'] == 'eth0' and eth0['mtu'] == 9000
    again, _calls = run(root, {'name': 'cloudbr0', 'uplink': 'eth0', 'dhcp4': True}, runner=generate_ok())
    assert again['changed'] is False, 'the NIC entry in the file is kept when ethernets is not given'


@pytest.mark.parametrize('target,flag,library', [(render_netplan_file, 'HAS_YAML', 'PyYAML')])
def test_missing_library_is_named(root, target, flag, library):
    with mock.patch.object(target, flag, False):
        result, calls = run(root, CLOUDBR0, runner=FakeRunCommand())
    assert result['failed'] is True
    assert library in result['msg'] and 'Failed to import the required Python library' in result['msg']
    assert calls.argvs == []
