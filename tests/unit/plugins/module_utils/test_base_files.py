# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host layer's file writes: final mode before the rename, backups never wider than the file."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

from unittest import mock

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_write_atomic_gives_the_temporary_file_its_final_mode_before_the_rename(tmp_path):
    target = tmp_path / 'etc' / 'secret.conf'
    seen = []
    real = os.rename
    with mock.patch('os.rename', side_effect=lambda s, d: (seen.append(mode_of(s)), real(s, d))):
        files.write_atomic(None, str(target), 'a=1\n', '0600')
    assert seen == [0o600] and mode_of(target) == 0o600 and target.read_text() == 'a=1\n'
    assert os.listdir(str(target.parent)) == ['secret.conf']


def test_write_atomic_in_place_when_the_file_cannot_be_replaced(tmp_path):
    target = tmp_path / 'hosts'
    target.write_text('old\n')

    def busy(src, dst):
        raise OSError(errno.EBUSY, 'Device or resource busy')
    with mock.patch('os.rename', side_effect=busy):
        files.write_atomic(None, str(target), b'new\n', 0o644, unsafe_writes=True)
    assert target.read_text() == 'new\n' and os.listdir(str(tmp_path)) == ['hosts']


def test_backup_is_created_no_wider_than_the_file_and_ends_with_its_mode(tmp_path):
    source = tmp_path / 'agent.properties'
    source.write_text('keystore.passphrase=x\n')
    os.chmod(str(source), 0o640)
    created = []
    real_open = os.open
    with mock.patch('os.open', side_effect=lambda p, fl, m=0o777: (created.append(m), real_open(p, fl, m))[1]):
        dest = files.backup(str(source))
    assert created == [0o600] and mode_of(dest) == 0o640
    assert open(dest).read() == 'keystore.passphrase=x\n'
    assert os.stat(dest).st_mtime == os.stat(str(source)).st_mtime


def test_backups_of_lists_only_this_files_backups_oldest_first(tmp_path):
    source = tmp_path / 'a.conf'
    source.write_text('x')
    for name in ('a.conf.9.2026-01-02@00:00:00~', 'a.conf.1.2026-01-01@00:00:00~', 'a.conf.bak', 'b.conf.1.2026-01-01@00:00:00~',
                 'a.conf.x.2026-01-01@00:00:00~'):
        (tmp_path / name).write_text('')
    assert [os.path.basename(p) for p in files.backups_of(str(source))] == [
        'a.conf.1.2026-01-01@00:00:00~', 'a.conf.9.2026-01-02@00:00:00~']


def test_backup_in_another_directory_and_bounded(tmp_path):
    source = tmp_path / 'interfaces.d' / 'cloudbr0'
    source.parent.mkdir()
    source.write_text('auto cloudbr0\n')
    backups = tmp_path / 'backups'
    backups.mkdir()
    (backups / 'cloudbr0.1.2020-01-01@00:00:00~').write_text('')
    dest = files.backup(str(source), str(backups), keep=1)
    assert os.listdir(str(backups)) == [os.path.basename(dest)]


def test_write_atomic_syncs_the_data_and_then_the_directory(tmp_path):
    """A power cut right after the write keeps it: the data is synced before the rename, the
    directory (the rename itself) after it."""
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink('/proc/self/fd/%d' % fd))
        real_fsync(fd)
    with mock.patch.object(files.os, 'fsync', fsync):
        files.write_atomic(None, str(tmp_path / 'a.conf'), 'x\n', '0600')
    assert len(synced) == 2
    assert os.path.basename(synced[0]).startswith('.cloudstack-kvm-') and synced[1] == str(tmp_path)


def test_the_snapshot_keeps_its_own_synced_copy_of_the_code_that_rolls_it_back(tmp_path, monkeypatch):
    """The boot rollback after a power cut runs the snapshot's payload.zip: written like the
    snapshot's other files (atomic, synced, root only), not copied through the page cache."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import safe
    payload = tmp_path / 'AnsiballZ_payload.zip'
    payload.write_bytes(b'PK\x05\x06' + b'\0' * 18)
    snap = mock.Mock(dir=str(tmp_path / 'snap'))
    os.mkdir(snap.dir)
    written = []
    real_write = files.write_atomic
    monkeypatch.setattr(safe, 'payload_root', lambda: str(payload))
    monkeypatch.setattr(safe.host_files, 'write_atomic',
                        lambda module, path, data, mode: (written.append((path, mode)), real_write(module, path, data, mode)))
    safe._prepare(snap)
    target = os.path.join(snap.dir, 'payload.zip')
    assert written == [(target, '0600'), (os.path.join(snap.dir, 'runner.py'), '0700')]
    assert open(target, 'rb').read() == payload.read_bytes() and mode_of(target) == 0o600
    assert target in open(os.path.join(snap.dir, 'runner.py')).read()
