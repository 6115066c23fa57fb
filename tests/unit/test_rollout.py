# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/rollout.yml's waves, run for real by ansible-playbook against local stand-in hosts
whose network change is a stand-in task file (tests/unit/fixtures/rollout): a rollback in the
second wave stops the rollout, the first wave stays as it is, later waves are not touched, the
summary names every host; maintenance steps run only for hosts whose network changes, in order.
(The same with a real rollback runs on the lab: tests/lab/test_rollout_waves.py.)"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'rollout')
HOSTS = ['kvm%02d' % n for n in range(1, 8)]


def rollout(tmp_path, waves, breaks=(), unchanged=(), hooks=False):
    inventory = {'all': {'hosts': dict((h, {'kvm_network': {'bridges': {}}}) for h in HOSTS),
                         'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}
    inventory['all']['hosts']['kvm07'] = {}        # no model: skipped
    (tmp_path / 'hosts.json').write_text(json.dumps(inventory))
    log = tmp_path / 'log'
    extra = {'kvm_network_rollout_waves': waves, 'kvm_network_rollout_change': os.path.join(FIXTURES, 'change.yml'),
             'rollout_log': str(log), 'rollout_breaks': list(breaks), 'rollout_unchanged': list(unchanged)}
    if hooks:
        extra.update(kvm_network_rollout_check=os.path.join(FIXTURES, 'check.yml'),
                     kvm_network_rollout_before=os.path.join(FIXTURES, 'before.yml'),
                     kvm_network_rollout_after=os.path.join(FIXTURES, 'after.yml'))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.tmp', 'collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i',
                           str(tmp_path / 'hosts.json'), '-e', json.dumps(extra),
                           os.path.join(ROOT, 'playbooks', 'rollout.yml')],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    lines = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, proc.stdout, lines


def test_a_rollback_in_the_second_wave_stops_the_rollout(tmp_path):
    rc, out, log = rollout(tmp_path, [1, 2, 3], breaks=['kvm03'])
    assert rc != 0, out
    # The canary, then the second wave (kvm02, kvm03); kvm04..kvm06 are never touched.
    assert log[0] == 'change kvm01' and sorted(log[1:]) == ['change kvm02', 'change kvm03']
    assert 'rollout stopped after a wave that went wrong:' in out
    assert 'changed: kvm01, kvm02' in out
    assert 'rolled back: kvm03' in out
    assert 'not reached: kvm04, kvm05, kvm06' in out
    assert 'kvm03: host kvm03: the network change was not confirmed' in out


def test_a_rollout_without_trouble_goes_through_every_wave_and_says_so(tmp_path):
    rc, out, log = rollout(tmp_path, [1, '50%'], unchanged=['kvm05'])
    assert rc == 0, out
    assert sorted(log) == ['change kvm%02d' % n for n in range(1, 7)]
    assert 'rollout done:' in out and 'changed: kvm01, kvm02, kvm03, kvm04, kvm06' in out
    assert 'unchanged: kvm05' in out and 'no model: kvm07' in out


def test_maintenance_steps_wrap_only_the_hosts_whose_network_changes(tmp_path):
    rc, out, log = rollout(tmp_path, [1, 6], unchanged=['kvm02'], breaks=['kvm04'], hooks=True)
    assert rc != 0, out
    by_host = {}
    for line in log:
        step, host = line.split()
        by_host.setdefault(host, []).append(step)
    assert by_host['kvm01'] == ['check', 'before', 'change', 'after']
    assert by_host['kvm02'] == ['check', 'change']                  # nothing to change: no maintenance
    assert by_host['kvm04'] == ['check', 'before', 'change']        # rolled back: left in maintenance
    assert 'rolled back: kvm04' in out
