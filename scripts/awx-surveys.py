#!/usr/bin/env python
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform job template surveys, generated from the roles' argument specs.

    python scripts/awx-surveys.py            write examples/awx/surveys/<template>.json
    python scripts/awx-surveys.py --check    fail when a written survey differs from what the specs give

Each job template asks the variables listed for it in TEMPLATES, each made a survey question from
its entry in roles/<role>/meta/argument_specs.yml (description, type, default, choices), so a
survey cannot drift from the role it drives: tests/unit/test_awx_surveys.py runs --check. Every
survey is also checked the way AWX checks one when it is posted (validate_survey, after AWX's
JobTemplateSurveySpec._validate_spec_data in awx/api/views: name, description and a non-empty
spec; each question's question_name, variable and required; unique variables; an allowed type; a
default of that type; integer min and max; choices for the choice types, a default among them).
"""

import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'examples', 'awx', 'surveys')

# AWX's question types and the Python type a default must have (JobTemplateSurveySpec.ALLOWED_TYPES).
ALLOWED_TYPES = {'text': str, 'textarea': str, 'password': str, 'multiplechoice': str, 'multiselect': str,
                 'integer': int, 'float': float}

# The job templates of examples/awx/awx-as-code.yml and the role variables each asks for.
TEMPLATES = {
    'converge': {
        'description': 'site.yml: prepare the hosts, configure their network under commit-confirm, verify it',
        'variables': [('kvm_network', 'kvm_network_confirm_timeout'), ('kvm_network', 'kvm_network_apply_timeout'),
                      ('kvm_network', 'kvm_network_safe_apply'), ('kvm_network', 'kvm_network_restart_bridges_with_guests'),
                      ('kvm_host', 'kvm_host_install_packages'), ('kvm_network_verify', 'kvm_network_verify_fail')],
    },
    'preview': {
        'description': 'site.yml --check --diff: what a converge would change, nothing touched',
        'variables': [('kvm_network', 'kvm_network_renderer')],
    },
    'verify': {
        'description': 'verify.yml: compare each host with its model, ping through the bridges',
        'variables': [('kvm_network_verify', 'kvm_network_verify_fail'),
                      ('kvm_network_verify', 'kvm_network_verify_summary')],
    },
    'render': {
        'description': 'render.yml: every host\'s files on the controller, no host contacted',
        'variables': [('kvm_network', 'kvm_network_renderer')],
    },
    'libvirt_networks': {
        'description': 'libvirt_networks.yml: the hosts\' libvirt networks, changed live where libvirt can',
        'variables': [('kvm_libvirt', 'kvm_libvirt_allow_restart'), ('kvm_libvirt', 'kvm_libvirt_prune')],
    },
}


def role_options(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as fh:
        return yaml.safe_load(fh)['argument_specs']['main']['options']


def question(role, variable):
    """One survey question from a role variable's argument spec."""
    spec = role_options(role)[variable]
    text = spec['description']
    text = ' '.join(text) if isinstance(text, list) else text
    # Ansible's documentation markup (O(option), V(value), C(code)...) read as plain text in AWX's form.
    text = re.sub(r'\b[OVCIBMRPLU]\(([^()]*)\)', lambda m: m.group(1).split('=')[0] if m.group(0)[0] == 'O' and
                  '=' not in m.group(1) else m.group(1), text)
    item = {'question_name': variable.replace('_', ' '), 'question_description': text[:900],
            'variable': variable, 'required': False}
    kind, default = spec.get('type', 'str'), spec.get('default')
    if kind == 'bool':
        # AWX has no boolean question: a choice of the two words Ansible reads as booleans.
        item.update(type='multiplechoice', choices=['true', 'false'],
                    default='true' if default else 'false')
    elif kind == 'int':
        item.update(type='integer', min=0, max=86400)
        if default is not None:
            item['default'] = int(default)
    elif spec.get('choices'):
        item.update(type='multiplechoice', choices=[str(c) for c in spec['choices']])
        if default is not None:
            item['default'] = str(default)
    elif kind in ('str', 'path'):
        item['type'] = 'text'
        if default is not None:
            item['default'] = str(default)
    else:
        raise ValueError('%s of role %s is a %s: a survey has no question for it (leave it to the inventory)'
                         % (variable, role, kind))
    return item


