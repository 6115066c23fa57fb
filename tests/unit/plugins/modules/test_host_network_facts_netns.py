# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_network_facts run for real inside a throwaway network namespace.

The test makes its own namespaces (``cskf-hnf-PID`` and a peer ``cskf-hnp-PID`` for the veth
"switch" ends), builds a Linux bridge host in them (bridges, veth NICs, a tap, addresses, default
routes), runs the module file with ``ip netns exec`` as Ansible would run it on a host, changes
the topology the way drift happens, reads again, and deletes both namespaces. Nothing outside
them is touched. It needs root and ``ip netns``; elsewhere it is skipped.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.modules import host_network_facts

PID = os.getpid()
NS = 'cskf-hnf-%d' % PID
PEER = 'cskf-hnp-%d' % PID
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(host_network_facts.__file__), '..', '..', '..', '..', '..'))


def _ip(*args):
    subprocess.check_call(['ip'] + list(args))


def _can_netns():
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        return False
    try:
        subprocess.check_call(['ip', 'netns', 'add', NS], stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return False
    subprocess.call(['ip', 'netns', 'del', NS])
    return True


pytestmark = pytest.mark.skipif(not _can_netns(), reason='needs root and ip netns')


@pytest.fixture
def netns():
    _ip('netns', 'add', NS)
    _ip('netns', 'add', PEER)
    try:
        n = ['-n', NS]
        _ip(*n + ['link', 'set', 'lo', 'up'])
        _ip(*n + ['link', 'add', 'cloudbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
        _ip(*n + ['link', 'add', 'cloudbr1', 'type', 'bridge'])
        _ip(*n + ['link', 'add', 'cloud0', 'type', 'bridge'])
        for i, mac in ((0, '52:54:00:ee:00:01'), (1, '52:54:00:ee:00:02')):
            _ip(*n + ['link', 'add', 'eth%d' % i, 'address', mac, 'type', 'veth', 'peer', 'name', 'tor%d' % i,
                      'netns', PEER])
            _ip('-n', PEER, 'link', 'set', 'tor%d' % i, 'up')
        _ip(*n + ['link', 'set', 'eth0', 'master', 'cloudbr0'])
        _ip(*n + ['link', 'set', 'eth1', 'master', 'cloudbr1'])
        _ip(*n + ['tuntap', 'add', 'dev', 'vnet0', 'mode', 'tap'])
        _ip(*n + ['link', 'set', 'vnet0', 'master', 'cloudbr0'])
        for dev in ('eth0', 'eth1', 'vnet0', 'cloudbr0', 'cloudbr1', 'cloud0'):
            _ip(*n + ['link', 'set', dev, 'up'])
        _ip(*n + ['addr', 'add', '198.51.100.20/24', 'dev', 'cloudbr0'])
        _ip(*n + ['addr', 'add', '2001:db8::20/64', 'dev', 'cloudbr0', 'nodad'])
        _ip(*n + ['addr', 'add', '169.254.0.1/16', 'dev', 'cloud0'])
        _ip(*n + ['route', 'add', 'default', 'via', '198.51.100.1', 'dev', 'cloudbr0'])
        _ip(*n + ['-6', 'route', 'add', 'default', 'via', '2001:db8::1', 'dev', 'cloudbr0'])
        yield NS
    finally:
        subprocess.call(['ip', 'netns', 'del', NS])
        subprocess.call(['ip', 'netns', 'del', PEER])


def run_facts(tmp_path, ns, args=None):
    argsfile = tmp_path / 'args.json'
    argsfile.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(args or {}, ovs='false')}))
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    out = subprocess.check_output(['ip', 'netns', 'exec', ns, sys.executable, '-m',
                                   'ansible_collections.cloudstack_kvm.networking.plugins.modules.host_network_facts',
                                   str(argsfile)], env=env)
    result = json.loads(out.decode('utf-8'))
    assert not result.get('failed'), result
    assert result['changed'] is False
    return result['ansible_facts']['host_network']


