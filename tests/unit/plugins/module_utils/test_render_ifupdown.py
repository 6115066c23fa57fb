# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ifupdown renderer: golden files for seed 000, conformance with the seed's Ubuntu OVS
/etc/network/interfaces (and the seed's bond/bridge values), one case per option and branch,
and ifquery (read-only: it parses, never configures) as the validator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import configparser
import copy
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import ifupdown as render_ifupdown
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import systemd_link as render_systemd_link
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import MARKER
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.golden import assert_golden
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import linux, ovs, patched

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', '..', 'fixtures')
GOLDEN = os.path.join(HERE, 'golden', 'ifupdown')
with open(os.path.join(FIXTURES, 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)
BACKENDS = ('linux_bridge', 'openvswitch')
IFQUERY = shutil.which('ifquery')


def norm(data):
    return model_normalise.normalise(data, 'kvm1')


def parse_interfaces(text):
    """{(iface, family): {'heads': set, 'method': str, 'options': {key: [values]}}} plus the
    order of the stanzas. Repeated stanzas of one iface/family are numbered (iface, family, n)."""
    stanzas = {}
    heads = set()
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        words = line.split()
        if words[0] == 'iface':
            key = (words[1], words[2])
            n = 0
            while (key + (n,) if n else key) in stanzas:
                n += 1
            key = key + (n,) if n else key
            current = {'heads': heads, 'method': words[3], 'options': {}}
            stanzas[key] = current
            heads = set()
        elif words[0] == 'auto' or words[0].startswith('allow-'):
            heads.add(' '.join(words))
            current = None
        else:
            assert current is not None, 'option outside a stanza: %r' % raw
            current['options'].setdefault(words[0], []).append(' '.join(words[1:]))
    return stanzas


def rendered_interfaces(data, **options):
    res = render_ifupdown.render(norm(data), options or None)
    files = dict((f['path'], f['content']) for f in res['files'])
    return parse_interfaces(files[render_ifupdown.PATH]), files


def option(stanzas, key, name):
    values = stanzas[key]['options'].get(name)
    return values[0] if values and len(values) == 1 else values


# -- ifquery ----------------------------------------------------------------------------------------
def ifquery_check(tmp_path, content):
    """Parse with ifquery: list every interface, query each stanza and allow- class."""
    if IFQUERY is None:
        pytest.skip('ifquery is not installed (scripts/setup.sh installs ifupdown)')
    path = tmp_path / 'interfaces'
    path.write_text(content)
    stanzas = parse_interfaces(content)

    def run(*args):
        proc = subprocess.run([IFQUERY, '-i', str(path)] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)
        assert proc.returncode == 0, 'ifquery %s: %s' % (' '.join(args), proc.stderr)
        assert 'ifquery:' not in proc.stderr, proc.stderr
        return proc.stdout

    auto = set(run('--list', '-a').split()) - {'lo'}
    want_auto = set(h.split()[1] for s in stanzas.values() for h in s['heads'] if h.startswith('auto '))
    assert auto == want_auto
    classes = {}
    for s in stanzas.values():
        for head in s['heads']:
            if head.startswith('allow-'):
                cls, iface = head.split()
                classes.setdefault(cls[len('allow-'):], set()).add(iface)
    for cls, members in classes.items():
        assert set(run('--list', '--allow=%s' % cls).split()) == members
    queried = {}
    for key in stanzas:
        if key[0] not in queried:
            queried[key[0]] = run(key[0])
    return queried


# -- golden files -----------------------------------------------------------------------------------
def _golden_render(backend):
    data = copy.deepcopy(SEED[backend])
    return render_ifupdown.render(norm(data))


@pytest.mark.parametrize('backend', BACKENDS)
def test_golden_seed000(backend):
    res = _golden_render(backend)
    base = os.path.join(GOLDEN, backend)
    rendered = dict((f['path'], f['content']) for f in res['files'])
    assert_golden(base, rendered)


@pytest.mark.parametrize('backend', BACKENDS)
def test_result_shape_and_determinism(backend):
    first = render_ifupdown.render(norm(SEED[backend]))
    assert first == render_ifupdown.render(norm(copy.deepcopy(SEED[backend])))
    assert first['renderer'] == 'ifupdown'
    assert first['marker'] == MARKER
    assert first['owned'] == ['/etc/network/interfaces.d/cloudstack-kvm',
                              '/etc/systemd/network/10-cloudstack-kvm-*.link']
    assert [f['path'] for f in first['files']] == ['/etc/network/interfaces.d/cloudstack-kvm']
    assert first['files'][0]['mode'] == '0644'
    assert MARKER in first['files'][0]['content'].splitlines()[0]


@pytest.mark.parametrize('backend', BACKENDS)
def test_seed_parses_with_ifquery(tmp_path, backend):
    content = render_ifupdown.render(norm(SEED[backend]))['files'][0]['content']
    out = ifquery_check(tmp_path, content)
    assert 'address: 192.168.100.20' in out['cloudbr0']
    assert 'netmask: 255.255.255.0' in out['cloudbr0']
    assert 'gateway: 192.168.100.1' in out['cloudbr0']
    assert 'address: 10.0.100.20' in out['cloudbr100']


# -- the seed's own configuration -------------------------------------------------------------------
# Seed 000, "OpenVswitch bridge configuration - Ubuntu", /etc/network/interfaces, verbatim (with the
# cloudbr100 stanza the seed appends "at the end of the interfaces file").
with open(os.path.join(FIXTURES, 'seed000', 'interfaces-ovs')) as fh:
    SEED_OVS_INTERFACES = fh.read()

# Where the seed is wrong, what we render instead (and why): (iface, seed option) -> check.
SEED_CORRECTIONS = {
    # 255.255.155.0 is not a contiguous netmask; the seed's own CentOS files and netplan use /24.
    ('cloudbr0', 'netmask'): ('netmask', lambda ours, seed: ours == '255.255.255.0'),
    # the gateway is 192.168.100.1 everywhere else in the seed (ifcfg, netplan, /etc/sysconfig/network).
    ('cloudbr0', 'gateway'): ('gateway', lambda ours, seed: ours == '192.168.100.1'),
    # resolvconf reads dns-nameserver (one per line) and dns-nameservers (a list): same server.
    ('cloudbr0', 'dns-nameserver'): ('dns-nameservers', lambda ours, seed: set(seed.split()) <= set(ours.split())),
    # ovs_option is not read by openvswitch-switch's ifupdown.sh (it reads IF_OVS_OPTIONS), and
    # other_config:miimon is not an Open vSwitch key: miimon is bond-detect-mode=miimon plus
    # bond-miimon-interval.
    ('bond0', 'ovs_option'): ('ovs_options', lambda ours, seed: {
        'bond_mode=active-backup', 'other_config:bond-detect-mode=miimon',
        'other_config:bond-miimon-interval=100'} <= set(ours.split())),
    ('bond1', 'ovs_option'): ('ovs_options', lambda ours, seed: {
        'bond_mode=active-backup', 'other_config:bond-detect-mode=miimon',
        'other_config:bond-miimon-interval=100'} <= set(ours.split())),
    # ours also lists the fake bridge's internal port so it comes up with its bridge.
    ('cloudbr0', 'ovs_ports'): ('ovs_ports', lambda ours, seed: set(seed.split()) <= set(ours.split())),
}


def test_seed_ovs_interfaces_conformance():
    seed = parse_interfaces(SEED_OVS_INTERFACES)
    ours, _files = rendered_interfaces(SEED['openvswitch'])
    for key, stanza in seed.items():
        assert key in ours, 'seed stanza iface %s %s is missing' % key
        assert stanza['heads'] <= ours[key]['heads'], key
        assert stanza['method'] == ours[key]['method'], key
        for name, values in stanza['options'].items():
            seed_value = values[0]
            if (key[0], name) in SEED_CORRECTIONS:
                our_name, check = SEED_CORRECTIONS[(key[0], name)]
                assert check(option(ours, key, our_name), seed_value), (key, name, option(ours, key, our_name))
                continue
            assert option(ours, key, name) == seed_value, (key, name)
    # The seed's cloudbr1 stanza has no ovs_type: openvswitch-switch would never create the bridge
    # nor bring up bond1 (allow-cloudbr1). Ours declares it.
    assert option(ours, ('cloudbr1', 'inet'), 'ovs_type') == 'OVSBridge'
    assert option(ours, ('cloudbr1', 'inet'), 'ovs_ports') == 'bond1'
    # The internal port is marked as a fake bridge, so the database matches add-br cloudbr100 cloudbr0 100.
    assert 'set port ${IFACE} fake_bridge=true' in option(ours, ('cloudbr100', 'inet'), 'ovs_extra')


# Seed 000's Linux bridge values (CentOS ifcfg files: BONDING_OPTS, IPADDR/NETMASK/GATEWAY, DELAY,
# BRIDGE=; and the Ubuntu netplan primary), as ifupdown option values.
SEED_LINUX_VALUES = {
    ('bond0', 'inet'): {'bond-mode': 'active-backup', 'bond-miimon': '100', 'bond-updelay': '0',
                        'bond-downdelay': '0', 'bond-primary': 'eth0', 'bond-slaves': 'eth0 eth1'},
    ('bond1', 'inet'): {'bond-mode': 'active-backup', 'bond-miimon': '100', 'bond-updelay': '0',
                        'bond-downdelay': '0', 'bond-primary': 'eth2', 'bond-slaves': 'eth2 eth3'},
    ('cloudbr0', 'inet'): {'address': '192.168.100.20', 'netmask': '255.255.255.0', 'gateway': '192.168.100.1',
                           'bridge_ports': 'bond0', 'bridge_fd': '0', 'bridge_stp': 'off',
                           'dns-nameservers': '192.168.100.5 192.168.100.6', 'dns-search': 'mycloud.local'},
    ('cloudbr1', 'inet'): {'bridge_ports': 'bond1', 'bridge_fd': '0'},
    ('bond0.100', 'inet'): {'vlan-raw-device': 'bond0'},
    ('cloudbr100', 'inet'): {'address': '10.0.100.20', 'netmask': '255.255.255.0', 'bridge_ports': 'bond0.100'},
}


def test_seed_linux_values():
    ours, _files = rendered_interfaces(SEED['linux_bridge'])
    for key, values in SEED_LINUX_VALUES.items():
        for name, value in values.items():
            assert option(ours, key, name) == value, (key, name)
    assert ours[('cloudbr1', 'inet')]['method'] == 'manual'      # BOOTPROTO=none: no address
    for nic, bond in (('eth0', 'bond0'), ('eth1', 'bond0'), ('eth2', 'bond1'), ('eth3', 'bond1')):
        assert ours[(nic, 'inet')]['heads'] == {'allow-%s %s' % (bond, nic)}
        assert ours[(nic, 'inet')]['method'] == 'manual'


# -- one case per option and branch -----------------------------------------------------------------


B0 = ('bond0', 'inet')
BR = ('cloudbr0', 'inet')
ROUTES = {'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '198.51.100.21/24'],
          'routes': [{'to': '203.0.113.0/24', 'via': '198.51.100.254', 'metric': 50},
                     {'to': '192.0.2.0/24', 'via': '198.51.100.253'}]}

CASES = [
    # (id, model data, [(stanza key, option, expected value or (method,))], absent [(stanza key, option)])
    ('linux-mode-number', patched(linux(), ('bonds', 'bond0', 'mode'), 0),
     [(B0, 'bond-mode', 'balance-rr')], []),
    ('linux-802.3ad', {'backend': 'linux_bridge', 'ethernets': {'eth0': {}, 'eth1': {}},
                       'bonds': {'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': '802.3ad', 'lacp_rate': 'fast',
                                           'xmit_hash_policy': 'layer3+4', 'miimon': 50, 'updelay': 100, 'downdelay': 150}},
                       'bridges': {'cloudbr0': {'uplink': 'bond0'}}},
     [(B0, 'bond-mode', '802.3ad'), (B0, 'bond-lacp-rate', 'fast'), (B0, 'bond-xmit-hash-policy', 'layer3+4'),
      (B0, 'bond-miimon', '50'), (B0, 'bond-updelay', '100'), (B0, 'bond-downdelay', '150')],
     [(B0, 'bond-primary')]),
    ('linux-balance-xor', patched(patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-xor'),
                                  ('bonds', 'bond0', 'xmit_hash_policy'), 'encap3+4'),
     [(B0, 'bond-xmit-hash-policy', 'encap3+4')], [(B0, 'bond-lacp-rate')]),
    ('linux-broadcast', patched(linux(), ('bonds', 'bond0', 'mode'), 'broadcast'), [(B0, 'bond-mode', 'broadcast')], []),
    ('linux-balance-tlb-primary', patched(patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-tlb'), ('bonds', 'bond0', 'primary'), 'eth1'),
     [(B0, 'bond-primary', 'eth1')], []),
    ('linux-balance-alb', patched(linux(), ('bonds', 'bond0', 'mode'), 'balance-alb'), [(B0, 'bond-mode', 'balance-alb')], []),
    ('linux-bond-mtu-bridge-mtu', patched(linux(cloudbr0={'uplink': 'bond0', 'mtu': 9000}), ('bonds', 'bond0', 'mtu'), 9000),
     [(B0, 'mtu', '9000'), (BR, 'post-up', 'ip link set dev cloudbr0 mtu 9000')], [(BR, 'mtu')]),
    # bridge-utils would give the bridge's mtu to the NIC: the bridge alone gets it (post-up), and
    # the NIC keeps the MTU the model gives it (none: its own).
    ('linux-bridge-mtu-below-its-nic', linux(cloudbr0={'uplink': 'eth2', 'mtu': 1400}),
     [(BR, 'post-up', 'ip link set dev cloudbr0 mtu 1400')], [(BR, 'mtu'), (('eth2', 'inet'), 'mtu')]),
    ('linux-nic-mtu-single-nic-bridge', patched(linux(cloudbr0={'uplink': 'eth2'}), ('ethernets', 'eth2', 'mtu'), 1400),
     [(('eth2', 'inet'), 'mtu', '1400'), (BR, 'bridge_ports', 'eth2')], []),
    ('linux-host-only', linux(cloudbr0={'uplink': 'bond0'}, cloudbr9={}),
     [(('cloudbr9', 'inet'), 'bridge_ports', 'none'), (('cloudbr9', 'inet'), None, ('manual',))], []),
    ('linux-dhcp-both', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'dhcp6': True}),
     [(BR, None, ('dhcp',)), (('cloudbr0', 'inet6'), None, ('dhcp',))], [(BR, 'address')]),
    ('linux-dhcp4-gateway', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'gateway4': '198.51.100.1'}),
     [(BR, 'up', 'ip route add default via 198.51.100.1 dev cloudbr0')], [(BR, 'gateway')]),
    ('linux-ipv6-static', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['2001:db8::20/64', '2001:db8:1::20/64'],
                                          'gateway6': '2001:db8::1',
                                          'routes': [{'to': '2001:db8:99::/48', 'via': '2001:db8::fe', 'metric': 10}]}),
     [(BR, None, ('manual',)), (('cloudbr0', 'inet6'), 'address', '2001:db8::20'), (('cloudbr0', 'inet6'), 'netmask', '64'),
      (('cloudbr0', 'inet6'), 'gateway', '2001:db8::1'),
      (('cloudbr0', 'inet6'), 'up', 'ip -6 route add 2001:db8:99::/48 via 2001:db8::fe dev cloudbr0 metric 10'),
      (('cloudbr0', 'inet6', 1), 'address', '2001:db8:1::20')], []),
    ('linux-dhcp6-gateway6-extra-address', linux(cloudbr0={'uplink': 'bond0', 'dhcp6': True, 'addresses': ['2001:db8::20/64'],
                                                           'gateway6': 'fe80::1'}),
     [(('cloudbr0', 'inet6'), None, ('dhcp',)), (('cloudbr0', 'inet6'), 'up', 'ip -6 route add default via fe80::1 dev cloudbr0'),
      (('cloudbr0', 'inet6', 1), 'address', '2001:db8::20')], []),
    ('linux-routes-two-addresses', linux(cloudbr0=ROUTES),
     [(BR, 'address', '198.51.100.20'), (('cloudbr0', 'inet', 1), 'address', '198.51.100.21'),
      (BR, 'up', ['ip route add 203.0.113.0/24 via 198.51.100.254 dev cloudbr0 metric 50',
                  'ip route add 192.0.2.0/24 via 198.51.100.253 dev cloudbr0'])], []),
    ('linux-default-route-in-routes', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.20/24'],
                                                      'routes': [{'to': 'default', 'via': '198.51.100.1', 'metric': 100}]}),
     [(BR, 'up', 'ip route add default via 198.51.100.1 dev cloudbr0 metric 100')], [(BR, 'gateway')]),
    ('linux-stp', linux(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 4}),
     [(BR, 'bridge_stp', 'on'), (BR, 'bridge_fd', '4')], []),
    ('linux-dns-search-only', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'nameservers': {'search': ['a.example', 'b.example']}}),
     [(BR, 'dns-search', 'a.example b.example')], [(BR, 'dns-nameservers')]),
    ('linux-vlan-name-mtu', patched(linux(cloudbr0={'uplink': 'bond0'},
                                          cloudbr200={'uplink': 'bond0', 'vlan': 200, 'vlan_interface': 'vlan200', 'mtu': 9000}),
                                    ('bonds', 'bond0', 'mtu'), 9000),
     [(('vlan200', 'inet'), 'vlan-raw-device', 'bond0'), (('vlan200', 'inet'), 'mtu', '9000'),
      (('cloudbr200', 'inet'), 'bridge_ports', 'vlan200')], []),
    ('linux-unused-nic-auto', {'backend': 'linux_bridge', 'ethernets': {'eth0': {}, 'eth5': {'mtu': 9000}},
                               'bridges': {'cloudbr0': {'uplink': 'eth0'}}},
     [(('eth5', 'inet'), 'mtu', '9000')], []),
    ('ovs-balance-tcp-lacp', patched(patched(patched(ovs(), ('bonds', 'bond0', 'mode'), 'balance-tcp'), ('bonds', 'bond0', 'lacp'), 'active'),
                                     ('bonds', 'bond0', 'lacp_rate'), 'fast'),
     [(B0, 'ovs_options', 'bond_mode=balance-tcp lacp=active other_config:bond-detect-mode=miimon '
                          'other_config:bond-miimon-interval=100 other_config:lacp-time=fast')], []),
    ('ovs-balance-slb-delays-primary', patched(patched(patched(patched(ovs(), ('bonds', 'bond0', 'mode'), 'active-backup'),
                                                               ('bonds', 'bond0', 'updelay'), 200), ('bonds', 'bond0', 'downdelay'), 100),
                                               ('bonds', 'bond0', 'primary'), 'eth1'),
     [(B0, 'ovs_options', 'bond_mode=active-backup lacp=off other_config:bond-detect-mode=miimon '
                          'other_config:bond-miimon-interval=100 bond_updelay=200 bond_downdelay=100 other_config:bond-primary=eth1')],
     []),
    ('ovs-carrier', patched(patched(ovs(), ('bonds', 'bond0', 'miimon'), 0), ('bonds', 'bond0', 'mode'), 'balance-slb'),
     [(B0, 'ovs_options', 'bond_mode=balance-slb lacp=off other_config:bond-detect-mode=carrier')], []),
    ('ovs-netdev-stp-mtu', dict(patched(patched(ovs(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 6, 'mtu': 9000}),
                                                ('bonds', 'bond0', 'mtu'), 9000), ('ethernets', 'eth1', 'mtu'), 9100),
                                ovs={'datapath_type': 'netdev'}),
     [(BR, 'ovs_extra', 'set bridge ${IFACE} datapath_type=netdev -- set bridge ${IFACE} stp_enable=true '
                        'other_config:stp-forward-delay=6 -- set interface ${IFACE} mtu_request=9000'),
      (B0, 'ovs_extra', 'set interface eth0 mtu_request=9000 -- set interface eth1 mtu_request=9100')], []),
    ('ovs-single-nic', {'backend': 'openvswitch', 'ethernets': {'eth0': {'mtu': 9000}, 'eth1': {}},
                        'bridges': {'cloudbr0': {'uplink': 'eth0', 'dhcp4': True},
                                    'cloudbr5': {'uplink': 'eth0', 'vlan': 5, 'addresses': ['2001:db8:5::2/64']}}},
     [(BR, None, ('dhcp',)), (BR, 'ovs_ports', 'eth0 cloudbr5'), (('eth0', 'inet'), 'ovs_type', 'OVSPort'),
      (('eth0', 'inet'), 'ovs_bridge', 'cloudbr0'), (('eth0', 'inet'), 'ovs_extra', 'set interface ${IFACE} mtu_request=9000'),
      (('cloudbr5', 'inet'), None, ('manual',)), (('cloudbr5', 'inet'), 'ovs_options', 'tag=5'),
      (('cloudbr5', 'inet6'), 'address', '2001:db8:5::2'), (('eth1', 'inet'), None, ('manual',))], []),
    ('ovs-host-only-fake-mtu', ovs(cloudbr0={'uplink': 'bond0'}, cloudbr9={'addresses': ['203.0.113.9/24']},
                                   cloudbr7={'uplink': 'bond0', 'vlan': 7, 'mtu': 1400}),
     [(('cloudbr9', 'inet'), 'ovs_type', 'OVSBridge'), (('cloudbr7', 'inet'), 'ovs_extra',
                                                        'set port ${IFACE} fake_bridge=true -- set interface ${IFACE} mtu_request=1400')],
     [(('cloudbr9', 'inet'), 'ovs_ports')]),
]


