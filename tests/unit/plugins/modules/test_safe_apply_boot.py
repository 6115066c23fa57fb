# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Heal after a power cut (_confirm/boot.py) in a temporary root: the boot units commit-confirm
installs, and what they run at the next boot for a change still pending, for one already
confirmed, and for one whose rollback needs the network services (Open vSwitch rows)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import boot, safe
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.test_kvm_network_apply import (
    DEBIAN_INTERFACES,
    TWO_BRIDGES,
    IFDOWN,
    IFUP,
    model_of,
    read,
    renamed_model,
)
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.test_safe_apply import (  # noqa: F401  pylint: disable=unused-import
    IP,
    PING,
    STATE,
    SYSTEMCTL,
    debian,
    first_apply,
    handed_over,
    live,
    manifest,
    playing,
    run,
    safe_args,
    SafeHost,
)
from ansible_collections.cloudstack_kvm.networking.plugins.modules import kvm_network_apply, kvm_network_snapshot

UNITS = ['/etc/systemd/system/cloudstack-kvm-boot-rollback-finish.service',
         '/etc/systemd/system/cloudstack-kvm-boot-rollback.service',
         '/etc/systemd/system/multi-user.target.wants/cloudstack-kvm-boot-rollback-finish.service',
         '/etc/systemd/system/sysinit.target.wants/cloudstack-kvm-boot-rollback.service',
         STATE + '/boot-rollback.py']


def real(root, path):
    return os.path.join(str(root), path.lstrip('/'))


def at_boot(root, fake, phase='boot'):
    """What the boot unit runs (the runner's entry point), commands answered by ``fake``."""
    with playing(fake):
        return safe.main([phase, real(root, STATE)])


def unit_option(text, key):
    return [line.split('=', 1)[1] for line in text.splitlines() if line.startswith(key + '=')]


def test_arming_installs_and_enables_the_boot_units_once(debian):
    result, fake = handed_over(debian)
    assert sorted(result['safe_apply']['boot_units_installed']) == UNITS
    early = read(debian, '/etc/systemd/system/cloudstack-kvm-boot-rollback.service')
    # Before the network: networkd, NetworkManager, ifupdown and network-scripts start after
    # network-pre.target, which the unit pulls in and runs before; no default dependencies, so it
    # is not held behind basic.target.
    assert unit_option(early, 'DefaultDependencies') == ['no']
    assert 'network-pre.target' in unit_option(early, 'Wants')
    assert 'network-pre.target' in ' '.join(unit_option(early, 'Before')).split()
    assert unit_option(early, 'ConditionPathExistsGlob') == [STATE + '/*/pending']
    assert unit_option(early, 'ExecStart') == ['%s %s/boot-rollback.py boot %s' % (sys.executable, STATE, STATE)]
    finish = read(debian, '/etc/systemd/system/cloudstack-kvm-boot-rollback-finish.service')
    assert set(['network.target', 'ovs-vswitchd.service', 'NetworkManager.service']) <= \
        set(' '.join(unit_option(finish, 'After')).split())
    assert os.readlink(real(debian, UNITS[3])) == '/etc/systemd/system/cloudstack-kvm-boot-rollback.service'
    assert oct(os.stat(real(debian, STATE + '/boot-rollback.py')).st_mode & 0o777) == '0o600'
    sid = result['safe_apply']['id']
    assert os.path.exists(real(debian, '%s/%s/pending' % (STATE, sid)))
    # A scratch root is no running host: systemd is not reloaded there.
    assert [SYSTEMCTL, 'daemon-reload'] not in fake.systemd()
    # Once in place they are left alone.
    assert boot.install(None, safe.host_files.Root(str(debian)), None, STATE, sys.executable) == []


def test_a_change_pending_at_boot_is_rolled_back_before_the_network_starts(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    assert 'bridge_ports eth0' in read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    # Power cut: the transient confirmation timer is gone with the host.
    fake.timers.clear()
    ran = len(fake.argvs)
    assert at_boot(debian, fake) == 0
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') is None
    assert fake.argvs[ran:] == [], 'nothing is brought down or up before the network starts'
    m = manifest(debian, sid)
    assert m['status'] == 'rolled_back'
    assert m['history'][-1]['at_boot'] is True and m['history'][-1]['cause'] == boot.CAUSE
    assert not os.path.exists(real(debian, '%s/%s/pending' % (STATE, sid)))
    assert not os.path.exists(real(debian, '%s/%s/runner.py' % (STATE, sid)))
    # The controller's late confirmation says what happened; the next apply starts afresh.
    late = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian)}, fake)
    assert late['failed'] is True and 'rolled back' in late['msg']
    again, fake = first_apply(debian)
    assert again['safe_apply']['armed'] is True and again['safe_apply']['boot_units_installed'] == []


