# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret of a properties file in any output of cloudstack_agent_props.

The module runs with Ansible's real output path here (exit_json/fail_json print the JSON Ansible
reads, after its no_log masking), and the invocation it logs on the host is recorded: a planted
value must appear in neither. Its backups keep the file's mode and are bounded in number.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import stat

import pytest

from unittest import mock

from ansible.module_utils import basic

from ansible_collections.cloudstack_kvm.networking.plugins.modules import cloudstack_agent_props as mod
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import set_module_args

PLANTED_FILE = 'Planted-File-Pass-8d1e'
PLANTED_WANTED = 'Planted-Wanted-Pass-3c7a'
PLANTED_CUSTOM = 'Planted-Custom-Secret-51f0'


@pytest.fixture(autouse=True)
def plain_host(tmp_path, monkeypatch):
    monkeypatch.setattr(mod, 'SYS_ROOT', str(tmp_path / 'root'))
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, arg, required=False, opt_dirs=None: None)


def run_for_real(args, capsys, diff=True, check=False):
    """(printed JSON result, every message the module logged)."""
    logged = []
    args = dict(args, _ansible_diff=diff, _ansible_check_mode=check)
    with set_module_args(args):
        with mock.patch.object(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: logged.append(msg)):
            with pytest.raises(SystemExit):
                mod.main()
    out = capsys.readouterr().out
    return json.loads(out), logged, out


def write(path, text, mode=0o600):
    with io.open(str(path), 'wb') as fh:
        fh.write(text.encode('latin-1'))
    os.chmod(str(path), mode)


def agent_file(tmp_path):
    f = tmp_path / 'agent.properties'
    write(f, '# written by the agent\nkeystore.passphrase=%s\nworkers=5\nhost=ms1\n' % PLANTED_FILE)
    return f


def test_a_secret_in_the_file_is_in_no_output(tmp_path, capsys):
    f = agent_file(tmp_path)
    result, logged, out = run_for_real({'path': str(f), 'properties': {'workers': 9}, 'validate_bridges': False},
                                       capsys)
    assert result['changed'] is True
    assert PLANTED_FILE not in out and PLANTED_FILE not in ''.join(logged)
    assert result['properties']['keystore.passphrase'] == '********'
    assert result['properties']['workers'] == '9'
    assert 'keystore.passphrase=********\n' in result['diff']['before']
    assert 'keystore.passphrase=********\n' in result['diff']['after']
    assert 'workers=9' in result['diff']['after']
    # the file itself still holds it, and its backup has the file's mode
    assert PLANTED_FILE in f.read_text()
    assert stat.S_IMODE(os.stat(result['backup_file']).st_mode) == 0o600


@pytest.mark.parametrize('check', [False, True])
def test_a_wanted_secret_is_in_no_output_nor_the_invocation_log(tmp_path, capsys, check):
    f = agent_file(tmp_path)
    result, logged, out = run_for_real(
        {'path': str(f), 'properties': {'keystore.passphrase': PLANTED_WANTED, 'db.cipher': PLANTED_CUSTOM},
         'secret_keys': ['db.cipher'], 'validate_bridges': False}, capsys, check=check)
    assert result['changed'] is True
    assert logged and logged[0].startswith('Invoked with')
    for planted in (PLANTED_FILE, PLANTED_WANTED, PLANTED_CUSTOM):
        assert planted not in out and planted not in ''.join(logged)
    assert {'name': 'keystore.passphrase', 'active': '********', 'wanted': '********'} in result['differences']
    assert {'name': 'db.cipher', 'active': None, 'wanted': '********'} in result['differences']
    assert 'keystore.passphrase=******** (changed)' in result['diff']['after']
    assert 'db.cipher=******** (changed)' in result['diff']['after']
    assert (PLANTED_WANTED in f.read_text()) is not check


def test_a_secret_is_in_no_error(tmp_path, capsys):
    f = agent_file(tmp_path)
    result, logged, out = run_for_real(
        {'path': str(f), 'properties': {'keystore.passphrase': PLANTED_WANTED}, 'unset': ['keystore.passphrase'],
         'validate_bridges': False}, capsys)
    assert result['failed'] and 'both set and listed in unset' in result['msg']
    assert PLANTED_WANTED not in out and PLANTED_FILE not in out and PLANTED_WANTED not in ''.join(logged)


def test_a_bad_parameter_fails_without_printing_the_secret(tmp_path, capsys):
    f = agent_file(tmp_path)
    result, logged, out = run_for_real(
        {'path': str(f), 'properties': {'keystore.passphrase': PLANTED_WANTED}, 'no_such_option': 1}, capsys)
    assert result['failed'] and 'no_such_option' in result['msg']
    assert PLANTED_WANTED not in out


def test_a_new_file_with_a_secret_is_never_wider_than_0600(tmp_path, capsys):
    f = tmp_path / 'server.properties'
    result, logged, out = run_for_real(
        {'path': str(f), 'properties': {'https.keystore.password': PLANTED_WANTED}, 'agent_keys': False,
         'validate_bridges': False}, capsys)
    assert result['changed'] and PLANTED_WANTED not in out
    assert stat.S_IMODE(os.stat(str(f)).st_mode) == 0o600


def test_backups_are_bounded_and_keep_the_files_mode(tmp_path, capsys):
    f = agent_file(tmp_path)
    for n, stamp in enumerate(['2026-01-0%d@10:00:00~' % day for day in range(1, 5)]):
        write(tmp_path / ('agent.properties.%d.%s' % (100 + n, stamp)), 'keystore.passphrase=old%d\n' % n, 0o600)
    (tmp_path / 'agent.properties.orig').write_text('not a backup of ours')
    result, logged, out = run_for_real({'path': str(f), 'properties': {'workers': 7}, 'backup_keep': 3,
                                        'validate_bridges': False}, capsys)
    left = sorted(n for n in os.listdir(str(tmp_path)) if n.startswith('agent.properties.'))
    assert os.path.basename(result['backup_file']) in left
    assert left == sorted(['agent.properties.102.2026-01-03@10:00:00~', 'agent.properties.103.2026-01-04@10:00:00~',
                           os.path.basename(result['backup_file']), 'agent.properties.orig'])
    for name in left:
        if name.endswith('~'):
            assert stat.S_IMODE(os.stat(str(tmp_path / name)).st_mode) == 0o600


def test_backup_keep_zero_keeps_every_backup(tmp_path, capsys):
    f = agent_file(tmp_path)
    for day in range(1, 5):
        write(tmp_path / ('agent.properties.1.2026-01-0%d@10:00:00~' % day), 'x=1\n')
    result, logged, out = run_for_real({'path': str(f), 'properties': {'workers': 7}, 'backup_keep': 0,
                                        'validate_bridges': False}, capsys)
    assert len([n for n in os.listdir(str(tmp_path)) if n.endswith('~')]) == 5
