# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dependency files say what the code imports: a new import with no entry fails here.

- Controller side (meta/ee-requirements.txt, what an execution environment installs): every
  import outside the standard library, ansible-core and the collections in plugins/ and the roles'
  plugins, modules excepted.
- Managed host (each module's DOCUMENTATION ``requirements``): a module's own import outside the
  standard library is guarded (try/except ImportError, so the module fails with a message, not a
  traceback) and named in its requirements.
- ee/execution-environment.yml installs the ansible-core and ansible-runner this project tests with
  (requirements-dev.txt), and ee/build.sh gives it the collections galaxy.yml depends on.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Import name -> the distribution that provides it, where they differ.
DISTRIBUTIONS = {'yaml': 'PyYAML', 'libvirt': 'libvirt-python'}
# What every Ansible controller has: ansible-core and its own dependencies.
ANSIBLE = {'ansible', 'ansible_collections', '__future__', 'jinja2', 'yaml', 'cryptography', 'packaging',
           'resolvelib'}


def stdlib():
    names = set(getattr(sys, 'stdlib_module_names', ()))
    return names | {'pipes', 'imp'}    # gone from 3.13's list, still imported with a fallback


def third_party_imports(source):
    """{top-level name: guarded} of the imports in ``source`` outside the standard library and
    Ansible; ``guarded`` when every such import sits in a try whose handler catches ImportError."""
    tree = ast.parse(source)
    guarded_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is not None and 'ImportError' in ast.dump(h.type) for h in node.handlers):
            for inner in node.body:
                for sub in ast.walk(inner):
                    guarded_nodes.add(id(sub))
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split('.')[0]
            if top in stdlib() or (top in ANSIBLE and top != 'yaml'):
                continue
            found[top] = found.get(top, True) and id(node) in guarded_nodes
    return found


def requirement_names(path):
    names = set()
    for line in path.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            names.add(re.split(r'[<>=!~\[; ]', line, maxsplit=1)[0].lower())
    return names


def controller_files():
    for path in sorted(REPO.glob('plugins/**/*.py')) + sorted(REPO.glob('roles/*/*_plugins/*.py')):
        if 'plugins/modules/' not in path.as_posix():
            yield path


def missing_controller_entries(files, requirements):
    """[(file, import, distribution)] with no line in ``requirements``."""
    wanted = requirement_names(requirements)
    out = []
    for path in files:
        for name in third_party_imports(path.read_text()):
            dist = DISTRIBUTIONS.get(name, name)
            if dist.lower() not in wanted:
                out.append((path.name, name, dist))
    return out


def test_every_controller_import_has_an_entry_in_the_ee_requirements():
    assert missing_controller_entries(controller_files(), REPO / 'meta' / 'ee-requirements.txt') == []


def test_a_new_import_with_no_entry_fails(tmp_path):
    plugin = tmp_path / 'new_filter.py'
    plugin.write_text('import json\nimport netaddr\nfrom yaml import safe_load\n')
    requirements = tmp_path / 'ee-requirements.txt'
    requirements.write_text('# comment\nPyYAML>=5\n')
    assert missing_controller_entries([plugin], requirements) == [('new_filter.py', 'netaddr', 'netaddr')]
    requirements.write_text('PyYAML\nnetaddr  # addresses\n')
    assert missing_controller_entries([plugin], requirements) == []


@pytest.mark.parametrize('path', sorted(REPO.glob('plugins/modules/*.py')), ids=lambda p: p.name)
def test_a_modules_own_imports_are_guarded_and_in_its_requirements(path):
    source = path.read_text()
    found = third_party_imports(source)
    if not found:
        return
    doc = yaml.safe_load(re.search(r"DOCUMENTATION = r?'''(.*?)'''", source, re.S).group(1))
    stated = ' '.join(doc.get('requirements') or []).lower()
    for name, guarded in found.items():
        assert guarded, '%s: import %s is not in a try/except ImportError (the module would die with a traceback ' \
                        'on a host without it)' % (path.name, name)
        assert name.lower() in stated, '%s: import %s is not named in DOCUMENTATION requirements' % (path.name, name)


def test_guarded_and_unguarded_imports_are_told_apart():
    found = third_party_imports('try:\n    import libvirt\nexcept ImportError:\n    libvirt = None\nimport netaddr\n'
                                'import os\nfrom ansible.module_utils.basic import AnsibleModule\n')
    assert found == {'libvirt': True, 'netaddr': False}


def pins():
    out = {}
    for line in (REPO / 'requirements-dev.txt').read_text().splitlines():
        match = re.match(r'^([A-Za-z0-9_.-]+)==(\S+)', line)
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def test_the_ee_installs_the_ansible_core_and_runner_the_project_tests_with():
    ee = yaml.safe_load((REPO / 'ee' / 'execution-environment.yml').read_text())
    assert ee['version'] == 3
    deps = ee['dependencies']
    assert deps['ansible_core']['package_pip'] == 'ansible-core==%s' % pins()['ansible-core']
    assert deps['ansible_runner']['package_pip'] == 'ansible-runner==%s' % pins()['ansible-runner']
    meta = yaml.safe_load((REPO / 'meta' / 'execution-environment.yml').read_text())
    for kind in ('python', 'system'):
        assert (REPO / meta['dependencies'][kind]).is_file(), meta['dependencies'][kind]


def test_the_collections_the_ee_build_copies_satisfy_galaxy_yml():
    """ee/build.sh gives the image galaxy.yml's dependencies from the PyPI ansible package's
    folders (Galaxy is unreachable): each must be there, in a version galaxy.yml accepts."""
    from ansible.module_utils.compat.version import LooseVersion
    import ansible_collections
    site = Path(list(ansible_collections.__path__)[-1])
    galaxy = yaml.safe_load((REPO / 'galaxy.yml').read_text())
    assert 'ee' in galaxy['build_ignore'], "the EE recipe is the project's, not the collection's"
    for name, spec in galaxy['dependencies'].items():
        manifest = site.joinpath(*name.split('.')) / 'MANIFEST.json'
        assert manifest.is_file(), '%s is not in the ansible package (%s)' % (name, site)
        version = yaml.safe_load(manifest.read_text())['collection_info']['version']
        for clause in spec.split(','):
            op, bound = re.match(r'\s*(>=|<=|==|>|<|!=)?\s*(\S+)', clause).groups()
            if bound == '*':
                continue
            have, want = LooseVersion(version), LooseVersion(bound)
            assert {'>=': have >= want, '>': have > want, '<=': have <= want, '<': have < want,
                    '!=': have != want, '==': have == want, None: have == want}[op], (name, version, spec)


def test_ansible_builder_reads_the_collections_ee_dependencies(tmp_path):
    """What ansible-builder's introspection (the step that turns an installed collection's
    meta/execution-environment.yml into the image's packages) finds in this collection."""
    introspect = pytest.importorskip('ansible_builder._target_scripts.introspect')
    tree = tmp_path / 'ansible_collections' / 'cloudstack_kvm'
    tree.mkdir(parents=True)
    (tree / 'networking').symlink_to(REPO)
    found = introspect.process(data_dir=str(tmp_path))
    assert found['system']['cloudstack_kvm.networking'] == ['openssh-client [platform:dpkg]',
                                                            'openssh-clients [platform:rpm]']
    assert [line.lower() for line in found['python']['cloudstack_kvm.networking']] == \
        sorted(requirement_names(REPO / 'meta' / 'ee-requirements.txt'))
