# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX surveys in examples/awx/surveys are what scripts/awx-surveys.py makes of the roles'
argument specs (no drift), and AWX would take each of them; the checker refuses what AWX refuses."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location('awx_surveys', os.path.join(ROOT, 'scripts', 'awx-surveys.py'))
awx_surveys = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(awx_surveys)


def test_the_written_surveys_are_the_roles_argument_specs():
    assert awx_surveys.main(['--check']) == 0


@pytest.mark.parametrize('name', sorted(awx_surveys.TEMPLATES))
def test_awx_would_take_every_survey(name):
    with open(os.path.join(awx_surveys.OUT, name + '.json')) as fh:
        spec = json.load(fh)
    assert awx_surveys.validate_survey(spec) == []
    for item in spec['spec']:
        assert '(' not in item['question_description'].split(' ')[0], 'no documentation markup'


def test_a_bool_becomes_a_choice_and_an_int_an_integer():
    by_variable = dict((q['variable'], q) for q in awx_surveys.survey('converge')['spec'])
    assert by_variable['kvm_network_safe_apply']['type'] == 'multiplechoice'
    assert by_variable['kvm_network_safe_apply']['choices'] == ['true', 'false']
    assert by_variable['kvm_network_confirm_timeout'] == dict(by_variable['kvm_network_confirm_timeout'],
                                                              type='integer', default=120)


@pytest.mark.parametrize('change, problem', [
    (lambda s: s.pop('spec'), "Field 'spec' is missing from survey spec."),
    (lambda s: s.update(spec=[]), "'spec' doesn't contain any items."),
    (lambda s: s['spec'].append(copy.deepcopy(s['spec'][0])), "'variable' 'kvm_network_confirm_timeout' duplicated"),
    (lambda s: s['spec'][0].update(default='120'), "Default value '120' in survey question 0 expected to be integer."),
    (lambda s: s['spec'][0].update(type='number'), "'number' in survey question 0 is not an allowed question type."),
    (lambda s: s['spec'][2].pop('choices'), 'Survey question 2 of type multiplechoice must specify choices.'),
    (lambda s: s['spec'][2].update(default='maybe'), 'Default choice must be answered from the choices listed.'),
    (lambda s: s['spec'][0].pop('required'), "'required' missing from survey question 0"),
    (lambda s: s['spec'][0].update(min='0'), 'The min limit in survey question 0 expected to be integer.'),
])
def test_the_checker_refuses_what_awx_refuses(change, problem):
    spec = awx_surveys.survey('converge')
    change(spec)
    assert any(p.startswith(problem) for p in awx_surveys.validate_survey(spec)), awx_surveys.validate_survey(spec)


def test_the_awx_as_code_example_refers_to_what_exists():
    import yaml
    with open(os.path.join(ROOT, 'examples', 'awx', 'awx-as-code.yml')) as fh:
        play = yaml.safe_load(fh)[0]
    templates = play['vars']['awx_templates']
    for template in templates:
        assert os.path.exists(os.path.join(ROOT, template['playbook'])), template
        if template['survey'] is not None:
            assert os.path.exists(os.path.join(awx_surveys.OUT, template['survey'] + '.json')), template
    assert sorted(t['survey'] for t in templates if t['survey']) == sorted(awx_surveys.TEMPLATES)
    workflow = [t for t in play['tasks'] if 'awx.awx.workflow_job_template' in t][0]['awx.awx.workflow_job_template']
    nodes = dict((n['identifier'], n) for n in workflow['workflow_nodes'])
    names = set(t['name'] for t in templates)
    for node in nodes.values():
        job = node['unified_job_template']
        assert job['type'] == 'workflow_approval' or job['name'] in names, job
        for edge in ('success_nodes', 'failure_nodes'):
            for target in (node.get('related') or {}).get(edge, []):
                assert target['identifier'] in nodes
    assert [n['identifier'] for n in nodes['converge']['related']['failure_nodes']] == ['rollback']
