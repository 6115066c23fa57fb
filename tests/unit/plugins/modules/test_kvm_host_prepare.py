# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host_prepare in a temporary root_dir (files, /proc, /sys), every command faked from
recorded tool output (dpkg-query, rpm, systemctl show), so each test asserts the exact argv lists
that ran, and that a converged host runs nothing but the two reads."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from unittest import mock

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import grub, hosts, kernel
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.services import parse_show
from ansible_collections.cloudstack_kvm.networking.plugins.modules import kvm_host_prepare
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import FakeRunCommand, run_module

BIN = '/usr/bin/'
DPKG = [BIN + 'dpkg-query', '-W', '-f=${Package}\t${db:Status-Abbrev}\n']
SYSTEMCTL = BIN + 'systemctl'
SHOW = [SYSTEMCTL, 'show', '--no-pager', '-p', 'Id,LoadState,ActiveState,UnitFileState']
APT = BIN + 'apt-get'
MODULES_FILE = '/etc/modules-load.d/cloudstack-kvm.conf'
SYSCTL_FILE = '/etc/sysctl.d/60-cloudstack-kvm.conf'
BLACKLIST = '/etc/modprobe.d/cloudstack-kvm-bridge-blacklist.conf'
HEADER = '# Ansible managed\n# Kernel settings for CloudStack KVM networking.\n'
HOSTS = '127.0.0.1\tlocalhost\n127.0.1.1\tkvm1.example.org kvm1\n::1\tlocalhost ip6-localhost\n'


def bin_path(self, name, required=False, opt_dirs=None):  # pylint: disable=unused-argument
    return None if name in ('rpm', 'dnf', 'yum', 'hostnamectl') else BIN + name


def put(root, path, text):
    real = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, 'w') as fh:
        fh.write(text)


def read(root, path):
    real = os.path.join(str(root), path.lstrip('/'))
    if not os.path.exists(real):
        return None
    with open(real) as fh:
        return fh.read()


def dpkg_out(installed, half=()):
    lines = ['%s\tii ' % n for n in installed] + ['%s\trc ' % n for n in half]
    return ''.join(line + '\n' for line in lines)


def show_out(units):
    """systemctl show blocks for {unit: (LoadState, ActiveState, UnitFileState)}."""
    return '\n'.join('Id=%s\nLoadState=%s\nActiveState=%s\nUnitFileState=%s\n' % ((u,) + s) for u, s in units)


@pytest.fixture
def host(tmp_path):
    """A Debian host below tmp_path: ovs not loaded, bridge-nf-call at 1, the Debian /etc/hosts."""
    put(tmp_path, '/proc/modules', 'bridge 311296 0 - Live 0x0\nstp 16384 1 bridge, Live 0x0\n')
    put(tmp_path, '/proc/sys/kernel/osrelease', '6.1.0-28-amd64\n')
    put(tmp_path, '/lib/modules/6.1.0-28-amd64/modules.builtin', 'kernel/net/802/8021q.ko\n')
    put(tmp_path, '/proc/sys/net/bridge/bridge-nf-call-iptables', '1\n')
    put(tmp_path, '/proc/sys/net/bridge/bridge-nf-call-ip6tables', '0\n')
    put(tmp_path, '/etc/hosts', HOSTS)
    return tmp_path


def ovs_args(root, **extra):
    args = {
        'root_dir': str(root),
        'packages': ['iproute2', 'openvswitch-switch'],
        'kernel_modules': ['openvswitch', '8021q', 'bridge'],
        'files': [{'path': MODULES_FILE, 'content': '# Ansible managed\nopenvswitch\n8021q\nbridge\n'}],
        'bridge_blacklist': {'path': BLACKLIST, 'content': 'blacklist bridge\ninstall bridge /bin/false\n',
                             'state': 'agent'},
        'sysctl': {'file': SYSCTL_FILE, 'header': HEADER, 'keys': [
            {'name': 'net.bridge.bridge-nf-call-iptables', 'value': '0'},
            {'name': 'net.bridge.bridge-nf-call-ip6tables', 'value': '0'},
            {'name': 'net.ipv6.conf.all.disable_ipv6', 'value': None}]},
        'hosts_entry': {'address': '198.51.100.11', 'names': ['kvm1.example.org', 'kvm1']},
        'services': [{'name': 'openvswitch-switch', 'state': 'started', 'enabled': True},
                     {'name': 'NetworkManager', 'state': 'stopped', 'enabled': False, 'if_missing': 'skip'}],
    }
    args.update(extra)
    return args


