# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Open vSwitch bridges keep their MAC: read from /sys, set again after a rollback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import macs
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root

VSCTL = '/usr/bin/ovs-vsctl'


class Runner(object):
    """Answers br-to-parent from {bridge: parent}; records what runs."""

    def __init__(self, parents):
        self.parents = parents
        self.ran = []

    def bin(self, name):
        return '/usr/bin/' + name

    def read(self, argv):
        return 0, self.parents[argv[-1]] + '\n', ''

    def run(self, argv, what):
        self.ran.append((argv, what))


def put_mac(root, name, mac):
    directory = os.path.join(str(root), 'sys', 'class', 'net', name)
    os.makedirs(directory)
    with open(os.path.join(directory, 'address'), 'w') as fh:
        fh.write(mac + '\n')


def test_current_macs_only_for_devices_with_an_ethernet_mac(tmp_path):
    put_mac(tmp_path, 'cloudbr0', '3E:87:17:88:38:4D')
    put_mac(tmp_path, 'lo', '00:00:00:00:00:00')
    assert macs.current_macs(Root(str(tmp_path)), ['cloudbr0', 'lo', 'cloudbr1']) == {'cloudbr0': '3e:87:17:88:38:4d'}


def test_restore_sets_the_saved_mac_of_bridges_and_fake_bridges_that_changed(tmp_path):
    put_mac(tmp_path, 'cloudbr0', '42:48:7d:c0:ac:41')      # new after the rollback wrote the rows back
    put_mac(tmp_path, 'cloudbr1', '3e:87:17:88:38:4d')      # kept
    put_mac(tmp_path, 'cloudbr100', '5a:00:00:00:00:01')    # new
    runner = Runner({'cloudbr0': 'cloudbr0', 'cloudbr100': 'cloudbr0'})
    saved = {'cloudbr0': '56:10:3f:9f:67:41', 'cloudbr1': '3e:87:17:88:38:4d', 'cloudbr100': '5a:00:00:00:01:64',
             'cloudbr9': '5a:00:00:00:09:09'}                  # gone: left alone
    assert macs.restore_macs(runner, Root(str(tmp_path)), saved) == ['cloudbr0', 'cloudbr100']
    assert [argv for argv, dummy in runner.ran] == [
        [VSCTL, '--timeout=10', 'set', 'Bridge', 'cloudbr0', 'other-config:hwaddr="56:10:3f:9f:67:41"'],
        [VSCTL, '--timeout=10', 'set', 'Interface', 'cloudbr100', 'mac="5a:00:00:00:01:64"']]


def test_nothing_runs_when_every_mac_is_kept(tmp_path):
    put_mac(tmp_path, 'cloudbr0', '56:10:3f:9f:67:41')
    runner = Runner({})
    assert macs.restore_macs(runner, Root(str(tmp_path)), {'cloudbr0': '56:10:3f:9f:67:41'}) == []
    assert runner.ran == []
