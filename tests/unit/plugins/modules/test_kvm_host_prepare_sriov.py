# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host_prepare's SR-IOV part on sysfs trees laid out as the kernel lays them out for three
drivers (ixgbe: 63 VFs per port, i40e: 64, mlx5_core: what the firmware's NUM_OF_VFS allows, 8
here) and for a NIC without SR-IOV (virtio_net). No device here has SR-IOV (Debian 12's kernel has
no netdevsim, and its QEMU predates the emulated igb NIC with VFs): the trees stand for the PFs,
``ip`` is answered from recorded ``ip -j link show`` output."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import sriov
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.test_kvm_host_prepare import (
    BIN,
    prepare,
    put,
    read,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import FakeRunCommand

IP = BIN + 'ip'
GRUB = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="console=ttyS0"\n'
# (driver, PCI address of the PF, sriov_totalvfs or None without SR-IOV)
PFS = {
    'ixgbe': ('0000:03:00.0', 63),
    'i40e': ('0000:3b:00.0', 64),
    'mlx5_core': ('0000:af:00.0', 8),
    'virtio_net': ('0000:00:05.0', None),
}


def lay_out_pf(root, name, driver, numvfs=0):
    """/sys/class/net/NAME -> .../PCI/net/NAME, device -> the PCI function with its SR-IOV files,
    driver link and one virtfnN link per VF, as sysfs has them."""
    pci, total = PFS[driver]
    device = '/sys/devices/pci0000:00/0000:00:03.0/%s' % pci
    os.makedirs(os.path.join(str(root), device.lstrip('/'), 'net', name))
    os.makedirs(os.path.join(str(root), 'sys/bus/pci/drivers', driver), exist_ok=True)
    os.makedirs(os.path.join(str(root), 'sys/class/net'), exist_ok=True)
    os.symlink('../../devices/pci0000:00/0000:00:03.0/%s/net/%s' % (pci, name),
               os.path.join(str(root), 'sys/class/net', name))
    os.symlink('../../../%s' % pci, os.path.join(str(root), device.lstrip('/'), 'net', name, 'device'))
    os.symlink('../../../bus/pci/drivers/%s' % driver, os.path.join(str(root), device.lstrip('/'), 'driver'))
    if total is not None:
        put(root, device + '/sriov_totalvfs', '%d\n' % total)
        put(root, device + '/sriov_numvfs', '%d\n' % numvfs)
        for n in range(numvfs):
            os.symlink('../%s.%d' % (pci[:-2], n + 1), os.path.join(str(root), device.lstrip('/'), 'virtfn%d' % n))
    return device


def ip_show(name, vfs):
    """``ip -j link show dev NAME`` of a PF with ``vfs`` [{mac, vlan, trust, spoofchk}] (iproute2 6.1's shape)."""
    return json.dumps([{'ifindex': 4, 'ifname': name, 'flags': ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
                        'mtu': 1500, 'operstate': 'UP', 'link_type': 'ether', 'address': '3c:fd:fe:00:00:01',
                        'vfinfo_list': [{'vf': i, 'link_type': 'ether', 'address': v['mac'],
                                         'broadcast': 'ff:ff:ff:ff:ff:ff',
                                         'vlan_list': [{'vlan': v['vlan']}] if v['vlan'] else [],
                                         'spoofchk': v['spoofchk'], 'link_state': 'auto', 'trust': v['trust']}
                                        for i, v in enumerate(vfs)]}])


def fresh_vfs(count):
    return [{'mac': '00:00:00:00:00:00', 'vlan': 0, 'trust': False, 'spoofchk': True}] * count


VF0 = {'index': 0, 'mac': '52:54:00:5f:00:01', 'vlan': 100, 'trust': True, 'spoofchk': False}


def args(root, pfs, **extra):
    spec = {'pfs': pfs, 'header': '# Ansible managed\n'}
    spec.update(extra)
    return {'root_dir': str(root), 'sriov': spec}


def numvfs(root, device):
    return read(root, device + '/sriov_numvfs').strip()


def test_vfs_created_kept_by_udev_and_set_then_a_rerun_changes_nothing(tmp_path):
    device = lay_out_pf(tmp_path, 'eth4', 'ixgbe')
    fake = FakeRunCommand().expect(argv=[IP, '-j', 'link', 'show', 'dev', 'eth4'], stdout=ip_show('eth4', fresh_vfs(8)))
    fake.expect(argv=[IP, 'link', 'set', 'dev', 'eth4', 'vf', '0', 'mac', '52:54:00:5f:00:01', 'vlan', '100',
                      'trust', 'on', 'spoofchk', 'off'])
    result, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 8, 'vf': [VF0]}]), fake)
    assert not result.get('failed'), result.get('msg')
    assert numvfs(tmp_path, device) == '8'
    assert result['sriov']['eth4'] == {
        'pci': '0000:03:00.0', 'driver': 'ixgbe', 'totalvfs': 63, 'numvfs_before': 0, 'numvfs': 8,
        'vf_changes': [[IP, 'link', 'set', 'dev', 'eth4', 'vf', '0', 'mac', '52:54:00:5f:00:01', 'vlan', '100',
                        'trust', 'on', 'spoofchk', 'off']]}
    assert read(tmp_path, sriov.RULES_FILE) == (
        '# Ansible managed\n# eth4: 8 VFs\nACTION=="add", SUBSYSTEM=="net", KERNELS=="0000:03:00.0", '
        'ATTR{device/sriov_numvfs}=="0", ATTR{device/sriov_numvfs}="8", RUN+="%s link set dev $name vf 0 '
        'mac 52:54:00:5f:00:01 vlan 100 trust on spoofchk off"\n' % IP)
    assert read(tmp_path, sriov.MODPROBE_FILE) is None
    assert fake.unused() == []
    now = [dict(fresh_vfs(1)[0], mac='52:54:00:5f:00:01', vlan=100, trust=True, spoofchk=False)] + fresh_vfs(7)
    again, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 8, 'vf': [VF0]}]),
                          FakeRunCommand().expect(argv=[IP, '-j', 'link', 'show', 'dev', 'eth4'],
                                                  stdout=ip_show('eth4', now)))
    assert again['changed'] is False and again['sriov']['eth4']['vf_changes'] == []


