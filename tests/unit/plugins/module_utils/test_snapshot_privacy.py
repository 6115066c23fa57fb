# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots (saved files may hold secrets) are root's alone, and a state_dir others could write
to is refused before anything is saved."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.fixture
def host(tmp_path):
    root = tmp_path / 'host'
    (root / 'etc' / 'cloudstack' / 'agent').mkdir(parents=True)
    secret = root / 'etc' / 'cloudstack' / 'agent' / 'agent.properties'
    secret.write_text('keystore.passphrase=x\n')
    os.chmod(str(secret), 0o600)
    os.chmod(str(root), 0o755)
    return Root(str(root))


def test_every_directory_and_file_of_a_snapshot_is_roots_alone(host):
    snap = snapshots.Snapshot.create(host, ['/etc/cloudstack/agent/agent.properties'], {}, params={'a': 1})
    lock = snap.lock()
    lock.close()
    for directory in ('/var/lib', '/var/lib/cloudstack-kvm', '/var/lib/cloudstack-kvm/safe-apply'):
        assert mode(host.real(directory)) == 0o700, directory
    for dirpath, dirnames, filenames in os.walk(snap.dir):
        assert mode(dirpath) == 0o700, dirpath
        for name in filenames:
            assert mode(os.path.join(dirpath, name)) == 0o600, name


@pytest.mark.parametrize('where, how', [('/var/lib/cloudstack-kvm', 0o777), ('/var/lib', 0o775), ('/var', 0o757)])
def test_a_state_dir_others_can_write_is_refused_before_anything_is_saved(host, where, how):
    os.makedirs(host.real('/var/lib/cloudstack-kvm'))
    os.chmod(host.real(where), how)
    with pytest.raises(ModuleFailure, match='writable by .* Fix: chmod go-w'):
        snapshots.Snapshot.create(host, ['/etc/cloudstack/agent/agent.properties'], {})
    assert not os.path.exists(host.real(snapshots.STATE_DIR))


def test_a_sticky_directory_above_roots_own_is_fine_but_not_as_the_state_dir(host):
    os.makedirs(host.real('/tmp/kvm'))
    os.chmod(host.real('/tmp'), 0o1777)
    os.chmod(host.real('/tmp/kvm'), 0o700)
    snapshots.check_state_dir(host.real('/tmp/kvm'), host.root_dir)
    with pytest.raises(ModuleFailure, match='writable by everyone'):
        snapshots.check_state_dir(host.real('/tmp/new'), host.root_dir)


def test_a_state_dir_another_user_owns_is_refused(host):
    os.makedirs(host.real('/var/lib/cloudstack-kvm'))
    os.chmod(host.real('/var/lib/cloudstack-kvm'), 0o700)
    os.chown(host.real('/var/lib/cloudstack-kvm'), 4242, 4242)
    with pytest.raises(ModuleFailure, match='belongs to uid 4242, not to root'):
        snapshots.Snapshot.create(host, ['/etc/cloudstack/agent/agent.properties'], {})
