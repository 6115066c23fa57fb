# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_apply end to end in a temporary root_dir, every command faked and recorded.

The files are the real renderers' output; the commands the module runs (ifup/ifdown, netplan,
nmcli, ip -j, ovs-vsctl) are answered by FakeRunCommand, which fails the test on any command not
expected, so each test asserts the exact argv list that ran (and that a rerun runs no activation
command). Open vSwitch is also exercised against a real scratch ovsdb-server.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import subprocess

import pytest
import yaml

from unittest import mock

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import renderers as render_renderers
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import MARKER
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import whole_host
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import rollback
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.ifupdown import IfupdownSystem
from ansible_collections.cloudstack_kvm.networking.plugins.modules import kvm_network_apply
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs import replay
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.fixtures.ovs.ovsdb_server import (
    missing_binaries,
    server_for_tests,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import FakeRunCommand, run_module

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', '..', 'fixtures', 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)

SBIN = '/usr/sbin/'
IFUP, IFDOWN, NETPLAN, NMCLI, IP = SBIN + 'ifup', SBIN + 'ifdown', SBIN + 'netplan', SBIN + 'nmcli', SBIN + 'ip'
IP_LINKS = [IP, '-j', '-d', 'link', 'show']
IP_ADDRS = [IP, '-j', 'addr', 'show']
IP_ROUTE4 = [IP, '-j', '-4', 'route', 'show', 'default']
IP_ROUTE6 = [IP, '-j', '-6', 'route', 'show', 'default']
IP_READS = (IP_LINKS, IP_ADDRS, IP_ROUTE4, IP_ROUTE6)

# Two single-NIC bridges (the container lab has no bonding): cloudbr0 with the host address.
TWO_BRIDGES = {
    'ethernets': {'eth0': {}, 'eth1': {}},
    'bridges': {
        'cloudbr0': {'uplink': 'eth0', 'addresses': ['198.51.100.11/24'], 'gateway4': '198.51.100.1'},
        'cloudbr1': {'uplink': 'eth1'},
    },
}
DEBIAN_INTERFACES = '''# interfaces(5) file used by ifup(8) and ifdown(8)
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
'''


def model_of(data, **changes):
    data = copy.deepcopy(data)
    data.update(changes)
    return model_normalise.normalise(data, 'kvm1')


def args_for(model, renderer, root, **extra):
    out = render_renderers.render(model, renderer, {'host': 'kvm1'})
    args = {'renderer': out['renderer'], 'files': out['files'], 'owned': out['owned'], 'marker': out['marker'],
            'ovs_state': out['ovs_state'], 'model': model, 'root_dir': str(root)}
    args.update(extra)
    return args


def put(root, path, text, mode=0o644):
    real = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, 'w') as f:
        f.write(text)
    os.chmod(real, mode)
    return real


def read(root, path):
    real = os.path.join(str(root), path.lstrip('/'))
    if not os.path.exists(real):
        return None
    with open(real) as f:
        return f.read()


class HostFake(FakeRunCommand):
    """FakeRunCommand that also answers, without recording, the lsattr calls Ansible's own file
    handling (atomic_move) makes: no attributes."""

    def __call__(self, module, args, **kwargs):
        if os.path.basename(args[0]) == 'lsattr':
            return 1, '', ''
        return super(HostFake, self).__call__(module, args, **kwargs)


def live_json(bridges, gateway=None):
    """ip -j output for Linux bridges {name: {'ports': [...], 'addresses': [...]}}."""
    links = [{'ifname': 'lo', 'ifindex': 1, 'flags': ['LOOPBACK', 'UP'], 'mtu': 65536, 'operstate': 'UNKNOWN',
              'link_type': 'loopback', 'address': '00:00:00:00:00:00'}]
    addrs = []
    index = 2
    for name in sorted(bridges):
        spec = bridges[name]
        for port in spec.get('ports', []):
            links.append({'ifname': port, 'ifindex': index, 'flags': ['BROADCAST', 'UP', 'LOWER_UP'], 'mtu': 1500,
                          'operstate': 'UP', 'link_type': 'ether', 'address': '52:54:00:00:00:%02x' % index,
                          'master': name, 'linkinfo': {'info_slave_kind': 'bridge'}})
            index += 1
        links.append({'ifname': name, 'ifindex': index, 'flags': ['BROADCAST', 'UP', 'LOWER_UP'], 'mtu': 1500,
                      'operstate': 'UP', 'link_type': 'ether', 'address': '52:54:00:00:01:%02x' % index,
                      'linkinfo': {'info_kind': 'bridge', 'info_data': {'stp_state': 0, 'forward_delay': 0}}})
        index += 1
        addrs.append({'ifname': name, 'addr_info': [
            {'family': 'inet', 'local': a.split('/')[0], 'prefixlen': int(a.split('/')[1]), 'scope': 'global'}
            for a in spec.get('addresses', [])]})
    routes = [{'dst': 'default', 'gateway': gateway[0], 'dev': gateway[1]}] if gateway else []
    return json.dumps(links), json.dumps(addrs), json.dumps(routes)


# The live state that matches TWO_BRIDGES, and nothing at all.
CONVERGED = live_json({'cloudbr0': {'ports': ['eth0'], 'addresses': ['198.51.100.11/24']},
                       'cloudbr1': {'ports': ['eth1']}}, ('198.51.100.1', 'cloudbr0'))
NOTHING = live_json({})


def expect_live(fake, live=CONVERGED):
    links, addrs, routes = live
    fake.expect(argv=IP_LINKS, stdout=links)
    fake.expect(argv=IP_ADDRS, stdout=addrs)
    fake.expect(argv=IP_ROUTE4, stdout=routes)
    fake.expect(argv=IP_ROUTE6, stdout='[]')
    return fake


def bin_path(self, name, required=False, opt_dirs=None):  # pylint: disable=unused-argument
    return SBIN + name


def apply(args, fake=None, check_mode=False, diff=True):
    fake = fake if fake is not None else HostFake()
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        result, fake = run_module(kvm_network_apply.main, args, run_command=fake, check_mode=check_mode, diff=diff)
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == [], 'expected commands that did not run: %r' % fake.unused()
    return result, fake


# --- ifupdown -------------------------------------------------------------------------------------

@pytest.fixture
def debian(tmp_path):
    put(tmp_path, '/etc/network/interfaces', DEBIAN_INTERFACES)
    return tmp_path


