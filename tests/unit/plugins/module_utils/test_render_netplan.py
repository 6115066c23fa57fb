# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The netplan renderer: golden files for seed 000, conformance with the seed's own netplan file
and ovs-vsctl commands, one case per option and branch, and netplan itself as the validator
(``netplan generate --root-dir``, which writes only under the temporary root)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import glob
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import netplan as render_netplan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import MARKER
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import RenderError
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.golden import assert_golden
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import linux, ovs, patched

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', '..', 'fixtures')
GOLDEN = os.path.join(HERE, 'golden', 'netplan')
with open(os.path.join(FIXTURES, 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)
BACKENDS = ('linux_bridge', 'openvswitch')


def norm(data):
    return model_normalise.normalise(data, 'kvm1')


def render_data(data, **options):
    res = render_netplan.render(norm(data), options or None)
    assert [f['path'] for f in res['files']] == [render_netplan.PATH]
    return yaml.safe_load(res['files'][0]['content'])['network']


def dig(data, path):
    node = data
    for key in path:
        node = node[key]
    return node


# -- netplan generate in a scratch root --------------------------------------------------------------
NETPLAN = shutil.which('netplan')
OVS_VSCTL = '/usr/bin/ovs-vsctl'
_OVS_RUNNER = {}


def _ovs_runner(tmp_path_factory):
    """argv prefix under which netplan finds /usr/bin/ovs-vsctl (it refuses OVS keys without it).

    netplan generate only tests that the file exists; it never runs it. When the machine has no
    Open vSwitch, a private mount namespace overlays /usr/bin with a directory holding an
    executable placeholder, so nothing outside this one command sees it.
    """
    if 'argv' in _OVS_RUNNER:
        return _OVS_RUNNER['argv']
    if os.path.exists(OVS_VSCTL):
        _OVS_RUNNER['argv'] = []
        return []
    fake = str(tmp_path_factory.mktemp('fakebin'))
    with open(os.path.join(fake, 'ovs-vsctl'), 'w') as fh:
        fh.write('#!/bin/sh\necho "placeholder for netplan generate only" >&2\nexit 1\n')
    os.chmod(os.path.join(fake, 'ovs-vsctl'), 0o755)
    script = 'mount -t overlay overlay -o lowerdir=%s:/usr/bin /usr/bin && exec "$@"' % fake
    argv = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh']
    probe = subprocess.run(argv + ['test', '-x', OVS_VSCTL], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           check=False)
    _OVS_RUNNER['argv'] = argv if probe.returncode == 0 else None
    return _OVS_RUNNER['argv']


def netplan_generate(tmp_path, tmp_path_factory, files, ovs=False):
    """Write the rendered files under tmp_path, run netplan generate; return (root, stderr)."""
    if NETPLAN is None:
        pytest.skip('netplan is not installed (scripts/setup.sh installs netplan.io)')
    prefix = []
    if ovs:
        prefix = _ovs_runner(tmp_path_factory)
        if prefix is None:
            pytest.skip('netplan needs /usr/bin/ovs-vsctl for openvswitch keys; Open vSwitch is not '
                        'installed and no private mount namespace (unshare + overlayfs) is available')
    root = tmp_path / 'root'
    for entry in files:
        path = root / entry['path'].lstrip('/')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry['content'])
        os.chmod(str(path), int(entry['mode'], 8))
    proc = subprocess.run(prefix + [NETPLAN, 'generate', '--root-dir', str(root)], cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return root, proc.stderr


def ovs_exec_lines(root):
    lines = []
    for unit in sorted(glob.glob(str(root / 'run/systemd/system/netplan-ovs-*.service'))):
        with open(unit) as fh:
            lines.extend(line.split('=', 1)[1].strip() for line in fh if line.startswith('ExecStart='))
    return lines


def networkd(root, name):
    with open(str(root / 'run/systemd/network' / name)) as fh:
        return fh.read()


# -- golden files -----------------------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_golden_seed000(backend):
    res = render_netplan.render(norm(SEED[backend]), {'ovs_database_only': False})
    base = os.path.join(GOLDEN, backend)
    rendered = dict((f['path'], f['content']) for f in res['files'])
    assert_golden(base, rendered)


@pytest.mark.parametrize('backend', BACKENDS)
def test_result_shape_and_determinism(backend):
    first = render_netplan.render(norm(SEED[backend]))
    second = render_netplan.render(norm(copy.deepcopy(SEED[backend])))
    assert first == second
    assert first['renderer'] == 'netplan'
    assert first['marker'] == MARKER
    assert first['owned'] == ['/etc/netplan/*-cloudstack-kvm.yaml']
    entry = first['files'][0]
    assert entry['path'] == '/etc/netplan/60-cloudstack-kvm.yaml'
    assert entry['mode'] == '0600'
    assert entry['content'].startswith('# ')
    assert MARKER in entry['content'].splitlines()[0]


def test_custom_header_is_commented():
    res = render_netplan.render(norm(SEED['linux_bridge']), {'header': 'Ansible managed\nsecond line'})
    lines = res['files'][0]['content'].splitlines()
    assert lines[:3] == ['# Ansible managed', '# second line', '# Written by %s.' % MARKER]


# -- the seed's own configuration -------------------------------------------------------------------
# Transcribed from seed 000, "Linux bridge configuration - Ubuntu" (/etc/netplan/50-cloud-init.yaml
# plus the "Optional tagged interface for storage traffic" addition), values as YAML reads them.
SEED_NETPLAN_LINUX = {
    'ethernets': {'eth0': {'dhcp4': False}, 'eth1': {'dhcp4': False},
                  'eth2': {'dhcp4': False}, 'eth3': {'dhcp4': False}},
    'bonds': {
        'bond0': {'dhcp4': False, 'interfaces': ['eth0', 'eth1'],
                  'parameters': {'mode': 'active-backup', 'primary': 'eth0'}},
        'bond1': {'dhcp4': False, 'interfaces': ['eth2', 'eth3'],
                  'parameters': {'mode': 'active-backup', 'primary': 'eth2'}},
    },
    'bridges': {
        'cloudbr0': {'addresses': ['192.168.100.20/24'],
                     'nameservers': {'search': ['mycloud.local'], 'addresses': ['192.168.100.5', '192.168.100.6']},
                     'interfaces': ['bond0']},
        'cloudbr1': {'dhcp4': False, 'interfaces': ['bond1']},
        'cloudbr100': {'addresses': ['10.0.100.20/24'], 'interfaces': ['bond100']},
    },
    'vlans': {'bond100': {'id': 100, 'link': 'bond0', 'dhcp4': False}},
    'version': 2,
}
SEED_GATEWAY4 = {'cloudbr0': '192.168.100.1'}


def assert_subset(expected, actual, where='network'):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), '%s: expected a mapping, got %r' % (where, actual)
        for key, value in expected.items():
            assert key in actual, '%s.%s is missing' % (where, key)
            assert_subset(value, actual[key], '%s.%s' % (where, key))
    else:
        assert actual == expected, '%s: seed has %r, we render %r' % (where, expected, actual)


