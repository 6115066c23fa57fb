# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kvm_network role's confirm.yml, run for real by ansible-playbook on a local stand-in host,
with the apply task's result as kvm_network_apply returns it: a confirmation made in the apply task
is kept (kvm_network_confirmed), a failed one fails the host with the proof that failed. Nothing
here changes the machine: the rescue's only host call reads a snapshot that does not exist."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APPLIED = {'changed': True, 'files': {'written': ['/etc/netplan/60-cloudstack-kvm.yaml'], 'created': [], 'removed': []},
           'activated': {'interfaces': ['cloudbr0', 'eth0']},
           'safe_apply': {'armed': True, 'id': '20261207T000000000000-1', 'path': '/nonexistent/cskl-test'}}

pytestmark = pytest.mark.controller


def run_play(tmp_path, play, *options):
    """``play`` run by ansible-playbook against the local stand-in host kvm1: (rc, output)."""
    (tmp_path / 'play.yml').write_text(json.dumps(play))
    (tmp_path / 'hosts.json').write_text(json.dumps({'all': {'hosts': {'kvm1': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.tmp', 'collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')] + list(options)
                          + ['-i', str(tmp_path / 'hosts.json'), str(tmp_path / 'play.yml')],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=300, check=False)
    return proc.returncode, proc.stdout


def confirm_yml(tmp_path, confirmed):
    result = dict(APPLIED, confirmed=confirmed) if confirmed is not None else dict(APPLIED)
    return run_play(tmp_path, [{'hosts': 'kvm1', 'gather_facts': False, 'tasks': [
        {'name': 'The role confirm.yml after an armed apply',
         'ansible.builtin.include_role': {'name': 'cloudstack_kvm.networking.kvm_network', 'tasks_from': 'confirm.yml'},
         'vars': {'kvm_network_result': result, 'kvm_network_confirm_timeout': 60}},
        {'name': 'Show what was kept', 'ansible.builtin.debug': {
            'msg': 'KEPT {{ kvm_network_confirmed.snapshot.status }} after {{ kvm_network_confirmed.attempts }}'}},
    ]}])


def test_a_confirmation_made_in_the_apply_task_is_kept(tmp_path):
    confirmed = {'changed': True, 'attempts': 2, 'snapshot': {'id': APPLIED['safe_apply']['id'], 'status': 'confirmed'}}
    rc, out = confirm_yml(tmp_path, confirmed)
    assert rc == 0, out
    assert 'KEPT confirmed after 2' in out, out
    assert 'rescued=0' in out and 'failed=0' in out, out


@pytest.mark.parametrize('confirmed, proof', [
    ({'failed': True, 'changed': False, 'reason': 'unreachable', 'attempts': 40,
      'msg': 'no new connection to the host within 50 s (last error: timed out)'},
     'no new connection to the host within 50 s.'),
    ({'failed': True, 'changed': False, 'reason': 'late', 'msg': 'snapshot 1 is rolled_back'},
     'no new connection to the host before its confirmation timeout (60 s) ran out.'),
    ({'failed': True, 'changed': False, 'reason': 'targets', 'msg': 'target 198.51.100.254 did not answer through cloudbr0'},
     'target 198.51.100.254 did not answer through cloudbr0.'),
    (None, 'the apply task made no confirmation.'),
])
def test_a_failed_confirmation_fails_the_host_naming_the_proof(tmp_path, confirmed, proof):
    rc, out = confirm_yml(tmp_path, confirmed)
    assert rc != 0, out
    assert 'host kvm1: the network change was not confirmed: ' + proof in out, out
    assert 'Applied: files /etc/netplan/60-cloudstack-kvm.yaml; re-activated: cloudbr0, eth0.' in out, out
    assert 'KEPT' not in out


def test_in_check_mode_a_change_that_would_be_armed_is_described(tmp_path):
    """confirm.yml is included for a change that would be armed in check mode too: it says how the
    change would be confirmed, and keeps and fails nothing."""
    result = {'changed': True, 'safe_apply': {'would_arm': True, 'armed': False,
                                              'disruption': {'disruptive': True, 'touched': ['eth0', 'cloudbr0']}}}
    play = [{'hosts': 'kvm1', 'gather_facts': False, 'tasks': [
        {'name': 'The role confirm.yml after an apply in check mode',
         'ansible.builtin.include_role': {'name': 'cloudstack_kvm.networking.kvm_network', 'tasks_from': 'confirm.yml'},
         'vars': {'kvm_network_result': result, 'kvm_network_confirm_timeout': 60,
                  '__kvm_network_confirm_targets': [{'target': '198.51.100.1'}]}},
    ]}]
    rc, output = run_play(tmp_path, play, '--check')
    out = ' '.join(output.split())
    assert rc == 0, output
    assert 'The change would be commit-confirmed' in out and '198.51.100.1' in out, output
    assert 'It touches the path Ansible connects through (eth0, cloudbr0)' in out, output
    assert 'failed=0' in out and 'rescued=0' in out, output
