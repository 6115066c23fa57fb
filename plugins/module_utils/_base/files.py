# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host layer's files: every file the collection writes on a host is written here.

* ``Root``: files of the host below ``root_dir`` (``/`` on a real host; a scratch tree in tests
  and staging); every path given and returned is a host path.
* ``write_atomic``: a temporary file in the same directory, given its final mode (and the owner
  of the file it replaces) *before* it is renamed over the target, so a file never holds the new
  content with a wider mode than it ends with, not even for a moment.
* ``backup``: ``FILE.PID.YYYY-MM-DD@HH:MM:SS~`` (Ansible's own backup name, ``backup_stamp``),
  created with the source's mode from its first byte; ``keep`` bounds how many a file has.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import glob
import os
import re
import shutil
import tempfile
import time

# Ansible's backup_local stamp; one place, so every backup the collection makes reads alike.
BACKUP_STAMP_FORMAT = '%Y-%m-%d@%H:%M:%S~'
_BACKUP_NAME_RE = r'\.(\d+)\.(\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d)~$'


class Root(object):
    """Files of the host below ``root_dir``; every path given and returned is a host path."""

    def __init__(self, root_dir='/'):
        self.root_dir = root_dir or '/'

    def real(self, path):
        return os.path.join(self.root_dir, path.lstrip('/'))

    def host(self, real_path):
        rel = os.path.relpath(real_path, self.root_dir)
        return '/' + rel if rel != '.' else '/'

    def read(self, path):
        """The file's text, or None when it does not exist."""
        try:
            with open(self.real(path), 'rb') as fh:
                return fh.read().decode('utf-8', 'replace')
        except (IOError, OSError):
            return None

    def mode(self, path):
        try:
            return os.stat(self.real(path)).st_mode & 0o7777
        except OSError:
            return None

    def glob(self, pattern):
        return sorted(self.host(p) for p in glob.glob(self.real(pattern)) if os.path.isfile(p))

    def exists(self, path):
        return os.path.lexists(self.real(path))

    def readlink(self, path):
        """The host path a symbolic link points to (relative targets resolved), or None."""
        try:
            target = os.readlink(self.real(path))
        except OSError:
            return None
        return os.path.normpath(os.path.join(os.path.dirname(path), target))

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.real(path)))
        except OSError:
            return []


def backup_stamp(now=None):
    return time.strftime(BACKUP_STAMP_FORMAT, time.localtime(time.time() if now is None else now))


def _selinux_copy_context(module, tmp, real_path):
    """Give ``tmp`` the SELinux context ``real_path`` has (or would get), as atomic_move does."""
    if module is None or not getattr(module, 'selinux_enabled', lambda: False)():
        return
    if os.path.exists(real_path):
        context = module.selinux_context(real_path)
    else:
        context = module.selinux_default_context(real_path)
    module.set_context_if_different(tmp, context, False)


def write_atomic(module, real_path, content, mode, unsafe_writes=False):
    """Write ``content`` (text, or bytes) with ``mode`` (an octal string or int) atomically.

    The temporary file gets the final mode and the replaced file's owner before the rename.
    ``unsafe_writes``: written in place when the rename cannot be done (a file bind-mounted by a
    container engine, such as /etc/hosts). ``module`` is only used for SELinux contexts; None
    writes without them (the snapshot's own files)."""
    mode = int(mode, 8) if isinstance(mode, str) else int(mode)
    data = content if isinstance(content, bytes) else content.encode('utf-8')
    directory = os.path.dirname(real_path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    fd, tmp = tempfile.mkstemp(prefix='.cloudstack-kvm-', dir=directory)
    try:
        os.fchmod(fd, mode)
        try:
            st = os.stat(real_path)
            os.fchown(fd, st.st_uid, st.st_gid)
        except OSError:
            pass
        with os.fdopen(fd, 'wb') as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _selinux_copy_context(module, tmp, real_path)
        try:
            os.rename(tmp, real_path)
            _sync_directory(directory)
        except OSError as e:
            if not unsafe_writes or e.errno not in (errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES):
                raise
            with open(real_path, 'wb') as fh:    # a bind-mounted file: the rename cannot replace it
                fh.write(data)
            os.chmod(real_path, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _sync_directory(directory):
    """Make a rename in ``directory`` durable (a power cut right after it keeps the new file)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass    # a file system that cannot sync a directory
    finally:
        os.close(fd)


def backups_of(real_path, directory=None):
    """The backups ``backup`` made of ``real_path``, oldest first."""
    directory = directory or os.path.dirname(real_path) or '.'
    pattern = re.compile(re.escape(os.path.basename(real_path)) + _BACKUP_NAME_RE)
    found = []
    for name in os.listdir(directory):
        match = pattern.match(name)
        if match:
            path = os.path.join(directory, name)
            found.append((match.group(2), os.stat(path).st_ctime, path))
    return [path for dummy, dummy2, path in sorted(found)]


def backup(real_path, directory=None, keep=None):
    """Copy ``real_path`` aside before it changes: ``FILE.PID.STAMP~`` beside it, or in
    ``directory`` (for directories whose every file a tool reads, such as interfaces.d).

    The copy is created with the source's mode (and owner) from the start, never wider. ``keep``:
    at most that many backups of the file stay; older ones go (for files holding secrets, so old
    passwords do not pile up). Returns the backup's real path."""
    if directory is not None and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    base = os.path.join(directory, os.path.basename(real_path)) if directory else real_path
    dest = '%s.%s.%s' % (base, os.getpid(), backup_stamp())
    st = os.stat(real_path)
    if os.path.lexists(dest):
        os.unlink(dest)     # the same process, the same second: the newer copy wins
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st.st_mode & 0o600)
    try:
        os.fchmod(fd, st.st_mode & 0o7777)
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except OSError:
            pass
        with open(real_path, 'rb') as src:
            with os.fdopen(fd, 'wb') as out:
                fd = None
                shutil.copyfileobj(src, out)
    finally:
        if fd is not None:
            os.close(fd)
    os.utime(dest, (st.st_atime, st.st_mtime))
    if keep:
        stale = backups_of(real_path, directory)
        for old in stale[:len(stale) - min(int(keep), len(stale))]:
            os.unlink(old)
    return dest