def test_check_mode_says_what_would_change_and_touches_nothing(tmp_path):
    device = lay_out_pf(tmp_path, 'eth4', 'i40e')
    result, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 4, 'vf': [VF0]}]), FakeRunCommand(), check_mode=True)
    assert result['changed'] is True and numvfs(tmp_path, device) == '0'
    assert 'eth4: 0 VFs -> 4' in result['changes'] and read(tmp_path, sriov.RULES_FILE) is None
    wanted = ['mac', '52:54:00:5f:00:01', 'vlan', '100', 'trust', 'on', 'spoofchk', 'off']
    assert result['sriov']['eth4']['vf_changes'][0][-8:] == wanted


@pytest.mark.parametrize('driver, vfs, fragment', [
    ('virtio_net', 4, 'eth4 (driver virtio_net): has no SR-IOV capability (no sriov_totalvfs in sysfs'),
    ('mlx5_core', 16, 'eth4 (driver mlx5_core): offers 8 VFs and 16 are asked for. Fix: set vfs to 8 or fewer.'),
])
def test_a_pf_that_cannot_fails_before_anything_changes(tmp_path, driver, vfs, fragment):
    lay_out_pf(tmp_path, 'eth4', driver)
    put(tmp_path, '/etc/default/grub', GRUB)
    spec = args(tmp_path, [{'pf': 'eth4', 'vfs': vfs}])
    spec.update(files=[{'path': '/etc/modules-load.d/x.conf', 'content': 'vfio-pci\n'}], grub={'args': []})
    result, fake = prepare(spec, FakeRunCommand())
    assert result['failed'] is True
    assert result['msg'].startswith('SR-IOV cannot be set up as kvm_network asks, nothing was changed: ')
    assert fragment in result['msg']
    assert read(tmp_path, '/etc/modules-load.d/x.conf') is None and read(tmp_path, '/etc/default/grub') == GRUB


