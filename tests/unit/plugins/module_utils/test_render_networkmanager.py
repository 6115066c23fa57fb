# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NetworkManager keyfile renderer: golden files for seed 000, the seed's values carried into
keyfile keys, one case per option and branch, error cases, and a structural check of every
rendered profile set (there is no nmcli here: NetworkManager itself loads the profiles later, on
the lab hosts)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import configparser
import copy
import os
import re

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import networkmanager as render_networkmanager
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import MARKER
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import RenderError, stable_uuid
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.golden import assert_golden
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils.models import ABSENT, linux, linux_bond, ovs, ovs_bond, patched

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', '..', 'fixtures')
GOLDEN = os.path.join(HERE, 'golden', 'networkmanager')
with open(os.path.join(FIXTURES, 'seed000.yml')) as fh:
    SEED = yaml.safe_load(fh)
BACKENDS = ('linux_bridge', 'openvswitch')
HOST = 'kvmhost1'
DIR = '/etc/NetworkManager/system-connections/'

# Controller type for each slave-type, and the types that own a kernel-visible device.
SLAVE_TYPES = {'bond': 'bond', 'bridge': 'bridge', 'ovs-bridge': 'ovs-bridge', 'ovs-port': 'ovs-port'}
DEVICE_TYPES = ('ethernet', 'bond', 'vlan', 'bridge', 'ovs-interface')
REQUIRED = {
    'ethernet': {'ethernet': ()},
    'bond': {'bond': ('mode',)},
    'bridge': {'bridge': ('stp', 'forward-delay')},
    'vlan': {'vlan': ('id', 'parent')},
    'ovs-bridge': {'ovs-bridge': ()},
    'ovs-port': {'ovs-port': ()},
    'ovs-interface': {'ovs-interface': ('type',)},
}
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')


def norm(data):
    return model_normalise.normalise(data, HOST)


def parse_keyfile(text):
    """A keyfile as {section: {key: value}}: strict (no duplicate section or key), keys verbatim."""
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=('=',),
                                       comment_prefixes=('#',), inline_comment_prefixes=None,
                                       empty_lines_in_values=False, default_section='\x00none')
    parser.optionxform = str
    parser.read_string(text)
    return dict((name, dict(parser.items(name))) for name in parser.sections())


