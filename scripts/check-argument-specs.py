#!/usr/bin/env python
"""Fail when a role's defaults and its meta/argument_specs.yml drift apart.

    scripts/check-argument-specs.py              every role under roles/
    scripts/check-argument-specs.py ROLE_DIR...  only these roles

For every role (and every entry point of its argument_specs, paired with defaults/<entry>.yml,
or defaults/main.yml when there is none):

* every variable of the defaults file is an option of the entry point, and is named
  ``<role>_...`` (internal variables, ``__<role>_...``, do not belong in defaults);
* every option that documents a ``default`` is in the defaults file with the same value
  (YAML-equal: ``"0"`` is not ``0``);
* a variable of the defaults file whose option documents no default is ``null``;
* a ``required`` option has no value in the defaults file;
* a role with a defaults file has a meta/argument_specs.yml.

Prints one line per problem, ``roles/NAME: VARIABLE: what is wrong``, and exits 1 when there is
any; exits 0 and prints a one-line summary otherwise.
"""

from __future__ import absolute_import, division, print_function

import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MISSING = object()


def same_type(one, other):
    """Exactly the same type (True is not 1, 1 is not 1.0)."""
    return isinstance(one, type(other)) and isinstance(other, type(one))


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def shown(path):
    """A path relative to the checkout when it is inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith('..') else rel


def show(value):
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().replace('\n...', '')


def check_entry(role_dir, role, entry, spec, problems):
    """Compare one entry point's options with its defaults file."""
    where = shown(role_dir)
    options = spec.get('options') or {}
    if not isinstance(options, dict):
        problems.append('%s: entry point %s: options is not a mapping' % (where, entry))
        return
    defaults_path = os.path.join(role_dir, 'defaults', '%s.yml' % entry)
    if not os.path.exists(defaults_path):
        defaults_path = os.path.join(role_dir, 'defaults', 'main.yml')
    defaults = load(defaults_path) if os.path.exists(defaults_path) else {}
    defaults = defaults or {}
    if not isinstance(defaults, dict):
        problems.append('%s: %s is not a mapping' % (where, shown(defaults_path)))
        return
    label = '' if entry == 'main' else ' (entry point %s)' % entry

    for name in sorted(defaults):
        if name.startswith('__'):
            problems.append('%s: %s: internal variable in defaults%s; put it in vars/' % (where, name, label))
            continue
        if not name.startswith(role + '_'):
            problems.append('%s: %s: defaults variable is not prefixed with %s_%s' % (where, name, role, label))
        if name not in options:
            problems.append('%s: %s: in defaults but not documented in meta/argument_specs.yml%s'
                            % (where, name, label))

    for name in sorted(options):
        option = options[name] or {}
        if not isinstance(option, dict):
            problems.append('%s: %s: option is not a mapping%s' % (where, name, label))
            continue
        value = defaults.get(name, MISSING)
        if option.get('required'):
            if value is not MISSING and value is not None:
                problems.append('%s: %s: required option has a value in defaults (%s)%s'
                                % (where, name, show(value), label))
            continue
        if 'default' in option:
            if value is MISSING:
                problems.append('%s: %s: argument_specs documents default %s but defaults does not set it%s'
                                % (where, name, show(option['default']), label))
            elif value != option['default'] or not same_type(value, option['default']):
                problems.append('%s: %s: default differs: argument_specs %s, defaults %s%s'
                                % (where, name, show(option['default']), show(value), label))
        elif value is not MISSING and value is not None:
            problems.append('%s: %s: defaults sets %s but argument_specs documents no default%s'
                            % (where, name, show(value), label))


def check_role(role_dir, problems):
    role = os.path.basename(os.path.normpath(role_dir))
    where = shown(role_dir)
    specs_path = None
    for candidate in ('argument_specs.yml', 'argument_specs.yaml'):
        path = os.path.join(role_dir, 'meta', candidate)
        if os.path.exists(path):
            specs_path = path
    has_defaults = os.path.isdir(os.path.join(role_dir, 'defaults')) and any(
        f.endswith(('.yml', '.yaml')) for f in os.listdir(os.path.join(role_dir, 'defaults')))
    if specs_path is None:
        if has_defaults:
            problems.append('%s: has defaults but no meta/argument_specs.yml' % where)
        return 0
    data = load(specs_path) or {}
    entries = data.get('argument_specs') if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not entries:
        problems.append('%s: meta/argument_specs.yml has no argument_specs entry points' % where)
        return 0
    for entry in sorted(entries):
        check_entry(role_dir, role, entry, entries[entry] or {}, problems)
    return len(entries)


def main(argv):
    if argv:
        role_dirs = [os.path.abspath(a) for a in argv]
    else:
        base = os.path.join(ROOT, 'roles')
        role_dirs = sorted(os.path.join(base, d) for d in os.listdir(base)
                           if os.path.isdir(os.path.join(base, d))) if os.path.isdir(base) else []
    problems = []
    entries = 0
    for role_dir in role_dirs:
        if not os.path.isdir(role_dir):
            problems.append('%s: not a role directory' % role_dir)
            continue
        entries += check_role(role_dir, problems)
    for problem in problems:
        print(problem)
    if problems:
        print('check-argument-specs: %d problem(s); defaults and meta/argument_specs.yml must agree' % len(problems),
              file=sys.stderr)
        return 1
    print('check-argument-specs: %d role(s), %d entry point(s): defaults and argument_specs agree'
          % (len(role_dirs), entries))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