def test_seed_linux_netplan_conformance():
    # The seed names its VLAN device bond100; the model's default name is bond0.100 and
    # vlan_interface chooses another one, so the seed's exact file comes from vlan_interface.
    data = copy.deepcopy(SEED['linux_bridge'])
    data['bridges']['cloudbr100']['vlan_interface'] = 'bond100'
    ours = render_data(data)
    assert_subset(SEED_NETPLAN_LINUX, ours)
    # gateway4 is deprecated since netplan 0.103: the same default route is written as a route.
    for bridge, gateway in SEED_GATEWAY4.items():
        assert 'gateway4' not in ours['bridges'][bridge]
        assert {'to': '0.0.0.0/0', 'via': gateway} in ours['bridges'][bridge]['routes']


def test_seed_default_vlan_name_is_uplink_dot_id():
    ours = render_data(SEED['linux_bridge'])
    assert ours['vlans'] == {'bond0.100': {'id': 100, 'link': 'bond0', 'dhcp4': False, 'dhcp6': False, 'link-local': []}}
    assert ours['bridges']['cloudbr100']['interfaces'] == ['bond0.100']


# Seed 000, "OpenVswitch bridge configuration - Ubuntu": the ovs-vsctl commands it runs by hand.
# netplan's generated units must build the same database objects.
SEED_OVS_COMMANDS = [
    'ovs-vsctl add-br cloudbr0',
    'ovs-vsctl add-br cloudbr1',
    'ovs-vsctl add-bond cloudbr0 bond0 eth0 eth1 bond_mode=active-backup other_config:bond-detect-mode=miimon other_config:bond-miimon-interval=100',
    'ovs-vsctl add-bond cloudbr1 bond1 eth2 eth3 bond_mode=active-backup other_config:bond-detect-mode=miimon other_config:bond-miimon-interval=100',
    'ovs-vsctl add-br cloudbr100 cloudbr0 100',
]