def read_packages(fake, installed):
    return fake.expect(argv=DPKG + ['cloudstack-agent', 'iproute2', 'openvswitch-switch'],
                       stdout=dpkg_out(installed), rc=0 if len(installed) == 3 else 1)


def reads(fake, installed, ovs_state=('loaded', 'active', 'enabled')):
    read_packages(fake, installed)
    fake.expect(argv=SHOW + ['openvswitch-switch.service', 'NetworkManager.service'],
                stdout=show_out([('openvswitch-switch.service', ovs_state),
                                 ('NetworkManager.service', ('not-found', 'inactive', ''))]))
    return fake


def prepare(args, fake, check_mode=False, diff=True):
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        return run_module(kvm_host_prepare.main, args, run_command=fake, check_mode=check_mode, diff=diff)


def test_first_run_check_mode_reports_everything_and_changes_nothing(host):
    fake = reads(FakeRunCommand(), ['iproute2'], ('not-found', 'inactive', ''))
    result, fake = prepare(ovs_args(host), fake, check_mode=True)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    assert result['changes'] == [
        'install openvswitch-switch',
        'create %s' % MODULES_FILE,
        'load kernel module openvswitch',
        'create %s (sysctl)' % SYSCTL_FILE,
        'sysctl net.bridge.bridge-nf-call-iptables: 1 -> 0',
        'write /etc/hosts (host entry)',
        # The package this run would install brings the unit.
        'start openvswitch-switch.service',
        'enable openvswitch-switch.service',
    ]
    assert result['bridge_blacklist'] == 'absent' and result['cloudstack_agent_installed'] is False
    assert fake.argvs == [DPKG + ['cloudstack-agent', 'iproute2', 'openvswitch-switch'],
                          SHOW + ['openvswitch-switch.service', 'NetworkManager.service']]
    assert read(host, MODULES_FILE) is None and read(host, SYSCTL_FILE) is None and read(host, '/etc/hosts') == HOSTS
    assert read(host, '/proc/sys/net/bridge/bridge-nf-call-iptables') == '1\n'
    hosts_diff = [d for d in result['diff'] if d['before_header'] == '/etc/hosts'][0]
    assert '198.51.100.11\tkvm1.example.org kvm1' in hosts_diff['after']


def test_first_run_then_rerun_changes_nothing(host):
    fake = reads(FakeRunCommand(), ['iproute2'], ('loaded', 'inactive', 'disabled'))
    install = [APT, 'install', '-y', '-q', 'openvswitch-switch']
    fake.expect(argv=install)
    fake.expect(argv=[BIN + 'modprobe', 'openvswitch'])
    for verb in ('start', 'enable'):
        fake.expect(argv=[SYSTEMCTL, verb, 'openvswitch-switch.service'])
    result, fake = prepare(ovs_args(host), fake)
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == []
    assert result['commands'] == [install, [BIN + 'modprobe', 'openvswitch'],
                                  ['write', '/proc/sys/net/bridge/bridge-nf-call-iptables', '0'],
                                  [SYSTEMCTL, 'start', 'openvswitch-switch.service'],
                                  [SYSTEMCTL, 'enable', 'openvswitch-switch.service']]
    assert read(host, SYSCTL_FILE) == HEADER + 'net.bridge.bridge-nf-call-iptables=0\nnet.bridge.bridge-nf-call-ip6tables=0\n'
    assert read(host, '/proc/sys/net/bridge/bridge-nf-call-iptables') == '0\n'
    assert read(host, '/etc/hosts') == ('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n'
                                        '198.51.100.11\tkvm1.example.org kvm1\n')
    assert [b['path'] for b in result['backups']] == ['/etc/hosts']
    assert read(host, result['backups'][0]['backup']) == HOSTS
    assert result['reboot_required'] is False

    # The converged host: two reads, nothing else.
    put(host, '/proc/modules', read(host, '/proc/modules') + 'openvswitch 192512 0 - Live 0x0\n')
    fake = reads(FakeRunCommand(), ['iproute2', 'openvswitch-switch'])
    rerun, fake = prepare(ovs_args(host), fake)
    assert rerun['changed'] is False and rerun['changes'] == [] and rerun['commands'] == []
    assert rerun['diff'] == []
    assert len(fake.argvs) == 2


