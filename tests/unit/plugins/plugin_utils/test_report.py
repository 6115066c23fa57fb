# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: diagrams of recorded hosts against golden DOT files (with drift of several
kinds drawn on its objects), Graphviz drawing them, the HTML page, and the kvm_network_report
action writing them. Regenerate the golden files with REGENERATE_GOLDEN=1 after a reviewed change."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import re
import shutil
from unittest import mock

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.cloudstack_kvm.networking.plugins.action import kvm_network_report as action_mod
from ansible_collections.cloudstack_kvm.networking.plugins.filter import kvm_network as model_filters
from ansible_collections.cloudstack_kvm.networking.plugins.filter import kvm_network_verify as filters
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _report as report
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.module_utils import test_verify as recorded

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'report')
LIBVIRT = [{'name': 'guests-nat', 'forward': {'mode': 'nat'}, 'bridge': {'name': 'virbr10'}},
           {'name': 'cloud-guests', 'forward': {'mode': 'bridge'}, 'bridge': 'cloudbr1'}]


def linux_host():
    """bond_vlan_host as recorded, against a model that wants MTU 9000 on bond0 and cloudbr0, slow
    LACP on bond1, another address on cloudbr100 and a VLAN bridge cloudbr200 the host lacks."""
    facts = recorded.host_network(recorded.raw_facts('bond_vlan_host'))
    model = copy.deepcopy(recorded.LINUX_BOND_VLAN)
    model['bridges']['cloudbr0']['mtu'] = 9000
    model['bridges']['cloudbr100']['addresses'].append('203.0.113.21/24')
    model['bridges']['cloudbr200'] = {'uplink': 'bond1', 'vlan': 200}
    model['bonds']['bond0']['mtu'] = 9000
    model['bonds']['bond1']['lacp_rate'] = 'slow'
    return facts, filters.kvm_network_differences(model, facts, host='kvm1'), model_filters.kvm_network_validate(model, 'kvm1')


def ovs_host():
    facts = recorded.host_network(recorded.ovs_seed_raw())
    return (facts, filters.kvm_network_differences(recorded.OVS_SEED, facts, host='kvm2'),
            model_filters.kvm_network_validate(recorded.OVS_SEED, 'kvm2'))


def golden(name, text):
    path = os.path.join(GOLDEN, name)
    if os.environ.get('REGENERATE_GOLDEN'):
        with open(path, 'w') as handle:
            handle.write(text)
    with open(path) as handle:
        assert text == handle.read(), 'differs from %s (REGENERATE_GOLDEN=1 after reviewing the change)' % path


def test_the_linux_bridge_host_with_drift_against_its_golden_diagram():
    facts, differences, wanted = linux_host()
    kinds = sorted(set(d['kind'] for d in differences))
    assert 'bridge.mtu' in kinds and 'bridge.present' in kinds and 'bridge.addresses' in kinds, kinds
    dot = report.diagram('kvm1', facts, differences, LIBVIRT, title='kvm1 (drift)', wanted=wanted)
    golden('bond_vlan_host.dot', dot)
    # What an operator looks for, whatever the layout:
    assert '"nic:eth1" -> "bond:bond0" [label="active", color="#2e7d32", penwidth=2.5]' in dot
    assert '"nic:eth0" -> "bond:bond0" [label="backup", style=dashed' in dot
    assert re.search(r'"br:cloudbr0" \[label="cloudbr0\\nLinux bridge\\nMTU 1500\\n198\.51\.100\.20/24\\n2001:db8::20/64'
                     r'\\n! mtu 1500, expected 9000"', dot), dot
    assert re.search(r'"br:cloudbr200" \[label="cloudbr200\\nmissing on the host"[^]]*style="rounded,filled,dashed"', dot)
    assert '"vlan:bond1.200" -> "br:cloudbr200"' in dot and '"bond:bond1" -> "vlan:bond1.200"' in dot, \
        'what the host lacks is drawn where the model puts it'
    assert '"vlan:bond100" -> "br:cloudbr100"' in dot and '"bond:bond0" -> "vlan:bond100"' in dot
    assert '"br:cloudbr1" -> "net:cloud-guests"' in dot and '"bridge:virbr10" -> "net:guests-nat"' in dot