def validate(res, model, host=HOST):
    """Structural checks of a rendered profile set; returns {id: parsed keyfile}."""
    assert res['renderer'] == 'networkmanager' and res['marker'] == MARKER
    keyfiles = {}
    links = []
    for entry in res['files']:
        header = []
        for line in entry['content'].splitlines():
            if not line.startswith('#'):
                break
            header.append(line)
        assert header and any(MARKER in line for line in header), entry['path']
        if entry['path'].endswith('.link'):
            links.append(entry)
            continue
        assert entry['path'].startswith(DIR + 'cloudstack-kvm-') and entry['path'].endswith('.nmconnection')
        assert entry['mode'] == '0600', 'NetworkManager ignores keyfiles others can read'
        conf = parse_keyfile(entry['content'])
        conn = conf['connection']
        assert entry['path'] == DIR + conn['id'] + '.nmconnection'
        assert conn['id'] not in keyfiles
        keyfiles[conn['id']] = conf
    by_uuid = {}
    for cid, conf in keyfiles.items():
        conn = conf['connection']
        for key in ('id', 'uuid', 'type', 'interface-name', 'autoconnect'):
            assert conn.get(key), (cid, key)
        assert UUID_RE.match(conn['uuid']) and conn['uuid'] == stable_uuid(host, cid)
        assert conn['uuid'] not in by_uuid
        by_uuid[conn['uuid']] = conf
        for section, keys in REQUIRED[conn['type']].items():
            assert section in conf, (cid, section)
            for key in keys:
                assert conf[section].get(key), (cid, section, key)
    devices = {}
    ovs_names = {}
    for cid, conf in keyfiles.items():
        conn = conf['connection']
        ctype, ifname = conn['type'], conn['interface-name']
        if ctype in DEVICE_TYPES:
            assert ifname not in devices, 'interface %s in %s and %s' % (ifname, devices.get(ifname), cid)
            devices[ifname] = cid
        else:
            assert (ctype, ifname) not in ovs_names, (ctype, ifname)
            ovs_names[(ctype, ifname)] = cid
        if ctype == 'ovs-bridge':
            assert 'master' not in conn and 'ipv4' not in conf and 'ipv6' not in conf, cid
        elif 'master' in conn:
            master = by_uuid.get(conn['master'])
            assert master is not None, '%s: master=%s names no rendered connection' % (cid, conn['master'])
            assert SLAVE_TYPES[conn['slave-type']] == master['connection']['type'], cid
            if ctype == 'ovs-interface':
                # The internal interface is a port of its ovs-port and carries the bridge's IP.
                assert conf['ipv4']['method'] and conf['ipv6']['method'], cid
            else:
                assert 'ipv4' not in conf and 'ipv6' not in conf, '%s: a port carries no IP settings' % cid
        else:
            assert 'slave-type' not in conn
            assert conf['ipv4']['method'] in ('manual', 'auto', 'disabled'), cid
            assert conf['ipv6']['method'] in ('manual', 'auto', 'disabled'), cid
            for family in ('ipv4', 'ipv6'):
                if conf[family]['method'] == 'manual':
                    assert 'address1' in conf[family], cid
                if conf[family]['method'] == 'disabled':
                    assert set(conf[family]) == {'method'}, (cid, family)
        if ctype == 'ovs-port':
            assert conn['slave-type'] == 'ovs-bridge'
        if ctype in ('ovs-interface',) or (ctype == 'ethernet' and conn.get('slave-type') == 'ovs-port'):
            assert conn.get('slave-type') == 'ovs-port', cid
        if ctype == 'vlan':
            assert conf['vlan']['parent'] in devices or any(
                k['connection']['interface-name'] == conf['vlan']['parent'] for k in keyfiles.values())
    # Every device of the model is there, exactly once.
    want = set(model['ethernets']) | set(model['bridges'])
    if model['backend'] == 'linux_bridge':
        want |= set(model['bonds']) | set(model['vlans'])
    assert set(devices) == want
    if model['backend'] == 'openvswitch':
        assert set(n for t, n in ovs_names if t == 'ovs-bridge') == set(
            b for b, br in model['bridges'].items() if not br['parent'])
    macs = dict((n, e['match']['macaddress']) for n, e in model['ethernets'].items() if e['match'].get('macaddress'))
    assert sorted(e['path'] for e in links) == sorted('/etc/systemd/network/10-cloudstack-kvm-%s.link' % n for n in macs)
    return keyfiles


def render(data, **options):
    model = norm(data)
    opts = {'host': HOST}
    opts.update(options)
    res = render_networkmanager.render(model, opts)
    return validate(res, model), res


# -- golden files -----------------------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_golden_seed000(backend):
    _keyfiles, res = render(SEED[backend])
    base = os.path.join(GOLDEN, backend)
    rendered = dict((f['path'], f['content']) for f in res['files'])
    assert_golden(base, rendered)


@pytest.mark.parametrize('backend', BACKENDS)
def test_result_shape_and_determinism(backend):
    first = render_networkmanager.render(norm(SEED[backend]), {'host': HOST})
    assert first == render_networkmanager.render(norm(copy.deepcopy(SEED[backend])), {'host': HOST})
    assert first['owned'] == ['/etc/NetworkManager/system-connections/cloudstack-kvm-*.nmconnection',
                              '/etc/systemd/network/10-cloudstack-kvm-*.link']
    assert [f['path'] for f in first['files']] == sorted(f['path'] for f in first['files'])
    # Another host gets other UUIDs for the same profile ids.
    other = render_networkmanager.render(norm(SEED[backend]), {'host': 'kvmhost2'})

    def uuids(res):
        return set(parse_keyfile(f['content'])['connection']['uuid'] for f in res['files'])
    assert not uuids(first) & uuids(other)


def test_header_option():
    _keyfiles, res = render(SEED['linux_bridge'], header='Line one\nLine two')
    for entry in res['files']:
        assert entry['content'].startswith('# Line one\n# Line two\n# Written by %s.\n' % MARKER)


# -- seed 000's values, as keyfile keys ----------------------------------------------------------------
def conn(keyfiles, cid):
    return keyfiles['cloudstack-kvm-' + cid]


def uuid_of(cid):
    return stable_uuid(HOST, 'cloudstack-kvm-' + cid)


