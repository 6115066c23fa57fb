# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layout docs/architecture.md describes, held against the code.

* Each module ships (in its AnsiballZ payload) the module_utils it imports, transitively: the
  closure is computed here from the import statements, the way ansible-core's module payload
  builder follows them. kvm_network_apply must not ship a renderer (rendering happens on the
  controller); host_network_facts ships the facts reader and the Open vSwitch client only.
* module_utils is grouped by stage, and no file grows past the size a reader can hold.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, 'plugins')
PREFIX = 'ansible_collections.cloudstack_kvm.networking.plugins.module_utils'
STAGES = ('_base', '_model', '_render', '_apply', '_confirm', '_ovs', '_facts', '_verify', '_cloudstack', '_host',
          '_libvirt')
MAX_LINES = 600


def _imports(path):
    """The collection's module_utils modules one file imports (dotted names below module_utils)."""
    with open(path) as fh:
        tree = ast.parse(fh.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            base = node.module[len(PREFIX):].lstrip('.')
            for alias in node.names:
                # "from PREFIX._apply import applier" imports a module; "from PREFIX._common import x" a name.
                candidate = (base + '.' + alias.name).lstrip('.')
                if os.path.exists(_path_of(candidate)):
                    found.add(candidate)
                elif base:
                    found.add(base)
    return found


def _path_of(dotted):
    return os.path.join(PLUGINS, 'module_utils', *dotted.split('.')) + '.py'


def payload(module):
    """Every module_utils module the module ships, transitively."""
    todo = list(_imports(os.path.join(PLUGINS, 'modules', module + '.py')))
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert os.path.exists(_path_of(name)), '%s imports %s, which does not exist' % (module, name)
        todo.extend(_imports(_path_of(name)))
    return seen


def test_the_apply_module_ships_no_renderer():
    shipped = payload('kvm_network_apply')
    assert not [m for m in shipped if m.startswith('_render')], sorted(shipped)
    # What it does ship: the applier, the facts reader drift detection uses, the comparison, the OVS reconcile.
    for needed in ('_apply.applier', '_confirm.safe', '_facts.reader', '_verify.compare', '_ovs.state', '_model.normalise'):
        assert needed in shipped


def test_the_facts_module_ships_the_reader_only():
    shipped = payload('host_network_facts')
    assert set(m.split('.')[0] for m in shipped) == {'_base', '_common', '_facts', '_ovs'}, sorted(shipped)
    assert sorted(m for m in shipped if m.startswith('_base.')) == ['_base.command', '_base.probe']
    assert not [m for m in shipped if m.startswith('_ovs.') and m not in ('_ovs.client', '_ovs.db', '_ovs.snapshot')]


def test_the_preparation_module_ships_host_preparation_and_the_host_layer_only():
    shipped = payload('kvm_host_prepare')
    assert set(m.split('.')[0] for m in shipped if not m.startswith('_host.')) == {'_common', '_base'}, sorted(shipped)


@pytest.mark.parametrize('module', ['ovs_bond', 'ovs_bridge', 'ovs_port'])
def test_ovs_modules_ship_open_vswitch_only(module):
    shipped = payload(module)
    assert set(m.split('.')[0] for m in shipped) <= {'_base', '_common', '_diff', '_ovs'}, sorted(shipped)


def test_module_utils_is_grouped_by_stage():
    top = sorted(os.path.basename(p) for p in glob.glob(os.path.join(PLUGINS, 'module_utils', '*')))
    assert top == sorted(['_common.py', '_diff.py'] + list(STAGES)), top
    # Each system's renderer and activation side by side, under the same name.
    for system in ('netplan', 'ifupdown', 'networkmanager', 'ifcfg'):
        assert os.path.exists(_path_of('_render.' + system)) and os.path.exists(_path_of('_apply.' + system))


def test_no_module_utils_file_is_too_long():
    long_files = {}
    for path in glob.glob(os.path.join(PLUGINS, 'module_utils', '**', '*.py'), recursive=True):
        with open(path) as fh:
            count = len(fh.read().splitlines())
        if count > MAX_LINES:
            long_files[os.path.relpath(path, ROOT)] = count
    assert not long_files


# What each stage may import (besides _common, _diff and the host layer _base, below them all):
# downwards only. The controller renders and the host applies, so _apply never imports _render;
# facts and verify import neither.
STAGE_IMPORTS = {
    '_base': set(),
    '_model': set(),
    '_render': {'_model', '_ovs'},
    '_apply': {'_model', '_facts', '_verify', '_ovs'},
    # Commit-confirm wraps the apply core (it runs whole_host detached and rolls back with each
    # system's own activation); the apply core never knows about it.
    '_confirm': {'_apply', '_model', '_facts', '_verify', '_ovs'},
    '_ovs': set(),
    '_facts': {'_ovs'},
    '_verify': set(),
    # The agent's devices are looked at with the facts reader and the Open vSwitch client.
    '_cloudstack': {'_facts', '_ovs', '_model'},
    '_host': set(),
    # Guest networking: libvirt networks checked with the model's value readers, against its bridges.
    '_libvirt': {'_model'},
}


@pytest.mark.parametrize('stage', STAGES)
def test_stages_import_downwards_only(stage):
    found = set()
    for path in glob.glob(os.path.join(PLUGINS, 'module_utils', stage, '*.py')):
        found.update(name.split('.')[0] for name in _imports(path))
    assert found - {stage, '_common', '_diff', '_base'} <= STAGE_IMPORTS[stage], sorted(found)
    if stage == '_base':
        assert found <= {'_base', '_common'}, sorted(found)


def test_every_command_is_run_by_the_host_layer():
    """No run_command, subprocess or os.system anywhere in plugins/ but the host layer's
    _base/command.py (and the one place that gives the detached apply its run_command, which
    hands the call to the host layer's spawn)."""
    offenders = []
    for path in glob.glob(os.path.join(PLUGINS, '**', '*.py'), recursive=True):
        rel = os.path.relpath(path, PLUGINS)
        if rel == os.path.join('module_utils', '_base', 'command.py'):
            continue
        with open(path) as fh:
            tree = ast.parse(fh.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and (
                    node.attr in ('run_command', 'Popen', 'check_output', 'check_call')
                    or (node.attr in ('system', 'popen') and isinstance(node.value, ast.Name) and node.value.id == 'os')):
                offenders.append('%s:%d %s' % (rel, node.lineno, node.attr))
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, 'module', None) or '']
                if 'subprocess' in names:
                    offenders.append('%s:%d import subprocess' % (rel, node.lineno))
    assert offenders == []