def test_the_open_vswitch_host_in_sync_against_its_golden_diagram():
    facts, differences, wanted = ovs_host()
    assert differences == []
    dot = report.diagram('kvm2', facts, differences, title='kvm2 (in sync)', wanted=wanted)
    golden('ovs_host.dot', dot)
    assert '"br:cloudbr0" -> "br:cloudbr100" [label="tag 100"]' in dot, 'the fake bridge hangs off its parent'
    assert '#c62828' not in dot, 'nothing red on a host in sync'


def test_labels_are_escaped_for_dot():
    facts = ovs_host()[0]
    dot = report.diagram('odd"host', facts, [{'object': 'bridge cloudbr0', 'kind': 'bridge.mtu', 'field': 'mtu',
                                              'message': 'bridge cloudbr0: a "quoted" \\ value'}])
    assert 'digraph "odd\\"host"' in dot and 'a \\"quoted\\" \\\\ value' in dot


@pytest.mark.skipif(not shutil.which('dot'), reason='Graphviz is not installed (bindep.txt [test] installs it)')
@pytest.mark.parametrize('host', [linux_host, ovs_host], ids=['linux_bridge', 'openvswitch'])
def test_graphviz_draws_the_diagrams_with_every_name(host, tmp_path):
    facts, differences, _wanted = host()
    dot = tmp_path / 'kvm.dot'
    dot.write_text(report.diagram('kvm', facts, differences, LIBVIRT))
    svg = action_mod.svg_of(shutil.which('dot'), str(dot), 'kvm')
    assert (tmp_path / 'kvm.svg').read_text().endswith(svg)
    assert svg.startswith('<svg') and svg.rstrip().endswith('</svg>')
    for name in list(facts['model']['bridges']) + list(facts['model']['bonds']):
        assert '>%s</text>' % name in svg, name


def entries():
    linux, linux_diffs, linux_wanted = linux_host()
    ovs, ovs_diffs, ovs_wanted = ovs_host()
    snapshots = [{'id': '20261207T010000-1', 'status': 'confirmed',
                  'history': [{'status': 'armed', 'at': 1796605200}, {'status': 'applied', 'at': 1796605205},
                              {'status': 'confirmed', 'at': 1796605210}]},
                 {'id': '20261207T020000-2', 'status': 'rolled_back',
                  'history': [{'status': 'applied', 'at': 1796608800}, {'status': 'rolled_back', 'at': 1796608830}]}]
    return {
        'kvm1': {'reached': True, 'host_network': linux, 'model': linux_wanted, 'differences': linux_diffs,
                 'backend': 'linux_bridge',
                 'renderer': 'netplan', 'snapshots': snapshots, 'libvirt_networks': LIBVIRT},
        'kvm2': {'reached': True, 'host_network': ovs, 'model': ovs_wanted, 'differences': ovs_diffs,
                 'backend': 'openvswitch',
                 'renderer': 'ifupdown', 'snapshots': snapshots[:1]},
        'kvm10': {'reached': False, 'backend': 'linux_bridge', 'renderer': 'networkmanager'},
    }


def test_the_page_lists_every_host_with_its_state_and_last_changes():
    data = entries()
    for entry in data.values():
        entry.pop('host_network', None)
        entry.pop('model', None)
    data['kvm1']['differences'].append({'object': 'bridge cloudbr0', 'kind': 'bridge.traffic',
                                        'message': 'bridge cloudbr0: <script>alert(1)</script> did not answer'})
    page = report.fleet_page(data, generated='2026-12-07 03:00 UTC')
    rows = re.findall(r'<tr class="([a-z-]+)" data-state="([a-z ]+)" data-host="([^"]+)"', page)
    assert rows == [('drift', 'drift', 'kvm1'), ('in-sync', 'in sync', 'kvm2'), ('unreachable', 'unreachable', 'kvm10')]
    assert '3 hosts, verified 2026-12-07 03:00 UTC: 1 drift, 1 unreachable, 1 in sync.' in page
    assert '<script>alert(1)</script>' not in page and '&lt;script&gt;alert(1)&lt;/script&gt;' in page
    assert '2026-12-07 02:00 UTC (20261207T020000-2, rolled_back)' in page, 'the last apply, and how it ended'
    assert '<td>2026-12-07 02:00 UTC (20261207T020000-2)</td></tr>' in page, 'the last rollback'
    assert 'http://' not in page and 'https://' not in page, 'the page loads nothing from elsewhere'