def test_seed_linux_values():
    """Seed 000's CentOS Linux bridge ifcfg values (BONDING_OPTS, MASTER/SLAVE, BRIDGE=, IPADDR/NETMASK,
    GATEWAY, DELAY, IPV6INIT=no, VLAN 100 on bond0) and its netplan DNS/primary, in keyfiles."""
    keyfiles, _res = render(SEED['linux_bridge'])
    for nic, bond in (('eth0', 'bond0'), ('eth1', 'bond0'), ('eth2', 'bond1'), ('eth3', 'bond1')):
        c = conn(keyfiles, nic)['connection']
        assert (c['type'], c['master'], c['slave-type']) == ('ethernet', uuid_of(bond), 'bond')
    for bond, bridge, primary in (('bond0', 'cloudbr0', 'eth0'), ('bond1', 'cloudbr1', 'eth2')):
        kf = conn(keyfiles, bond)
        assert kf['connection']['master'] == uuid_of(bridge) and kf['connection']['slave-type'] == 'bridge'
        # BONDING_OPTS="mode=active-backup miimon=100 updelay=0 downdelay=0", plus the netplan primary.
        assert kf['bond'] == {'mode': 'active-backup', 'miimon': '100', 'updelay': '0', 'downdelay': '0',
                              'primary': primary}
    br0 = conn(keyfiles, 'cloudbr0')
    assert br0['bridge'] == {'stp': 'false', 'forward-delay': '0'}          # DELAY=0
    assert br0['ipv4'] == {'method': 'manual', 'address1': '192.168.100.20/24,192.168.100.1',
                           'dns': '192.168.100.5;192.168.100.6;', 'dns-search': 'mycloud.local;'}
    assert br0['ipv6'] == {'method': 'disabled'}                            # IPV6INIT=no
    assert conn(keyfiles, 'cloudbr1')['ipv4'] == {'method': 'disabled'}      # BOOTPROTO=none, no IP
    vlan = conn(keyfiles, 'bond0.100')
    assert vlan['vlan'] == {'id': '100', 'parent': 'bond0'}
    assert vlan['connection']['master'] == uuid_of('cloudbr100')
    assert conn(keyfiles, 'cloudbr100')['ipv4'] == {'method': 'manual', 'address1': '10.0.100.20/24'}
    # The seed's ifcfg-cloudbr100 VLAN=yes is wrong on a bridge: the bridge here is a plain bridge.
    assert conn(keyfiles, 'cloudbr100')['connection']['type'] == 'bridge'


def test_seed_ovs_values():
    """Seed 000's CentOS OVS files (OVSBridge/OVSBond, OVS_OPTIONS, the fake bridge cloudbr100 on cloudbr0
    VLAN 100) as NetworkManager-ovs profiles."""
    keyfiles, _res = render(SEED['openvswitch'])
    for bridge, bond, members in (('cloudbr0', 'bond0', ('eth0', 'eth1')), ('cloudbr1', 'bond1', ('eth2', 'eth3'))):
        assert conn(keyfiles, bridge + '-ovs-bridge')['connection']['type'] == 'ovs-bridge'
        local = conn(keyfiles, bridge + '-ovs-port')['connection']
        assert (local['interface-name'], local['master']) == (bridge, uuid_of(bridge + '-ovs-bridge'))
        iface = conn(keyfiles, bridge)
        assert iface['ovs-interface'] == {'type': 'internal'}
        assert iface['connection']['master'] == uuid_of(bridge + '-ovs-port')
        port = conn(keyfiles, bond + '-ovs-port')
        assert port['connection']['master'] == uuid_of(bridge + '-ovs-bridge')
        # OVS_OPTIONS="bond_mode=active-backup lacp=off other_config:bond-detect-mode=miimon
        #              other_config:bond-miimon-interval=100"
        assert port['ovs-port'] == {'bond-mode': 'active-backup', 'lacp': 'off'}
        assert port['ovs-other-config'] == {'data.bond-detect-mode': 'miimon', 'data.bond-miimon-interval': '100'}
        for member in members:
            c = conn(keyfiles, member)['connection']
            assert (c['master'], c['slave-type']) == (uuid_of(bond + '-ovs-port'), 'ovs-port')
    assert conn(keyfiles, 'cloudbr0')['ipv4'] == {'method': 'manual', 'address1': '192.168.100.20/24,192.168.100.1',
                                                  'dns': '192.168.100.5;', 'dns-search': 'mycloud.local;'}
    assert conn(keyfiles, 'cloudbr1')['ipv4'] == {'method': 'disabled'}
    # add-br cloudbr100 cloudbr0 100: an internal port tagged 100 on cloudbr0 carrying 10.0.100.20/24.
    fake_port = conn(keyfiles, 'cloudbr100-ovs-port')
    assert fake_port['ovs-port'] == {'tag': '100'}
    assert fake_port['connection']['master'] == uuid_of('cloudbr0-ovs-bridge')
    assert 'cloudstack-kvm-cloudbr100-ovs-bridge' not in keyfiles
    assert conn(keyfiles, 'cloudbr100')['ipv4'] == {'method': 'manual', 'address1': '10.0.100.20/24'}
    assert conn(keyfiles, 'cloudbr100')['ovs-interface'] == {'type': 'internal'}