def _seed_command_facts():
    """What each seed command asks for, as (kind, args...) facts we can look up in the units."""
    facts = set()
    for cmd in SEED_OVS_COMMANDS:
        argv = cmd.split()[1:]
        if argv[0] == 'add-br':
            facts.add(('add-br',) + tuple(argv[1:]))
        else:
            bridge, bond = argv[1], argv[2]
            members = tuple(sorted(a for a in argv[3:] if '=' not in a))
            facts.add(('add-bond', bridge, bond, members))
            for setting in (a for a in argv[3:] if '=' in a):
                column, value = setting.split('=', 1)
                facts.add(('set', bond, column.replace('other_config', 'other-config'), value))
    return facts


def _unit_facts(lines):
    facts = set()
    for line in lines:
        argv = line.split()[1:]
        if argv[:2] == ['--may-exist', 'add-br']:
            facts.add(('add-br',) + tuple(argv[2:]))
        elif argv[:2] == ['--may-exist', 'add-bond']:
            facts.add(('add-bond', argv[2], argv[3], tuple(sorted(argv[4:]))))
        elif argv[:2] == ['set', 'Port']:
            column, value = argv[3].split('=', 1)
            facts.add(('set', argv[2], column, value))
    return facts


def test_seed_ovs_commands_realised_by_netplan_units(tmp_path, tmp_path_factory):
    res = render_netplan.render(norm(SEED['openvswitch']))
    root, _err = netplan_generate(tmp_path, tmp_path_factory, res['files'], ovs=True)
    lines = ovs_exec_lines(root)
    missing = _seed_command_facts() - _unit_facts(lines)
    assert not missing, 'seed commands not realised by netplan: %s\n%s' % (sorted(missing), '\n'.join(lines))
    # and the fake bridge is a fake bridge (parent + tag), not a Linux VLAN device
    assert not os.path.exists(str(root / 'run/systemd/network/10-netplan-cloudbr100.netdev'))
    assert 'Address=10.0.100.20/24' in networkd(root, '10-netplan-cloudbr100.network')
    assert 'Address=192.168.100.20/24' in networkd(root, '10-netplan-cloudbr0.network')


