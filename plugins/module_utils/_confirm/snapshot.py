# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Snapshots: what a safe apply is about to change, saved on the host before it changes.

A snapshot is a directory ``STATE_DIR/<id>/`` (ids sort by time)::

    manifest.json   id, created, status and its history, renderer, backend, the saved files
                    [{path, existed, mode, uid, gid}], the interfaces the apply re-activates and
                    why, the NetworkManager profiles it switches off, whether OVS rows are saved
    files/<n>       the bytes of saved file n as they were
    ovs.json        the managed Open vSwitch rows (``_ovs.restore.save``)
    params.json     the apply's parameters (the detached apply and the rollback read them)
    result.json     the detached apply's result; rollback.json what a rollback did
    pending         present while the change is armed or applied: the boot units' condition
                    (``boot.py``: a change still pending at boot is rolled back before the network)
    boot-finish     what the boot rollback leaves for after the network services (``boot.py``)

Statuses: ``armed`` (saved, rollback timer running), ``applied`` (the change is live, waiting for
the confirmation), ``confirmed``, ``rolled_back``, ``failed`` (the apply failed and was rolled
back). Status changes happen under the snapshot's lock, so a confirmation and a rollback that
race cannot both win.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import json
import os
import shutil
import time

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure

STATE_DIR = '/var/lib/cloudstack-kvm/safe-apply'
FINAL = ('confirmed', 'rolled_back', 'failed')
PENDING_MARKER = 'pending'


def _write_bytes(path, data, mode=0o600):
    """Write ``data`` atomically, readable by root only (saved files may hold secrets)."""
    _private_dirs(os.path.dirname(path))
    host_files.write_atomic(None, path, data, mode)