# -- one case per option and branch -----------------------------------------------------------------


CASES = [
    # (id, model data, [(profile, section, key, value or ABSENT)])
    ('linux-balance-rr-number', linux_bond(0), [('bond0', 'bond', 'mode', 'balance-rr')]),
    ('linux-active-backup-defaults', linux_bond('active-backup'),
     [('bond0', 'bond', 'mode', 'active-backup'), ('bond0', 'bond', 'miimon', '100'),
      ('bond0', 'bond', 'updelay', ABSENT), ('bond0', 'bond', 'primary', ABSENT)]),
    ('linux-active-backup-primary', linux_bond('active-backup', primary='eth1', updelay=200, downdelay=300),
     [('bond0', 'bond', 'primary', 'eth1'), ('bond0', 'bond', 'updelay', '200'), ('bond0', 'bond', 'downdelay', '300')]),
    ('linux-balance-xor', linux_bond('balance-xor', xmit_hash_policy='layer2+3'),
     [('bond0', 'bond', 'mode', 'balance-xor'), ('bond0', 'bond', 'xmit_hash_policy', 'layer2+3'),
      ('bond0', 'bond', 'lacp_rate', ABSENT)]),
    ('linux-broadcast', linux_bond('broadcast'), [('bond0', 'bond', 'mode', 'broadcast')]),
    ('linux-802.3ad', linux_bond('802.3ad', lacp_rate='fast', xmit_hash_policy='layer3+4', miimon=50),
     [('bond0', 'bond', 'mode', '802.3ad'), ('bond0', 'bond', 'lacp_rate', 'fast'),
      ('bond0', 'bond', 'xmit_hash_policy', 'layer3+4'), ('bond0', 'bond', 'miimon', '50')]),
    ('linux-balance-tlb', linux_bond('balance-tlb', primary='eth0'),
     [('bond0', 'bond', 'mode', 'balance-tlb'), ('bond0', 'bond', 'primary', 'eth0')]),
    ('linux-balance-alb', linux_bond('balance-alb', xmit_hash_policy='layer2'),
     [('bond0', 'bond', 'mode', 'balance-alb'), ('bond0', 'bond', 'xmit_hash_policy', 'layer2')]),
    ('linux-miimon-0', linux_bond('active-backup', miimon=0), [('bond0', 'bond', 'miimon', '0')]),
    ('linux-mtu', patched(patched(patched(linux(cloudbr0={'uplink': 'bond0', 'mtu': 9000},
                                                cloudbr9={'uplink': 'bond0', 'vlan': 9, 'mtu': 9000}),
                                          ('bonds', 'bond0', 'mtu'), 9000),
                                  ('ethernets', 'eth0', 'mtu'), 9000), ('ethernets', 'eth1', 'mtu'), 9000),
     [('bond0', 'ethernet', 'mtu', '9000'), ('eth0', 'ethernet', 'mtu', '9000'),
      ('cloudbr0', 'ethernet', 'mtu', '9000'), ('bond0.9', 'ethernet', 'mtu', '9000'),
      ('cloudbr9', 'ethernet', 'mtu', '9000'), ('eth2', 'ethernet', 'mtu', ABSENT)]),
    ('linux-stp', linux(cloudbr0={'uplink': 'bond0', 'stp': True}),
     [('cloudbr0', 'bridge', 'stp', 'true'), ('cloudbr0', 'bridge', 'forward-delay', '15')]),
    ('linux-stp-delay', linux(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 4}),
     [('cloudbr0', 'bridge', 'forward-delay', '4')]),
    ('linux-forward-delay-no-stp', linux(cloudbr0={'uplink': 'bond0', 'forward_delay': 2}),
     [('cloudbr0', 'bridge', 'stp', 'false'), ('cloudbr0', 'bridge', 'forward-delay', '2')]),
    ('linux-single-nic', linux(cloudbr0={'uplink': 'eth2', 'addresses': ['198.51.100.2/24']}),
     [('eth2', 'connection', 'slave-type', 'bridge'), ('eth2', 'connection', 'master', uuid_of('cloudbr0')),
      ('eth2', 'ipv4', 'method', ABSENT), ('bond0', 'ipv4', 'method', 'disabled'),
      ('bond0', 'connection', 'master', ABSENT)]),
    ('linux-host-only', linux(cloudbr0={'uplink': 'bond0'}, cloudbr5={}),
     [('cloudbr5', 'ipv4', 'method', 'disabled'), ('cloudbr5', 'ipv6', 'method', 'disabled'),
      ('eth2', 'ipv4', 'method', 'disabled'), ('eth2', 'connection', 'master', ABSENT)]),
    ('linux-vlan-on-nic', linux(cloudbr0={'uplink': 'bond0'}, cloudbr7={'uplink': 'eth2', 'vlan': 7}),
     [('eth2.7', 'vlan', 'id', '7'), ('eth2.7', 'vlan', 'parent', 'eth2'),
      ('eth2.7', 'connection', 'master', uuid_of('cloudbr7')), ('eth2', 'ipv4', 'method', 'disabled')]),
    ('linux-vlan-interface', linux(cloudbr0={'uplink': 'bond0'},
                                   cloudbr7={'uplink': 'bond0', 'vlan': 7, 'vlan_interface': 'vlan7'}),
     [('vlan7', 'vlan', 'id', '7'), ('vlan7', 'vlan', 'parent', 'bond0'), ('vlan7', 'connection', 'interface-name', 'vlan7')]),
    ('linux-rename-by-mac', patched(linux(), ('ethernets', 'eth0', 'match'), {'macaddress': '52:54:00:AA:bb:01'}),
     [('eth0', 'ethernet', 'mac-address', '52:54:00:AA:BB:01'), ('eth0', 'connection', 'interface-name', 'eth0'),
      ('eth1', 'ethernet', 'mac-address', ABSENT)]),
    ('dhcp4', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True}),
     [('cloudbr0', 'ipv4', 'method', 'auto'), ('cloudbr0', 'ipv4', 'address1', ABSENT), ('cloudbr0', 'ipv6', 'method', 'disabled')]),
    ('dhcp4-static-and-gateway', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'addresses': ['198.51.100.2/24'],
                                                 'gateway4': '198.51.100.1'}),
     [('cloudbr0', 'ipv4', 'method', 'auto'), ('cloudbr0', 'ipv4', 'address1', '198.51.100.2/24,198.51.100.1')]),
    ('dhcp4-gateway-as-route', linux(cloudbr0={'uplink': 'bond0', 'dhcp4': True, 'gateway4': '198.51.100.1'}),
     [('cloudbr0', 'ipv4', 'method', 'auto'), ('cloudbr0', 'ipv4', 'address1', ABSENT),
      ('cloudbr0', 'ipv4', 'gateway', ABSENT), ('cloudbr0', 'ipv4', 'route1', '0.0.0.0/0,198.51.100.1')]),
    ('dhcp6', linux(cloudbr0={'uplink': 'bond0', 'dhcp6': True}),
     [('cloudbr0', 'ipv6', 'method', 'auto'), ('cloudbr0', 'ipv4', 'method', 'disabled')]),
    ('ipv6-static', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['2001:db8::20/64', '2001:db8:1::20/64'],
                                    'gateway6': '2001:db8::1',
                                    'nameservers': {'addresses': ['2001:db8::53'], 'search': ['example.org']}}),
     [('cloudbr0', 'ipv6', 'method', 'manual'), ('cloudbr0', 'ipv6', 'address1', '2001:db8::20/64,2001:db8::1'),
      ('cloudbr0', 'ipv6', 'address2', '2001:db8:1::20/64'), ('cloudbr0', 'ipv6', 'dns', '2001:db8::53;'),
      ('cloudbr0', 'ipv6', 'dns-search', 'example.org;'), ('cloudbr0', 'ipv4', 'method', 'disabled')]),
    ('ipv6-link-local-gateway-dhcp6', linux(cloudbr0={'uplink': 'bond0', 'dhcp6': True, 'gateway6': 'fe80::1'}),
     [('cloudbr0', 'ipv6', 'method', 'auto'), ('cloudbr0', 'ipv6', 'route1', '::/0,fe80::1')]),
    ('dual-stack-dns', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.2/24', '2001:db8::2/64'],
                                       'nameservers': {'addresses': ['198.51.100.53', '2001:db8::53'],
                                                       'search': ['a.example', 'b.example']}}),
     [('cloudbr0', 'ipv4', 'dns', '198.51.100.53;'), ('cloudbr0', 'ipv6', 'dns', '2001:db8::53;'),
      ('cloudbr0', 'ipv4', 'dns-search', 'a.example;b.example;'), ('cloudbr0', 'ipv6', 'dns-search', ABSENT)]),
    ('routes', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '2001:db8::20/64'],
                               'routes': [{'to': '203.0.113.0/24', 'via': '198.51.100.254', 'metric': 50},
                                          {'to': '192.0.2.0/24', 'via': '198.51.100.253'},
                                          {'to': 'default', 'via': '198.51.100.1', 'metric': 10},
                                          {'to': '2001:db8:9::/48', 'via': '2001:db8::fe', 'metric': 7}]}),
     [('cloudbr0', 'ipv4', 'route1', '203.0.113.0/24,198.51.100.254,50'),
      ('cloudbr0', 'ipv4', 'route2', '192.0.2.0/24,198.51.100.253'),
      ('cloudbr0', 'ipv4', 'route3', '0.0.0.0/0,198.51.100.1,10'),
      ('cloudbr0', 'ipv6', 'route1', '2001:db8:9::/48,2001:db8::fe,7'),
      ('cloudbr0', 'ipv4', 'address1', '198.51.100.20/24')]),
    ('multiple-v4-addresses', linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.20/24', '203.0.113.5/28'],
                                              'gateway4': '203.0.113.1'}),
     [('cloudbr0', 'ipv4', 'address1', '198.51.100.20/24,203.0.113.1'), ('cloudbr0', 'ipv4', 'address2', '203.0.113.5/28')]),
    # Open vSwitch
    ('ovs-active-backup-primary', ovs_bond(mode='active-backup', primary='eth1', updelay=200, downdelay=100),
     [('bond0-ovs-port', 'ovs-port', 'bond-mode', 'active-backup'), ('bond0-ovs-port', 'ovs-port', 'bond-updelay', '200'),
      ('bond0-ovs-port', 'ovs-port', 'bond-downdelay', '100'),
      ('bond0-ovs-port', 'ovs-other-config', 'data.bond-primary', 'eth1'),
      ('bond0-ovs-port', 'ovs-other-config', 'data.bond-miimon-interval', '100')]),
    ('ovs-balance-slb', ovs_bond(mode='balance-slb'),
     [('bond0-ovs-port', 'ovs-port', 'bond-mode', 'balance-slb'), ('bond0-ovs-port', 'ovs-port', 'lacp', 'off')]),
    ('ovs-balance-tcp-lacp', ovs_bond(mode='balance-tcp', lacp='active', lacp_rate='fast'),
     [('bond0-ovs-port', 'ovs-port', 'bond-mode', 'balance-tcp'), ('bond0-ovs-port', 'ovs-port', 'lacp', 'active'),
      ('bond0-ovs-port', 'ovs-other-config', 'data.lacp-time', 'fast')]),
    ('ovs-lacp-passive', ovs_bond(mode='balance-slb', lacp='passive'),
     [('bond0-ovs-port', 'ovs-port', 'lacp', 'passive')]),
    ('ovs-carrier-detect', ovs_bond(mode='active-backup', miimon=0),
     [('bond0-ovs-port', 'ovs-other-config', 'data.bond-detect-mode', 'carrier'),
      ('bond0-ovs-port', 'ovs-other-config', 'data.bond-miimon-interval', ABSENT)]),
    ('ovs-netdev', patched(ovs(), ('ovs',), {'datapath_type': 'netdev'}),
     [('cloudbr0-ovs-bridge', 'ovs-bridge', 'datapath-type', 'netdev')]),
    ('ovs-system-datapath', ovs(), [('cloudbr0-ovs-bridge', 'ovs-bridge', 'datapath-type', ABSENT),
                                    ('cloudbr0-ovs-bridge', 'ovs-other-config', 'data.stp-forward-delay', ABSENT)]),
    ('ovs-stp', ovs(cloudbr0={'uplink': 'bond0', 'stp': True, 'forward_delay': 5}),
     [('cloudbr0-ovs-bridge', 'ovs-bridge', 'stp-enable', 'true'),
      ('cloudbr0-ovs-bridge', 'ovs-other-config', 'data.stp-forward-delay', '5')]),
    ('ovs-mtu', patched(patched(ovs(cloudbr0={'uplink': 'bond0', 'mtu': 9000}, cloudbr9={'uplink': 'bond0', 'vlan': 9, 'mtu': 9000}),
                                ('bonds', 'bond0', 'mtu'), 9000), ('ethernets', 'eth0', 'mtu'), 9000),
     [('cloudbr0', 'ethernet', 'mtu', '9000'), ('cloudbr9', 'ethernet', 'mtu', '9000'),
      ('eth0', 'ethernet', 'mtu', '9000'), ('eth1', 'ethernet', 'mtu', '9000'), ('eth2', 'ethernet', 'mtu', ABSENT)]),
    ('ovs-single-nic', patched(ovs(cloudbr0={'uplink': 'eth2', 'addresses': ['198.51.100.2/24']}), ('bonds',), {}),
     [('eth2-ovs-port', 'connection', 'master', uuid_of('cloudbr0-ovs-bridge')),
      ('eth2-ovs-port', 'connection', 'interface-name', 'eth2'),
      ('eth2', 'connection', 'master', uuid_of('eth2-ovs-port')), ('eth2', 'connection', 'slave-type', 'ovs-port'),
      ('eth0', 'ipv4', 'method', 'disabled'), ('eth0', 'connection', 'master', ABSENT)]),
    ('ovs-host-only', ovs(cloudbr0={'uplink': 'bond0'}, cloudbr5={'addresses': ['192.0.2.1/24']}),
     [('cloudbr5', 'ipv4', 'address1', '192.0.2.1/24'), ('cloudbr5-ovs-bridge', 'connection', 'type', 'ovs-bridge')]),
    ('ovs-fake-bridge-dhcp', ovs(cloudbr0={'uplink': 'bond0'}, cloudbr7={'uplink': 'bond0', 'vlan': 7, 'dhcp4': True}),
     [('cloudbr7-ovs-port', 'ovs-port', 'tag', '7'), ('cloudbr7', 'ipv4', 'method', 'auto'),
      ('cloudbr7-ovs-port', 'connection', 'master', uuid_of('cloudbr0-ovs-bridge'))]),
    ('ovs-rename-by-mac', patched(ovs(), ('ethernets', 'eth1', 'match'), {'macaddress': '52:54:00:aa:bb:02'}),
     [('eth1', 'ethernet', 'mac-address', '52:54:00:AA:BB:02'), ('eth1', 'connection', 'slave-type', 'ovs-port')]),
]


