# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dynamic includes in the roles and playbooks: tags given to an include_tasks or include_role apply
to the include only, so ``--tags`` would run the include and none of the tasks in it unless the
include passes its tags on (``apply: {tags: ...}``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDES = ('ansible.builtin.include_tasks', 'ansible.builtin.include_role')


def _tasks(items):
    for task in items or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ('block', 'rescue', 'always', 'tasks', 'pre_tasks', 'post_tasks', 'handlers'):
            yield from _tasks(task.get(key))


def _includes():
    files = sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml'))
                   + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))
    found = []
    for path in files:
        with open(path) as handle:
            for task in _tasks(yaml.safe_load(handle)):
                action = next((key for key in INCLUDES if key in task), None)
                if action:
                    found.append(pytest.param(task, action, id='%s: %s' % (os.path.relpath(path, ROOT), task.get('name'))))
    return found


def test_there_are_includes_to_check():
    assert len(_includes()) >= 5


@pytest.mark.parametrize('task, action', _includes())
def test_a_tagged_include_passes_its_tags_to_what_it_includes(task, action):
    tags = task.get('tags') or []
    if isinstance(tags, str):
        tags = [tags]
    if not tags or tags == ['always']:
        return
    args = task[action] if isinstance(task[action], dict) else {}
    applied = (args.get('apply') or {}).get('tags') or []
    assert set(tags) <= set(applied), (
        '%s is tagged %s but its tasks are not (--tags %s would run the include and nothing in it): '
        'add apply: {tags: %s}' % (task.get('name'), tags, tags[0], tags))
