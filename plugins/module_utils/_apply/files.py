# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host's files: read below a root, planned against the rendered ones, written atomically.

* ``Root``: files of the host below ``root_dir`` (``/`` on a real host; a scratch tree in tests
  and staging); every path given and returned is a host path.
* ``FileChange`` and ``plan_files``: the rendered files against the host's, and the stale files
  the collection owns (matching an owned glob *and* carrying the marker line). Nothing is written.
* ``write_atomic``, ``remove_file``, ``backup``: the writes, each replaced file backed up first.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import shutil
import tempfile
import time

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import has_marker


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


class FileChange(object):
    """One file to write, chmod or remove.

    ``reason``: ``render`` (a rendered file), ``stale`` (an owned file the model no longer has),
    ``conflict`` (configuration we do not own, edited so it no longer fights ours).
    """

    def __init__(self, path, old, new, mode=None, old_mode=None, reason='render', foreign=False, note=None):
        self.path = path
        self.old = old
        self.new = new
        self.mode = mode
        self.old_mode = old_mode
        self.reason = reason
        self.foreign = foreign
        self.note = note

    @property
    def action(self):
        if self.new is None:
            return 'remove'
        if self.old == self.new:
            return 'chmod'
        return 'create' if self.old is None else 'write'

    def diff(self):
        before_header = self.path
        after_header = self.path
        if self.action == 'chmod' or (self.mode and self.old_mode is not None and int(self.mode, 8) != self.old_mode):
            before_header += ' (mode %04o)' % self.old_mode
            after_header += ' (mode %s)' % self.mode
        if self.new is None:
            after_header += ' (removed)'
        if self.note:
            after_header += ' (%s)' % self.note
        return {'before_header': before_header, 'after_header': after_header,
                'before': self.old or '', 'after': self.new or ''}


def plan_files(root, files, scan_globs, marker, prune=True):
    """The rendered files against the host: (changes, replaced_foreign paths).

    ``scan_globs``: where stale files may be (the renderer's owned globs, and what its system
    adds, see ``System.stale_globs``); a file there is stale only when it carries the marker.
    """
    changes = []
    foreign = []
    wanted = set()
    for item in files:
        path = item['path']
        wanted.add(path)
        mode = item.get('mode') or '0644'
        old = root.read(path)
        old_mode = root.mode(path)
        if old == item['content'] and old_mode == int(mode, 8):
            continue
        is_foreign = old is not None and not has_marker(old, marker)
        if is_foreign:
            foreign.append(path)
        changes.append(FileChange(path, old, item['content'], mode, old_mode, 'render', is_foreign,
                                  'replaces a file %s did not write' % marker if is_foreign else None))
    if prune:
        seen = set()
        for pattern in scan_globs:
            for path in root.glob(pattern):
                if path in wanted or path in seen or path.endswith('~'):
                    continue
                seen.add(path)
                text = root.read(path)
                # Only files in our places AND marked as ours: never the installer's.
                if has_marker(text, marker):
                    changes.append(FileChange(path, text, None, None, root.mode(path), 'stale'))
    return sorted(changes, key=lambda c: c.path), foreign


def write_atomic(module, real_path, content, mode, unsafe_writes=False):
    """Write ``content`` (text, or bytes) with ``mode`` (an octal string) atomically: a temporary
    file in the same directory, renamed over ``real_path``. ``unsafe_writes``: written in place when
    the rename cannot be done (a file bind-mounted by a container engine, such as /etc/hosts)."""
    directory = os.path.dirname(real_path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    fd, tmp = tempfile.mkstemp(prefix='.cloudstack-kvm-', dir=directory)
    try:
        with os.fdopen(fd, 'wb' if isinstance(content, bytes) else 'w') as fh:
            fh.write(content)
        os.chmod(tmp, int(mode, 8))
        if unsafe_writes:
            module.atomic_move(tmp, real_path, unsafe_writes=True)
        else:
            module.atomic_move(tmp, real_path)
        # atomic_move copies the mode of a file it replaces: the rendered mode wins (netplan: 0600).
        os.chmod(real_path, int(mode, 8))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def backup(module, real_path, directory=None):
    """Copy ``real_path`` aside before it changes: ``FILE.PID.DATE~`` beside it, or in
    ``directory`` (for directories whose every file a tool reads, such as interfaces.d).
    Returns the backup's real path."""
    if directory is None:
        return module.backup_local(real_path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    stamp = time.strftime('%Y-%m-%d@%H:%M:%S~')
    dest = os.path.join(directory, '%s.%s.%s' % (os.path.basename(real_path), os.getpid(), stamp))
    shutil.copy2(real_path, dest)
    return dest