@pytest.mark.parametrize('backend', BACKENDS)
def test_seed_accepted_by_netplan_without_warnings(tmp_path, tmp_path_factory, backend):
    res = render_netplan.render(norm(SEED[backend]))
    root, err = netplan_generate(tmp_path, tmp_path_factory, res['files'], ovs=backend == 'openvswitch')
    assert 'warning' not in err.lower() and 'deprecat' not in err.lower(), err
    cloudbr0 = networkd(root, '10-netplan-cloudbr0.network')
    assert 'Gateway=192.168.100.1' in cloudbr0
    assert 'Domains=mycloud.local' in cloudbr0
    if backend == 'linux_bridge':
        assert 'Kind=vlan' in networkd(root, '10-netplan-bond0.100.netdev')
        assert 'Id=100' in networkd(root, '10-netplan-bond0.100.netdev')
        assert 'Mode=active-backup' in networkd(root, '10-netplan-bond0.netdev')
        assert 'MIIMonitorSec=100ms' in networkd(root, '10-netplan-bond0.netdev')
        assert 'PrimarySlave=true' in networkd(root, '10-netplan-eth0.network')
        assert 'STP=false' in networkd(root, '10-netplan-cloudbr0.netdev')
        assert 'LinkLocalAddressing=no' in networkd(root, '10-netplan-cloudbr1.network')


# -- one case per option and branch -----------------------------------------------------------------


BOND = ('bonds', 'bond0')
PARAMS = ('bonds', 'bond0', 'parameters')
BR = ('bridges', 'cloudbr0')
OVS_OTHER = ('bonds', 'bond0', 'openvswitch', 'other-config')