def test_a_nic_renamed_by_a_pending_change_gets_its_old_name_at_boot(debian):
    result, fake = first_apply(debian)
    run(kvm_network_snapshot.main, {'action': 'confirm', 'id': result['safe_apply']['id'], 'root_dir': str(debian)}, fake)
    net = real(debian, '/sys/class/net')
    for name in ('eth0', 'eth1', 'cloudbr1'):
        os.makedirs(os.path.join(net, name))
    fake = live(SafeHost())
    for argv in ([IFDOWN, '--force', 'cloudbr1'], [IFDOWN, '--force', 'eth1'], [IP, 'link', 'set', 'dev', 'eth1', 'down'],
                 [IP, 'link', 'set', 'dev', 'eth1', 'name', 'ens1'], [IFUP, 'ens1'], [IFUP, 'cloudbr1']):
        fake.expect(argv=argv)
    result = run(kvm_network_apply.main, safe_args(renamed_model(), debian), fake)
    assert fake.fire('apply') == 0
    # Power cut; at boot udev names the NIC ens1 from the unconfirmed .link file.
    fake.timers.clear()
    os.rename(os.path.join(net, 'eth1'), os.path.join(net, 'ens1'))
    ran = len(fake.argvs)
    fake.expect(argv=[IP, 'link', 'set', 'dev', 'ens1', 'down'])
    fake.expect(argv=[IP, 'link', 'set', 'dev', 'ens1', 'name', 'eth1'])
    assert at_boot(debian, fake) == 0
    assert fake.argvs[ran:] == [[IP, 'link', 'set', 'dev', 'ens1', 'down'], [IP, 'link', 'set', 'dev', 'ens1', 'name', 'eth1']]
    assert manifest(debian, result['safe_apply']['id'])['status'] == 'rolled_back'
    assert read(debian, '/etc/systemd/network/10-cloudstack-kvm-ens1.link') is None


def test_a_change_armed_but_never_applied_leaves_the_files_as_they_were(debian):
    result, fake = handed_over(debian)
    fake.timers.clear()
    assert at_boot(debian, fake) == 0
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert manifest(debian, result['safe_apply']['id'])['status'] == 'rolled_back'


def test_a_confirmed_change_survives_the_boot_untouched(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    fake.expect(argv=[PING, '-n', '-c', '1', '-w', '3', '-I', 'cloudbr0', '198.51.100.254'], stdout='3 received')
    confirmed = run(kvm_network_snapshot.main, {'action': 'confirm', 'id': sid, 'root_dir': str(debian),
                                                'targets': [{'target': '198.51.100.254', 'bridge': 'cloudbr0'}]}, fake)
    assert not confirmed.get('failed'), confirmed.get('msg')
    assert not os.path.exists(real(debian, '%s/%s/pending' % (STATE, sid)))
    written = read(debian, '/etc/network/interfaces.d/cloudstack-kvm')
    assert at_boot(debian, fake) == 0
    assert read(debian, '/etc/network/interfaces.d/cloudstack-kvm') == written
    assert manifest(debian, sid)['status'] == 'confirmed'


def test_the_launcher_runs_the_pending_snapshots_runner_as_systemd_would(debian):
    """boot-rollback.py and runner.py for real, in a child process (no command to answer: at boot
    only files are restored)."""
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    launcher = real(debian, STATE + '/boot-rollback.py')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.check_call([sys.executable, launcher, 'boot', real(debian, STATE)], env=env)
    assert read(debian, '/etc/network/interfaces') == DEBIAN_INTERFACES
    assert manifest(debian, sid)['status'] == 'rolled_back'
    # Nothing pending: the launcher does nothing (and the unit's condition would not even start it).
    subprocess.check_call([sys.executable, launcher, 'boot', real(debian, STATE)], env=env)


def test_a_rollback_that_needs_services_finishes_after_them(debian):
    result, fake = first_apply(debian)
    sid = result['safe_apply']['id']
    path = real(debian, '%s/%s/manifest.json' % (STATE, sid))
    with open(path) as fh:
        m = json.load(fh)
    m['macs'] = {'cloudbr0': '52:54:00:00:00:01'}     # what an Open vSwitch snapshot records
    with open(path, 'w') as fh:
        json.dump(m, fh)
    fake.timers.clear()
    assert at_boot(debian, fake) == 0
    assert os.path.exists(real(debian, '%s/%s/boot-finish' % (STATE, sid)))
    assert os.path.exists(real(debian, '%s/%s/runner.py' % (STATE, sid))), 'the finish unit still needs it'
    assert manifest(debian, sid)['history'][-1]['finishing'] is True
    assert at_boot(debian, fake, 'boot-finish') == 0
    m = manifest(debian, sid)
    assert m['status'] == 'rolled_back' and m['history'][-1]['finished'] is True
    assert not os.path.exists(real(debian, '%s/%s/boot-finish' % (STATE, sid)))
    assert not os.path.exists(real(debian, '%s/%s/runner.py' % (STATE, sid)))


def test_a_netplan_host_has_its_networkd_configuration_generated_again_at_boot(tmp_path):
    """netplan's systemd generator runs before any unit, on the unconfirmed files: once they are
    back, the boot rollback runs netplan generate (and reloads the units it writes), nothing else."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.applier import SYSTEMS
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm.rollback import Rollback
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots
    from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.test_kvm_network_apply import (
        NETPLAN,
        SBIN,
        args_for,
        put,
    )
    root = safe.host_files.Root(str(tmp_path))
    params = args_for(model_of(TWO_BRIDGES), 'netplan', tmp_path)
    path = params['files'][0]['path']
    put(tmp_path, path, 'network: {version: 2}\n', 0o600)
    snap = snapshots.Snapshot.create(root, [path], {'renderer': 'netplan', 'root_dir': str(tmp_path)}, params=params,
                                     base=STATE)
    put(tmp_path, path, params['files'][0]['content'], 0o600)      # the unconfirmed change, live at the power cut
    fake = SafeHost()
    fake.expect(argv=[NETPLAN, 'generate'])
    fake.expect(argv=[SBIN + 'systemctl', 'daemon-reload'])
    with playing(fake):
        report = Rollback(safe.HostModule(params), root, snap, params, SYSTEMS).files_only()
    assert report['errors'] == [] and report['files']['restored'] == [path]
    assert read(tmp_path, path) == 'network: {version: 2}\n'
    assert [c['argv'] for c in fake.calls] == [[NETPLAN, 'generate'], [SBIN + 'systemctl', 'daemon-reload']]
