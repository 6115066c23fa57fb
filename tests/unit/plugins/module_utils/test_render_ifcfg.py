# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ifcfg (EL7 network-scripts) renderer: golden files for seed 000, conformance with the seed's
CentOS Linux bridge and CentOS OVS files, one case per option and branch, error cases, and every
rendered file checked as shell (bash -n, then sourced in an empty environment: what initscripts
do). Real validation (ifup on EL7) happens later on the lab hosts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import ifcfg as render_ifcfg
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import MARKER
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import RenderError
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.golden import assert_golden
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import ABSENT, linux, linux_bond, ovs, ovs_bond, patched

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', '..', 'fixtures')
GOLDEN = os.path.join(HERE, 'golden', 'ifcfg')
with open(os.path.join(FIXTURES, 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)
BACKENDS = ('linux_bridge', 'openvswitch')
SCRIPTS = '/etc/sysconfig/network-scripts/'
BASH = shutil.which('bash')
OPTIONS = {'host': 'kvmhost1', 'hostname': 'kvmhost1.mylab.local'}


def norm(data):
    return model_normalise.normalise(data, 'kvmhost1')


def parse_assignments(text):
    """KEY=value lines of an ifcfg file as a dict, values unquoted the way the shell does."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        key, sep, value = line.partition('=')
        assert sep and re.match(r'^[A-Z][A-Z0-9_]*$', key), line
        words = shlex.split(value)
        assert len(words) <= 1, 'value of %s is more than one shell word: %r' % (key, value)
        assert key not in out, 'duplicate key %s' % key
        out[key] = words[0] if words else ''
    return out


def render(data, **options):
    opts = dict(OPTIONS)
    opts.update(options)
    res = render_ifcfg.render(norm(data), opts)
    return dict((f['path'], f['content']) for f in res['files']), res


def ifcfg_of(files, device):
    return parse_assignments(files[SCRIPTS + 'ifcfg-' + device])


# -- shell checks -----------------------------------------------------------------------------------
def shell_check(tmp_path, res):
    """Every file: bash -n, and sourcing it under env -i yields exactly the keys we parse."""
    if BASH is None:
        pytest.skip('bash is not installed')
    for index, entry in enumerate(res['files']):
        path = tmp_path / ('f%d' % index)
        path.write_text(entry['content'])
        syntax = subprocess.run([BASH, '-n', str(path)], stderr=subprocess.PIPE, universal_newlines=True, check=False)
        assert syntax.returncode == 0, '%s: %s' % (entry['path'], syntax.stderr)
        lines = [line for line in entry['content'].splitlines() if line and not line.startswith('#')]
        if lines and all('=' in line.split()[0] for line in lines):
            ours = parse_assignments(entry['content'])
            proc = subprocess.run(['env', '-i', BASH, '-c', 'set -a; . "$0"; env -0', str(path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
            assert proc.returncode == 0 and not proc.stderr, (entry['path'], proc.stderr)
            env = dict(item.split('=', 1) for item in proc.stdout.split('\0') if '=' in item)
            sourced = dict((k, v) for k, v in env.items() if k in ours)
            assert sourced == ours, entry['path']
            assert set(env) - set(ours) <= {'PWD', 'SHLVL', '_', 'OLDPWD'}, entry['path']


# -- golden files -----------------------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_golden_seed000(backend):
    rendered, _res = render(SEED[backend])
    base = os.path.join(GOLDEN, backend)
    assert_golden(base, rendered)


@pytest.mark.parametrize('backend', BACKENDS)
def test_result_shape_and_determinism(backend, tmp_path):
    first = render_ifcfg.render(norm(SEED[backend]), OPTIONS)
    assert first == render_ifcfg.render(norm(copy.deepcopy(SEED[backend])), dict(OPTIONS))
    assert first['renderer'] == 'ifcfg' and first['marker'] == MARKER
    devices = ['bond0', 'bond1', 'cloudbr0', 'cloudbr1', 'cloudbr100', 'eth0', 'eth1', 'eth2', 'eth3']
    if backend == 'linux_bridge':
        devices.append('bond0.100')
    want = [SCRIPTS + 'ifcfg-' + d for d in devices]
    want += [SCRIPTS + '%s-%s' % (kind, b) for b in ('cloudbr0', 'cloudbr1', 'cloudbr100') for kind in ('route', 'route6')]
    assert first['owned'] == sorted(want)
    assert '/etc/sysconfig/network' not in first['owned']       # never removed, always rendered
    paths = [f['path'] for f in first['files']]
    assert paths == sorted(paths)
    assert set(paths) == set(SCRIPTS + 'ifcfg-' + d for d in devices) | {'/etc/sysconfig/network'}
    for entry in first['files']:
        assert entry['mode'] == '0644'
        assert MARKER in entry['content'].splitlines()[0]
    shell_check(tmp_path, first)


def test_header_option():
    files, _res = render(SEED['linux_bridge'], header='Line one\nLine two')
    for content in files.values():
        assert content.startswith('# Line one\n# Line two\n# Written by %s.\n' % MARKER)


# -- the seed's own files -----------------------------------------------------------------------------
# Seed 000, "Linux bridge configuration - CentOS", transcribed. eth1..eth3 are "configured the same
# way" as eth0 (with their own DEVICE/NAME and bond). The seed's HWADDR=00:0C:12:xx:xx:xx is a
# placeholder, not a MAC: the seed's model matches no MAC (see the rename cases below).
def _seed_eth(name, bond):
    return {'DEVICE': name, 'NAME': name, 'TYPE': 'Ethernet', 'BOOTPROTO': 'none', 'ONBOOT': 'yes',
            'MASTER': bond, 'SLAVE': 'yes', 'NM_CONTROLLED': 'no'}


SEED_LINUX = {
    'ifcfg-eth0': _seed_eth('eth0', 'bond0'),
    'ifcfg-eth1': _seed_eth('eth1', 'bond0'),
    'ifcfg-eth2': _seed_eth('eth2', 'bond1'),
    'ifcfg-eth3': _seed_eth('eth3', 'bond1'),
    'ifcfg-bond0': {'DEVICE': 'bond0', 'NAME': 'bond0', 'TYPE': 'Bond', 'BRIDGE': 'cloudbr0', 'ONBOOT': 'yes',
                    'NM_CONTROLLED': 'no', 'BONDING_OPTS': 'mode=active-backup miimon=100 updelay=0 downdelay=0'},
    'ifcfg-bond1': {'DEVICE': 'bond1', 'NAME': 'bond1', 'TYPE': 'Bond', 'BRIDGE': 'cloudbr1', 'ONBOOT': 'yes',
                    'NM_CONTROLLED': 'no', 'BONDING_OPTS': 'mode=active-backup miimon=100 updelay=0 downdelay=0'},
    'ifcfg-cloudbr0': {'DEVICE': 'cloudbr0', 'ONBOOT': 'yes', 'TYPE': 'Bridge', 'IPADDR': '192.168.100.20',
                       'NETMASK': '255.255.255.0', 'GATEWAY': '192.168.100.1', 'NM_CONTROLLED': 'no',
                       'DEFROUTE': 'yes', 'IPV4_FAILURE_FATAL': 'no', 'IPV6INIT': 'no', 'DELAY': '0'},
    'ifcfg-cloudbr1': {'DEVICE': 'cloudbr1', 'ONBOOT': 'yes', 'TYPE': 'Bridge', 'BOOTPROTO': 'none',
                       'NM_CONTROLLED': 'no', 'DELAY': '0', 'DEFROUTE': 'no', 'IPV4_FAILURE_FATAL': 'no',
                       'IPV6INIT': 'no'},
    # Seed error: the seed names this file ifcfg-bond.100; initscripts find a device's file by its
    # name, so for DEVICE=bond0.100 it must be ifcfg-bond0.100.
    'ifcfg-bond.100': {'DEVICE': 'bond0.100', 'VLAN': 'yes', 'BOOTPROTO': 'none', 'ONBOOT': 'yes',
                       'TYPE': 'Unknown', 'BRIDGE': 'cloudbr100'},
    # Seed error: VLAN=yes declares a VLAN device, but cloudbr100 is a bridge (the VLAN is
    # bond0.100, a port of the bridge): we leave it out.
    'ifcfg-cloudbr100': {'DEVICE': 'cloudbr100', 'ONBOOT': 'yes', 'TYPE': 'Bridge', 'VLAN': 'yes',
                         'IPADDR': '10.0.100.20', 'NETMASK': '255.255.255.0', 'NM_CONTROLLED': 'no', 'DELAY': '0'},
}


# Seed 000, "OpenVswitch bridge configuration - CentOS", transcribed (quotes as the shell reads them).
def _seed_ovs_eth(name):
    return {'DEVICE': name, 'TYPE': 'Ethernet', 'BOOTPROTO': 'none', 'NAME': name, 'ONBOOT': 'yes',
            'NM_CONTROLLED': 'no', 'HOTPLUG': 'no'}


SEED_OVS_OPTIONS = ('bond_mode=active-backup lacp=off other_config:bond-detect-mode=miimon '
                    'other_config:bond-miimon-interval=100')
SEED_OVS = {
    'ifcfg-eth0': _seed_ovs_eth('eth0'),
    'ifcfg-eth1': _seed_ovs_eth('eth1'),
    'ifcfg-eth2': _seed_ovs_eth('eth2'),
    'ifcfg-eth3': _seed_ovs_eth('eth3'),
    'ifcfg-bond0': {'DEVICE': 'bond0', 'ONBOOT': 'yes', 'DEVICETYPE': 'ovs', 'TYPE': 'OVSBond', 'OVS_BRIDGE': 'cloudbr0',
                    'BOOTPROTO': 'none', 'BOND_IFACES': 'eth0 eth1', 'OVS_OPTIONS': SEED_OVS_OPTIONS, 'HOTPLUG': 'no'},
    'ifcfg-bond1': {'DEVICE': 'bond1', 'ONBOOT': 'yes', 'DEVICETYPE': 'ovs', 'TYPE': 'OVSBond', 'OVS_BRIDGE': 'cloudbr1',
                    'BOOTPROTO': 'none', 'BOND_IFACES': 'eth2 eth3', 'OVS_OPTIONS': SEED_OVS_OPTIONS, 'HOTPLUG': 'no'},
    'ifcfg-cloudbr0': {'DEVICE': 'cloudbr0', 'ONBOOT': 'yes', 'DEVICETYPE': 'ovs', 'TYPE': 'OVSBridge',
                       'BOOTPROTO': 'static', 'IPADDR': '192.168.100.20', 'NETMASK': '255.255.255.0',
                       'GATEWAY': '192.168.100.1', 'HOTPLUG': 'no'},
    'ifcfg-cloudbr1': {'DEVICE': 'cloudbr1', 'ONBOOT': 'yes', 'DEVICETYPE': 'ovs', 'TYPE': 'OVSBridge',
                       'BOOTPROTO': 'none', 'HOTPLUG': 'no'},
    # OVS_OPTIONS="cloudbr0 100" is right: ifup-ovs runs ovs-vsctl --may-exist add-br "$DEVICE"
    # $OVS_OPTIONS, i.e. add-br cloudbr100 cloudbr0 100.
    'ifcfg-cloudbr100': {'DEVICE': 'cloudbr100', 'ONBOOT': 'yes', 'DEVICETYPE': 'ovs', 'TYPE': 'OVSBridge',
                         'BOOTPROTO': 'static', 'IPADDR': '10.0.100.20', 'NETMASK': '255.255.255.0',
                         'OVS_OPTIONS': 'cloudbr0 100', 'HOTPLUG': 'no'},
}
SEED_NETWORK = {'NETWORKING': 'yes', 'HOSTNAME': 'kvmhost1.mylab.local', 'GATEWAY': '192.168.100.1',
                'NETWORKING_IPV6': 'no', 'IPV6INIT': 'no', 'IPV6_AUTOCONF': 'no'}

# Option strings compared as sets: the seed's options must be a subset of ours (the model sets more).
SET_KEYS = ('BONDING_OPTS', 'OVS_OPTIONS')
# Where the seed is wrong: (seed file, key) -> (our file, check(ours_dict)).
CORRECTIONS = {
    ('ifcfg-bond.100', None): ('ifcfg-bond0.100', None),
    ('ifcfg-cloudbr100', 'VLAN'): ('ifcfg-cloudbr100', lambda ours: 'VLAN' not in ours),
}


def _conformance(seed_files, files):
    for seed_name, seed_items in seed_files.items():
        our_name = CORRECTIONS.get((seed_name, None), (seed_name, None))[0]
        assert SCRIPTS + our_name in files, 'seed file %s (ours: %s) is missing' % (seed_name, our_name)
        ours = parse_assignments(files[SCRIPTS + our_name])
        for key, value in seed_items.items():
            if (seed_name, key) in CORRECTIONS:
                assert CORRECTIONS[(seed_name, key)][1](ours), (seed_name, key)
                continue
            assert key in ours, '%s: seed key %s is missing' % (our_name, key)
            if key in SET_KEYS:
                assert set(value.split()) <= set(ours[key].split()), (our_name, key, ours[key])
            else:
                assert ours[key] == value, (our_name, key, ours[key], value)


def test_seed_linux_conformance():
    files, _res = render(SEED['linux_bridge'])
    _conformance(SEED_LINUX, files)
    # The corrected names: no ifcfg-bond.100, and no VLAN=yes on the bridge.
    assert SCRIPTS + 'ifcfg-bond.100' not in files
    assert 'VLAN' not in ifcfg_of(files, 'cloudbr100')
    assert ifcfg_of(files, 'bond0.100')['VLAN'] == 'yes'
    # Ours also names the primary (seed 000's netplan section) in BONDING_OPTS.
    assert 'primary=eth0' in ifcfg_of(files, 'bond0')['BONDING_OPTS'].split()
    assert 'primary=eth2' in ifcfg_of(files, 'bond1')['BONDING_OPTS'].split()
    # The seed's VLAN file lacks NM_CONTROLLED=no (every other seed file has it); ours has it.
    assert ifcfg_of(files, 'bond0.100')['NM_CONTROLLED'] == 'no'
    assert parse_assignments(files['/etc/sysconfig/network'])['NETWORKING'] == 'yes'


def test_seed_ovs_conformance():
    files, _res = render(SEED['openvswitch'])
    _conformance(SEED_OVS, files)
    assert parse_assignments(files['/etc/sysconfig/network']) == SEED_NETWORK
    # OVS bond members carry no bond keys (no MASTER/SLAVE): the OVSBond names them.
    for nic in ('eth0', 'eth1', 'eth2', 'eth3'):
        assert 'MASTER' not in ifcfg_of(files, nic) and 'DEVICETYPE' not in ifcfg_of(files, nic)
    # The seed writes OVS_OPTIONS with exactly _ovs_plan's option string.
    assert ifcfg_of(files, 'bond0')['OVS_OPTIONS'] == SEED_OVS_OPTIONS


def test_network_file_without_hostname():
    files, _res = render(SEED['linux_bridge'], hostname=None)
    net = parse_assignments(files['/etc/sysconfig/network'])
    assert 'HOSTNAME' not in net and net['GATEWAY'] == '192.168.100.1'


# -- one case per option and branch -----------------------------------------------------------------


ROUTES = {'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '2001:db8::20/64'],
          'routes': [{'to': '203.0.113.0/24', 'via': '198.51.100.254'}, {'to': '192.0.2.0/24', 'via': '198.51.100.253'},
                     {'to': '2001:db8:9::/48', 'via': '2001:db8::fe', 'metric': 7}]}
CASES = [
    # (id, model data, [(file, key, value or ABSENT)]); file is a device name, 'network', or route-/route6- file
    ('linux-balance-rr-number', linux_bond(0), [('bond0', 'BONDING_OPTS', 'mode=balance-rr miimon=100')]),
    ('linux-active-backup', linux_bond('active-backup', primary='eth1', updelay=200, downdelay=300),
     [('bond0', 'BONDING_OPTS', 'mode=active-backup miimon=100 updelay=200 downdelay=300 primary=eth1')]),
    ('linux-balance-xor', linux_bond('balance-xor', xmit_hash_policy='layer2+3'),
     [('bond0', 'BONDING_OPTS', 'mode=balance-xor miimon=100 xmit_hash_policy=layer2+3')]),
    ('linux-broadcast', linux_bond('broadcast'), [('bond0', 'BONDING_OPTS', 'mode=broadcast miimon=100')]),
    ('linux-802.3ad', linux_bond('802.3ad', lacp_rate='fast', xmit_hash_policy='layer3+4', miimon=50),
     [('bond0', 'BONDING_OPTS', 'mode=802.3ad miimon=50 lacp_rate=fast xmit_hash_policy=layer3+4')]),
    ('linux-balance-tlb', linux_bond('balance-tlb', primary='eth0'),
     [('bond0', 'BONDING_OPTS', 'mode=balance-tlb miimon=100 primary=eth0')]),
    ('linux-balance-alb', linux_bond('balance-alb', xmit_hash_policy='encap3+4'),
     [('bond0', 'BONDING_OPTS', 'mode=balance-alb miimon=100 xmit_hash_policy=encap3+4')]),
    ('linux-miimon-0', linux_bond('active-backup', miimon=0), [('bond0', 'BONDING_OPTS', 'mode=active-backup miimon=0')]),
    ('linux-mtu', patched(patched(patched(linux(cloudbr0={'uplink': 'bond0', 'mtu': 9000},
                                                cloudbr9={'uplink': 'bond0', 'vlan': 9, 'mtu': 9000}),
                                          ('bonds', 'bond0', 'mtu'), 9000),
                                  ('ethernets', 'eth0', 'mtu'), 9000), ('ethernets', 'eth1', 'mtu'), 9000),
     [('bond0', 'MTU', '9000'), ('eth0', 'MTU', '9000'), ('cloudbr0', 'MTU', '9000'), ('bond0.9', 'MTU', '9000'),
      ('cloudbr9', 'MTU', '9000'), ('eth2', 'MTU', ABSENT)]),
    ('linux-stp', linux(cloudbr0={'uplink': 'bond0', 'stp': True}), [('cloudbr0', 'STP', 'yes'), ('cloudbr0', 'DELAY', '15')]),
    ('linux-stp-delay', linux(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 4}), [('cloudbr0', 'DELAY', '4')]),
    ('linux-single-nic', linux(cloudbr0={'uplink': 'eth2', 'addresses': ['198.51.100.2/24']}),
     [('eth2', 'BRIDGE', 'cloudbr0'), ('eth2', 'MASTER', ABSENT), ('bond0', 'BRIDGE', ABSENT),
      ('cloudbr0', 'IPADDR', '198.51.100.2')]),
    ('linux-host-only', linux(cloudbr0={'uplink': 'bond0'}, cloudbr5={}),
     [('cloudbr5', 'BOOTPROTO', 'none'), ('cloudbr5', 'IPV6INIT', 'no'), ('cloudbr5', 'DEFROUTE', 'no'),
      ('eth2', 'BRIDGE', ABSENT), ('eth2', 'MASTER', ABSENT)]),
    ('linux-vlan-on-nic', linux(cloudbr0={'uplink': 'bond0'}, cloudbr7={'uplink': 'eth2', 'vlan': 7}),
     [('eth2.7', 'VLAN', 'yes'), ('eth2.7', 'PHYSDEV', 'eth2'), ('eth2.7', 'BRIDGE', 'cloudbr7'), ('eth2', 'BRIDGE', ABSENT)]),
    ('linux-vlan-interface-vlanN', linux(cloudbr0={'uplink': 'bond0'},
                                         cloudbr7={'uplink': 'bond0', 'vlan': 7, 'vlan_interface': 'vlan7'}),
     [('vlan7', 'DEVICE', 'vlan7'), ('vlan7', 'PHYSDEV', 'bond0'), ('vlan7', 'VLAN', 'yes')]),
    ('linux-rename-by-mac', patched(linux(), ('ethernets', 'eth0', 'match'), {'macaddress': '52:54:00:aa:bb:01'}),
     [('eth0', 'HWADDR', '52:54:00:AA:BB:01'), ('eth0', 'DEVICE', 'eth0'), ('eth1', 'HWADDR', ABSENT)]),
    ('dhcp4', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True}),
     [('cloudbr0', 'BOOTPROTO', 'dhcp'), ('cloudbr0', 'DEFROUTE', 'yes'), ('cloudbr0', 'IPADDR', ABSENT)]),
    ('dhcp4-beside-static-gateway', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.2/24'],
                                                    'gateway4': '198.51.100.1'},
                                          cloudbr5={'uplink': 'eth2', 'dhcp4': True}),
     [('cloudbr5', 'DEFROUTE', 'no'), ('cloudbr0', 'DEFROUTE', 'yes')]),
    ('dhcp4-gateway-as-route', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'gateway4': '198.51.100.1'}),
     [('cloudbr0', 'GATEWAY', ABSENT), ('route-cloudbr0', 'ADDRESS0', '0.0.0.0'), ('route-cloudbr0', 'NETMASK0', '0.0.0.0'),
      ('route-cloudbr0', 'GATEWAY0', '198.51.100.1'), ('network', 'GATEWAY', '198.51.100.1')]),
    ('gateway-outside-first-subnet', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '203.0.113.5/28'],
                                                     'gateway4': '203.0.113.1'}),
     [('cloudbr0', 'IPADDR0', '198.51.100.20'), ('cloudbr0', 'PREFIX0', '24'), ('cloudbr0', 'IPADDR1', '203.0.113.5'),
      ('cloudbr0', 'PREFIX1', '28'), ('cloudbr0', 'IPADDR', ABSENT), ('cloudbr0', 'GATEWAY', ABSENT),
      ('cloudbr0', 'DEFROUTE', 'yes'), ('route-cloudbr0', 'GATEWAY0', '203.0.113.1')]),
    ('dhcp6', linux(cloudbr0={'uplink': 'bond0', 'dhcp6': True}),
     [('cloudbr0', 'IPV6INIT', 'yes'), ('cloudbr0', 'DHCPV6C', 'yes'), ('cloudbr0', 'IPV6_AUTOCONF', 'yes'),
      ('cloudbr0', 'BOOTPROTO', 'none'), ('network', 'NETWORKING_IPV6', 'yes'), ('network', 'IPV6_AUTOCONF', ABSENT)]),
    ('ipv6-static', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['2001:db8::20/64', '2001:db8:1::20/64'],
                                    'gateway6': '2001:db8::1',
                                    'nameservers': {'addresses': ['2001:db8::53'], 'search': ['a.example', 'b.example']}}),
     [('cloudbr0', 'IPV6INIT', 'yes'), ('cloudbr0', 'IPV6_AUTOCONF', 'no'), ('cloudbr0', 'IPV6ADDR', '2001:db8::20/64'),
      ('cloudbr0', 'IPV6ADDR_SECONDARIES', '2001:db8:1::20/64'), ('cloudbr0', 'IPV6_DEFAULTGW', '2001:db8::1'),
      ('cloudbr0', 'DNS1', '2001:db8::53'), ('cloudbr0', 'DOMAIN', 'a.example b.example'), ('cloudbr0', 'DHCPV6C', ABSENT)]),
    ('ipv6-link-local-gateway', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.2/24', '2001:db8::2/64'],
                                                'gateway6': 'fe80::1'}),
     [('cloudbr0', 'IPV6INIT', 'yes'), ('cloudbr0', 'IPV6_DEFAULTGW', 'fe80::1%cloudbr0'), ('cloudbr0', 'IPV6ADDR', '2001:db8::2/64')]),
    ('routes', linux(cloudbr0=ROUTES),
     [('route-cloudbr0', 'ADDRESS0', '203.0.113.0'), ('route-cloudbr0', 'NETMASK0', '255.255.255.0'),
      ('route-cloudbr0', 'GATEWAY0', '198.51.100.254'), ('route-cloudbr0', 'ADDRESS1', '192.0.2.0'),
      ('route-cloudbr0', 'GATEWAY1', '198.51.100.253'), ('route-cloudbr0', 'METRIC0', ABSENT)]),
    ('ovs-active-backup', ovs_bond(mode='active-backup', primary='eth1', updelay=200, downdelay=100),
     [('bond0', 'OVS_OPTIONS', 'bond_mode=active-backup lacp=off other_config:bond-detect-mode=miimon '
                               'other_config:bond-miimon-interval=100 bond_updelay=200 bond_downdelay=100 '
                               'other_config:bond-primary=eth1')]),
    ('ovs-balance-tcp', ovs_bond(mode='balance-tcp', lacp='active', lacp_rate='fast'),
     [('bond0', 'OVS_OPTIONS', 'bond_mode=balance-tcp lacp=active other_config:bond-detect-mode=miimon '
                               'other_config:bond-miimon-interval=100 other_config:lacp-time=fast')]),
    ('ovs-balance-slb-carrier', ovs_bond(mode='balance-slb', lacp='passive', miimon=0),
     [('bond0', 'OVS_OPTIONS', 'bond_mode=balance-slb lacp=passive other_config:bond-detect-mode=carrier')]),
    ('ovs-netdev', patched(ovs(), ('ovs',), {'datapath_type': 'netdev'}),
     [('cloudbr0', 'OVS_EXTRA', 'set bridge cloudbr0 datapath_type=netdev')]),
    ('ovs-stp', ovs(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 5}),
     [('cloudbr0', 'STP', 'true'), ('cloudbr0', 'OVS_EXTRA', 'set bridge cloudbr0 other_config:stp-forward-delay=5'),
      ('cloudbr0', 'DELAY', ABSENT)]),
    ('ovs-mtu', patched(patched(ovs(cloudbr0={'uplink': 'bond0', 'mtu': 9000}, cloudbr9={'uplink': 'bond0', 'vlan': 9, 'mtu': 9000}),
                                ('bonds', 'bond0', 'mtu'), 9000), ('ethernets', 'eth0', 'mtu'), 9000),
     [('cloudbr0', 'MTU', '9000'), ('cloudbr0', 'OVS_EXTRA', 'set Interface cloudbr0 mtu_request=9000'),
      ('cloudbr9', 'OVS_EXTRA', 'set Interface cloudbr9 mtu_request=9000'),
      ('bond0', 'OVS_EXTRA', 'set Interface eth0 mtu_request=9000 -- set Interface eth1 mtu_request=9000'),
      ('eth0', 'MTU', '9000'), ('eth1', 'MTU', '9000'), ('eth2', 'MTU', ABSENT)]),
    ('ovs-netdev-stp-mtu', patched(ovs(cloudbr0={'uplink': 'bond0', 'stp': True, 'mtu': 1400}), ('ovs',), {'datapath_type': 'netdev'}),
     [('cloudbr0', 'OVS_EXTRA', 'set bridge cloudbr0 datapath_type=netdev -- set bridge cloudbr0 '
                                'other_config:stp-forward-delay=15 -- set Interface cloudbr0 mtu_request=1400')]),
    ('ovs-single-nic', patched(patched(ovs(cloudbr0={'uplink': 'eth2', 'addresses': ['198.51.100.2/24']}), ('ethernets', 'eth2', 'mtu'), 9000),
                               ('bonds',), {}),
     [('eth2', 'TYPE', 'OVSPort'), ('eth2', 'DEVICETYPE', 'ovs'), ('eth2', 'OVS_BRIDGE', 'cloudbr0'),
      ('eth2', 'OVS_EXTRA', 'set Interface eth2 mtu_request=9000'), ('eth0', 'TYPE', 'Ethernet')]),
    ('ovs-dhcp', ovs(cloudbr0={'uplink': 'bond0', 'dhcp4': True}),
     [('cloudbr0', 'OVSBOOTPROTO', 'dhcp'), ('cloudbr0', 'OVSDHCPINTERFACES', 'bond0'), ('cloudbr0', 'BOOTPROTO', 'none')]),
    ('ovs-host-only-dhcp', ovs(cloudbr0={'uplink': 'bond0'}, cloudbr5={'dhcp4': True}),
     [('cloudbr5', 'BOOTPROTO', 'dhcp'), ('cloudbr5', 'OVSBOOTPROTO', ABSENT)]),
    ('ovs-fake-bridge-dhcp', ovs(cloudbr0={'uplink': 'bond0'}, cloudbr7={'uplink': 'bond0', 'vlan': 7, 'dhcp4': True}),
     [('cloudbr7', 'OVS_OPTIONS', 'cloudbr0 7'), ('cloudbr7', 'OVSREQUIRES', 'cloudbr0'), ('cloudbr7', 'BOOTPROTO', 'dhcp'),
      ('cloudbr7', 'STP', ABSENT), ('cloudbr7', 'OVS_EXTRA', ABSENT)]),
    ('ovs-rename-by-mac', patched(ovs(), ('ethernets', 'eth1', 'match'), {'macaddress': '52:54:00:aa:bb:02'}),
     [('eth1', 'HWADDR', '52:54:00:AA:BB:02'), ('eth1', 'HOTPLUG', 'no')]),
]


def _lookup(files, name):
    if name == 'network':
        return parse_assignments(files['/etc/sysconfig/network'])
    if name.startswith('route'):
        return parse_assignments(files[SCRIPTS + name]) if SCRIPTS + name in files else {}
    return ifcfg_of(files, name)


@pytest.mark.parametrize('case_id,data,checks', CASES, ids=[c[0] for c in CASES])
def test_option(case_id, data, checks, tmp_path):
    files, res = render(data)
    for name, key, value in checks:
        got = _lookup(files, name).get(key, ABSENT)
        assert got == value, '%s %s: %r, wanted %r' % (name, key, got, value)
    shell_check(tmp_path, res)


def test_routes_with_metric_use_ip_route_lines(tmp_path):
    bridge = dict(ROUTES, routes=[{'to': '203.0.113.0/24', 'via': '198.51.100.254', 'metric': 50},
                                  {'to': 'default', 'via': '198.51.100.1'},
                                  {'to': '2001:db8:9::/48', 'via': '2001:db8::fe', 'metric': 7}])
    files, res = render(linux(cloudbr0=bridge))
    body = [line for line in files[SCRIPTS + 'route-cloudbr0'].splitlines() if not line.startswith('#')]
    # initscripts' ADDRESSn format has no metric: ip route argument lines instead.
    assert body == ['203.0.113.0/24 via 198.51.100.254 dev cloudbr0 metric 50',
                    '0.0.0.0/0 via 198.51.100.1 dev cloudbr0']
    body6 = [line for line in files[SCRIPTS + 'route6-cloudbr0'].splitlines() if not line.startswith('#')]
    assert body6 == ['2001:db8:9::/48 via 2001:db8::fe dev cloudbr0 metric 7']
    assert ifcfg_of(files, 'cloudbr0')['DEFROUTE'] == 'yes'
    for path in (SCRIPTS + 'route-cloudbr0', SCRIPTS + 'route6-cloudbr0'):
        assert MARKER in files[path].splitlines()[0]
    shell_check(tmp_path, res)


def test_no_route_files_without_routes():
    files, _res = render(SEED['linux_bridge'])
    assert not [p for p in files if '/route' in p]


def test_fake_bridge_comment_explains_ovs_options():
    files, _res = render(SEED['openvswitch'])
    text = files[SCRIPTS + 'ifcfg-cloudbr100']
    assert 'add-br cloudbr100 cloudbr0 100' in text.split('DEVICE=')[0]


# -- errors -----------------------------------------------------------------------------------------
ERRORS = [
    ('dhcp4-and-static', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'addresses': ['198.51.100.2/24']}),
     ['bridge cloudbr0', 'dhcp4', '198.51.100.2/24', 'Fix:']),
    ('vlan-name', linux(cloudbr0={'uplink': 'bond0'}, cloudbr7={'uplink': 'bond0', 'vlan': 7, 'vlan_interface': 'bond7'}),
     ['bridge cloudbr7', 'bond7', 'bond0.7', 'vlan7', 'Fix:']),
    ('vlan-name-wrong-id', linux(cloudbr0={'uplink': 'bond0'}, cloudbr7={'uplink': 'bond0', 'vlan': 7, 'vlan_interface': 'vlan8'}),
     ['vlan8', 'vlan7']),
]


@pytest.mark.parametrize('case_id,data,words', ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(case_id, data, words):
    with pytest.raises(RenderError) as err:
        render_ifcfg.render(norm(data), OPTIONS)
    for word in words:
        assert word in str(err.value)
    assert str(err.value).startswith('host ' + OPTIONS['host'] + ': ')


@pytest.mark.parametrize('value,quoted', [
    ('plain', 'plain'), ('eth0 eth1', '"eth0 eth1"'), ('a"b', '"a\\"b"'), ('$x', '"\\$x"'), ('`x`', '"\\`x\\`"'),
    ('fe80::1%cloudbr0', 'fe80::1%cloudbr0'), ('', '""'),
])
def test_quote(value, quoted):
    assert render_ifcfg.quote(value) == quoted
    if BASH is None:
        pytest.skip('bash is not installed')
    proc = subprocess.run(['env', '-i', BASH, '-c', 'X=%s; printf %%s "$X"' % quoted], stdout=subprocess.PIPE,
                          universal_newlines=True, check=True)
    assert proc.stdout == value