CASES = [
    # (id, model data, [(path in network:, expected value)], keys that must be absent)
    ('linux-mode-balance-rr', patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-rr'),
     [(PARAMS + ('mode',), 'balance-rr')], []),
    ('linux-mode-number', patched(linux(), ('bonds', 'bond0', 'mode'), 4),
     [(PARAMS + ('mode',), '802.3ad')], []),
    ('linux-mode-balance-xor-hash', patched(patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-xor'),
                                            ('bonds', 'bond0', 'xmit_hash_policy'), 'layer2+3'),
     [(PARAMS + ('transmit-hash-policy',), 'layer2+3')], []),
    ('linux-mode-broadcast', patched(linux(), ('bonds', 'bond0', 'mode'), 'broadcast'),
     [(PARAMS + ('mode',), 'broadcast')], []),
    ('linux-802.3ad-lacp-fast', {'backend': 'linux_bridge', 'ethernets': {'eth0': {}, 'eth1': {}},
                                 'bonds': {'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': '802.3ad',
                                                     'lacp_rate': 'fast', 'xmit_hash_policy': 'layer3+4'}},
                                 'bridges': {'cloudbr0': {'uplink': 'bond0'}}},
     [(PARAMS + ('mode',), '802.3ad'), (PARAMS + ('lacp-rate',), 'fast'),
      (PARAMS + ('transmit-hash-policy',), 'layer3+4')], []),
    ('linux-balance-tlb-primary', patched(patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-tlb'),
                                          ('bonds', 'bond0', 'primary'), 'eth1'),
     [(PARAMS + ('primary',), 'eth1')], []),
    ('linux-balance-alb', patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-alb'),
     [(PARAMS + ('mode',), 'balance-alb')], []),
    ('linux-miimon-delays', patched(patched(patched(linux(), ('bonds', 'bond0', 'miimon'), 200),
                                            ('bonds', 'bond0', 'updelay'), 400), ('bonds', 'bond0', 'downdelay'), 600),
     [(PARAMS + ('mii-monitor-interval',), 200), (PARAMS + ('up-delay',), 400), (PARAMS + ('down-delay',), 600)], []),
    ('linux-miimon-zero', patched(linux(), ('bonds', 'bond0', 'miimon'), 0),
     [(PARAMS + ('mii-monitor-interval',), 0)], [PARAMS + ('up-delay',)]),
    ('linux-bond-mtu', patched(linux(cloudbr0={'uplink': 'bond0', 'mtu': 9000}), ('bonds', 'bond0', 'mtu'), 9000),
     [(BOND + ('mtu',), 9000), (BR + ('mtu',), 9000)], []),
    ('linux-ethernet-mtu-and-rename',
     patched(linux(cloudbr0={'uplink': 'eth2'}), ('ethernets', 'eth2'), {'match': {'macaddress': '52:54:00:AA:BB:02'}, 'mtu': 9000}),
     [(('ethernets', 'eth2', 'match', 'macaddress'), '52:54:00:aa:bb:02'), (('ethernets', 'eth2', 'set-name'), 'eth2'),
      (('ethernets', 'eth2', 'mtu'), 9000), (BR + ('interfaces',), ['eth2'])], []),
    ('linux-single-nic-bridge', linux(cloudbr0={'uplink': 'eth2', 'addresses': ['198.51.100.20/24']}),
     [(BR + ('interfaces',), ['eth2']), (BR + ('addresses',), ['198.51.100.20/24'])], []),
    ('linux-host-only-bridge', linux(cloudbr0={'uplink': 'bond0'}, cloudbr9={}),
     [(('bridges', 'cloudbr9', 'dhcp4'), False), (('bridges', 'cloudbr9', 'link-local'), [])],
     [('bridges', 'cloudbr9', 'interfaces')]),
    ('linux-dhcp4-dhcp6', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'dhcp6': True}),
     [(BR + ('dhcp4',), True), (BR + ('dhcp6',), True)], [BR + ('link-local',), BR + ('addresses',)]),
    ('linux-ipv6-static', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['2001:db8::20/64', '198.51.100.20/24'],
                                          'gateway6': '2001:db8::1', 'gateway4': '198.51.100.1'}),
     [(BR + ('addresses',), ['2001:db8::20/64', '198.51.100.20/24']),
      (BR + ('routes',), [{'to': '0.0.0.0/0', 'via': '198.51.100.1'}, {'to': '::/0', 'via': '2001:db8::1'}])],
     [BR + ('gateway4',), BR + ('gateway6',)]),
    ('linux-routes-metric', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.20/24'],
                                            'routes': [{'to': '203.0.113.0/24', 'via': '198.51.100.254', 'metric': 50},
                                                       {'to': 'default', 'via': '198.51.100.1'}]}),
     [(BR + ('routes',), [{'to': '203.0.113.0/24', 'via': '198.51.100.254', 'metric': 50},
                          {'to': '0.0.0.0/0', 'via': '198.51.100.1'}])], []),
    ('linux-nameservers-search-only', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'nameservers': {'search': ['a.example', 'b.example']}}),
     [(BR + ('nameservers',), {'search': ['a.example', 'b.example']})], []),
    ('linux-stp', linux(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 4}),
     [(BR + ('parameters',), {'stp': True, 'forward-delay': 4})], []),
    ('linux-stp-default-delay', linux(cloudbr0={'uplink': 'bond0', 'stp': True}),
     [(BR + ('parameters',), {'stp': True, 'forward-delay': 15})], []),
    ('linux-vlan-mtu-and-name', patched(linux(cloudbr0={'uplink': 'bond0'},
                                              cloudbr200={'uplink': 'bond0', 'vlan': 200, 'vlan_interface': 'vlan200', 'mtu': 9000}),
                                        ('bonds', 'bond0', 'mtu'), 9000),
     [(('vlans', 'vlan200'), {'id': 200, 'link': 'bond0', 'mtu': 9000, 'dhcp4': False, 'dhcp6': False, 'link-local': []}),
      (('bridges', 'cloudbr200', 'interfaces'), ['vlan200']), (('bridges', 'cloudbr200', 'mtu'), 9000)], []),
    ('linux-vlan-on-nic', linux(cloudbr0={'uplink': 'eth2'}, cloudbr300={'uplink': 'eth2', 'vlan': 300}),
     [(('vlans', 'eth2.300', 'link'), 'eth2'), (('bridges', 'cloudbr300', 'interfaces'), ['eth2.300'])], []),
    ('ovs-balance-slb', patched(ovs(), ('bonds', 'bond0', 'mode'), 'balance-slb'),
     [(BOND + ('parameters',), {'mode': 'balance-slb'}), (BOND + ('openvswitch', 'lacp'), 'off')], []),
    ('ovs-balance-tcp-lacp-fast', patched(patched(patched(ovs(), ('bonds', 'bond0', 'mode'), 'balance-tcp'),
                                                  ('bonds', 'bond0', 'lacp'), 'active'), ('bonds', 'bond0', 'lacp_rate'), 'fast'),
     [(BOND + ('parameters', 'mode'), 'balance-tcp'), (BOND + ('openvswitch', 'lacp'), 'active'),
      (OVS_OTHER + ('lacp-time',), 'fast')], []),
    ('ovs-lacp-passive', patched(ovs(), ('bonds', 'bond0', 'lacp'), 'passive'),
     [(BOND + ('openvswitch', 'lacp'), 'passive')], []),
    ('ovs-primary-miimon', patched(patched(ovs(), ('bonds', 'bond0', 'primary'), 'eth1'), ('bonds', 'bond0', 'miimon'), 250),
     [(OVS_OTHER, {'bond-detect-mode': 'miimon', 'bond-miimon-interval': '250', 'bond-primary': 'eth1'})], []),
    ('ovs-carrier-detect', patched(ovs(), ('bonds', 'bond0', 'miimon'), 0),
     [(OVS_OTHER, {'bond-detect-mode': 'carrier'})], []),
    ('ovs-zero-delays-need-no-database', patched(patched(ovs(), ('bonds', 'bond0', 'updelay'), 0), ('bonds', 'bond0', 'downdelay'), 0),
     [(BOND + ('parameters',), {'mode': 'active-backup'})], []),
    ('ovs-bond-mtu-goes-to-members', patched(ovs(cloudbr0={'uplink': 'bond0', 'mtu': 9000}), ('bonds', 'bond0', 'mtu'), 9000),
     [(('ethernets', 'eth0', 'mtu'), 9000), (('ethernets', 'eth1', 'mtu'), 9000), (BR + ('mtu',), 9000)],
     [BOND + ('mtu',)]),
    ('ovs-single-nic-bridge', {'backend': 'openvswitch', 'ethernets': {'eth0': {'match': {'macaddress': '52:54:00:00:00:01'}}},
                               'bridges': {'cloudbr0': {'uplink': 'eth0', 'dhcp4': True}}},
     [(BR + ('interfaces',), ['eth0']), (BR + ('openvswitch',), {}), (('ethernets', 'eth0', 'set-name'), 'eth0')], []),
    ('ovs-host-only-bridge', ovs(cloudbr0={'uplink': 'bond0'}, cloudbr9={'addresses': ['203.0.113.9/24']}),
     [(('bridges', 'cloudbr9', 'openvswitch'), {}), (('bridges', 'cloudbr9', 'addresses'), ['203.0.113.9/24'])],
     [('bridges', 'cloudbr9', 'interfaces')]),
    ('ovs-fake-bridge-v6-dhcp', ovs(cloudbr0={'uplink': 'bond0'},
                                    cloudbr200={'uplink': 'bond0', 'vlan': 200, 'dhcp6': True, 'mtu': 1400}),
     [(('vlans', 'cloudbr200'), {'id': 200, 'link': 'cloudbr0', 'mtu': 1400, 'dhcp4': False, 'dhcp6': True, 'openvswitch': {}})],
     [('bridges', 'cloudbr200')]),
]


