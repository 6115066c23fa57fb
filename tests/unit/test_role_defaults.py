# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role accepts its own defaults: Ansible validates a role's variables, defaults included,
against meta/argument_specs.yml when the role starts, so a default the spec refuses (a null where
the spec lists choices) fails every user who leaves the variable alone. Found on the lab VM: the
cloudstack_agent role failed without cloudstack_agent_lb_algorithm set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _spec(options):
    """An argument_specs.yml options block as ArgumentSpecValidator takes it."""
    out = {}
    for name, option in (options or {}).items():
        # Not 'required': only the defaults are checked here, not what the user must give.
        spec = dict((k, v) for k, v in option.items() if k in ('type', 'choices', 'elements', 'default', 'no_log'))
        if option.get('options'):
            spec['options'] = _spec(option['options'])
        out[name] = spec
    return out


def _roles():
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        role = path.split(os.sep)[-3]
        with open(path) as fh:
            entries = yaml.safe_load(fh)['argument_specs']
        for entry, spec in entries.items():
            defaults = os.path.join(ROOT, 'roles', role, 'defaults', entry + '.yml')
            if os.path.exists(defaults):
                yield role, entry, spec.get('options') or {}, defaults


@pytest.mark.parametrize('role, entry, options, defaults', list(_roles()), ids=lambda v: v if isinstance(v, str) else '')
def test_a_role_accepts_its_own_defaults(role, entry, options, defaults):
    with open(defaults) as fh:
        values = yaml.safe_load(fh) or {}
    # The role's documented variables; a templated default is checked when Ansible renders it.
    values = dict((k, v) for k, v in values.items() if k in options and '{{' not in str(v))
    result = ArgumentSpecValidator(_spec(options)).validate(values)
    assert result.error_messages == [], (role, entry)