def test_apt_refreshes_its_lists_only_when_a_package_is_not_found(host):
    fake = read_packages(FakeRunCommand(), ['iproute2'])
    install = [APT, 'install', '-y', '-q', 'openvswitch-switch']
    fake.expect(argv=install, rc=100, stderr='E: Unable to locate package openvswitch-switch')
    fake.expect(argv=[APT, 'update', '-q'])
    fake.expect(argv=install)
    fake.expect(match=lambda a: a[0] == BIN + 'modprobe')
    result, fake = prepare(ovs_args(host, services=[]), fake)
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == []
    assert result['commands'][:3] == [install, [APT, 'update', '-q'], install]


def test_install_failure_names_the_packages(host):
    fake = read_packages(FakeRunCommand(), ['iproute2'])
    install = [APT, 'install', '-y', '-q', 'openvswitch-switch']
    fake.expect(argv=install, rc=100, stderr='E: Unable to locate package openvswitch-switch', repeat=True)
    fake.expect(argv=[APT, 'update', '-q'])
    result, fake = prepare(ovs_args(host, services=[]), fake)
    assert result['failed'] is True and fake.argvs[-2:] == [[APT, 'update', '-q'], install]
    assert result['msg'].startswith('installing openvswitch-switch failed (rc=100): E: Unable to locate package')


@pytest.mark.parametrize('how', ['properties', 'package'])
def test_blacklist_only_once_the_agent_is_installed(host, how):
    installed = ['iproute2', 'openvswitch-switch']
    if how == 'properties':
        put(host, '/etc/cloudstack/agent/agent.properties', 'guid=x\n')
    else:
        installed.append('cloudstack-agent')
    put(host, '/proc/modules', 'openvswitch 192512 0 - Live 0x0\nbridge 1 0 - Live 0x0\n')
    result, fake = prepare(ovs_args(host, services=[], sysctl=None, hosts_entry=None, files=[]),
                           read_packages(FakeRunCommand(), installed))
    assert not result.get('failed'), result.get('msg')
    assert result['cloudstack_agent_installed'] is True and result['bridge_blacklist'] == 'present'
    assert result['changes'] == ['create %s (Linux bridge module blacklist)' % BLACKLIST]
    assert read(host, BLACKLIST) == 'blacklist bridge\ninstall bridge /bin/false\n'


def test_sysctl_file_keeps_other_lines_and_removes_unset_keys():
    text = ('# mine\nvm.swappiness = 10\nnet.bridge.bridge-nf-call-iptables = 1\nnet.ipv6.conf.all.disable_ipv6=1\n'
            'net.bridge.bridge-nf-call-iptables=1\n')
    keys = [{'name': 'net.bridge.bridge-nf-call-iptables', 'value': '0'},
            {'name': 'net.ipv6.conf.all.disable_ipv6', 'value': None},
            {'name': 'net.bridge.bridge-nf-call-arptables', 'value': '0'}]
    assert kernel.sysctl_file_text(text, keys) == (
        '# mine\nvm.swappiness = 10\nnet.bridge.bridge-nf-call-iptables=0\nnet.bridge.bridge-nf-call-arptables=0\n')