@pytest.mark.parametrize('case_id,data,checks', CASES, ids=[c[0] for c in CASES])
def test_option(case_id, data, checks):
    keyfiles, _res = render(data)
    for profile, section, key, value in checks:
        kf = conn(keyfiles, profile)
        got = kf.get(section, {}).get(key, ABSENT)
        assert got == value, '%s [%s] %s: %r, wanted %r' % (profile, section, key, got, value)


def test_rename_writes_link_file():
    data = patched(linux(), ('ethernets', 'eth0', 'match'), {'macaddress': '52:54:00:aa:bb:01'})
    _keyfiles, res = render(data)
    link = [f for f in res['files'] if f['path'] == '/etc/systemd/network/10-cloudstack-kvm-eth0.link']
    assert len(link) == 1 and link[0]['mode'] == '0644'
    text = link[0]['content']
    assert 'MACAddress=52:54:00:aa:bb:01' in text and 'Name=eth0' in text
    assert text.index('[Match]') < text.index('MACAddress=') < text.index('[Link]') < text.index('Name=eth0')


def test_ovs_other_config_is_explained_in_the_file():
    res = render_networkmanager.render(norm(SEED['openvswitch']), {'host': HOST})
    text = [f['content'] for f in res['files'] if f['path'].endswith('cloudstack-kvm-bond0-ovs-port.nmconnection')][0]
    before = text.split('\n[ovs-other-config]')[0]
    assert 'NetworkManager 1.42' in before and 'reconcile' in before
    fake = [f['content'] for f in res['files'] if f['path'].endswith('cloudstack-kvm-cloudbr100-ovs-port.nmconnection')][0]
    assert 'no fake bridge' in fake and 'add-br cloudbr100 cloudbr0 100' in fake