def test_real_linux_bridge_host_and_drift(tmp_path, netns):
    facts = run_facts(tmp_path, netns)
    m = facts['model']
    assert m['backend'] == 'linux_bridge'
    assert sorted(m['bridges']) == ['cloudbr0', 'cloudbr1']
    b0 = m['bridges']['cloudbr0']
    assert (b0['uplink'], b0['uplink_kind'], b0['vlan']) == ('eth0', 'ethernet', None)
    assert b0['addresses'] == ['198.51.100.20/24', '2001:db8::20/64']
    assert (b0['gateway4'], b0['gateway6'], b0['stp'], b0['forward_delay']) == ('198.51.100.1', '2001:db8::1', False, 0)
    assert m['bridges']['cloudbr1']['forward_delay'] == 15
    assert m['ethernets']['eth0']['match'] == {'macaddress': '52:54:00:ee:00:01'}
    assert facts['linux_bridges']['cloudbr0']['ports'] == ['eth0', 'vnet0']
    assert facts['links']['vnet0']['type'] == 'tun'
    assert facts['cloud0']['addresses'] == ['169.254.0.1/16']
    assert facts['ovs'] == {'available': False, 'reason': 'not read (ovs: false)'}

    # Drift by hand: the uplink leaves cloudbr0, an address and a route go, STP is switched on,
    # an MTU drops.
    n = ['-n', netns]
    _ip(*n + ['link', 'set', 'eth0', 'nomaster'])
    _ip(*n + ['addr', 'del', '2001:db8::20/64', 'dev', 'cloudbr0'])
    _ip(*n + ['-6', 'route', 'del', 'default'])
    _ip(*n + ['link', 'set', 'cloudbr1', 'type', 'bridge', 'stp_state', '1'])
    _ip(*n + ['link', 'set', 'eth1', 'mtu', '1400'])
    m = run_facts(tmp_path, netns)['model']
    b0 = m['bridges']['cloudbr0']
    assert (b0['uplink'], b0['ports'], b0['addresses'], b0['gateway6']) == (None, ['vnet0'], ['198.51.100.20/24'], None)
    assert m['bridges']['cloudbr1']['stp'] is True
    assert m['ethernets']['eth1']['mtu'] == 1400 and m['ethernets']['eth0']['bridge'] is None


def test_real_subset_only_reads_links(tmp_path, netns):
    facts = run_facts(tmp_path, netns, {'gather': ['bridges', 'bonds', 'vlans']})
    assert sorted(facts) == ['bonds', 'linux_bridges', 'vlans']
    assert facts['bonds'] == {} and facts['vlans'] == {}
    assert sorted(facts['linux_bridges']) == ['cloud0', 'cloudbr0', 'cloudbr1']


@pytest.mark.controller
def test_adopt_playbook_writes_a_model_that_describes_the_host(tmp_path, netns):
    """playbooks/adopt.yml against the namespace (local connection inside it): the model it writes
    validates and verify finds nothing to change; a second run leaves the file alone."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import normalise
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import compare
    import yaml
    repo = os.path.abspath(os.path.join(os.path.dirname(host_network_facts.__file__), '..', '..'))
    out = tmp_path / 'host_vars'
    argv = ['ip', 'netns', 'exec', netns, os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
            '-i', 'kvm1,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
            '-e', 'kvm_network_adopt_dir=%s' % out, os.path.join(repo, 'playbooks', 'adopt.yml')]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               ANSIBLE_CONFIG=os.path.join(repo, 'ansible.cfg'))
    first = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                           check=False)
    assert first.returncode == 0, first.stdout
    text = (out / 'kvm1' / 'kvm_network.yml').read_text()
    assert '#   - ethernet' not in text, 'every NIC of this host is in a bridge'
    assert '#   - traffic_labels' in text
    written = yaml.safe_load(text)['kvm_network']
    assert written['bridges']['cloudbr0'] == {'uplink': 'eth0', 'addresses': ['198.51.100.20/24', '2001:db8::20/64'],
                                              'gateway4': '198.51.100.1', 'gateway6': '2001:db8::1'}
    assert written['bridges']['cloudbr1'] == {'uplink': 'eth1', 'stp': False} or \
        written['bridges']['cloudbr1'] == {'uplink': 'eth1'}
    facts = run_facts(tmp_path, netns)
    assert compare(normalise(written, 'kvm1'), facts) == []
    again = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                           check=False)
    assert again.returncode == 0 and 'left as it was' in again.stdout, again.stdout