@pytest.mark.parametrize('case_id,data,expected,absent', CASES, ids=[c[0] for c in CASES])
def test_option_cases(tmp_path, tmp_path_factory, case_id, data, expected, absent):
    ours = render_data(data)
    for path, value in expected:
        assert dig(ours, path) == value, '%s: %s' % (case_id, '.'.join(path))
    for path in absent:
        with pytest.raises(KeyError):
            dig(ours, path)
    # and netplan itself accepts it, silently
    res = render_netplan.render(norm(data))
    _root, err = netplan_generate(tmp_path, tmp_path_factory, res['files'], ovs=data['backend'] == 'openvswitch')
    assert 'warning' not in err.lower(), err


def test_rename_by_mac_reaches_networkd(tmp_path, tmp_path_factory):
    data = patched(linux(cloudbr0={'uplink': 'eth2'}), ('ethernets', 'eth2'), {'match': {'macaddress': '52:54:00:aa:bb:02'}})
    root, _err = netplan_generate(tmp_path, tmp_path_factory, render_netplan.render(norm(data))['files'])
    link = networkd(root, '10-netplan-eth2.link')
    assert 'Name=eth2' in link and '52:54:00:aa:bb:02' in link


def test_ovs_bond_options_reach_units(tmp_path, tmp_path_factory):
    data = patched(patched(patched(patched(ovs(), ('bonds', 'bond0', 'mode'), 'balance-tcp'), ('bonds', 'bond0', 'lacp'), 'active'),
                           ('bonds', 'bond0', 'lacp_rate'), 'fast'), ('bonds', 'bond0', 'miimon'), 100)
    root, _err = netplan_generate(tmp_path, tmp_path_factory, render_netplan.render(norm(data))['files'], ovs=True)
    lines = ovs_exec_lines(root)
    for want in ('set Port bond0 bond_mode=balance-tcp', 'set Port bond0 lacp=active',
                 'set Port bond0 other-config:lacp-time=fast', 'set Port bond0 other-config:bond-miimon-interval=100',
                 'set Port bond0 other-config:bond-detect-mode=miimon'):
        assert any(line.endswith(want) for line in lines), want