def test_only_linux_ports_are_slaves_of_linux_masters():
    keyfiles, _res = render(SEED['linux_bridge'])
    types = dict((k['connection']['uuid'], k['connection']['type']) for k in keyfiles.values())
    masters = dict((cid, types[kf['connection']['master']]) for cid, kf in keyfiles.items()
                   if 'master' in kf['connection'])
    # Every NIC is a port of its bond, every bond and the VLAN device a port of its bridge.
    assert masters == {
        'cloudstack-kvm-eth0': 'bond', 'cloudstack-kvm-eth1': 'bond',
        'cloudstack-kvm-eth2': 'bond', 'cloudstack-kvm-eth3': 'bond',
        'cloudstack-kvm-bond0': 'bridge', 'cloudstack-kvm-bond1': 'bridge', 'cloudstack-kvm-bond0.100': 'bridge',
    }


# -- errors -----------------------------------------------------------------------------------------
ERRORS = [
    ('v6-nameserver-on-v4-bridge',
     linux(cloudbr0={'uplink': 'bond0', 'addresses': ['198.51.100.2/24'], 'nameservers': {'addresses': ['2001:db8::53']}}),
     ['bridge cloudbr0', '2001:db8::53', 'IPv6', 'Fix:']),
    ('v4-nameserver-on-v6-bridge',
     linux(cloudbr0={'uplink': 'bond0', 'addresses': ['2001:db8::2/64'], 'nameservers': {'addresses': ['198.51.100.53']}}),
     ['bridge cloudbr0', '198.51.100.53', 'IPv4', 'Fix:']),
]