def survey(name):
    template = TEMPLATES[name]
    return {'name': '%s' % name, 'description': template['description'],
            'spec': [question(role, variable) for role, variable in template['variables']]}


def validate_survey(spec):
    """The problems AWX would answer a POST of ``spec`` with (empty when it would take it)."""
    problems = []
    for field, kind in (('name', str), ('description', str), ('spec', list)):
        if field not in spec:
            problems.append("Field '%s' is missing from survey spec." % field)
        elif not isinstance(spec[field], kind):
            problems.append("Expected %s for field '%s'." % (kind.__name__, field))
    if problems:
        return problems
    if not spec['spec']:
        return ["'spec' doesn't contain any items."]
    seen = set()
    for idx, item in enumerate(spec['spec']):
        if not isinstance(item, dict):
            problems.append('Survey question %d is not a json object.' % idx)
            continue
        for field in ('type', 'question_name', 'variable', 'required'):
            if field not in item:
                problems.append("'%s' missing from survey question %d" % (field, idx))
            elif not isinstance(item[field], bool if field == 'required' else str):
                problems.append("'%s' in survey question %d has the wrong type." % (field, idx))
        if item.get('variable') in seen:
            problems.append("'variable' '%s' duplicated in survey question %d." % (item['variable'], idx))
        seen.add(item.get('variable'))
        qtype = item.get('type')
        if qtype not in ALLOWED_TYPES:
            problems.append("'%s' in survey question %d is not an allowed question type." % (qtype, idx))
            continue
        default = item.get('default', '')
        if default != '' and not isinstance(default, ALLOWED_TYPES[qtype]) or isinstance(default, bool):
            problems.append('Default value %r in survey question %d expected to be %s.' % (default, idx, qtype))
        for key in ('min', 'max'):
            if item.get(key) is not None and not isinstance(item[key], int):
                problems.append('The %s limit in survey question %d expected to be integer.' % (key, idx))
        if qtype in ('multiplechoice', 'multiselect'):
            choices = item.get('choices')
            if choices is None:
                problems.append('Survey question %d of type %s must specify choices.' % (idx, qtype))
                continue
            choices = choices.splitlines() if isinstance(choices, str) else choices
            defaults = default.splitlines() if isinstance(default, str) else default
            if qtype == 'multiplechoice' and len(defaults) > 1:
                problems.append('Multiple Choice (Single Select) can only have one default value.')
            if any(d not in choices for d in defaults):
                problems.append('Default choice must be answered from the choices listed.')
        if isinstance(default, str) and default.startswith('$encrypted$'):
            problems.append('$encrypted$ is a reserved keyword, may not be used for new default in position %d.' % idx)
    return problems


def rendered(name):
    return json.dumps(survey(name), indent=2, sort_keys=True) + '\n'


def main(argv):
    check = '--check' in argv
    stale = []
    for name in sorted(TEMPLATES):
        problems = validate_survey(survey(name))
        if problems:
            print('survey %s would be refused by AWX: %s' % (name, '; '.join(problems)))
            return 1
        path = os.path.join(OUT, name + '.json')
        text = rendered(name)
        current = open(path).read() if os.path.exists(path) else None
        if current == text:
            continue
        if check:
            stale.append(path)
            continue
        os.makedirs(OUT, exist_ok=True)
        with open(path, 'w') as fh:
            fh.write(text)
        print('wrote %s' % os.path.relpath(path, ROOT))
    if stale:
        print('stale (run python scripts/awx-surveys.py): %s' % ', '.join(os.path.relpath(p, ROOT) for p in stale))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