def test_the_applier_asks_its_system_and_never_tests_which_one_it_is():
    """Each system's activation is behind the System interface: the applier holds no isinstance of
    a system, no test of a system's name, and looks into no command's argv."""
    path = os.path.join(PLUGINS, 'module_utils', '_apply', 'applier.py')
    with open(path) as fh:
        tree = ast.parse(fh.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'isinstance':
            found.append('line %d: isinstance(%s)' % (node.lineno, ast.unparse(node.args[1])))
        if isinstance(node, ast.Subscript) and getattr(node.value, 'id', None) == 'argv':
            found.append('line %d: %s' % (node.lineno, ast.unparse(node)))
        if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and c.value in SYSTEM_NAMES
                                                 for c in node.comparators):
            found.append('line %d: %s' % (node.lineno, ast.unparse(node)))
    assert found == []


SYSTEM_NAMES = ('netplan', 'ifupdown', 'networkmanager', 'ifcfg')


def _architecture_map():
    """{folder: text of its lines} from the map in docs/architecture.md (a folder's entries run
    from the line that starts with ' _folder/' to the next such line), and the whole text."""
    with open(os.path.join(ROOT, 'docs', 'architecture.md')) as fh:
        text = fh.read()
    drawing = text.split('```', 2)[1]
    folders = {}
    current = None
    for line in drawing.splitlines():
        head = line[:14].strip()
        if line.startswith(' _') and head.endswith('/'):
            current = head.rstrip('/')
        elif line.startswith(' _') or line.startswith(' plugins/') or not line.strip():
            current = None
        if current:
            folders[current] = folders.get(current, '') + line + '\n'
    return folders, text


def test_docs_architecture_names_every_file():
    """docs/architecture.md draws the data path and names every plugin file on it, each
    module_utils file under its own folder."""
    folders, text = _architecture_map()
    missing = []
    for path in sorted(glob.glob(os.path.join(PLUGINS, '**', '*.py'), recursive=True)):
        rel = os.path.relpath(path, PLUGINS)
        parts = rel.split(os.sep)
        if parts[0] == 'modules':
            continue    # the modules have their own pages (docs/modules/)
        if parts[0] == 'module_utils' and len(parts) == 3:
            found = parts[2] in folders.get(parts[1], '')
        elif parts[0] == 'module_utils':
            found = parts[1] in text
        else:
            found = rel.replace(os.sep, '/') in text or ('plugins/%s/%s' % (parts[0], ' ')) in text \
                or parts[-1] in text
        if not found:
            missing.append(rel)
    assert missing == []