def test_a_missing_pf_is_named(tmp_path):
    result, fake = prepare(args(tmp_path, [{'pf': 'eth9', 'vfs': 2}]), FakeRunCommand())
    assert result['failed'] is True and 'eth9: no such network device on the host' in result['msg']


def test_a_count_changes_through_zero_only_with_consent(tmp_path):
    device = lay_out_pf(tmp_path, 'eth4', 'ixgbe', numvfs=4)
    refused, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 8}]), FakeRunCommand())
    assert refused['failed'] is True and numvfs(tmp_path, device) == '4'
    assert 'eth4 has 4 VFs and 8 are asked for' in refused['msg'] and 'kvm_host_sriov_allow_reset: true' in refused['msg']
    fake = FakeRunCommand().expect(argv=[IP, '-j', 'link', 'show', 'dev', 'eth4'], stdout=ip_show('eth4', fresh_vfs(8)))
    result, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 8}], allow_reset=True), fake)
    assert not result.get('failed'), result.get('msg')
    assert [c for c in result['commands'] if c[0] == 'write'] == [
        ['write', '/sys/class/net/eth4/device/sriov_numvfs', '0'], ['write', '/sys/class/net/eth4/device/sriov_numvfs', '8']]
    assert numvfs(tmp_path, device) == '8'


def test_the_driver_option_keeps_the_count_where_asked_and_must_name_the_nics_driver(tmp_path):
    lay_out_pf(tmp_path, 'eth4', 'i40e')
    fake = FakeRunCommand().expect(argv=[IP, '-j', 'link', 'show', 'dev', 'eth4'], stdout=ip_show('eth4', fresh_vfs(8)))
    result, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 8, 'persist': 'driver', 'driver': 'i40e'}]), fake)
    assert not result.get('failed'), result.get('msg')
    assert read(tmp_path, sriov.MODPROBE_FILE) == '# Ansible managed\noptions i40e max_vfs=8\n'
    assert read(tmp_path, sriov.RULES_FILE) is None
    wrong, fake = prepare(args(tmp_path, [{'pf': 'eth4', 'vfs': 8, 'persist': 'driver', 'driver': 'ixgbe'}]),
                          FakeRunCommand())
    assert wrong['failed'] is True and 'names driver ixgbe, but the NIC is driven by i40e' in wrong['msg']


@pytest.mark.parametrize('vendor, expected', [
    ('GenuineIntel', 'console=ttyS0 intel_iommu=on iommu=pt'),
    ('AuthenticAMD', 'console=ttyS0 amd_iommu=on iommu=pt'),
])
def test_the_iommu_arguments_for_the_cpu_go_through_grub(tmp_path, vendor, expected):
    lay_out_pf(tmp_path, 'eth4', 'ixgbe', numvfs=2)
    put(tmp_path, '/etc/default/grub', GRUB)
    put(tmp_path, '/proc/cpuinfo', 'processor\t: 0\nvendor_id\t: %s\ncpu family\t: 6\n' % vendor)
    put(tmp_path, '/proc/cmdline', 'BOOT_IMAGE=/vmlinuz console=ttyS0\n')
    fake = FakeRunCommand().expect(argv=[IP, '-j', 'link', 'show', 'dev', 'eth4'], stdout=ip_show('eth4', fresh_vfs(2)))
    fake.expect(argv=[BIN + 'update-grub'])
    spec = args(tmp_path, [{'pf': 'eth4', 'vfs': 2}])
    spec['grub'] = {'args': []}
    result, fake = prepare(spec, fake)
    assert not result.get('failed'), result.get('msg')
    assert result['grub']['cmdline'] == expected and result['reboot_required'] is True
    assert 'GRUB_CMDLINE_LINUX="%s"' % expected in read(tmp_path, '/etc/default/grub')
