# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventories in examples/: every host's kvm_network (templated as Ansible would) validates
and renders for the system the example is for, and the seed 000 examples keep the models of
examples/inventory/group_vars/seed000_*.yml."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.manager import VariableManager

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import definition as libvirt_definition
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise as model_normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import renderers as render_renderers


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, 'examples')
FACTS = {
    'el9': {'distribution': 'Rocky', 'os_family': 'RedHat', 'distribution_major_version': '9'},
    'ubuntu': {'distribution': 'Ubuntu', 'os_family': 'Debian', 'distribution_major_version': '24'},
    'debian': {'distribution': 'Debian', 'os_family': 'Debian', 'distribution_major_version': '12'},
}
SEED_CASES = {
    'linux_bridge_el9': ('seed000_linux_bridge', 'el9', 'networkmanager'),
    'linux_bridge_ubuntu': ('seed000_linux_bridge', 'ubuntu', 'netplan'),
    'openvswitch_el9': ('seed000_openvswitch', 'el9', 'networkmanager'),
    'openvswitch_ubuntu': ('seed000_openvswitch', 'ubuntu', 'netplan'),
}


def host_models(case):
    """{host: templated kvm_network} of examples/CASE/inventory.yml."""
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[os.path.join(EXAMPLES, case, 'inventory.yml')])
    variables = VariableManager(loader=loader, inventory=inventory)
    out = {}
    for host in inventory.get_hosts():
        hostvars = variables.get_vars(host=host)
        out[host.name] = Templar(loader=loader, variables=hostvars).template(hostvars['kvm_network'])
    return out


def test_every_example_directory_is_tested():
    cases = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(EXAMPLES, '*', 'inventory.yml')))
    assert cases == sorted(list(SEED_CASES) + ['single_nic', 'guest_networks', 'host_patterns'])


@pytest.mark.parametrize('case', sorted(SEED_CASES))
def test_seed_examples_validate_render_and_keep_the_seed_model(case):
    seed, system, renderer = SEED_CASES[case]
    with open(os.path.join(EXAMPLES, 'inventory', 'group_vars', seed + '.yml')) as f:
        seed_model = yaml.safe_load(f)['kvm_network']
    models = host_models(case)
    assert sorted(models) == ['kvm1', 'kvm2']
    # kvm1 has the seed's own addresses: the example is the seed model.
    assert models['kvm1'] == seed_model
    for host, data in models.items():
        model = model_normalise.normalise(data, host)
        assert render_renderers.resolve_renderer(model, FACTS[system]) == renderer
        out = render_renderers.render(model, renderer, {'host': host, 'ovs_database_only': True})
        assert out['files']
    assert models['kvm2']['bridges']['cloudbr0']['addresses'] == ['192.168.100.21/24']


@pytest.mark.parametrize('system', sorted(FACTS))
def test_single_nic_example_on_every_system(system):
    models = host_models('single_nic')
    assert sorted(models) == ['kvm-dhcp', 'kvm-static']
    for host, data in models.items():
        model = model_normalise.normalise(data, host)
        renderer = render_renderers.resolve_renderer(model, FACTS[system])
        out = render_renderers.render(model, renderer, {'host': host})
        assert list(model['bridges']) == ['cloudbr0'] and model['bridges']['cloudbr0']['port'] == 'eth0'
        assert out['files']
    assert model_normalise.normalise(models['kvm-dhcp'])['bridges']['cloudbr0']['dhcp4'] is True
    assert models['kvm-static']['bridges']['cloudbr0']['addresses'] == ['198.51.100.11/24']


def test_guest_networks_example_has_every_kind_and_checks_against_its_host_model():
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[os.path.join(EXAMPLES, 'guest_networks', 'inventory.yml')])
    variables = VariableManager(loader=loader, inventory=inventory)
    kinds = set()
    for host in inventory.get_hosts():
        hostvars = variables.get_vars(host=host)
        model = model_normalise.normalise(hostvars['kvm_network'], host.name)
        networks = libvirt_definition.normalise(hostvars['kvm_libvirt_networks'], model, host.name)
        kinds.update(n['kind'] for n in networks.values())
    assert kinds == set(libvirt_definition.KINDS)


def test_host_patterns_example_seed_002_and_003():
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[os.path.join(EXAMPLES, 'host_patterns', 'inventory.yml')])
    variables = VariableManager(loader=loader, inventory=inventory)
    models = {}
    for host in inventory.get_hosts():
        hostvars = variables.get_vars(host=host)
        model = models[host.name] = model_normalise.normalise(hostvars['kvm_network'], host.name)
        libvirt_definition.normalise(hostvars['kvm_libvirt_networks'], model, host.name)
        out = render_renderers.render(model, hostvars['kvm_network_renderer'], {'host': host.name})
        assert out['files']
    rocks = models['kvm-rocks']
    # seed 002: the NIC renamed by its MAC, the bridge holding its old name and the address
    assert rocks['ethernets']['peth0']['match'] == {'macaddress': '52:54:00:12:34:56'}
    assert rocks['bridges']['eth0']['port'] == 'peth0' and rocks['bridges']['eth0']['addresses'] == ['198.51.100.13/24']
    # seed 003: forwarding for the guests on bro
    assert models['kvm-slides']['forwarding'] == {'ip': True, 'accept_bridged': True}
