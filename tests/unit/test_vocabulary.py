# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One vocabulary (_common.py): the systems, the interface-name limit, the VLAN ranges, the bond
and LACP modes. Every argument spec and every DOCUMENTATION or role argument spec that lists one
of them lists it exactly; the code that dispatches on systems knows exactly these."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import _common as vocabulary
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.applier import SYSTEMS
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import normalise, values
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import renderers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# option name -> the vocabulary its choices must be, wherever it is documented or specified.
WORDS = {
    'renderer': list(vocabulary.RENDERERS),
    'kvm_network_renderer': list(vocabulary.RENDERERS),
    'kvm_network_verify_renderer': list(vocabulary.RENDERERS),
    'lacp': list(vocabulary.LACP_MODES),
    'bond_mode': list(vocabulary.OVS_BOND_MODES),
}


def documented_options(doc, prefix=''):
    """(name, spec) of every option of a DOCUMENTATION block, suboptions included."""
    for name, spec in (doc or {}).items():
        yield name, spec
        yield from documented_options(spec.get('suboptions'), prefix + name + '.')


def module_docs():
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))):
        with open(path) as fh:
            text = fh.read()
        start = text.index("DOCUMENTATION = r'''") + len("DOCUMENTATION = r'''")
        yield os.path.basename(path), yaml.safe_load(text[start:text.index("'''", start)])


def role_specs():
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        with open(path) as fh:
            for entry in yaml.safe_load(fh)['argument_specs'].values():
                yield path.split(os.sep)[-3], entry.get('options') or {}


def test_the_systems_are_the_ones_every_stage_dispatches_on():
    assert set(SYSTEMS) == set(vocabulary.RENDERERS)
    assert set(renderers.RENDERERS) == set(vocabulary.RENDERERS)
    assert normalise.RENDERERS == ('auto',) + vocabulary.RENDERERS
    assert values.IFNAME_MAX == vocabulary.IFNAME_MAX == 15
    for system in vocabulary.RENDERERS:
        assert os.path.exists(os.path.join(ROOT, 'plugins', 'module_utils', '_render', system + '.py'))
        assert os.path.exists(os.path.join(ROOT, 'plugins', 'module_utils', '_apply', system + '.py'))


@pytest.mark.parametrize('module, doc', list(module_docs()), ids=lambda v: v if isinstance(v, str) else '')
def test_module_documentation_lists_the_vocabulary(module, doc):
    for name, spec in documented_options(doc.get('options')):
        if name in WORDS and 'choices' in spec:
            choices = [str(c) for c in spec['choices']]
            # A renderer option may also take the model's 'auto' (chosen by the host's OS).
            if name == 'renderer' and choices[:1] == ['auto']:
                choices = choices[1:]
            assert choices == WORDS[name], (module, name)


def test_the_vocabulary_is_checked_somewhere():
    """The table above is not dead: each word is listed by at least one module or role."""
    seen = set()
    for module, doc in module_docs():
        seen.update(name for name, spec in documented_options(doc.get('options')) if name in WORDS and 'choices' in spec)
    for role, options in role_specs():
        seen.update(name for name in options if name in WORDS and 'choices' in options[name])
    assert {'renderer', 'kvm_network_renderer', 'lacp', 'bond_mode'} <= seen


@pytest.mark.parametrize('role, options', list(role_specs()), ids=lambda v: v if isinstance(v, str) else '')
def test_role_argument_specs_list_the_vocabulary(role, options):
    for name, spec in options.items():
        if name in WORDS and 'choices' in spec:
            assert [str(c) for c in spec['choices']] == WORDS[name], (role, name)


def test_module_argument_specs_use_the_vocabulary():
    from ansible_collections.cloudstack_kvm.networking.plugins.modules import netplan_bridge, ovs_bond
    spec = ovs_bond.argument_spec()
    assert spec['lacp']['choices'] == list(vocabulary.LACP_MODES)
    assert spec['bond_mode']['choices'] == list(vocabulary.OVS_BOND_MODES)
    assert netplan_bridge.LACP_MODES == vocabulary.LACP_MODES
