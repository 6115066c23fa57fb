# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host_prepare's ``os``: the kvm_host role's own vars files (roles/kvm_host/vars), the one
first_found would pick chosen on the host by its facts, and what is derived from it; problems stop
the call before anything is touched; the facts go back to the controller."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest
import yaml

from unittest import mock

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import by_os
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.test_kvm_host_prepare import (  # noqa: F401  pylint: disable=unused-import
    SHOW,
    FakeRunCommand,
    host,
    prepare,
    show_out,
)

ROLE_VARS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'roles', 'kvm_host', 'vars')
with open(os.path.join(ROLE_VARS, 'main.yml')) as fh:
    NAMES = yaml.safe_load(fh)['__kvm_host_os_variant_names']
VARIANTS = {}
for variant in NAMES:
    with open(os.path.join(ROLE_VARS, variant + '.yml')) as fh:
        VARIANTS[variant] = yaml.safe_load(fh)

DEBIAN = {'distribution': 'Debian', 'distribution_version': '12.8', 'distribution_major_version': '12',
          'os_family': 'Debian', 'hostname': 'kvm1'}
UBUNTU_18 = dict(DEBIAN, distribution='Ubuntu', distribution_version='18.04', distribution_major_version='18')
UBUNTU = dict(DEBIAN, distribution='Ubuntu', distribution_version='24.04', distribution_major_version='24')
ROCKY = {'distribution': 'Rocky', 'distribution_version': '9.4', 'distribution_major_version': '9', 'os_family': 'RedHat',
         'hostname': 'kvm2'}
CENTOS_7 = dict(ROCKY, distribution='CentOS', distribution_version='7.9', distribution_major_version='7')
ARCH = {'distribution': 'Archlinux', 'distribution_version': '', 'distribution_major_version': 'NA',
        'os_family': 'Archlinux', 'hostname': 'kvm3'}


def spec(**extra):
    out = {'variants': VARIANTS, 'renderer': 'auto', 'backend': 'linux_bridge', 'needs': {}, 'packages': None,
           'packages_extra': [], 'install_packages': True, 'services': True, 'ubuntu_ovs_ifupdown': False,
           'networkmanager': 'auto'}
    out.update(extra)
    return out


@pytest.mark.parametrize('facts, variant, renderer', [
    (DEBIAN, 'Debian', 'ifupdown'),
    (UBUNTU_18, 'Ubuntu_18', 'netplan'),
    (UBUNTU, 'Ubuntu', 'netplan'),
    (ROCKY, 'RedHat', 'networkmanager'),
    (CENTOS_7, 'RedHat_7', 'ifcfg'),
])
def test_the_variant_first_found_would_pick_and_the_renderer(facts, variant, renderer):
    derived = by_os.Derived(spec(), facts)
    assert (derived.variant, derived.renderer, derived.problems) == (variant, renderer, [])


def test_debian_ifupdown_bonds_vlans_dns_helpers_and_open_vswitch():
    derived = by_os.Derived(spec(backend='openvswitch', needs={'linux_bonds': True, 'vlans': True, 'nameservers': True},
                                 packages_extra=['tcpdump']), DEBIAN)
    assert derived.packages == ['iproute2', 'kmod', 'procps', 'python3-yaml', 'openvswitch-switch', 'ifupdown',
                                'ifenslave', 'vlan', 'resolvconf', 'tcpdump']
    assert derived.services == [{'name': 'openvswitch-switch', 'state': 'started', 'enabled': True, 'if_missing': 'fail'}]
    assert (derived.grub_update, derived.restart_after_install, derived.packages_absent) == ('update-grub', [], [])


def test_el7_ifcfg_turns_networkmanager_off_and_network_scripts_on():
    derived = by_os.Derived(spec(), CENTOS_7)
    assert [(s['name'], s['state'], s['enabled']) for s in derived.services] == [
        ('NetworkManager', 'stopped', False), ('network', None, True)]
    assert derived.grub_update == 'grub2-mkconfig'
    assert 'initscripts' in derived.packages and 'bridge-utils' in derived.packages


