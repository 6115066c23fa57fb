# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NICs matched by MAC renamed live, and back by a rollback (_apply/renames.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import renames

MAC = '52:54:00:aa:bb:01'
LIVE = {'model': {'ethernets': {
    'eth0': {'match': {'macaddress': '52:54:00:aa:bb:00'}},
    'eth1': {'match': {'macaddress': MAC}},
}}}


def test_a_nic_found_by_its_mac_under_another_name_is_renamed():
    model = {'ethernets': {'eth0': {'match': {}}, 'lan1': {'match': {'macaddress': MAC.upper()}}}}
    exists = {'eth0', 'eth1'}.__contains__
    assert renames.wanted(model, exists) == {'lan1': MAC}
    planned = renames.plan(model, LIVE, exists)
    assert planned == [{'from': 'eth1', 'to': 'lan1', 'mac': MAC}]
    assert renames.commands('/usr/sbin/ip', planned) == [
        (['/usr/sbin/ip', 'link', 'set', 'dev', 'eth1', 'down'],
         'taking eth1 down to rename it lan1 (the NIC with MAC %s)' % MAC),
        (['/usr/sbin/ip', 'link', 'set', 'dev', 'eth1', 'name', 'lan1'], 'renaming eth1 to lan1 (the NIC with MAC %s)' % MAC)]


def test_no_rename_when_the_name_exists_the_mac_is_unknown_or_the_nic_is_the_models():
    exists = {'eth0', 'eth1'}.__contains__
    assert renames.plan({'ethernets': {'eth1': {'match': {'macaddress': MAC}}}}, LIVE, exists) == []
    assert renames.plan({'ethernets': {'lan1': {'match': {'macaddress': '52:54:00:aa:bb:99'}}}}, LIVE, exists) == []
    # eth1 is a NIC of the model too: it is not taken from it.
    model = {'ethernets': {'eth1': {'match': {}}, 'lan1': {'match': {'macaddress': MAC}}}}
    assert renames.plan(model, LIVE, exists) == []
    # Two NICs with the MAC (a bond's members can share one when the facts have no permanent MAC).
    twice = {'model': {'ethernets': {'eth1': {'match': {'macaddress': MAC}}, 'eth2': {'match': {'macaddress': MAC}}}}}
    assert renames.plan({'ethernets': {'lan1': {'match': {'macaddress': MAC}}}}, twice, exists) == []


def test_a_rollback_renames_back_only_what_was_renamed():
    done = [{'from': 'eth1', 'to': 'lan1', 'mac': MAC}, {'from': 'eth2', 'to': 'lan2', 'mac': '52:54:00:aa:bb:02'}]
    # lan1 was renamed; the apply failed before lan2.
    exists = {'lan1', 'eth2'}.__contains__
    assert renames.reverse(done, exists) == [{'from': 'lan1', 'to': 'eth1', 'mac': MAC}]
    assert renames.reverse(None, exists) == []


def test_commands_that_name_a_renamed_device_are_dropped():
    activation = [(['/usr/sbin/netplan', 'apply'], 'apply'), (['/usr/sbin/ip', 'link', 'set', 'dev', 'eth1', 'nomaster'], 'x'),
                  (['/usr/sbin/ifup', 'lan1'], 'up')]
    kept = renames.without_renamed(activation, [{'from': 'eth1', 'to': 'lan1', 'mac': MAC}])
    assert kept == [activation[0], activation[2]]


def test_a_name_the_model_gives_another_device_keeps_its_commands():
    """Seed 002: eth0 renamed peth0, and the bridge the model names eth0 must still come up."""
    activation = [(['/usr/sbin/ifup', 'peth0'], 'up'), (['/usr/sbin/ifup', 'eth0'], 'up')]
    rename = [{'from': 'eth0', 'to': 'peth0', 'mac': MAC}]
    assert renames.without_renamed(activation, rename, {'peth0', 'eth0'}) == activation
    assert renames.without_renamed(activation, rename, {'peth0'}) == [activation[0]]