def test_sysctl_not_set_live_where_the_kernel_lacks_the_key(host):
    args = ovs_args(host, packages=[], services=[], kernel_modules=[], files=[], bridge_blacklist=None,
                    hosts_entry=None)
    args['sysctl']['keys'].append({'name': 'net.bridge.bridge-nf-call-arptables', 'value': '0'})
    result, fake = prepare(args, FakeRunCommand())
    assert not result.get('failed'), result.get('msg')
    assert 'net.bridge.bridge-nf-call-arptables=0' in read(host, SYSCTL_FILE)
    assert list(result['sysctl_live']) == ['net.bridge.bridge-nf-call-iptables']
    assert fake.argvs == []


def test_missing_service_fails_with_the_fix(host):
    fake = FakeRunCommand().expect(argv=SHOW + ['openvswitch-switch.service'],
                                   stdout=show_out([('openvswitch-switch.service', ('not-found', 'inactive', ''))]))
    result, fake = prepare({'root_dir': str(host), 'services': [{'name': 'openvswitch-switch', 'state': 'started'}]},
                           fake)
    assert result['failed'] is True
    assert result['msg'] == ('the service openvswitch-switch.service does not exist on the host. Fix: install its '
                             'package (kvm_host_install_packages: true, or kvm_host_packages_extra).')


def test_networkmanager_stopped_and_disabled_for_network_scripts(host):
    fake = FakeRunCommand().expect(argv=SHOW + ['NetworkManager.service', 'network.service'], stdout=show_out([
        ('NetworkManager.service', ('loaded', 'active', 'enabled')),
        ('network.service', ('loaded', 'inactive', 'generated'))]))
    fake.expect(argv=[SYSTEMCTL, 'stop', 'NetworkManager.service'])
    fake.expect(argv=[SYSTEMCTL, 'disable', 'NetworkManager.service'])
    result, fake = prepare({'root_dir': str(host), 'services': [
        {'name': 'NetworkManager', 'state': 'stopped', 'enabled': False, 'if_missing': 'skip'},
        {'name': 'network', 'enabled': True}]}, fake)
    assert not result.get('failed'), result.get('msg')
    assert result['changes'] == ['stop NetworkManager.service', 'disable NetworkManager.service']
    assert fake.unused() == []


def test_restart_after_install_only_when_something_was_installed(host):
    fake = FakeRunCommand().expect(argv=DPKG + ['NetworkManager-ovs'], stdout='', rc=1)
    fake.expect(argv=[APT, 'install', '-y', '-q', 'NetworkManager-ovs'])
    fake.expect(argv=[SYSTEMCTL, 'restart', 'NetworkManager.service'])
    args = {'root_dir': str(host), 'packages': ['NetworkManager-ovs'], 'restart_after_install': ['NetworkManager']}
    result, fake = prepare(args, fake)
    assert not result.get('failed'), result.get('msg')
    assert result['changes'] == ['install NetworkManager-ovs', 'restart NetworkManager.service (packages installed)']
    fake = FakeRunCommand().expect(argv=DPKG + ['NetworkManager-ovs'], stdout=dpkg_out(['NetworkManager-ovs']))
    assert prepare(args, fake)[0]['changed'] is False


def test_rpm_hosts_are_read_with_one_rpm_query(host):
    def el_bin(self, name, required=False, opt_dirs=None):  # pylint: disable=unused-argument
        return None if name in ('dpkg-query', 'apt-get') else BIN + name
    fake = FakeRunCommand().expect(argv=[BIN + 'rpm', '-q', '--qf', '%{NAME}\n', 'NetworkManager', 'openvswitch'],
                                   rc=1, stdout='NetworkManager\npackage openvswitch is not installed\n')
    fake.expect(argv=[BIN + 'dnf', 'install', '-y', 'openvswitch'])
    with mock.patch.object(AnsibleModule, 'get_bin_path', el_bin):
        result, fake = run_module(kvm_host_prepare.main, {'root_dir': str(host), 'packages': [
            'openvswitch', 'NetworkManager']}, run_command=fake)
    assert not result.get('failed'), result.get('msg')
    assert result['packages'] == {'manager': 'dnf', 'missing': ['openvswitch'], 'removed': []}


