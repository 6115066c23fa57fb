# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The rendered files planned against the host's: what to write, chmod and remove.

* ``FileChange`` and ``plan_files``: the rendered files against the host's, and the stale files
  the collection owns (matching an owned glob *and* carrying the marker line). Nothing is written.
* Reading and writing them is the host layer's (``_base.files``: ``Root``, ``write_atomic``,
  ``backup``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import has_marker


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