def run_action(args, which='/usr/bin/dot'):
    task = Task()
    task.args = args
    action = action_mod.ActionModule(task, mock.MagicMock(), PlayContext(), DataLoader(), None, None)
    with mock.patch.object(action_mod.shutil, 'which', return_value=which):
        return action.run(task_vars={})


def test_the_action_writes_dot_files_and_the_page(tmp_path):
    result = run_action({'dest': str(tmp_path / 'report'), 'hosts': entries(), 'svg': 'never'})
    assert not result.get('failed') and result['changed'] is False, result
    assert sorted(os.listdir(str(tmp_path / 'report'))) == ['index.html', 'kvm1.dot', 'kvm2.dot']
    assert result['states'] == {'drift': ['kvm1'], 'unreachable': ['kvm10'], 'in sync': ['kvm2']}
    assert 'href="kvm1.dot"' in (tmp_path / 'report' / 'index.html').read_text()
    assert result['msg'].endswith('(1 drift, 1 unreachable, 1 in sync)')


def test_svg_always_without_graphviz_fails_naming_the_fix(tmp_path):
    result = run_action({'dest': str(tmp_path), 'hosts': entries(), 'svg': 'always'}, which=None)
    assert result['failed'] and 'install graphviz on the controller' in result['msg']
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.skipif(not shutil.which('dot'), reason='Graphviz is not installed (bindep.txt [test] installs it)')
def test_the_action_inlines_graphvizs_svg(tmp_path):
    task = Task()
    task.args = {'dest': str(tmp_path), 'hosts': entries()}
    action = action_mod.ActionModule(task, mock.MagicMock(), PlayContext(), DataLoader(), None, None)
    result = action.run(task_vars={})
    assert result['svg'] is True and 'kvm1.svg' in result['files']
    page = (tmp_path / 'index.html').read_text()
    assert page.count('<svg') == 2 and '<?xml' not in page


@pytest.mark.skipif(not shutil.which('dot'), reason='Graphviz is not installed (bindep.txt [test] installs it)')
def test_a_diagram_graphviz_refuses_fails_naming_the_host(tmp_path):
    broken = tmp_path / 'kvm9.dot'
    broken.write_text('digraph "kvm9" { this is not dot')
    with pytest.raises(ValueError, match=r'dot \(drawing host kvm9\) failed \(rc=1\).*syntax error'):
        action_mod.svg_of(shutil.which('dot'), str(broken), 'kvm9')


def test_a_change_its_own_pings_rolled_back_is_the_last_apply():
    """A host whose own pings failed right after the change never reached "applied": the change went
    live at the rollback's live_at, and that is its last apply."""
    snap = {'id': '20261207T040000-1', 'status': 'rolled_back', 'history': [
        {'status': 'armed', 'at': 1796616000.0},
        {'status': 'rolled_back', 'at': 1796616075.0, 'started': 1796616072.0, 'live_at': 1796616060.0,
         'cause': 'its confirmation targets did not answer'}]}
    applied, rolled = report.last_changes([snap])
    assert applied == '%s (20261207T040000-1, rolled_back)' % report._when(1796616060.0)
    assert rolled == '%s (20261207T040000-1)' % report._when(1796616075.0)
    assert report.last_changes([dict(snap, history=snap['history'][:1])]) == ('', ''), 'armed only: nothing went live'
