# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core matrix (tests/matrix/cores.txt, scripts/core-matrix.sh) covers what the
collection claims: it starts at meta/runtime.yml's requires_ansible, skips no minor version, gives
each core a Python it supports, has a sanity ignore file per core, and docs/compatibility.md
lists every row."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The controller Pythons each ansible-core supports (its own setup metadata).
CONTROLLER_PYTHONS = {
    '2.15': ('3.9', '3.10', '3.11'),
    '2.16': ('3.10', '3.11', '3.12'),
    '2.17': ('3.10', '3.11', '3.12'),
    '2.18': ('3.11', '3.12', '3.13'),
    '2.19': ('3.11', '3.12', '3.13'),
    '2.20': ('3.12', '3.13', '3.14'),
    '2.21': ('3.12', '3.13', '3.14'),
}


def rows():
    with open(os.path.join(ROOT, 'tests', 'matrix', 'cores.txt')) as table:
        lines = [re.sub(r'#.*', '', line).split() for line in table]
    return [line for line in lines if line]


def minor(version):
    return '.'.join(version.split('.')[:2])


def test_the_matrix_starts_at_the_oldest_core_claimed_and_skips_none():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as runtime:
        claimed = yaml.safe_load(runtime)['requires_ansible']
    oldest = re.match(r'>=\s*(\d+\.\d+)', claimed).group(1)
    minors = [minor(core) for core, dummy, dummy2 in rows()]
    assert minors[0] == oldest, (claimed, minors)
    numbers = [int(m.split('.')[1]) for m in minors]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), minors


def test_each_core_runs_on_a_python_it_supports_and_has_its_sanity_ignores():
    for core, python, community in rows():
        assert python in CONTROLLER_PYTHONS[minor(core)], (core, python)
        assert re.match(r'^\d+\.\d+\.\d+$', community), (core, community)
        assert os.path.isfile(os.path.join(ROOT, 'tests', 'sanity', 'ignore-%s.txt' % minor(core))), core


def test_the_compatibility_page_lists_every_row():
    with open(os.path.join(ROOT, 'docs', 'compatibility.md')) as page:
        text = page.read()
    for core, python, community in rows():
        assert re.search(r'^\| %s \| %s \| ansible %s \|' % (re.escape(minor(core)), re.escape(python),
                                                             re.escape(community)), text, re.M), core