def test_ubuntu_seed_way_purges_netplan_only_while_installed(host):
    fake = FakeRunCommand().expect(argv=DPKG + ['ifupdown', 'netplan.io'], stdout=dpkg_out(['ifupdown', 'netplan.io']))
    fake.expect(argv=[APT, 'purge', '-y', '-q', 'netplan.io'])
    args = {'root_dir': str(host), 'packages': ['ifupdown'], 'packages_absent': ['netplan.io']}
    result, fake = prepare(args, fake)
    assert result['changes'] == ['remove netplan.io'] and fake.unused() == []
    fake = FakeRunCommand().expect(argv=DPKG + ['ifupdown', 'netplan.io'], stdout=dpkg_out(['ifupdown'], ['netplan.io']))
    assert prepare(args, fake)[0]['changed'] is False


GRUB_DEFAULTS = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="console=ttyS0 net.ifnames=1"\n'


def test_grub_arguments_replace_same_key_backup_and_update(host):
    put(host, '/etc/default/grub', GRUB_DEFAULTS)
    put(host, '/proc/cmdline', 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 console=ttyS0 net.ifnames=1\n')
    fake = FakeRunCommand().expect(argv=[BIN + 'update-grub'])
    args = {'root_dir': str(host), 'grub': {'args': ['net.ifnames=0', 'biosdevname=0']}}
    result, fake = prepare(args, fake)
    assert not result.get('failed'), result.get('msg')
    assert read(host, '/etc/default/grub') == GRUB_DEFAULTS.replace(
        '"console=ttyS0 net.ifnames=1"', '"console=ttyS0 net.ifnames=0 biosdevname=0"')
    assert result['grub']['missing_from_running_kernel'] == ['net.ifnames=0', 'biosdevname=0']
    assert result['reboot_required'] is True and [b['path'] for b in result['backups']] == ['/etc/default/grub']
    assert result['commands'] == [[BIN + 'update-grub']]
    again, fake = prepare(args, FakeRunCommand())
    assert again['changed'] is False and again['reboot_required'] is True
    assert again['warnings'] == ['the running kernel lacks net.ifnames=0 biosdevname=0; reboot the host to use them '
                                 '(this module never reboots).']


def test_problems_given_to_the_module_itself_fail_it_untouched(host):
    result, fake = prepare({'root_dir': str(host), 'problems': ['kvm_host_fqdn (x) is not a valid host name.'],
                            'packages': ['iproute2']}, FakeRunCommand())
    assert result['failed'] is True and result['msg'] == 'kvm_host_fqdn (x) is not a valid host name.'
    assert fake.unused() == []


def test_grub_without_defaults_file_fails_with_the_fix(host):
    result, fake = prepare({'root_dir': str(host), 'grub': {'args': ['net.ifnames=0']}}, FakeRunCommand())
    assert result['failed'] is True
    assert 'Fix: set kvm_host_grub_cmdline_args: [] for this host' in result['msg']


def test_grub2_mkconfig_writes_where_the_el7_link_points(host):
    os.symlink('../boot/grub2/grub.cfg', os.path.join(str(host), 'etc', 'grub2.cfg'))
    assert grub.update_argv('grub2-mkconfig', ['a=1'], kvm_host_prepare_root(host), lambda n: BIN + n) == [
        BIN + 'grub2-mkconfig', '-o', '/boot/grub2/grub.cfg']


def kvm_host_prepare_root(root):
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root
    return Root(str(root))


@pytest.mark.parametrize('current,wanted,merged', [
    ('', ['net.ifnames=0'], 'net.ifnames=0'),
    ('quiet net.ifnames=1 net.ifnames=2', ['net.ifnames=0'], 'quiet net.ifnames=0'),
    ('a=1 b', ['b', 'c=2'], 'a=1 b c=2'),
])
def test_grub_merge(current, wanted, merged):
    assert grub.merged_cmdline(current, wanted) == merged


def test_hosts_entry_replaces_the_last_line_of_the_address():
    text = '198.51.100.11 old\n127.0.1.1 kvm1\n198.51.100.11 older\n'
    assert hosts.hosts_text(text, '198.51.100.11', ['kvm1.example.org', 'kvm1']) == (
        '198.51.100.11 old\n198.51.100.11\tkvm1.example.org kvm1\n')


def test_systemctl_show_blocks_in_order():
    out = show_out([('a.service', ('loaded', 'active', 'enabled')), ('b.service', ('not-found', 'inactive', ''))])
    assert [b['Id'] for b in parse_show(out)] == ['a.service', 'b.service']


def test_loaded_modules_counts_builtin_ones(host):
    assert {'bridge', 'stp', '8021q'} <= kernel.loaded_modules(kvm_host_prepare_root(host))


# --- forwarding.accept_bridged (seed 003): the FORWARD rule in the host's framework ------------------

UNIT_FILE = '/etc/systemd/system/cloudstack-kvm-accept-bridged.service'
RULE = ['-m', 'physdev', '--physdev-is-bridged', '-j', 'ACCEPT']
IPTABLES = BIN + 'iptables'
FIREWALL_CMD = BIN + 'firewall-cmd'
DIRECT = ['ipv4', 'filter', 'FORWARD', '0'] + RULE


def prepare_with(args, fake, absent=(), check_mode=False):
    """kvm_host_prepare with the tools in ``absent`` missing from the host."""
    def which(self, name, required=False, opt_dirs=None):  # pylint: disable=unused-argument
        return None if name in absent else bin_path(self, name, required, opt_dirs)
    with mock.patch.object(AnsibleModule, 'get_bin_path', which):
        return run_module(kvm_host_prepare.main, args, run_command=fake, check_mode=check_mode, diff=True)


def accept_args(root, state='present'):
    return {'root_dir': str(root), 'accept_bridged': {'state': state, 'header': '# Ansible managed\n'}}


def test_accept_bridged_with_iptables_inserts_the_rule_and_a_boot_unit_then_reruns_as_two_reads(host):
    fake = FakeRunCommand()
    fake.expect(argv=[SYSTEMCTL, 'is-enabled', '--quiet', 'cloudstack-kvm-accept-bridged.service'], rc=1)
    fake.expect(argv=[IPTABLES, '-w', '-C', 'FORWARD'] + RULE, rc=1, stderr='iptables: Bad rule.')
    for argv in ([SYSTEMCTL, 'daemon-reload'], [SYSTEMCTL, 'enable', 'cloudstack-kvm-accept-bridged.service'],
                 [IPTABLES, '-w', '-I', 'FORWARD', '1'] + RULE):
        fake.expect(argv=argv)
    result, fake = prepare_with(accept_args(host), fake, absent=('firewall-cmd',))
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == []
    assert result['accept_bridged'] == {'framework': 'iptables', 'state': 'present'}
    assert result['changes'] == ['create %s (accept bridged traffic at boot)' % UNIT_FILE,
                                 'enable cloudstack-kvm-accept-bridged.service',
                                 'iptables: insert FORWARD -m physdev --physdev-is-bridged -j ACCEPT']
    unit = read(host, UNIT_FILE)
    assert unit.startswith('# Ansible managed\n[Unit]\n')
    assert 'ExecStart=%s -w -I FORWARD 1 -m physdev --physdev-is-bridged -j ACCEPT\n' % IPTABLES in unit
    assert 'After=network-pre.target iptables.service netfilter-persistent.service nftables.service' in unit

    fake = FakeRunCommand()
    fake.expect(argv=[SYSTEMCTL, 'is-enabled', '--quiet', 'cloudstack-kvm-accept-bridged.service'])
    fake.expect(argv=[IPTABLES, '-w', '-C', 'FORWARD'] + RULE)
    rerun, fake = prepare_with(accept_args(host), fake, absent=('firewall-cmd',))
    assert rerun['changed'] is False and rerun['commands'] == [] and len(fake.argvs) == 2


def test_accept_bridged_check_mode_says_what_it_would_do_and_does_nothing(host):
    fake = FakeRunCommand()
    fake.expect(argv=[SYSTEMCTL, 'is-enabled', '--quiet', 'cloudstack-kvm-accept-bridged.service'], rc=1)
    fake.expect(argv=[IPTABLES, '-w', '-C', 'FORWARD'] + RULE, rc=1)
    result, fake = prepare_with(accept_args(host), fake, absent=('firewall-cmd',), check_mode=True)
    assert result['changed'] is True and len(result['changes']) == 3
    assert len(fake.argvs) == 2 and read(host, UNIT_FILE) is None
    assert [d['before_header'] for d in result['diff']] == [UNIT_FILE]


def test_accept_bridged_with_firewalld_adds_permanent_and_runtime_direct_rules(host):
    fake = FakeRunCommand()
    fake.expect(argv=[FIREWALL_CMD, '--state'], stdout='running\n')
    fake.expect(argv=[FIREWALL_CMD, '--permanent', '--direct', '--query-rule'] + DIRECT, rc=1, stdout='no\n')
    fake.expect(argv=[FIREWALL_CMD, '--permanent', '--direct', '--add-rule'] + DIRECT)
    fake.expect(argv=[FIREWALL_CMD, '--direct', '--query-rule'] + DIRECT, rc=1, stdout='no\n')
    fake.expect(argv=[FIREWALL_CMD, '--direct', '--add-rule'] + DIRECT)
    result, fake = prepare_with(accept_args(host), fake)
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == []
    assert result['accept_bridged'] == {'framework': 'firewalld', 'state': 'present'}
    assert read(host, '/var/lib/cloudstack-kvm/accept-bridged.firewalld') is not None
    assert read(host, UNIT_FILE) is None

    # Dropped from the model: the rules the module added go, and its marker.
    fake = FakeRunCommand()
    fake.expect(argv=[FIREWALL_CMD, '--state'], stdout='running\n')
    for scope in (['--permanent'], []):
        fake.expect(argv=[FIREWALL_CMD] + scope + ['--direct', '--query-rule'] + DIRECT, stdout='yes\n')
        fake.expect(argv=[FIREWALL_CMD] + scope + ['--direct', '--remove-rule'] + DIRECT)
    result, fake = prepare_with(accept_args(host, 'absent'), fake)
    assert fake.unused() == [] and result['changed'] is True
    assert read(host, '/var/lib/cloudstack-kvm/accept-bridged.firewalld') is None


def test_accept_bridged_absent_runs_nothing_on_a_host_without_it_and_leaves_a_foreign_rule(host):
    fake = FakeRunCommand()    # any command would fail the test: firewalld's own rules are not ours
    result, fake = prepare_with(accept_args(host, 'absent'), fake)
    assert result['changed'] is False and fake.argvs == []


def test_accept_bridged_absent_removes_the_unit_and_rule_the_module_added(host):
    put(host, UNIT_FILE, '# Ansible managed\n[Unit]\n')
    fake = FakeRunCommand()
    fake.expect(argv=[IPTABLES, '-w', '-C', 'FORWARD'] + RULE)
    for argv in ([IPTABLES, '-w', '-D', 'FORWARD'] + RULE, [SYSTEMCTL, 'disable', 'cloudstack-kvm-accept-bridged.service'],
                 [SYSTEMCTL, 'daemon-reload']):
        fake.expect(argv=argv)
    result, fake = prepare_with(accept_args(host, 'absent'), fake, absent=('firewall-cmd',))
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == [] and read(host, UNIT_FILE) is None


def test_accept_bridged_without_any_firewall_fails_naming_the_fix(host):
    result, fake = prepare_with(accept_args(host), FakeRunCommand(), absent=('firewall-cmd', 'iptables'))
    assert result['failed'] is True and fake.argvs == []
    assert 'install iptables' in result['msg'] and 'forwarding.accept_bridged' in result['msg']