def _private_dirs(directory):
    """Create ``directory`` and the missing ones above it with mode 0700 (os.makedirs gives the
    intermediate ones the umask's mode)."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)


def check_state_dir(real_base, root_dir='/'):
    """Refuse a state directory another user could write to, or one below a directory another
    user could write to (up to ``root_dir``, the host's /): whoever can write there can plant a
    snapshot that a rollback runs as root. A sticky directory above it (/tmp) is safe as long as
    what is below it belongs to root, as the walk checks."""
    top = os.path.abspath(root_dir or '/')
    path = os.path.abspath(real_base)
    uid = os.geteuid()
    below = None    # the directory under ``path`` checked last
    while True:
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None:
            sticky_above_ours = below is not None and st.st_mode & 0o1000
            if st.st_mode & 0o022 and not sticky_above_ours:
                raise ModuleFailure('state_dir %s: %s is writable by %s (mode %04o), so another user could plant a '
                                    'snapshot that a rollback would run as root. Fix: chmod go-w %s, or choose '
                                    'another state_dir' % (real_base, path, 'everyone' if st.st_mode & 0o002 else
                                                           'its group', st.st_mode & 0o7777, path))
            if st.st_uid not in (0, uid):
                raise ModuleFailure('state_dir %s: %s belongs to uid %d, not to root. Fix: chown root %s, or choose '
                                    'another state_dir' % (real_base, path, st.st_uid, path))
            below = path
        parent = os.path.dirname(path)
        if path == top or parent == path:
            return
        path = parent


def _json_bytes(data):
    return (json.dumps(data, indent=1, sort_keys=True) + '\n').encode('utf-8')


class Snapshot(object):
    """One snapshot directory below ``root`` (the host's ``/``, or a scratch tree in tests)."""

    def __init__(self, root, sid, base=STATE_DIR):
        self.root = root
        self.id = sid
        self.base = base
        self.dir = root.real(os.path.join(base, sid))
        self.manifest = None

    # -- creating ------------------------------------------------------------------------------
    @classmethod
    def create(cls, root, paths, info, ovs_rows=None, params=None, base=STATE_DIR):
        """Save ``paths`` (host paths, existing or not) and the rest; status ``armed``."""
        check_state_dir(root.real(base), root.root_dir)
        now = time.time()
        sid = '%s%06d-%d' % (time.strftime('%Y%m%dT%H%M%S', time.gmtime(now)), int(now % 1 * 1000000), os.getpid())
        snap = cls(root, sid, base)
        while os.path.exists(snap.dir):
            snap = cls(root, sid + '-%d' % len(os.listdir(os.path.dirname(snap.dir))), base)
        _private_dirs(os.path.join(snap.dir, 'files'))
        files = []
        for index, path in enumerate(sorted(set(paths))):
            real = root.real(path)
            entry = {'path': path, 'existed': os.path.lexists(real)}
            if entry['existed']:
                st = os.lstat(real)
                entry.update(mode='%04o' % (st.st_mode & 0o7777), uid=st.st_uid, gid=st.st_gid,
                             content='files/%d' % index)
                with open(real, 'rb') as fh:
                    _write_bytes(os.path.join(snap.dir, entry['content']), fh.read())
            files.append(entry)
        if ovs_rows is not None:
            _write_bytes(os.path.join(snap.dir, 'ovs.json'), _json_bytes(ovs_rows))
        if params is not None:
            _write_bytes(os.path.join(snap.dir, 'params.json'), _json_bytes(params))
        snap.manifest = dict(info, id=sid, created=time.time(), status='armed', files=files, controller=controller(),
                             ovs=ovs_rows is not None, history=[{'status': 'armed', 'at': time.time()}])
        snap.save()
        snap.mark(PENDING_MARKER)
        return snap

    # -- reading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, root, sid, base=STATE_DIR):
        snap = cls(root, sid, base)
        try:
            with open(os.path.join(snap.dir, 'manifest.json')) as fh:
                snap.manifest = json.load(fh)
        except (IOError, OSError, ValueError) as exc:
            raise ModuleFailure('snapshot %s cannot be read (%s). Fix: pass one of the ids the list action '
                                'returns' % (sid, exc))
        return snap

    def read_json(self, name):
        """A JSON file of the snapshot, or None when it is not there."""
        try:
            with open(os.path.join(self.dir, name)) as fh:
                return json.load(fh)
        except (IOError, OSError, ValueError):
            return None

    def write_json(self, name, data):
        _write_bytes(os.path.join(self.dir, name), _json_bytes(data))

    def saved_bytes(self, entry):
        """The saved content of a file entry (None: the file did not exist)."""
        if not entry['existed']:
            return None
        with open(os.path.join(self.dir, entry['content']), 'rb') as fh:
            return fh.read()

    @property
    def status(self):
        return self.manifest['status']

    # -- changing ------------------------------------------------------------------------------
    def save(self):
        self.write_json('manifest.json', self.manifest)

    def lock(self):
        """An exclusive lock on this snapshot (a file object: close it to unlock)."""
        fh = os.fdopen(os.open(os.path.join(self.dir, 'lock'), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), 'a')
        fcntl.flock(fh, fcntl.LOCK_EX)
        return fh

    def set_status(self, status, **info):
        """Record a status (under the caller's lock) with details."""
        self.manifest['status'] = status
        entry = dict(info, status=status, at=time.time())
        self.manifest['history'].append(entry)
        self.save()
        if status in FINAL:
            self.unmark(PENDING_MARKER)

    def mark(self, name):
        """An empty marker file in the snapshot (what a boot unit's condition looks for)."""
        _write_bytes(os.path.join(self.dir, name), b'')

    def unmark(self, name):
        try:
            os.unlink(os.path.join(self.dir, name))
        except OSError:
            pass

    def drop_runtime(self):
        """Remove what only an armed snapshot needs (the code the host runs on its own)."""
        for name in ('payload.zip', 'runner.py'):
            path = os.path.join(self.dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.unlink(path)

    def summary(self):
        """What the result of a module says about this snapshot."""
        m = self.manifest
        return {'id': self.id, 'status': m['status'], 'created': m['created'], 'path': os.path.join(self.base, self.id),
                'files': [f['path'] for f in m['files']], 'interfaces': m.get('interfaces', []),
                'ovs': m.get('ovs', False), 'history': m['history']}


def snapshot_ids(root, base=STATE_DIR):
    """Every snapshot id on the host, oldest first."""
    directory = root.real(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(n for n in names if os.path.isfile(os.path.join(directory, n, 'manifest.json')))


def prune(root, keep, base=STATE_DIR):
    """Remove the oldest finished snapshots beyond ``keep``; armed ones are never removed.
    Returns the ids removed."""
    removed = []
    finished = [sid for sid in snapshot_ids(root, base) if Snapshot.load(root, sid, base).status in FINAL]
    for sid in finished[:max(0, len(finished) - keep)]:
        shutil.rmtree(root.real(os.path.join(base, sid)), ignore_errors=True)
        removed.append(sid)
    return removed


# --- one apply at a time ------------------------------------------------------------------------

LOCK_NAME = 'apply.lock'
PENDING = ('armed', 'applied')
_POLL = 0.5


def controller():
    """Where this apply came from: the client address of the SSH connection, else 'local'."""
    return (os.environ.get('SSH_CONNECTION') or 'local').split()[0]


def pending(root, base=STATE_DIR):
    """Snapshots whose change is being applied or waits for its confirmation, oldest first."""
    out = []
    for sid in snapshot_ids(root, base):
        try:
            snap = Snapshot.load(root, sid, base)
        except ModuleFailure:
            continue
        if snap.status in PENDING:
            out.append(snap)
    return out


def describe_pending(snap):
    m = snap.manifest
    return ('snapshot %s (started %s UTC from %s) is %s' % (
        snap.id, time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(m['created'])), m.get('controller', 'an unknown controller'),
        'still being applied' if m['status'] == 'armed' else 'waiting for its confirmation'))


class HostLock(object):
    """One apply at a time on a host: an exclusive lock (flock, so a process that dies lets go of it
    by dying) on ``state_dir/apply.lock`` (``acquire``), and no change while another one is pending
    (armed, or applied and waiting for its confirmation), since its rollback would undo ours
    (``wait_for_pending``). Both wait until ``timeout`` seconds after ``acquire`` began, then fail
    naming the other apply."""

    def __init__(self, root, base=STATE_DIR):
        self.root = root
        self.base = base
        self.path = root.real(os.path.join(base, LOCK_NAME))
        self.fd = None
        self.deadline = None
        self.timeout = None

    def _holder(self):
        try:
            with open(self.path) as fh:
                return json.load(fh)
        except (IOError, OSError, ValueError):
            return {}

    def acquire(self, timeout):
        check_state_dir(self.root.real(self.base), self.root.root_dir)
        _private_dirs(os.path.dirname(self.path))
        self.timeout = timeout
        deadline = self.deadline = time.time() + max(0, timeout)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError):
                if time.time() >= deadline:
                    holder = self._holder()
                    os.close(self.fd)
                    self.fd = None
                    raise ModuleFailure(
                        'another kvm_network_apply is changing this host (pid %s, started %s UTC from %s) and did not '
                        'finish within %d s. Fix: wait for it and run again, or raise lock_timeout'
                        % (holder.get('pid', '?'), holder.get('started', '?'), holder.get('controller', '?'), timeout),
                        reason='locked', holder=holder)
                time.sleep(_POLL)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, _json_bytes({'pid': os.getpid(), 'controller': controller(),
                                       'started': time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}))
        return self

    def wait_for_pending(self):
        """Wait (until the deadline) while another change is pending; True when it had to wait (what
        was planned meanwhile may be stale), False when nothing was pending."""
        waited = False
        while True:
            waiting = pending(self.root, self.base)
            if not waiting:
                return waited
            if time.time() >= self.deadline:
                raise ModuleFailure(
                    '%s; a change now would be undone by its rollback, or undo it. Fix: confirm it or roll it back '
                    '(playbooks/rollback.yml -e kvm_network_rollback_id=%s), or wait and run again (lock_timeout)'
                    % (describe_pending(waiting[0]), waiting[0].id), reason='pending',
                    pending=[w.summary() for w in waiting])
            waited = True
            time.sleep(_POLL)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)    # closing lets go of the flock
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