def ifupdown_first_apply(root, model):
    fake = expect_live(HostFake(), NOTHING)
    for argv in ([IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1']):
        fake.expect(argv=argv)
    return apply(args_for(model, 'ifupdown', root), fake)


def test_ifupdown_first_apply_takes_over_eth0_and_brings_everything_up_in_order(debian):
    model = model_of(TWO_BRIDGES)
    result, fake = ifupdown_first_apply(debian, model)
    assert result['changed'] is True
    # eth0 goes down with the installer's (DHCP) definition before any file changes, then NICs
    # come up before the bridges on them.
    assert [a for a in fake.argvs if a not in IP_READS] == [
        [IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1']]
    assert result['activated']['reasons'] == {'eth0': 'changed', 'eth1': 'added', 'cloudbr0': 'added',
                                              'cloudbr1': 'added'}
    ours = read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    assert MARKER in ours and 'bridge_ports eth0' in ours
    main = read(debian, '/etc/network/interfaces')
    assert '# iface eth0 inet dhcp' in main and '# allow-hotplug eth0' in main
    assert '\niface lo inet loopback' in main, 'the loopback stanza must stay'
    assert result['conflicts'] == [{'file': '/etc/network/interfaces', 'interfaces': ['eth0'],
                                    'action': 'commented_out'}]
    assert result['files']['created'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    assert result['files']['written'] == ['/etc/network/interfaces']
    backup = result['files']['backups'][0]
    assert backup['path'] == '/etc/network/interfaces'
    assert read(debian, backup['backup']) == DEBIAN_INTERFACES
    headers = [d['before_header'] for d in result['diff']]
    assert headers == ['/etc/network/interfaces', '/etc/network/interfaces.d/cloudstack-kvm']
    assert result['drift'] == []


def test_ifupdown_rerun_changes_nothing_and_runs_no_activation(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    result, fake = apply(args_for(model, 'ifupdown', debian), expect_live(HostFake()))
    assert result['changed'] is False
    assert fake.argvs == list(IP_READS), 'only the live-state reads may run'
    assert result['activated'] == {'interfaces': [], 'reasons': {}, 'commands': [], 'deferred': [], 'renamed': [],
                                   'announced': [], 'adopted': []}
    assert result['files'] == {'written': [], 'created': [], 'removed': [], 'backups': []}
    assert result['conflicts'] == [] and result['diff'] == []


def test_ifupdown_change_one_bridge_touches_only_it(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    data = copy.deepcopy(TWO_BRIDGES)
    data['bridges']['cloudbr1']['addresses'] = ['203.0.113.11/24']
    fake = expect_live(HostFake())
    fake.expect(argv=[IFDOWN, '--force', 'cloudbr1']).expect(argv=[IFUP, 'cloudbr1'])
    result, fake = apply(args_for(model_of(data), 'ifupdown', debian), fake)
    assert [a for a in fake.argvs if a not in IP_READS] == [[IFDOWN, '--force', 'cloudbr1'], [IFUP, 'cloudbr1']]
    assert result['activated']['interfaces'] == ['cloudbr1']
    assert result['files']['written'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    # The backup of a file in interfaces.d must not land where `source interfaces.d/*` reads it.
    backup = result['files']['backups'][0]['backup']
    assert backup.startswith('/var/backups/cloudstack-kvm/cloudstack-kvm.')
    assert os.listdir(os.path.join(str(debian), 'etc/network/interfaces.d')) == ['cloudstack-kvm']


def test_ifupdown_removed_bridge_goes_down_with_its_old_definition(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    data = copy.deepcopy(TWO_BRIDGES)
    del data['bridges']['cloudbr1']
    del data['ethernets']['eth1']
    old = read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    seen = {}

    def down(argv):
        seen.setdefault('file_at_ifdown', read(debian, '/etc/network/interfaces.d/cloudstack-kvm'))
        return argv[:2] == [IFDOWN, '--force']
    fake = expect_live(HostFake(), CONVERGED)
    fake.expect(match=down).expect(match=down)
    result, fake = apply(args_for(model_of(data), 'ifupdown', debian), fake)
    assert [a for a in fake.argvs if a not in IP_READS] == [[IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'eth1']]
    assert seen['file_at_ifdown'] == old, 'ifdown must run before the file changes'
    assert result['activated']['reasons'] == {'cloudbr1': 'removed', 'eth1': 'removed'}
    assert 'cloudbr1' not in read(debian, '/etc/network/interfaces.d/cloudstack-kvm')


def test_ifupdown_source_line_added_when_nothing_reads_our_file(tmp_path):
    put(tmp_path, '/etc/network/interfaces', 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*.cfg\n')
    model = model_of(TWO_BRIDGES)
    fake = expect_live(HostFake(), NOTHING)
    for argv in ([IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1']):
        fake.expect(argv=argv)
    result, fake = apply(args_for(model, 'ifupdown', tmp_path), fake)
    main = read(tmp_path, '/etc/network/interfaces')
    assert main.endswith('source /etc/network/interfaces.d/cloudstack-kvm\n')
    assert {'file': '/etc/network/interfaces', 'interfaces': [], 'action': 'source_added'} in result['conflicts']


def test_ifupdown_cloud_init_file_in_interfaces_d_is_commented_out(debian):
    put(debian, '/etc/network/interfaces', DEBIAN_INTERFACES.replace('allow-hotplug eth0\niface eth0 inet dhcp\n', ''))
    cloud_init = 'auto lo eth1\niface lo inet loopback\n\niface eth1 inet dhcp\n    mtu 1500\n'
    put(debian, '/etc/network/interfaces.d/50-cloud-init', cloud_init)
    fake = expect_live(HostFake(), NOTHING)
    for argv in ([IFDOWN, '--force', 'eth1'], [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1']):
        fake.expect(argv=argv)
    result, fake = apply(args_for(model_of(TWO_BRIDGES), 'ifupdown', debian), fake)
    text = read(debian, '/etc/network/interfaces.d/50-cloud-init')
    assert '# auto lo eth1\nauto lo\n' in text
    assert '# iface eth1 inet dhcp\n#     mtu 1500\n' in text
    assert result['conflicts'] == [{'file': '/etc/network/interfaces.d/50-cloud-init', 'interfaces': ['eth1'],
                                    'action': 'commented_out'}]
    # Rerun: the commented file is left as it is.
    result, fake = apply(args_for(model_of(TWO_BRIDGES), 'ifupdown', debian), expect_live(HostFake()))
    assert result['changed'] is False


# --- drift and guests -------------------------------------------------------------------------------

def test_live_drift_reactivates_only_the_drifted_bridge_and_check_mode_only_reports(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    lost = live_json({'cloudbr0': {'ports': ['eth0'], 'addresses': []}, 'cloudbr1': {'ports': ['eth1']}})
    check, fake = apply(args_for(model, 'ifupdown', debian), expect_live(HostFake(), lost), check_mode=True)
    assert check['changed'] is True
    assert fake.argvs == list(IP_READS), 'check mode ran a command that changes the host'
    assert check['drift'] == [{'interface': 'cloudbr0', 'differences': [
        'bridge cloudbr0: address 198.51.100.11/24 missing', 'bridge cloudbr0: gateway4 none, expected 198.51.100.1']}]
    # An address and a default route are put back in place: ifdown/ifup would re-create the bridge.
    repair = [[IP, 'address', 'add', '198.51.100.11/24', 'dev', 'cloudbr0'],
              [IP, '-4', 'route', 'replace', 'default', 'via', '198.51.100.1', 'dev', 'cloudbr0']]
    assert check['activated']['commands'] == repair
    # --check --diff says what would change: the drifted interface, the realised and the wanted value.
    assert check['diff'] == [{'before_header': 'bridge cloudbr0 (live network)',
                              'after_header': 'bridge cloudbr0 (kvm_network, re-activated)',
                              'before': 'addresses: []\ngateway4: null\n',
                              'after': 'addresses: ["198.51.100.11/24"]\ngateway4: "198.51.100.1"\n'}]
    fake = expect_live(HostFake(), lost)
    for argv in repair:
        fake.expect(argv=argv)
    result, fake = apply(args_for(model, 'ifupdown', debian), fake)
    assert result['changed'] is True and result['activated']['reasons'] == {'cloudbr0': 'drift'}
    assert [a for a in fake.argvs if a not in IP_READS] == repair
    assert result['files']['written'] == []


def test_drift_repair_cannot_fix_is_a_warning_not_a_change(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    extra = live_json({'cloudbr0': {'ports': ['eth0'], 'addresses': ['198.51.100.11/24', '198.51.100.99/24']},
                       'cloudbr1': {'ports': ['eth1']}}, ('198.51.100.1', 'cloudbr0'))
    result, fake = apply(args_for(model, 'ifupdown', debian), expect_live(HostFake(), extra))
    assert result['changed'] is False and result['drift'] == []
    assert any('198.51.100.99/24 unexpected' in w for w in result['warnings'])


def test_bridge_with_guest_ports_is_not_restarted(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    for port in ('eth1', 'vnet0'):
        os.makedirs(os.path.join(str(debian), 'sys/class/net/cloudbr1/brif', port))
    data = copy.deepcopy(TWO_BRIDGES)
    data['bridges']['cloudbr1']['addresses'] = ['203.0.113.11/24']
    result, fake = apply(args_for(model_of(data), 'ifupdown', debian), expect_live(HostFake()))
    assert [a for a in fake.argvs if a not in IP_READS] == []
    assert result['changed'] is True and result['files']['written'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    assert result['activated']['deferred'] == [{'interface': 'cloudbr1', 'bridge': 'cloudbr1', 'ports': ['vnet0']}]
    assert any('not restarting cloudbr1' in w and 'vnet0' in w for w in result['warnings'])
    # The next run finds cloudbr1's address missing (the file is written already) and puts it on
    # the live bridge in place: the guests keep their ports, the bridge its MAC.
    fake = expect_live(HostFake())
    fake.expect(argv=[IP, 'address', 'add', '203.0.113.11/24', 'dev', 'cloudbr1'])
    result, fake = apply(args_for(model_of(data), 'ifupdown', debian), fake)
    assert result['activated']['reasons'] == {'cloudbr1': 'drift'}
    assert result['activated']['commands'] == [[IP, 'address', 'add', '203.0.113.11/24', 'dev', 'cloudbr1']]
    assert result['activated']['deferred'] == []


# --- netplan ----------------------------------------------------------------------------------------

CLOUD_INIT_NETPLAN = '''network:
  version: 2
  ethernets:
    ens3:
      match: {macaddress: "52:54:00:12:34:56"}
      set-name: eth0
      dhcp4: true
'''


CLOUD_INIT_HEADED = (
    '# This file is generated from information provided by the datasource.  Changes\n'
    '# to it will not persist across an instance reboot.\n' + CLOUD_INIT_NETPLAN)


def test_netplan_generate_then_apply_once_and_rerun_is_quiet(tmp_path):
    model = model_of(TWO_BRIDGES)
    put(tmp_path, '/etc/netplan/50-cloud-init.yaml', CLOUD_INIT_NETPLAN, 0o600)
    put(tmp_path, '/etc/netplan/01-other.yaml', 'network:\n  ethernets:\n    eth1: {mtu: 1500}\n    eth7: {}\n', 0o600)
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    result, fake = apply(args_for(model, 'netplan', tmp_path), fake)
    assert [a for a in fake.argvs if a not in IP_READS] == [[NETPLAN, 'generate'], [NETPLAN, 'apply']]
    assert oct(os.stat(os.path.join(str(tmp_path), 'etc/netplan/60-cloudstack-kvm.yaml')).st_mode & 0o777) == '0o600'
    # The other files' entries for our interfaces are taken over (netplan merges every file: the
    # installer's DHCP client on eth0 would keep running); what is not ours stays.
    conflicts = dict((c['file'], c) for c in result['conflicts'])
    assert conflicts['/etc/netplan/50-cloud-init.yaml'] == {
        'file': '/etc/netplan/50-cloud-init.yaml', 'interface': 'eth0', 'netplan_id': 'ens3', 'section': 'ethernets',
        'dhcp': True, 'action': 'taken_over'}
    assert conflicts['/etc/netplan/01-other.yaml']['dhcp'] is False
    assert yaml.safe_load(read(tmp_path, '/etc/netplan/50-cloud-init.yaml')) == {'network': {'version': 2}}
    assert yaml.safe_load(read(tmp_path, '/etc/netplan/01-other.yaml')) == {'network': {'ethernets': {'eth7': {}}}}
    assert read(tmp_path, '/etc/netplan/01-other.yaml').startswith(
        '# eth1 taken over by /etc/netplan/60-cloudstack-kvm.yaml (the previous version of this file is backed up')
    assert oct(os.stat(os.path.join(str(tmp_path), 'etc/netplan/50-cloud-init.yaml')).st_mode & 0o777) == '0o600'
    backups = dict((b['path'], b['backup']) for b in result['files']['backups'])
    assert read(tmp_path, backups['/etc/netplan/50-cloud-init.yaml']) == CLOUD_INIT_NETPLAN
    assert result['activated']['reasons']['eth0'] == 'changed' and result['activated']['reasons']['eth1'] == 'changed'
    assert '/etc/cloud/cloud.cfg.d/99-cloudstack-kvm-network.cfg' not in result['files']['created'], \
        'cloud-init is not installed here'
    result, fake = apply(args_for(model, 'netplan', tmp_path), expect_live(HostFake()))
    assert result['changed'] is False and fake.argvs == list(IP_READS)


def test_netplan_cloud_init_stays_taken_over_across_a_reboot(tmp_path):
    # cloud-init writes 50-cloud-init.yaml at every boot unless its network configuration is off.
    put(tmp_path, '/etc/netplan/50-cloud-init.yaml', CLOUD_INIT_HEADED, 0o600)
    os.makedirs(os.path.join(str(tmp_path), 'etc/cloud/cloud.cfg.d'))
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    result, fake = apply(args_for(model_of(TWO_BRIDGES), 'netplan', tmp_path), fake)
    disable = '/etc/cloud/cloud.cfg.d/99-cloudstack-kvm-network.cfg'
    assert disable in result['files']['created']
    assert yaml.safe_load(read(tmp_path, disable)) == {'network': {'config': 'disabled'}}
    assert {'file': disable, 'interfaces': [], 'action': 'cloud_init_network_disabled'} in result['conflicts']
    taken = read(tmp_path, '/etc/netplan/50-cloud-init.yaml')
    assert taken.startswith('# This file is generated from information provided by the datasource.')
    assert yaml.safe_load(taken) == {'network': {'version': 2}}
    result, fake = apply(args_for(model_of(TWO_BRIDGES), 'netplan', tmp_path), expect_live(HostFake()))
    assert result['changed'] is False


def test_netplan_generate_failure_puts_the_old_file_back(tmp_path):
    model = model_of(TWO_BRIDGES)
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model, 'netplan', tmp_path), fake)
    before = read(tmp_path, '/etc/netplan/60-cloudstack-kvm.yaml')
    data = copy.deepcopy(TWO_BRIDGES)
    data['bridges']['cloudbr1']['addresses'] = ['203.0.113.11/24']
    fake = expect_live(HostFake())
    fake.expect(argv=[NETPLAN, 'generate'], rc=1, stderr='Error in network definition: bad')
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        result, fake = run_module(kvm_network_apply.main, args_for(model_of(data), 'netplan', tmp_path), run_command=fake)
    assert result['failed'] is True
    assert 'netplan generate failed (rc=1): Error in network definition: bad' in result['msg']
    assert 'previous netplan configuration was put back' in result['msg']
    assert read(tmp_path, '/etc/netplan/60-cloudstack-kvm.yaml') == before
    assert [NETPLAN, 'apply'] not in fake.argvs


def test_netplan_deletes_the_bridge_it_no_longer_has_unless_guests_use_it(tmp_path):
    model = model_of(TWO_BRIDGES)
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model, 'netplan', tmp_path), fake)
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/cloudbr1/brif/eth1'))
    data = copy.deepcopy(TWO_BRIDGES)
    del data['bridges']['cloudbr1']
    smaller = args_for(model_of(data), 'netplan', tmp_path)
    # netplan apply leaves a virtual device it no longer configures: the module deletes it.
    check, fake = apply(smaller, expect_live(HostFake()), check_mode=True)
    assert check['activated']['commands'] == [[NETPLAN, 'generate'], [NETPLAN, 'apply'],
                                              [IP, 'link', 'delete', 'dev', 'cloudbr1']]
    assert check['activated']['reasons'] == {'cloudbr1': 'removed'}
    # With a guest's port on it, the bridge stays (and says why); the file still goes live.
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/cloudbr1/brif/vnet0'))
    fake = expect_live(HostFake())
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    result, fake = apply(smaller, fake)
    assert [a for a in fake.argvs if a not in IP_READS] == [[NETPLAN, 'generate'], [NETPLAN, 'apply']]
    assert result['activated']['deferred'] == [{'interface': 'cloudbr1', 'bridge': 'cloudbr1', 'ports': ['vnet0']}]


def test_netplan_takes_a_nic_it_no_longer_has_out_of_its_bridge(tmp_path):
    # netplan apply leaves a NIC the configuration dropped in its bridge: the module takes it out.
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model_of(TWO_BRIDGES), 'netplan', tmp_path), fake)
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/cloudbr0'))
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/eth0'))
    os.symlink('../cloudbr0', os.path.join(str(tmp_path), 'sys/class/net/eth0/master'))
    data = copy.deepcopy(TWO_BRIDGES)
    data['ethernets'] = {'eth1': {}, 'eth2': {}}
    data['bridges']['cloudbr0']['uplink'] = 'eth2'
    check, fake = apply(args_for(model_of(data), 'netplan', tmp_path), expect_live(HostFake()), check_mode=True)
    assert check['activated']['reasons'] == {'eth0': 'removed', 'eth2': 'added', 'cloudbr0': 'changed'}
    assert check['activated']['commands'] == [[NETPLAN, 'generate'], [NETPLAN, 'apply'],
                                              [IP, 'link', 'set', 'dev', 'eth0', 'nomaster']]


def renamed_model(mac='52:54:00:00:00:04'):
    """TWO_BRIDGES with eth1 (the NIC with ``mac`` in CONVERGED) matched by MAC and named ens1."""
    data = copy.deepcopy(TWO_BRIDGES)
    data['ethernets'] = {'eth0': {}, 'ens1': {'match': {'macaddress': mac.upper()}}}
    data['bridges']['cloudbr1']['uplink'] = 'ens1'
    return model_of(data)


def test_netplan_renames_a_nic_matched_by_mac_live(tmp_path):
    # set-name takes effect when udev first sees the NIC: the module renames it now, before netplan apply,
    # and leaves it in its bridge (no nomaster for the name that is gone).
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model_of(TWO_BRIDGES), 'netplan', tmp_path), fake)
    for name in ('eth0', 'eth1', 'cloudbr1'):
        os.makedirs(os.path.join(str(tmp_path), 'sys/class/net', name))
    os.symlink('../cloudbr1', os.path.join(str(tmp_path), 'sys/class/net/eth1/master'))
    check, fake = apply(args_for(renamed_model(), 'netplan', tmp_path), expect_live(HostFake()), check_mode=True)
    assert check['activated']['renamed'] == [{'from': 'eth1', 'to': 'ens1', 'mac': '52:54:00:00:00:04'}]
    assert check['activated']['commands'] == [
        [IP, 'link', 'set', 'dev', 'eth1', 'down'], [IP, 'link', 'set', 'dev', 'eth1', 'name', 'ens1'],
        [NETPLAN, 'generate'], [NETPLAN, 'apply']]
    assert check['activated']['reasons'] == {'eth1': 'removed', 'ens1': 'added', 'cloudbr1': 'changed'}
    assert not [w for w in check.get('warnings', []) if 'ens1' in w], 'a NIC about to be renamed is not drift'
    # Once renamed (ens1 exists), nothing is renamed again.
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/ens1'))
    check, fake = apply(args_for(renamed_model(), 'netplan', tmp_path), expect_live(HostFake()), check_mode=True)
    assert check['activated']['renamed'] == []


def test_ifupdown_renames_between_the_old_definitions_going_down_and_the_new_coming_up(debian):
    ifupdown_first_apply(debian, model_of(TWO_BRIDGES))
    for name in ('eth0', 'eth1', 'cloudbr1'):
        os.makedirs(os.path.join(str(debian), 'sys/class/net', name))
    check, fake = apply(args_for(renamed_model(), 'ifupdown', debian), expect_live(HostFake()), check_mode=True)
    assert check['activated']['commands'] == [
        [IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'eth1'],
        [IP, 'link', 'set', 'dev', 'eth1', 'down'], [IP, 'link', 'set', 'dev', 'eth1', 'name', 'ens1'],
        [IFUP, 'ens1'], [IFUP, 'cloudbr1']]
    # The .link file that names ens1 from the next boot on is no news: no warning for it.
    assert '/etc/systemd/network/10-cloudstack-kvm-ens1.link' in check['files']['created']
    assert not [w for w in check.get('warnings', []) if '.link' in w]


def test_a_mac_that_no_nic_or_two_nics_have_is_not_renamed(tmp_path):
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model_of(TWO_BRIDGES), 'netplan', tmp_path), fake)
    check, fake = apply(args_for(renamed_model('52:54:00:00:00:99'), 'netplan', tmp_path), expect_live(HostFake()),
                        check_mode=True)
    assert check['activated']['renamed'] == []
    assert [IP, 'link', 'set', 'dev', 'eth1', 'down'] not in check['activated']['commands']


def test_netplan_sets_bond_members_up_after_netplan_apply(tmp_path):
    # systemd-networkd 252 can leave a reconfigured bond member down: the module sets it up again.
    data = copy.deepcopy(TWO_BRIDGES)
    data['ethernets'] = {'eth0': {}, 'eth1': {}, 'nic9': {'match': {'macaddress': '52:54:00:00:00:09'}}}
    data['bonds'] = {'bond0': {'interfaces': ['eth0', 'nic9']}}
    data['bridges']['cloudbr0']['uplink'] = 'bond0'
    for nic in ('eth0', 'nic9'):    # nic9 is matched by MAC and renamed nic9 by set-name; eth1 is no member
        os.makedirs(os.path.join(str(tmp_path), 'sys/class/net', nic))
    check, fake = apply(args_for(model_of(data), 'netplan', tmp_path), expect_live(HostFake(), NOTHING), check_mode=True)
    assert check['activated']['commands'] == [[NETPLAN, 'generate'], [NETPLAN, 'apply'],
                                              [IP, 'link', 'set', 'dev', 'eth0', 'up'],
                                              [IP, 'link', 'set', 'dev', 'nic9', 'up']]


def bonded_netplan_host(tmp_path):
    """A netplan host converged with cloudbr0 on an active-backup bond0 of eth0 and eth1 (their
    devices in /sys): the model's data."""
    data = copy.deepcopy(TWO_BRIDGES)
    data['bonds'] = {'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup'}}
    data['bridges'] = {'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.11/24'], 'gateway4': '198.51.100.1'}}
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model_of(data), 'netplan', tmp_path), fake)
    for name in ('eth0', 'eth1', 'bond0'):
        os.makedirs(os.path.join(str(tmp_path), 'sys/class/net', name))
    return data


def test_netplan_recreates_a_bond_whose_parameters_changed(tmp_path):
    # systemd-networkd never changes an existing bond's mode, delays or primary (found on a lab VM by the
    # change catalogue: the file said balance-xor, the bond stayed active-backup): the bond is deleted
    # between netplan generate and netplan apply, which creates it again. Members and MTU change in place.
    data = bonded_netplan_host(tmp_path)
    members_up = [[IP, 'link', 'set', 'dev', 'eth0', 'up'], [IP, 'link', 'set', 'dev', 'eth1', 'up']]
    changed = copy.deepcopy(data)
    changed['bonds']['bond0'].update(mode='balance-xor', updelay=200)
    check, fake = apply(args_for(model_of(changed), 'netplan', tmp_path), expect_live(HostFake()), check_mode=True)
    assert check['activated']['commands'] == [[NETPLAN, 'generate'], [IP, 'link', 'delete', 'dev', 'bond0'],
                                              [NETPLAN, 'apply']] + members_up
    mtu_only = copy.deepcopy(data)
    mtu_only['bonds']['bond0']['mtu'] = 9000
    check, fake = apply(args_for(model_of(mtu_only), 'netplan', tmp_path), expect_live(HostFake()), check_mode=True)
    assert check['activated']['commands'] == [[NETPLAN, 'generate'], [NETPLAN, 'apply']] + members_up


def test_netplan_repairs_bond_parameters_that_drifted_by_recreating_the_bond(tmp_path):
    # A primary set by hand (or left by an older run): netplan apply would not remove it from the
    # existing bond, so the drift repair deletes the bond before netplan apply creates it again.
    data = bonded_netplan_host(tmp_path)
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/cloudbr0/bridge'))
    os.makedirs(os.path.join(str(tmp_path), 'sys/class/net/cloudbr0/brif/bond0'))
    up = ['BROADCAST', 'UP', 'LOWER_UP']
    links = [{'ifname': 'eth%d' % i, 'ifindex': 2 + i, 'flags': up + ['SLAVE'], 'mtu': 1500, 'operstate': 'UP',
              'link_type': 'ether', 'address': '52:54:00:00:00:02', 'master': 'bond0',
              'linkinfo': {'info_slave_kind': 'bond', 'info_slave_data': {'state': 'ACTIVE' if i == 0 else 'BACKUP',
                                                                          'perm_hwaddr': '52:54:00:00:00:0%d' % (2 + i)}}}
             for i in (0, 1)]
    links.append({'ifname': 'bond0', 'ifindex': 4, 'flags': up + ['MASTER'], 'mtu': 1500, 'operstate': 'UP',
                  'link_type': 'ether', 'address': '52:54:00:00:00:02', 'master': 'cloudbr0',
                  'linkinfo': {'info_kind': 'bond', 'info_data': {'mode': 'active-backup', 'miimon': 100, 'updelay': 0,
                                                                  'downdelay': 0, 'primary': 'eth0'},
                               'info_slave_kind': 'bridge'}})
    bridge_info = {'info_kind': 'bridge', 'info_data': {'stp_state': 0, 'forward_delay': 0}}
    links.append({'ifname': 'cloudbr0', 'ifindex': 5, 'flags': up, 'mtu': 1500, 'operstate': 'UP', 'link_type': 'ether',
                  'address': '52:54:00:00:01:05', 'linkinfo': bridge_info})
    addrs = [{'ifname': 'cloudbr0', 'addr_info': [{'family': 'inet', 'local': '198.51.100.11', 'prefixlen': 24,
                                                   'scope': 'global'}]}]
    routes = [{'dst': 'default', 'gateway': '198.51.100.1', 'dev': 'cloudbr0'}]
    live = (json.dumps(links), json.dumps(addrs), json.dumps(routes))
    check, fake = apply(args_for(model_of(data), 'netplan', tmp_path), expect_live(HostFake(), live), check_mode=True)
    assert check['drift'] == [{'interface': 'bond0', 'differences': ['bond bond0: primary eth0, expected none']}]
    assert check['activated']['commands'][:3] == [[NETPLAN, 'generate'], [IP, 'link', 'delete', 'dev', 'bond0'],
                                                  [NETPLAN, 'apply']]


def test_prune_removes_only_marked_owned_files(tmp_path):
    model = model_of(TWO_BRIDGES)
    put(tmp_path, '/etc/netplan/50-cloudstack-kvm.yaml', '# %s\nnetwork: {version: 2}\n' % MARKER, 0o600)
    put(tmp_path, '/etc/netplan/70-cloudstack-kvm.yaml', 'network: {version: 2}\n', 0o600)  # not ours: no marker
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    result, fake = apply(args_for(model, 'netplan', tmp_path), fake)
    assert result['files']['removed'] == ['/etc/netplan/50-cloudstack-kvm.yaml']
    assert read(tmp_path, '/etc/netplan/70-cloudstack-kvm.yaml') is not None
    assert read(tmp_path, result['files']['backups'][0]['backup']).startswith('# %s' % MARKER)
    # prune: false keeps stale files.
    put(tmp_path, '/etc/netplan/50-cloudstack-kvm.yaml', '# %s\nnetwork: {version: 2}\n' % MARKER, 0o600)
    result, fake = apply(args_for(model, 'netplan', tmp_path, prune=False), expect_live(HostFake()))
    assert result['changed'] is False


# --- ifcfg ------------------------------------------------------------------------------------------

def test_ifcfg_foreign_file_is_backed_up_and_replaced(tmp_path):
    installer = 'TYPE=Ethernet\nBOOTPROTO=dhcp\nDEVICE=eth0\nONBOOT=yes\n'
    put(tmp_path, '/etc/sysconfig/network-scripts/ifcfg-eth0', installer)
    put(tmp_path, '/etc/sysconfig/network-scripts/ifcfg-lo', 'DEVICE=lo\n')
    model = model_of(TWO_BRIDGES)
    seen = {}

    def down_eth0(argv):
        seen['old'] = read(tmp_path, '/etc/sysconfig/network-scripts/ifcfg-eth0')
        return argv == [IFDOWN, 'eth0']
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(match=down_eth0)
    for argv in ([IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1']):
        fake.expect(argv=argv)
    result, fake = apply(args_for(model, 'ifcfg', tmp_path), fake)
    assert seen['old'] == installer, 'ifdown eth0 must use the installer\'s file'
    assert result['replaced_foreign'] == ['/etc/sysconfig/network-scripts/ifcfg-eth0']
    backups = dict((b['path'], b['backup']) for b in result['files']['backups'])
    assert read(tmp_path, backups['/etc/sysconfig/network-scripts/ifcfg-eth0']) == installer
    assert MARKER in read(tmp_path, '/etc/sysconfig/network-scripts/ifcfg-eth0')
    assert read(tmp_path, '/etc/sysconfig/network-scripts/ifcfg-lo') == 'DEVICE=lo\n'
    # The stale file of a removed device is found by its marker although no owned glob names it.
    data = copy.deepcopy(TWO_BRIDGES)
    del data['bridges']['cloudbr1']
    del data['ethernets']['eth1']
    fake = expect_live(HostFake())
    fake.expect(argv=[IFDOWN, 'cloudbr1']).expect(argv=[IFDOWN, 'eth1'])
    result, fake = apply(args_for(model_of(data), 'ifcfg', tmp_path), fake)
    assert result['files']['removed'] == ['/etc/sysconfig/network-scripts/ifcfg-cloudbr1',
                                          '/etc/sysconfig/network-scripts/ifcfg-eth1']


# --- NetworkManager ---------------------------------------------------------------------------------

NM_LIST = [NMCLI, '--terse', '--fields', 'NAME,UUID,TYPE,DEVICE,FILENAME', 'connection', 'show']


def nm_show(uuid):
    return [NMCLI, '--terse', '--fields', 'connection.interface-name,connection.autoconnect', 'connection', 'show',
            'uuid', uuid]


def test_networkmanager_foreign_profile_autoconnect_off_and_profiles_up_controllers_first(tmp_path):
    model = model_of(TWO_BRIDGES)
    args = args_for(model, 'networkmanager', tmp_path)
    uuids = {}
    for f in args['files']:
        text = f['content']
        uuids[text.split('interface-name=')[1].split('\n')[0]] = text.split('uuid=')[1].split('\n')[0]
    wired = '8d3f8e7c-1111-4a4a-9b9b-222233334444'
    listing = ('Wired connection 1:%s:802-3-ethernet:eth0:/run/NetworkManager/system-connections/Wired connection 1'
               '.nmconnection\nlo:0b0b0b0b-0000-4000-8000-000000000001:loopback:lo:\n'
               'other:9e9e9e9e-0000-4000-8000-000000000002:802-3-ethernet::/etc/x.nmconnection\n' % wired)
    fake = HostFake()
    fake.expect(argv=NM_LIST, stdout=listing)
    fake.expect(argv=nm_show(wired), stdout='connection.interface-name:\nconnection.autoconnect:yes\n')
    fake.expect(argv=nm_show('9e9e9e9e-0000-4000-8000-000000000002'),
                stdout='connection.interface-name:eth7\nconnection.autoconnect:yes\n')
    expect_live(fake, NOTHING)
    fake.expect(argv=[NMCLI, 'connection', 'modify', 'uuid', wired, 'connection.autoconnect', 'no'])
    conn_dir = os.path.join(str(tmp_path), 'etc/NetworkManager/system-connections')
    loads = sorted(os.path.join(conn_dir, 'cloudstack-kvm-%s.nmconnection' % n)
                   for n in ('cloudbr0', 'cloudbr1', 'eth0', 'eth1'))
    fake.expect(argv=[NMCLI, 'connection', 'load'] + loads)
    order = ['cloudbr0', 'cloudbr1', 'eth0', 'eth1']
    for name in order:
        fake.expect(argv=[NMCLI, 'connection', 'up', 'uuid', uuids[name]])
    result, fake = apply(args, fake)
    ups = [a[-1] for a in fake.argvs if a[1:3] == ['connection', 'up']]
    assert ups == [uuids[n] for n in order], 'bridges (controllers) before their ports'
    assert result['conflicts'] == [{'profile': 'Wired connection 1', 'uuid': wired, 'interfaces': ['eth0'],
                                    'file': '/run/NetworkManager/system-connections/Wired connection 1.nmconnection',
                                    'action': 'autoconnect_off'}]
    for f in args['files']:
        assert oct(os.stat(os.path.join(str(tmp_path), f['path'].lstrip('/'))).st_mode & 0o777) == '0o600'
    # Rerun: the profile is off now, nothing to load or bring up.
    fake = HostFake()
    fake.expect(argv=NM_LIST, stdout=listing)
    fake.expect(argv=nm_show(wired), stdout='connection.interface-name:\nconnection.autoconnect:no\n')
    fake.expect(argv=nm_show('9e9e9e9e-0000-4000-8000-000000000002'),
                stdout='connection.interface-name:eth7\nconnection.autoconnect:yes\n')
    expect_live(fake)
    result, fake = apply(args, fake)
    assert result['changed'] is False
    assert not [a for a in fake.argvs if a[0] == NMCLI and a[1] != '--terse']


def test_networkmanager_profile_nmcli_cannot_read_is_left_alone(tmp_path):
    # A failed read of a profile is not "autoconnect yes": nothing is switched off on a guess.
    args = args_for(model_of(TWO_BRIDGES), 'networkmanager', tmp_path)
    wired = '8d3f8e7c-1111-4a4a-9b9b-222233334444'
    fake = HostFake()
    fake.expect(argv=NM_LIST, stdout='Wired connection 1:%s:802-3-ethernet:eth0:\n' % wired)
    fake.expect(argv=nm_show(wired), rc=10, stderr='Error: no such connection profile.')
    expect_live(fake, NOTHING)
    fake.expect(match=lambda a: a[:3] == [NMCLI, 'connection', 'load'])
    fake.expect(match=lambda a: a[:3] == [NMCLI, 'connection', 'up'], repeat=True)
    result, fake = apply(args, fake)
    assert result['conflicts'] == []
    assert not [a for a in fake.argvs if a[:3] == [NMCLI, 'connection', 'modify']]
    assert any('could not read NetworkManager profile Wired connection 1 (%s) on eth0' % wired in w
               and 'no such connection profile' in w and 'connection.autoconnect no' in w
               for w in result['warnings']), result.get('warnings')


def test_networkmanager_changed_bridge_brings_up_its_ports_after_it(tmp_path):
    model = model_of(TWO_BRIDGES)
    fake = HostFake().expect(argv=NM_LIST, stdout='')
    expect_live(fake, NOTHING)
    fake.expect(match=lambda a: a[:3] == [NMCLI, 'connection', 'load'])
    fake.expect(match=lambda a: a[:3] == [NMCLI, 'connection', 'up'], repeat=True)
    apply(args_for(model, 'networkmanager', tmp_path), fake)
    data = copy.deepcopy(TWO_BRIDGES)
    data['bridges']['cloudbr1']['addresses'] = ['203.0.113.11/24']
    args = args_for(model_of(data), 'networkmanager', tmp_path)
    fake = HostFake().expect(argv=NM_LIST, stdout='')
    expect_live(fake)
    fake.expect(argv=[NMCLI, 'connection', 'load', os.path.join(
        str(tmp_path), 'etc/NetworkManager/system-connections/cloudstack-kvm-cloudbr1.nmconnection')])
    fake.expect(match=lambda a: a[:3] == [NMCLI, 'connection', 'up'], repeat=True)
    result, fake = apply(args, fake)
    assert result['activated']['interfaces'] == ['cloudbr1']
    ups = [a[-1] for a in fake.argvs if a[1:3] == ['connection', 'up']]
    profiles = dict((f['path'].rsplit('cloudstack-kvm-', 1)[1].split('.')[0], f['content'].split('uuid=')[1][:36])
                    for f in args['files'])
    assert ups == [profiles['cloudbr1'], profiles['eth1']]


# --- check mode and errors --------------------------------------------------------------------------

def test_check_mode_writes_nothing_and_runs_nothing(debian):
    model = model_of(TWO_BRIDGES)
    result, fake = apply(args_for(model, 'ifupdown', debian), expect_live(HostFake(), NOTHING), check_mode=True)
    assert result['changed'] is True
    assert fake.argvs == list(IP_READS)
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') is None
    assert result['activated']['commands'] == [[IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'], [IFUP, 'eth1'],
                                               [IFUP, 'cloudbr0'], [IFUP, 'cloudbr1']]
    assert result['files']['created'] == ['/etc/network/interfaces.d/cloudstack-kvm']
    assert result['diff'][1]['after'].startswith('# Managed by %s' % MARKER)


def test_activate_false_writes_files_only(debian):
    result, fake = apply(args_for(model_of(TWO_BRIDGES), 'ifupdown', debian, activate=False))
    assert fake.argvs == []
    assert result['changed'] is True and result['activated']['commands'] == []
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') is not None


def test_failed_ifup_names_the_interface(debian):
    model = model_of(TWO_BRIDGES)
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[IFDOWN, '--force', 'eth0']).expect(argv=[IFUP, 'eth0']).expect(argv=[IFUP, 'eth1'])
    fake.expect(argv=[IFUP, 'cloudbr0'], rc=1, stderr='RTNETLINK answers: File exists')
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        result, fake = run_module(kvm_network_apply.main, args_for(model, 'ifupdown', debian), run_command=fake)
    assert result['failed'] is True
    assert result['msg'] == 'ifup cloudbr0 failed (rc=1): RTNETLINK answers: File exists'
    assert result['commands'][-1] == [IFUP, 'cloudbr0']
    assert result['files']['created'] == ['/etc/network/interfaces.d/cloudstack-kvm']


@pytest.mark.parametrize('change, message', [
    ({'model': {'backend': 'linux_bridge', 'bridges': {'cloudbr0': {'uplink': 'eth9'}}}},
     'bridge cloudbr0: uplink eth9 is not a declared ethernet or bond'),
    ({'files': [{'path': 'etc/x', 'content': '# %s\n' % MARKER}]}, 'is not an absolute path'),
    ({'files': [{'path': '/etc/x', 'content': 'no marker\n'}]}, 'has no comment line with the marker'),
])
def test_bad_input_fails_before_anything_is_touched(debian, change, message):
    args = args_for(model_of(TWO_BRIDGES), 'ifupdown', debian)
    args.update(change)
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        result, fake = run_module(kvm_network_apply.main, args)
    assert result['failed'] is True and message in result['msg']
    assert fake.argvs == [] and read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES


def test_raw_model_is_normalised_on_the_host(debian):
    # Users who call the module directly may pass kvm_network as written: the same plan results.
    raw = args_for(model_of(TWO_BRIDGES), 'ifupdown', debian, drift=False)
    raw['model'] = copy.deepcopy(TWO_BRIDGES)
    normalised = dict(raw, model=model_of(TWO_BRIDGES))
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        from_raw, dummy = run_module(kvm_network_apply.main, raw, check_mode=True)
        from_normalised, dummy = run_module(kvm_network_apply.main, normalised, check_mode=True)
    assert 'failed' not in from_raw, from_raw
    assert from_raw == from_normalised
    assert from_raw['activated']['interfaces'] == ['cloudbr0', 'cloudbr1', 'eth0', 'eth1']


def test_missing_tool_is_named(debian):
    with mock.patch.object(AnsibleModule, 'get_bin_path', lambda *a, **k: None):
        result, fake = run_module(kvm_network_apply.main, args_for(model_of(TWO_BRIDGES), 'ifupdown', debian,
                                                                   drift=False))
    assert result['failed'] is True and result['msg'].startswith('ifdown was not found on the host')


# --- Open vSwitch -----------------------------------------------------------------------------------

def ovs_model(datapath_type='system'):
    data = copy.deepcopy(SEED['openvswitch'])
    data['ovs'] = {'datapath_type': datapath_type}
    return model_normalise.normalise(data, 'kvm1')


def is_reconcile_read(argv):
    return argv[0] == replay.VSCTL and '--columns=_uuid,name,type,options,external_ids,mtu_request' in argv


def test_ovs_reconcile_in_one_transaction_after_activation_recorded(tmp_path):
    model = ovs_model()
    args = args_for(model, 'ifupdown', tmp_path, drift=False)
    for f in args['files']:
        put(tmp_path, f['path'], f['content'])
    put(tmp_path, '/etc/network/interfaces', 'source /etc/network/interfaces.d/*\n')
    fake = HostFake()
    fake.expect(match=is_reconcile_read, stdout=replay.fixture_text('bridges'))
    fake.expect(match=lambda a: a[0] == replay.VSCTL and 'add-bond' in a)
    fake.expect(match=is_reconcile_read, stdout=replay.fixture_text('seed'))
    with mock.patch.object(AnsibleModule, 'get_bin_path',
                           lambda self, name, *a, **k: replay.VSCTL if name == 'ovs-vsctl' else SBIN + name):
        result, fake = run_module(kvm_network_apply.main, args, run_command=fake, diff=True)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True and result['files']['created'] == []
    assert result['activated']['commands'] == []
    txn = result['ovs']['commands']
    assert len(txn) == 1 and txn[0].count('add-bond') == 2
    assert result['ovs']['changed'] is True
    assert result['diff'][-1]['before_header'] == 'Open vSwitch database'
    assert '"bond bond0"' in result['diff'][-1]['after']


def ovs_live_json(addresses):
    """ip -j output for the seed's OVS internal interfaces with ``addresses`` {bridge: [cidr]}."""
    links = []
    addrs = []
    for index, name in enumerate(['eth0', 'eth1', 'eth2', 'eth3', 'cloudbr0', 'cloudbr1', 'cloudbr100'], 2):
        link = {'ifname': name, 'ifindex': index, 'flags': ['BROADCAST', 'UP', 'LOWER_UP'], 'mtu': 1500,
                'operstate': 'UP', 'link_type': 'ether', 'address': '52:54:00:00:02:%02x' % index}
        if name.startswith('cloudbr'):
            link['linkinfo'] = {'info_kind': 'openvswitch'}
        links.append(link)
        addrs.append({'ifname': name, 'addr_info': [
            {'family': 'inet', 'local': a.split('/')[0], 'prefixlen': int(a.split('/')[1]), 'scope': 'global'}
            for a in addresses.get(name, [])]})
    routes = [{'dst': 'default', 'gateway': '192.168.100.1', 'dev': 'cloudbr0'}]
    return json.dumps(links), json.dumps(addrs), json.dumps(routes)


def test_ovs_address_removed_by_hand_is_restored_in_place(tmp_path):
    """With Open vSwitch, drift in the database is the reconcile's; an address is put back in place."""
    model = ovs_model()
    args = args_for(model, 'ifupdown', tmp_path)
    for f in args['files']:
        put(tmp_path, f['path'], f['content'])
    put(tmp_path, '/etc/network/interfaces', 'source /etc/network/interfaces.d/*\n')
    fake = HostFake()
    fake.expect(match=lambda a: a[0] == replay.VSCTL and '--columns=_uuid,name,interfaces,tag,trunks,vlan_mode,'
                'bond_mode,lacp,bond_updelay,bond_downdelay,other_config,external_ids,fake_bridge,bond_active_slave'
                in a, stdout=replay.fixture_text('seed'))
    expect_live(fake, ovs_live_json({'cloudbr100': ['10.0.100.20/24']}))
    fake.expect(argv=[IP, 'address', 'add', '192.168.100.20/24', 'dev', 'cloudbr0'])
    fake.expect(match=is_reconcile_read, stdout=replay.fixture_text('seed'))
    with mock.patch.object(AnsibleModule, 'get_bin_path',
                           lambda self, name, *a, **k: replay.VSCTL if name == 'ovs-vsctl' else SBIN + name):
        result, fake = run_module(kvm_network_apply.main, args, run_command=fake)
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == []
    assert result['drift'] == [{'interface': 'cloudbr0', 'differences': [
        'bridge cloudbr0: address 192.168.100.20/24 missing']}]
    # Put back in place: ifdown/ifup would re-create the Open vSwitch bridge with a new MAC.
    assert result['activated']['commands'] == [[IP, 'address', 'add', '192.168.100.20/24', 'dev', 'cloudbr0']]
    assert result['ovs']['changed'] is False


needs_ovsdb = pytest.mark.skipif(missing_binaries() is not None, reason=missing_binaries() or '')


class RealOvsFakeRest(HostFake):
    """ovs-vsctl for real against the scratch server, every other command faked."""

    def __init__(self, server):
        super(RealOvsFakeRest, self).__init__()
        self.server = server

    def __call__(self, module, args, **kwargs):
        if args[0] == self.server.vsctl:
            self.calls.append({'argv': list(args), 'kwargs': kwargs})
            env = dict(os.environ, **self.server.environ)
            proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, check=False)
            return proc.returncode, proc.stdout, proc.stderr
        return super(RealOvsFakeRest, self).__call__(module, args, **kwargs)


ovsdb_server = pytest.fixture(scope='module', name='ovsdb_server')(server_for_tests)


def apply_ovs(server, args, fake, check_mode=False):
    def client(module, db=None, timeout=None):
        return OvsVsctl(module, binary=server.vsctl, db=server.db, no_wait=True, environ=server.environ)
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path), \
            mock.patch.object(whole_host, 'OvsVsctl', client):
        result, fake = run_module(kvm_network_apply.main, args, run_command=fake, check_mode=check_mode, diff=True)
    assert not result.get('failed'), result.get('msg')
    assert fake.unused() == []
    return result


@needs_ovsdb
def test_ovs_netplan_first_apply_then_tagged_internal_port_gets_fake_bridge_flag(tmp_path, ovsdb_server):
    ovsdb_server.reset()
    model = ovs_model('netdev')
    out = render_renderers.render(model, 'netplan', {'host': 'kvm1', 'ovs_database_only': True})
    args = {'renderer': 'netplan', 'files': out['files'], 'owned': out['owned'], 'model': model,
            'ovs_state': out['ovs_state'], 'root_dir': str(tmp_path), 'drift': False}
    assert 'datapath_type=netdev' in out['files'][0]['content'], 'netplan cannot write it: a comment says so'
    # netplan apply is faked here: it does nothing, so the reconcile builds the whole state.
    fake = RealOvsFakeRest(ovsdb_server)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    result = apply_ovs(ovsdb_server, args, fake)
    assert result['changed'] is True and result['ovs']['changed'] is True
    assert sorted(ovsdb_server.run('list-br').split()) == ['cloudbr0', 'cloudbr1', 'cloudbr100']
    assert ovsdb_server.run('get', 'Bridge', 'cloudbr0', 'datapath_type').strip() == 'netdev'
    # Rerun: nothing at all.
    result = apply_ovs(ovsdb_server, args, RealOvsFakeRest(ovsdb_server))
    assert result['changed'] is False and result['ovs']['commands'] == []
    # The VLAN bridge as a tagged internal port without the flag (what NetworkManager, which has
    # no fake bridge, creates): br-exists does not know it until the flag is set.
    ovsdb_server.run('del-br', 'cloudbr100')
    ovsdb_server.run('add-port', 'cloudbr0', 'cloudbr100', 'tag=100', '--', 'set', 'Interface', 'cloudbr100',
                     'type=internal', '--', 'add-port', 'cloudbr0', 'vnet0')
    check = apply_ovs(ovsdb_server, args, RealOvsFakeRest(ovsdb_server), check_mode=True)
    assert check['ovs']['differences'] == [{'name': 'bridge cloudbr100.fake_bridge', 'active': False, 'wanted': True}]
    assert ovsdb_server.run('--if-exists', 'get', 'Port', 'cloudbr100', 'fake_bridge').strip() == 'false'
    result = apply_ovs(ovsdb_server, args, RealOvsFakeRest(ovsdb_server))
    assert result['ovs']['commands'] == check['ovs']['commands']
    assert ovsdb_server.run('br-to-parent', 'cloudbr100').strip() == 'cloudbr0'
    assert result['ovs']['foreign_ports'] == [{'bridge': 'cloudbr0', 'port': 'vnet0', 'guest': True}]
    assert apply_ovs(ovsdb_server, args, RealOvsFakeRest(ovsdb_server))['changed'] is False


@needs_ovsdb
def test_ovs_ifupdown_bridge_with_guests_is_not_restarted(tmp_path, ovsdb_server):
    ovsdb_server.reset()
    model = ovs_model('netdev')
    args = args_for(model, 'ifupdown', tmp_path, drift=False)
    put(tmp_path, '/etc/network/interfaces', 'source /etc/network/interfaces.d/*\n')
    fake = RealOvsFakeRest(ovsdb_server)
    for argv in ([IFUP, 'cloudbr0'], [IFUP, 'cloudbr1'], [IFUP, 'cloudbr100'], [IFUP, 'bond0'], [IFUP, 'bond1'],
                 [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'eth2'], [IFUP, 'eth3']):
        fake.expect(argv=argv)
    result = apply_ovs(ovsdb_server, args, fake)
    assert [a for a in fake.argvs if a[0] == IFUP] == [
        [IFUP, n] for n in ('cloudbr0', 'cloudbr1', 'cloudbr100', 'bond0', 'bond1', 'eth0', 'eth1', 'eth2', 'eth3')]
    ovsdb_server.run('add-port', 'cloudbr1', 'vnet4')
    data = copy.deepcopy(SEED['openvswitch'])
    data['ovs'] = {'datapath_type': 'netdev'}
    data['bridges']['cloudbr1']['addresses'] = ['203.0.113.11/24']
    args = args_for(model_normalise.normalise(data, 'kvm1'), 'ifupdown', tmp_path, drift=False)
    result = apply_ovs(ovsdb_server, args, RealOvsFakeRest(ovsdb_server))
    assert result['activated']['deferred'] == [{'interface': 'cloudbr1', 'bridge': 'cloudbr1', 'ports': ['vnet4']}]
    assert result['activated']['commands'] == []
    assert 'vnet4' in ovsdb_server.run('list-ports', 'cloudbr1')


def ovs_first_applied(ovsdb_server, tmp_path):
    """The Open vSwitch seed applied by ifupdown (userspace datapath), every bridge with a MAC."""
    ovsdb_server.reset()
    args = args_for(ovs_model('netdev'), 'ifupdown', tmp_path, drift=False)
    put(tmp_path, '/etc/network/interfaces', 'source /etc/network/interfaces.d/*\n')
    fake = RealOvsFakeRest(ovsdb_server)
    fake.expect(match=lambda a: a[0] == IFUP, repeat=True)
    apply_ovs(ovsdb_server, args, fake)
    for name, mac in (('cloudbr0', '56:10:3F:9F:67:41'), ('cloudbr1', '3e:87:17:88:38:4d'),
                      ('cloudbr100', '5a:00:00:00:01:64')):
        put(tmp_path, '/sys/class/net/%s/address' % name, mac + '\n')


def ovs_changed(tmp_path, **addresses):
    data = copy.deepcopy(SEED['openvswitch'])
    data['ovs'] = {'datapath_type': 'netdev'}
    for bridge, address in addresses.items():
        data['bridges'][bridge]['addresses'] = [address]
    return args_for(model_normalise.normalise(data, 'kvm1'), 'ifupdown', tmp_path, drift=False)


VSCTL = SBIN + 'ovs-vsctl'
CREATE_BR1 = [VSCTL, '--timeout=10', '--may-exist', 'add-br', 'cloudbr1', '--', 'set', 'Bridge', 'cloudbr1',
              'other-config:hwaddr="3e:87:17:88:38:4d"', 'datapath_type=netdev']
CREATE_BR0 = [VSCTL, '--timeout=10', '--may-exist', 'add-br', 'cloudbr0', '--', 'set', 'Bridge', 'cloudbr0',
              'other-config:hwaddr="56:10:3f:9f:67:41"', 'datapath_type=netdev']
CREATE_FAKE = [VSCTL, '--timeout=10', '--may-exist', 'add-port', 'cloudbr0', 'cloudbr100', 'tag=100',
               '--', 'set', 'Interface', 'cloudbr100', 'type=internal', 'mac="5a:00:00:00:01:64"']


@needs_ovsdb
def test_ovs_ifupdown_recreated_bridge_is_created_with_its_mac_before_its_ifup(tmp_path, ovsdb_server):
    """ifdown deletes an Open vSwitch bridge, ifup would add it with a new MAC: it is created again
    with the MAC it had just before its ifup (ifupdown's --may-exist then finds it), so its addresses
    and routes are configured once, on the old MAC. (Set afterwards, the MAC would make ovs-vswitchd
    take a userspace bridge's tap down: IPv6 addresses and routes lost.) A fake bridge whose parent
    stays is not deleted by its ifdown (del-port does not see a fake bridge): it keeps its MAC."""
    ovs_first_applied(ovsdb_server, tmp_path)
    args = ovs_changed(tmp_path, cloudbr1='203.0.113.11/24', cloudbr100='10.0.100.21/24')
    expected = [[IFDOWN, '--force', 'cloudbr100'], [IFDOWN, '--force', 'cloudbr1'], CREATE_BR1, [IFUP, 'cloudbr1'],
                [IFUP, 'cloudbr100']]
    fake = RealOvsFakeRest(ovsdb_server)
    for argv in expected:
        fake.expect(argv=argv)
    result = apply_ovs(ovsdb_server, args, fake)
    assert result['activated']['commands'] == expected
    # ovs-vsctl takes it; on the bridge as it is it only sets the MAC, which the next run's reconcile
    # leaves alone.
    ovsdb_server.run(*CREATE_BR1[2:])
    rerun = apply_ovs(ovsdb_server, args, RealOvsFakeRest(ovsdb_server))
    assert rerun['changed'] is False and rerun['ovs']['commands'] == []
    assert ovsdb_server.run('get', 'Bridge', 'cloudbr1', 'other-config:hwaddr').strip() == '"3e:87:17:88:38:4d"'
    # After ifdown's del-br: the bridge comes back with its MAC and datapath, and ifupdown's own
    # add-br keeps them.
    ovsdb_server.run('del-br', 'cloudbr1')
    ovsdb_server.run(*CREATE_BR1[2:])
    ovsdb_server.run('--may-exist', 'add-br', 'cloudbr1', '--', 'set', 'bridge', 'cloudbr1', 'datapath_type=netdev')
    assert ovsdb_server.run('get', 'Bridge', 'cloudbr1', 'other-config:hwaddr').strip() == '"3e:87:17:88:38:4d"'
    assert ovsdb_server.run('get', 'Bridge', 'cloudbr1', 'datapath_type').strip() == 'netdev'


@needs_ovsdb
def test_ovs_ifupdown_fake_bridge_comes_back_with_its_mac_when_its_parent_is_recreated(tmp_path, ovsdb_server):
    """ifdown of cloudbr0 deletes it with its fake bridge cloudbr100, and cloudbr0's ifup brings
    cloudbr100 up with it (ovs_ports): both are created with their MACs before cloudbr0's ifup."""
    ovs_first_applied(ovsdb_server, tmp_path)
    args = ovs_changed(tmp_path, cloudbr0='192.168.100.21/24', cloudbr100='10.0.100.21/24')
    fake = RealOvsFakeRest(ovsdb_server)
    fake.expect(match=lambda a: a[0] in (IFUP, IFDOWN), repeat=True)
    fake.expect(argv=CREATE_BR0)
    fake.expect(argv=CREATE_FAKE)
    result = apply_ovs(ovsdb_server, args, fake)
    commands = result['activated']['commands']
    first_ifup = min(i for i, argv in enumerate(commands) if argv[0] == IFUP)
    assert commands[first_ifup] == [IFUP, 'cloudbr0']
    assert commands[first_ifup - 2:first_ifup] == [CREATE_BR0, CREATE_FAKE]
    assert [IFDOWN, '--force', 'cloudbr0'] in commands[:first_ifup]
    # ovs-vsctl takes them after ifdown's del-br, and ifupdown's own add-port for the fake bridge
    # (when cloudbr0's ifup brings it up) keeps it a fake bridge with its MAC.
    ovsdb_server.run('del-br', 'cloudbr0')
    ovsdb_server.run(*CREATE_BR0[2:])
    ovsdb_server.run(*CREATE_FAKE[2:])
    ovsdb_server.run('--may-exist', 'add-port', 'cloudbr0', 'cloudbr100', 'tag=100', '--', 'set', 'Interface',
                     'cloudbr100', 'type=internal', '--', 'set', 'port', 'cloudbr100', 'fake_bridge=true')
    assert ovsdb_server.run('get', 'Interface', 'cloudbr100', 'mac').strip() == '"5a:00:00:00:01:64"'
    assert ovsdb_server.run('br-to-parent', 'cloudbr100').strip() == 'cloudbr0'     # a fake bridge again
    assert ovsdb_server.run('br-to-vlan', 'cloudbr100').strip() == '100'
    assert ovsdb_server.run('get', 'Bridge', 'cloudbr0', 'other-config:hwaddr').strip() == '"56:10:3f:9f:67:41"'


@needs_ovsdb
def test_ovs_ifupdown_rollback_creates_bridges_with_the_snapshots_macs(tmp_path, ovsdb_server):
    """A rollback's re-activation gives a bridge it creates again the MAC of the snapshot
    (``keep_macs``, set by rollback.Rollback from the manifest), not the one it has now."""
    ovs_first_applied(ovsdb_server, tmp_path)
    args = ovs_changed(tmp_path, cloudbr1='203.0.113.11/24')
    snapshot_mac = CREATE_BR1[:9] + ['other-config:hwaddr="3e:87:17:00:00:01"', 'datapath_type=netdev']
    fake = RealOvsFakeRest(ovsdb_server)
    fake.expect(match=lambda a: a[0] in (IFUP, IFDOWN), repeat=True)
    fake.expect(argv=snapshot_mac)
    with mock.patch.object(IfupdownSystem, 'keep_macs', {'cloudbr1': '3e:87:17:00:00:01'}):
        result = apply_ovs(ovsdb_server, args, fake)
    assert snapshot_mac in result['activated']['commands']

    class Snap(object):
        manifest = {'files': [], 'macs': {'cloudbr1': '3e:87:17:00:00:01'}}
    params = {'renderer': 'ifupdown', 'model': args['model'], 'marker': MARKER}
    planned = rollback.Rollback(mock.Mock(), Root(str(tmp_path)), Snap(), params, {'ifupdown': IfupdownSystem})
    assert planned.system.keep_macs == {'cloudbr1': '3e:87:17:00:00:01'}


# --- read back (the verification's reads and pings in the apply call) ------------------------------

def test_rerun_reads_the_network_back_and_pings_in_the_same_call(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    fake = expect_live(HostFake())     # one read: the drift check's, handed to the read-back
    fake.expect(argv=[SBIN + 'nmcli', '--terse', '--fields', 'DEVICE,NAME,FILENAME', 'connection', 'show', '--active'],
                rc=10, stderr='NetworkManager is not running')
    ping = [SBIN + 'ping', '-n', '-c', '1', '-w', '2', '-I', 'cloudbr0', '198.51.100.1']
    fake.expect(argv=ping, stdout='2 packets transmitted, 2 received, 0% packet loss\n')
    silent = [SBIN + 'ping', '-n', '-c', '1', '-w', '3', '-I', 'cloudbr1', '203.0.113.1']
    fake.expect(argv=silent, rc=1, stdout='3 packets transmitted, 0 received, 100% packet loss\n')
    args = args_for(model, 'ifupdown', debian, read_back={'ovs': 'false', 'traffic': [
        {'bridge': 'cloudbr0', 'target': '198.51.100.1', 'count': 2},
        {'bridge': 'cloudbr1', 'target': '203.0.113.1'}]})
    result, fake = apply(args, fake)
    assert result['changed'] is False
    # Reads only, each once: the network (drift check and read-back alike), then the pings.
    assert fake.argvs == list(IP_READS) + [fake.argvs[4], ping, silent]
    assert [argv for argv in fake.argvs if argv in IP_READS] == list(IP_READS)
    facts = result['ansible_facts']['host_network']
    assert facts['addresses']['cloudbr0'][0]['address'] == '198.51.100.11'
    assert facts['model']['bridges']['cloudbr0']['addresses'] == ['198.51.100.11/24']
    assert facts['ovs'] == {'available': False, 'reason': 'not read (ovs: false)'}
    assert [(t['item']['bridge'], t['rc']) for t in result['read_back']['traffic']] == [('cloudbr0', 0), ('cloudbr1', 1)]
    assert result['read_back']['traffic'][1]['stdout_lines'] == ['3 packets transmitted, 0 received, 100% packet loss']


def test_no_read_back_in_check_mode(debian):
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    args = args_for(model, 'ifupdown', debian, read_back={'traffic': [{'bridge': 'cloudbr0', 'target': '198.51.100.1'}]})
    result, fake = apply(args, expect_live(HostFake()), check_mode=True)
    assert 'read_back' not in result and 'ansible_facts' not in result
    assert fake.argvs == list(IP_READS)


@pytest.mark.parametrize('target,message', [
    ({'bridge': 'cloudbr0', 'target': '198.51.100.1', 'count': 0},
     'read_back.traffic: 198.51.100.1 through cloudbr0: count must be at least 1, not 0'),
    ({'bridge': 'cloudbr0', 'target': '-f'},
     'read_back.traffic: -f through cloudbr0: the target must be an address or a host name. Fix: e.g. 198.51.100.1'),
    ({'bridge': 'eth0', 'target': '198.51.100.1'},
     'read_back.traffic: 198.51.100.1 through eth0: eth0 is not a bridge of the model (cloudbr0, cloudbr1). '
     'Fix: name one of them'),
])
def test_read_back_targets_are_checked_before_anything_runs(debian, target, message):
    args = args_for(model_of(TWO_BRIDGES), 'ifupdown', debian, read_back={'traffic': [target]})
    with mock.patch.object(AnsibleModule, 'get_bin_path', bin_path):
        result, fake = run_module(kvm_network_apply.main, args, run_command=HostFake())
    assert result['failed'] is True and fake.argvs == []
    assert result['msg'] == message


class CountingReads(object):
    """read_host_network wrapped: how often one kvm_network_apply call reads the host."""

    def __init__(self):
        self.count = 0

    def patch(self):
        from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import applier as applier_mod
        real = applier_mod.read_host_network

        def counted(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)
        return mock.patch.object(applier_mod, 'read_host_network', counted)


@pytest.mark.parametrize('check_mode', [False, True])
def test_one_read_and_one_plan_per_call_when_ansibles_address_is_known(debian, check_mode):
    """With SSH_CONNECTION the call plans (drift read), checks the connection path, and applies: one
    read of the network for all three, one plan (the activation planned once)."""
    model = model_of(TWO_BRIDGES)
    ifupdown_first_apply(debian, model)
    drifted = list(CONVERGED)
    drifted[1] = drifted[1].replace('198.51.100.11', '198.51.100.99')     # cloudbr0's address changed by hand
    fake = expect_live(HostFake(), tuple(drifted))
    if not check_mode:
        fake.expect(match=lambda argv: os.path.basename(argv[0]) in ('ifdown', 'ifup', 'arping', 'ip'), repeat=True)
    args = args_for(model, 'ifupdown', debian, safe_apply=False, allow_disruptive=True)
    reads = CountingReads()
    plans = []
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import applier as applier_mod
    real_plan = applier_mod.Applier.plan

    def counted_plan(self):
        plans.append(1)
        return real_plan(self)
    with reads.patch(), mock.patch.object(applier_mod.Applier, 'plan', counted_plan), \
            mock.patch.dict(os.environ, {'SSH_CONNECTION': '198.51.100.254 50000 198.51.100.99 22'}):
        result, fake = apply(args, fake, check_mode=check_mode)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True and result['drift']
    assert reads.count == 1 and len(plans) == 1
    assert [argv for argv in fake.argvs if argv in IP_READS] == list(IP_READS)


def test_ifupdown_forces_the_ifup_of_an_interface_its_state_wrongly_says_is_up(debian):
    """cloudbr1 was deleted behind ifupdown's back (ip link del): its state still lists it, so a
    plain ifup would do nothing. The first apply forces the ifup of that one, and only that one."""
    put(debian, '/run/network/ifstate.cloudbr1', 'cloudbr1\n')
    put(debian, '/run/network/ifstate.eth0', 'eth0\n')
    os.makedirs(os.path.join(str(debian), 'sys', 'class', 'net', 'eth0'))     # eth0 is there, cloudbr1 is gone
    fake = expect_live(HostFake(), NOTHING)
    for argv in ([IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'],
                 [IFUP, '--force', 'cloudbr1']):
        fake.expect(argv=argv)
    result, fake = apply(args_for(model_of(TWO_BRIDGES), 'ifupdown', debian), fake)
    assert [a for a in fake.argvs if a not in IP_READS] == [
        [IFDOWN, '--force', 'eth0'], [IFUP, 'eth0'], [IFUP, 'eth1'], [IFUP, 'cloudbr0'], [IFUP, '--force', 'cloudbr1']]


# --- taking a hand-built host over ------------------------------------------------------------------

# Seed 000's netplan file as its guide writes it (addresses from the lab's ranges): bonds, bridges
# and the storage VLAN bond100 on bond0 under cloudbr100.
SEED_NETPLAN = '''network:
    ethernets:
        eth0: {dhcp4: no}
        eth1: {dhcp4: no}
    bonds:
        bond0:
            dhcp4: no
            interfaces: [eth0, eth1]
            parameters: {mode: active-backup, primary: eth0}
    bridges:
        cloudbr0:
            addresses: [198.51.100.11/24]
            gateway4: 198.51.100.1
            interfaces: [bond0]
        cloudbr100:
            addresses: [203.0.113.11/24]
            interfaces: [bond100]
    vlans:
        bond100: {id: 100, link: bond0, dhcp4: no}
    version: 2
'''
SEED_MODEL = {
    'ethernets': {'eth0': {}, 'eth1': {}},
    'bonds': {'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 0, 'primary': 'eth0'}},
    'bridges': {'cloudbr0': {'uplink': 'bond0', 'addresses': ['198.51.100.11/24'], 'gateway4': '198.51.100.1'},
                'cloudbr100': {'uplink': 'bond0', 'vlan': 100, 'addresses': ['203.0.113.11/24']}},
}


@pytest.mark.parametrize('vlan_interface', [None, 'bond100'])
def test_netplan_takeover_leaves_no_entry_behind_built_on_what_it_takes(tmp_path, vlan_interface):
    # Found on a lab VM built from seed 000: the user's file kept the VLAN bond100 while bond0 moved
    # to the collection's later file, and netplan generate failed ("bond100: interface 'bond0' is
    # not defined"). An entry built on a taken one is taken too: named by the model, or removed and
    # said so when the model calls the VLAN device otherwise.
    put(tmp_path, '/etc/netplan/50-cloud-init.yaml', SEED_NETPLAN, 0o600)
    data = copy.deepcopy(SEED_MODEL)
    if vlan_interface:
        data['bridges']['cloudbr100']['vlan_interface'] = vlan_interface
    check, dummy = apply(args_for(model_of(data), 'netplan', tmp_path), expect_live(HostFake(), NOTHING),
                         check_mode=True)
    taken = dict((c['netplan_id'], c) for c in check['conflicts'] if c['file'] == '/etc/netplan/50-cloud-init.yaml')
    assert sorted(taken) == ['bond0', 'bond100', 'cloudbr0', 'cloudbr100', 'eth0', 'eth1']
    left = [d for d in check['diff'] if d['before_header'] == '/etc/netplan/50-cloud-init.yaml'][0]['after']
    assert yaml.safe_load(left) == {'network': {'version': 2}}
    if vlan_interface:
        assert 'depends_on' not in taken['bond100'] and check['activated']['reasons']['bond100'] == 'changed'
        assert not [w for w in check.get('warnings', []) if 'is built on' in w]
    else:
        assert taken['bond100']['depends_on'] == ['bond0']
        assert check['activated']['reasons']['bond100'] == 'removed'
        assert [w for w in check['warnings'] if 'vlans bond100 is not in kvm_network but is built on bond0' in w]


def seed_live(vlan_device='bond100'):
    """ip -j output of the host seed 000's netplan file built: bond0 (eth0, eth1) in cloudbr0,
    VLAN 100 on bond0 in cloudbr100."""
    up = ['BROADCAST', 'UP', 'LOWER_UP']
    links = [{'ifname': 'lo', 'ifindex': 1, 'flags': ['LOOPBACK', 'UP'], 'mtu': 65536, 'operstate': 'UNKNOWN',
              'link_type': 'loopback', 'address': '00:00:00:00:00:00'}]
    for i in (0, 1):
        links.append({'ifname': 'eth%d' % i, 'ifindex': 2 + i, 'flags': up + ['SLAVE'], 'mtu': 1500,
                      'operstate': 'UP', 'link_type': 'ether', 'address': '52:54:00:00:00:02', 'master': 'bond0',
                      'linkinfo': {'info_slave_kind': 'bond', 'info_slave_data': {
                          'state': 'ACTIVE' if i == 0 else 'BACKUP', 'perm_hwaddr': '52:54:00:00:00:0%d' % (2 + i)}}})
    links.append({'ifname': 'bond0', 'ifindex': 4, 'flags': up + ['MASTER'], 'mtu': 1500, 'operstate': 'UP',
                  'link_type': 'ether', 'address': '52:54:00:00:00:02', 'master': 'cloudbr0',
                  'linkinfo': {'info_kind': 'bond', 'info_data': {'mode': 'active-backup', 'miimon': 0, 'updelay': 0,
                                                                  'downdelay': 0, 'primary': 'eth0'},
                               'info_slave_kind': 'bridge'}})
    links.append({'ifname': vlan_device, 'ifindex': 5, 'link': 'bond0', 'flags': up, 'mtu': 1500, 'operstate': 'UP',
                  'link_type': 'ether', 'address': '52:54:00:00:00:02', 'master': 'cloudbr100',
                  'linkinfo': {'info_kind': 'vlan', 'info_data': {'protocol': '802.1Q', 'id': 100},
                               'info_slave_kind': 'bridge'}})
    bridge_info = {'info_kind': 'bridge', 'info_data': {'stp_state': 0, 'forward_delay': 0}}
    for index, name in ((6, 'cloudbr0'), (7, 'cloudbr100')):
        links.append({'ifname': name, 'ifindex': index, 'flags': up, 'mtu': 1500, 'operstate': 'UP',
                      'link_type': 'ether', 'address': '52:54:00:00:01:%02d' % index, 'linkinfo': bridge_info})
    addrs = [{'ifname': bridge, 'addr_info': [{'family': 'inet', 'local': address, 'prefixlen': 24,
                                               'scope': 'global'}]}
             for bridge, address in (('cloudbr0', '198.51.100.11'), ('cloudbr100', '203.0.113.11'))]
    routes = [{'dst': 'default', 'gateway': '198.51.100.1', 'dev': 'cloudbr0'}]
    return json.dumps(links), json.dumps(addrs), json.dumps(routes)


def seed_sys(root, vlan_device='bond100'):
    """The /sys and /proc the facts reader looks at, for seed_live."""
    for bridge, ports in (('cloudbr0', ['bond0']), ('cloudbr100', [vlan_device])):
        os.makedirs(os.path.join(str(root), 'sys/class/net', bridge, 'bridge'))
        for port in ports:
            os.makedirs(os.path.join(str(root), 'sys/class/net', bridge, 'brif', port))
    put(root, '/proc/net/vlan/config', 'VLAN Dev name | VLAN ID\nName-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD\n'
        '%s | 100 | bond0\n' % vlan_device)


def test_netplan_takeover_of_a_host_already_as_the_model_says_reactivates_nothing(tmp_path):
    # The definitions move from the user's file to the collection's; the host is as the model
    # says: netplan generate checks the files, nothing is applied, no link goes down.
    put(tmp_path, '/etc/netplan/50-cloud-init.yaml', SEED_NETPLAN, 0o600)
    seed_sys(tmp_path)
    data = copy.deepcopy(SEED_MODEL)
    data['bridges']['cloudbr100']['vlan_interface'] = 'bond100'
    args = args_for(model_of(data), 'netplan', tmp_path)
    check, dummy = apply(args, expect_live(HostFake(), seed_live()), check_mode=True)
    assert check['changed'] is True and check['activated']['commands'] == [[NETPLAN, 'generate']]
    assert check['activated']['reasons'] == {} and check['activated']['interfaces'] == []
    assert check['activated']['adopted'] == ['bond0', 'bond100', 'cloudbr0', 'cloudbr100', 'eth0', 'eth1']
    fake = expect_live(HostFake(), seed_live()).expect(argv=[NETPLAN, 'generate'])
    result, fake = apply(args, fake)
    assert [a for a in fake.argvs if a not in IP_READS] == [[NETPLAN, 'generate']]
    assert '/etc/netplan/60-cloudstack-kvm.yaml' in result['files']['created']
    again, fake = apply(args, expect_live(HostFake(), seed_live()))
    assert again['changed'] is False and fake.argvs == list(IP_READS)


def test_netplan_takeover_reactivates_what_the_host_does_not_have_as_the_model_says(tmp_path):
    # The model gives bond0 miimon 100, the host's bond has none: bond0 is re-created by netplan,
    # and what is built on it comes back with it; what only moved is not listed as taken over live.
    put(tmp_path, '/etc/netplan/50-cloud-init.yaml', SEED_NETPLAN, 0o600)
    seed_sys(tmp_path)
    for name in ('eth0', 'eth1', 'bond0'):
        os.makedirs(os.path.join(str(tmp_path), 'sys/class/net', name))
    data = copy.deepcopy(SEED_MODEL)
    data['bridges']['cloudbr100']['vlan_interface'] = 'bond100'
    data['bonds']['bond0']['miimon'] = 100
    check, dummy = apply(args_for(model_of(data), 'netplan', tmp_path), expect_live(HostFake(), seed_live()),
                         check_mode=True)
    assert check['activated']['reasons']['bond0'] == 'changed'
    assert check['activated']['commands'][:3] == [[NETPLAN, 'generate'], [IP, 'link', 'delete', 'dev', 'bond0'],
                                                  [NETPLAN, 'apply']]
    assert 'bond0' not in check['activated']['adopted']


HAND_BUILT_INTERFACES = '''auto lo
iface lo inet loopback

iface eth0 inet manual
iface eth1 inet manual

auto cloudbr0
iface cloudbr0 inet static
    address 198.51.100.11
    netmask 255.255.255.0
    gateway 198.51.100.1
    bridge_ports eth0
    bridge_fd 0
    bridge_stp off

auto cloudbr1
iface cloudbr1 inet manual
    bridge_ports eth1
'''


def test_ifupdown_takeover_of_hand_built_bridges_takes_no_interface_down(debian):
    put(debian, '/etc/network/interfaces', HAND_BUILT_INTERFACES)
    args = args_for(model_of(TWO_BRIDGES), 'ifupdown', debian)
    result, fake = apply(args, expect_live(HostFake()))
    assert [a for a in fake.argvs if a not in IP_READS] == [], 'no ifdown, no ifup'
    assert result['changed'] is True and result['activated']['adopted'] == ['cloudbr0', 'cloudbr1', 'eth0', 'eth1']
    main = read(debian, '/etc/network/interfaces')
    assert '# iface cloudbr0 inet static' in main and 'source /etc/network/interfaces.d/cloudstack-kvm' in main
    again, fake = apply(args, expect_live(HostFake()))
    assert again['changed'] is False


def test_ifupdown_takeover_brings_up_only_what_is_not_live_as_the_model_says(debian):
    # cloudbr1 is in the user's file but was never brought up: it comes up; cloudbr0 is left alone.
    put(debian, '/etc/network/interfaces', HAND_BUILT_INTERFACES)
    only_cloudbr0 = live_json({'cloudbr0': {'ports': ['eth0'], 'addresses': ['198.51.100.11/24']}},
                              ('198.51.100.1', 'cloudbr0'))
    check, dummy = apply(args_for(model_of(TWO_BRIDGES), 'ifupdown', debian), expect_live(HostFake(), only_cloudbr0),
                         check_mode=True)
    assert check['activated']['adopted'] == ['cloudbr0', 'eth0']
    assert check['activated']['commands'] == [[IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'eth1'],
                                              [IFUP, 'eth1'], [IFUP, 'cloudbr1']]


def test_netplan_does_not_delete_a_vlan_device_that_went_with_its_recreated_bond(tmp_path):
    # Found on a VM taken over from seed 000: the next model changed bond0's parameters (deleted for
    # netplan apply to create it again) and dropped cloudbr100 with the VLAN bond100 on bond0. The
    # kernel deletes a VLAN device with its link, so "ip link delete bond100" then failed with
    # 'Cannot find device "bond100"' and the change was rolled back.
    data = copy.deepcopy(SEED_MODEL)
    data['bridges']['cloudbr100']['vlan_interface'] = 'bond100'
    fake = expect_live(HostFake(), NOTHING)
    fake.expect(argv=[NETPLAN, 'generate']).expect(argv=[NETPLAN, 'apply'])
    apply(args_for(model_of(data), 'netplan', tmp_path), fake)
    for name in ('eth0', 'eth1', 'bond0', 'bond100', 'cloudbr0', 'cloudbr100'):
        os.makedirs(os.path.join(str(tmp_path), 'sys/class/net', name))
    changed = copy.deepcopy(data)
    changed['bonds']['bond0']['miimon'] = 100
    del changed['bridges']['cloudbr100']
    check, dummy = apply(args_for(model_of(changed), 'netplan', tmp_path), expect_live(HostFake()), check_mode=True)
    assert check['activated']['reasons']['bond100'] == 'removed'
    assert check['activated']['commands'] == [
        [NETPLAN, 'generate'], [IP, 'link', 'delete', 'dev', 'bond0'], [NETPLAN, 'apply'],
        [IP, 'link', 'set', 'dev', 'eth0', 'up'], [IP, 'link', 'set', 'dev', 'eth1', 'up'],
        [IP, 'link', 'delete', 'dev', 'cloudbr100']]
    # With bond0 kept as it is, the VLAN device is deleted by the module (netplan apply leaves it).
    kept = copy.deepcopy(data)
    del kept['bridges']['cloudbr100']
    check, dummy = apply(args_for(model_of(kept), 'netplan', tmp_path, drift=False), HostFake(), check_mode=True)
    assert [IP, 'link', 'delete', 'dev', 'bond0'] not in check['activated']['commands']
    assert check['activated']['commands'][-2:] == [[IP, 'link', 'delete', 'dev', 'cloudbr100'],
                                                   [IP, 'link', 'delete', 'dev', 'bond100']]
