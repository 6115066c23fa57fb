# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No dead code in plugins/: vulture finds no function, class, method, constant or import that
nothing uses. What Ansible itself reads by name (module docs, plugin classes, action plugin flags)
and the throw-away names of unpacking are the only exceptions, listed below with why."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import vulture

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'plugins')

# Read by Ansible, not by our code.
READ_BY_ANSIBLE = {'DOCUMENTATION', 'EXAMPLES', 'RETURN', 'TRANSFERS_FILES', 'ModuleDocFragment',
                   'FilterModule', 'filters', 'INFO_MODULE', 'FACTS', 'PORT'}
# Not dead: ``dummy*`` are unpacking's unused halves (ansible-test's pylint refuses ``_``);
# ``__defaults__`` gives a namedtuple defaults on Python 3.6; compare.KINDS is the documented list
# of difference kinds that tests/unit/plugins/module_utils/test_verify.py holds every one to;
# ``optionxform`` is the hook configparser calls on every key (set to keep keyfile keys' case).
NOT_DEAD = {'__defaults__', 'KINDS', 'optionxform'}


def test_plugins_have_no_dead_code():
    finder = vulture.Vulture()
    finder.scavenge([PLUGINS])
    dead = ['%s:%d %s' % (os.path.relpath(str(item.filename), PLUGINS), item.first_lineno, item.message)
            for item in finder.get_unused_code(min_confidence=60)
            if item.name not in READ_BY_ANSIBLE | NOT_DEAD and not item.name.startswith('dummy')]
    assert dead == [], 'unused code in plugins/ (remove it, or say here why Ansible reads it):\n' + '\n'.join(dead)