@pytest.mark.parametrize('case_id,data,expected,absent', CASES, ids=[c[0] for c in CASES])
def test_option_cases(tmp_path, case_id, data, expected, absent):
    ours, files = rendered_interfaces(data)
    for key, name, value in expected:
        assert key in ours, '%s: no stanza %r' % (case_id, key)
        if name is None:
            assert ours[key]['method'] == value[0], case_id
        else:
            assert option(ours, key, name) == value, '%s: %s %s' % (case_id, key, name)
    for key, name in absent:
        assert name not in ours[key]['options'], '%s: %s %s' % (case_id, key, name)
    ifquery_check(tmp_path, files[render_ifupdown.PATH])


def test_heads_order_bonds_before_vlans_before_bridges():
    text = render_ifupdown.render(norm(SEED['linux_bridge']))['files'][0]['content']
    autos = [line.split()[1] for line in text.splitlines() if line.startswith('auto ')]
    assert autos == ['bond0', 'bond1', 'bond0.100', 'cloudbr0', 'cloudbr1', 'cloudbr100']


# -- renaming by MAC: systemd .link files -------------------------------------------------------------
def test_systemd_link_files_for_rename(tmp_path):
    data = patched(patched(linux(cloudbr0={'uplink': 'eth2'}), ('ethernets', 'eth2'), {'match': {'macaddress': '52-54-00-AA-BB-02'}}),
                   ('ethernets', 'eth0'), {'match': {'macaddress': '52:54:00:aa:bb:00'}})
    model = norm(data)
    links = render_systemd_link.systemd_link_files(model, 'hdr')
    assert [f['path'] for f in links] == ['/etc/systemd/network/10-cloudstack-kvm-eth0.link',
                                          '/etc/systemd/network/10-cloudstack-kvm-eth2.link']
    parser = configparser.ConfigParser()
    parser.optionxform = str
    parser.read_string(links[1]['content'])
    assert dict(parser['Match']) == {'MACAddress': '52:54:00:aa:bb:02', 'Type': 'ether'}
    assert dict(parser['Link']) == {'Name': 'eth2'}
    assert links[1]['content'].startswith('# hdr\n')
    res = render_ifupdown.render(model)
    assert [f['path'] for f in res['files']] == ['/etc/network/interfaces.d/cloudstack-kvm'] + [f['path'] for f in links]
    assert res['files'][1]['content'].startswith('# Managed by %s' % MARKER)


def test_no_link_files_without_match():
    assert render_systemd_link.systemd_link_files(norm(SEED['linux_bridge'])) == []