# -- what netplan cannot carry -----------------------------------------------------------------------
DATABASE_ONLY = [
    ('netdev', dict(ovs(), ovs={'datapath_type': 'netdev'}), 'ovs.datapath_type', 'datapath_type=netdev'),
    ('stp', ovs(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 5}), 'stp',
     'stp_enable=true other_config:stp-forward-delay=5'),
    ('updelay', patched(ovs(), ('bonds', 'bond0', 'updelay'), 200), 'updelay', 'bond_updelay=200'),
    ('downdelay', patched(ovs(), ('bonds', 'bond0', 'downdelay'), 300), 'downdelay', 'bond_downdelay=300'),
]


@pytest.mark.parametrize('case_id,data,option,setting', DATABASE_ONLY, ids=[c[0] for c in DATABASE_ONLY])
def test_ovs_settings_netplan_cannot_carry(tmp_path, tmp_path_factory, case_id, data, option, setting):
    with pytest.raises(RenderError) as err:
        render_netplan.render(norm(data))
    message = str(err.value)
    assert option in message and setting in message and 'Fix:' in message
    assert ('bond bond0' in message) or ('bridge cloudbr0' in message)
    res = render_netplan.render(norm(data), {'ovs_database_only': True})
    content = res['files'][0]['content']
    assert '# Kept in the Open vSwitch database' in content
    assert setting in content
    netplan_generate(tmp_path, tmp_path_factory, res['files'], ovs=True)


# -- the YAML emitter ---------------------------------------------------------------------------------
@pytest.mark.parametrize('value', ['yes', 'No', 'on', 'OFF', 'true', 'null', '~', '', '00:11:22:33:44:55',
                                   '1e3', '0x1f', '12', '1.5', '- x', 'a: b', '#c', '*ref', "it's", 'say "hi"',
                                   'eth0', 'bond0.100', '2001:db8::1/64', u'caf\u00e9'])
def test_yaml_scalars_round_trip_as_strings(value):
    assert yaml.safe_load(render_netplan.dump_yaml({'k': value})) == {'k': value}


def test_yaml_structures_round_trip():
    data = {'a': [1, True, None, {'x': [], 'y': {}}, [1, 2]], 'b': {}, 'c': [], 'd': {'e': {'f': 'g'}}}
    assert yaml.safe_load(render_netplan.dump_yaml(data)) == data
