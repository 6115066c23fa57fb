# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Golden-file comparison shared by the renderer tests.

Golden files live under ``golden/<renderer>/<backend>/<absolute path>``. ``UPDATE_GOLDEN=1``
rewrites them from the rendered output (review the git diff afterwards); otherwise any
difference, missing or extra file fails.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil


def read_tree(base):
    """{'/etc/x': content} for every file below base."""
    tree = {}
    for dirpath, _dirs, names in os.walk(base):
        for name in names:
            full = os.path.join(dirpath, name)
            with open(full) as fh:
                tree['/' + os.path.relpath(full, base)] = fh.read()
    return tree


def assert_golden(base, rendered):
    """Compare ``rendered`` ({absolute path: content}) with the golden tree at ``base``."""
    if os.environ.get('UPDATE_GOLDEN') == '1':
        shutil.rmtree(base, ignore_errors=True)
        for path, content in rendered.items():
            target = os.path.join(base, path.lstrip('/'))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, 'w') as fh:
                fh.write(content)
    on_disk = read_tree(base)
    assert on_disk, 'no golden files under %s: run with UPDATE_GOLDEN=1 once and review them' % base
    assert sorted(on_disk) == sorted(rendered)
    for path in rendered:
        assert rendered[path] == on_disk[path], 'golden %s differs (UPDATE_GOLDEN=1 to accept, then review the diff)' % path