@pytest.mark.parametrize('case_id,data,words', ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(case_id, data, words):
    with pytest.raises(RenderError) as err:
        render_networkmanager.render(norm(data), {'host': HOST})
    for word in words:
        assert word in str(err.value)
    assert str(err.value).startswith('host ' + HOST + ': ')


# -- the structural check itself catches broken profile sets -----------------------------------------
def _corrupt(res, path_end, old, new):
    res = copy.deepcopy(res)
    for entry in res['files']:
        if entry['path'].endswith(path_end):
            assert old in entry['content']
            entry['content'] = entry['content'].replace(old, new)
    return res


@pytest.mark.parametrize('path_end,old,new', [
    ('cloudstack-kvm-eth0.nmconnection', 'slave-type=bond', 'slave-type=bridge'),          # wrong controller type
    ('cloudstack-kvm-eth0.nmconnection', 'master=7', 'master=8'),                           # names nothing
    ('cloudstack-kvm-eth1.nmconnection', 'interface-name=eth1', 'interface-name=eth0'),     # eth0 twice
    ('cloudstack-kvm-bond0.nmconnection', 'mode=active-backup\n', ''),                      # bond without mode
    ('cloudstack-kvm-cloudbr1.nmconnection', '[ipv4]\nmethod=disabled', '[ipv4]\nmethod=disabled\ndns=1.1.1.1;'),
    ('cloudstack-kvm-cloudbr0.nmconnection', 'forward-delay=0', 'forward-delay=0\nforward-delay=0'),  # duplicate key
])
def test_structural_check_rejects(path_end, old, new):
    model = norm(SEED['linux_bridge'])
    res = render_networkmanager.render(model, {'host': HOST})
    validate(res, model)
    with pytest.raises((AssertionError, configparser.Error)):
        validate(_corrupt(res, path_end, old, new), model)