def test_el9_networkmanager_with_open_vswitch_restarts_it_after_installing_its_plugin():
    derived = by_os.Derived(spec(backend='openvswitch'), ROCKY)
    assert 'NetworkManager-ovs' in derived.packages
    assert derived.restart_after_install == ['NetworkManager']
    assert [s['name'] for s in derived.services] == ['NetworkManager', 'openvswitch']


def test_the_users_package_list_replaces_the_variants_and_no_install_means_none():
    assert by_os.Derived(spec(packages=['a', 'b'], packages_extra=['b', 'c']), DEBIAN).packages == ['a', 'b', 'c']
    assert by_os.Derived(spec(install_packages=False), DEBIAN).packages == []


def test_ubuntu_seed_way_purges_netplan_for_ifupdown():
    derived = by_os.Derived(spec(backend='openvswitch', renderer='ifupdown', ubuntu_ovs_ifupdown=True), UBUNTU_18)
    assert derived.problems == [] and derived.packages_absent == ['netplan.io']


@pytest.mark.parametrize('facts, extra, problem', [
    (ARCH, {}, 'Archlinux (Archlinux) is not a system this collection knows'),
    (ARCH, {'renderer': 'netplan'}, 'the role has no package list for Archlinux NA'),
    (DEBIAN, {'renderer': 'ifcfg'}, 'renderer ifcfg is not available on Debian 12'),
    (UBUNTU_18, {'backend': 'openvswitch'}, 'netplan on Ubuntu 18 has no Open vSwitch support'),
    (UBUNTU, {'backend': 'openvswitch', 'ubuntu_ovs_ifupdown': True}, 'which purges netplan, but the renderer is netplan'),
    (ROCKY, {'networkmanager': 'disabled'}, 'nothing would configure the network'),
])
def test_what_the_os_cannot_do_is_a_problem_with_its_fix(facts, extra, problem):
    problems = by_os.Derived(spec(**extra), facts).problems
    assert any(problem in p for p in problems), problems
    assert all('Fix: ' in p for p in problems)


def test_the_module_picks_on_the_host_fails_before_touching_it_and_returns_the_facts(host):
    args = {'root_dir': str(host), 'os': spec(renderer='ifcfg'),
            'hosts_entry': {'address': '198.51.100.11', 'names': ['kvm1.example.org'], 'with_host_name': True}}
    with mock.patch.object(by_os, 'os_facts', return_value=DEBIAN):
        failed, fake = prepare(args, FakeRunCommand())
    assert failed['failed'] is True and 'nothing was changed' in failed['msg']
    assert 'renderer ifcfg is not available on Debian 12' in failed['msg']
    assert fake.calls == [] and failed['ansible_facts']['distribution'] == 'Debian'

    fake = FakeRunCommand()
    fake.expect(argv=SHOW + ['openvswitch-switch.service'],
                stdout=show_out([('openvswitch-switch.service', ('loaded', 'active', 'enabled'))]))
    args['os'] = spec(backend='openvswitch', install_packages=False)
    with mock.patch.object(by_os, 'os_facts', return_value=DEBIAN):
        result, fake = prepare(args, fake)
    assert not result.get('failed'), result.get('msg')
    assert result['ansible_facts'] == DEBIAN
    assert result['os']['variant'] == 'Debian' and result['os']['services'] == ['openvswitch-switch']
    # The host's own short name joins the /etc/hosts entry.
    with open(os.path.join(str(host), 'etc', 'hosts')) as fh:
        assert '198.51.100.11\tkvm1.example.org kvm1' in fh.read()


def test_os_facts_are_setups_own():
    from ansible.module_utils.facts.system.distribution import Distribution
    module = mock.Mock()
    with mock.patch.object(Distribution, 'get_distribution_facts', return_value=dict(DEBIAN, distribution_release='x')), \
            mock.patch('platform.node', return_value='kvm1.example.org'):
        facts = by_os.os_facts(module)
    assert facts == DEBIAN
