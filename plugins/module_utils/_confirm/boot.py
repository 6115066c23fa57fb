# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Heal after a power cut: a change still waiting for its confirmation when the host went down is
rolled back at the next boot, before the network comes up.

Commit-confirm's timers (``safe.py``) are transient systemd units, gone after a reboot or a power
cut, and the unconfirmed change would stay in the files the network starts from. So an armed
snapshot carries a marker (``pending``, removed when it is confirmed or rolled back) and
commit-confirm installs two persistent units that run at every boot and do nothing unless a
marker is there (``ConditionPathExistsGlob``):

``cloudstack-kvm-boot-rollback.service``
    early, before ``network-pre.target``, which systemd-networkd, NetworkManager, ifupdown's
    ``networking`` and network-scripts' ``network`` are ordered after: the pending snapshots'
    files are put back, and nothing is brought down or up (nothing is up yet). The snapshot is
    then ``rolled_back``, its history saying ``at_boot``.
``cloudstack-kvm-boot-rollback-finish.service``
    after ``network.target``, Open vSwitch and NetworkManager, only for snapshots the first unit
    marked ``boot-finish``: what needs those services running (the Open vSwitch rows written back
    under their UUIDs, the NetworkManager profiles the change switched off switched on again, the
    bridges' MACs).

Both run ``boot-rollback.py`` in the state directory, which hands the work to the newest pending
snapshot's own runner (the collection's code that armed it).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots

EARLY_UNIT = 'cloudstack-kvm-boot-rollback.service'
FINISH_UNIT = 'cloudstack-kvm-boot-rollback-finish.service'
UNIT_DIR = '/etc/systemd/system'
LAUNCHER = 'boot-rollback.py'
FINISH_MARKER = 'boot-finish'
PHASES = {'boot': snapshots.PENDING_MARKER, 'boot-finish': FINISH_MARKER}
CAUSE = 'the host restarted before the change was confirmed'

# Runs with only the standard library: it picks the runner, whose payload has the code.
LAUNCHER_TEXT = '''# Written by cloudstack_kvm.networking (safe apply, see %(unit)s): at boot, the
# snapshots still waiting for a confirmation go to the newest one's runner, which rolls them back.
import glob
import os
import sys

phase, base = sys.argv[1], sys.argv[2]
marker = %(markers)r[phase]
ready = sorted(d for d in glob.glob(os.path.join(base, '*', ''))
               if os.path.exists(os.path.join(d, marker)) and os.path.exists(os.path.join(d, 'runner.py')))
if ready:
    os.execv(sys.executable, [sys.executable, os.path.join(ready[-1], 'runner.py'), phase, base])
'''

EARLY_TEXT = '''# Written by cloudstack_kvm.networking: do not edit (docs/safe-apply.md, "After a power cut").
# A network change still waiting for its confirmation at boot is rolled back before the network
# starts: its files are put back, and the network services then start from them.
[Unit]
Description=Roll back a network change left unconfirmed at shutdown (cloudstack_kvm.networking)
DefaultDependencies=no
After=local-fs.target systemd-remount-fs.service
Wants=network-pre.target
Before=network-pre.target systemd-networkd.service NetworkManager.service networking.service network.service
Before=ovsdb-server.service openvswitch-switch.service openvswitch.service shutdown.target
Conflicts=shutdown.target
ConditionPathExistsGlob=%(base)s/*/pending

[Service]
Type=oneshot
ExecStart=%(python)s %(base)s/%(launcher)s boot %(base)s
TimeoutStartSec=120

[Install]
WantedBy=sysinit.target
'''

FINISH_TEXT = '''# Written by cloudstack_kvm.networking: do not edit (docs/safe-apply.md, "After a power cut").
# The part of a boot-time rollback that needs the network services running: Open vSwitch rows,
# NetworkManager profiles, bridge MACs.
[Unit]
Description=Finish rolling back a network change left unconfirmed at shutdown (cloudstack_kvm.networking)
After=network.target ovs-vswitchd.service openvswitch-switch.service openvswitch.service NetworkManager.service
ConditionPathExistsGlob=%(base)s/*/%(marker)s

[Service]
Type=oneshot
ExecStart=%(python)s %(base)s/%(launcher)s boot-finish %(base)s
TimeoutStartSec=300

[Install]
WantedBy=multi-user.target
'''


def _unit_values(base, python):
    for what, value in (('the state directory', base), ('the Python interpreter', python)):
        # systemd splits ExecStart on blanks and expands % and $: a path with those cannot be written.
        if any(c in value for c in ' \t\n%$\\"\''):
            raise ValueError('%s %r has a blank, quote, backslash, %% or $ in it: the boot rollback unit cannot '
                             'name it. Fix: choose a plain path for kvm_network_state_dir' % (what, value))
    return {'base': base.rstrip('/'), 'python': python, 'launcher': LAUNCHER, 'marker': FINISH_MARKER}


def wanted_files(base, python):
    """{host path: (content, mode)} of what the boot rollback needs on the host."""
    values = _unit_values(base, python)
    return {
        os.path.join(base, LAUNCHER): (LAUNCHER_TEXT % {'unit': EARLY_UNIT, 'markers': PHASES}, '0600'),
        os.path.join(UNIT_DIR, EARLY_UNIT): (EARLY_TEXT % values, '0644'),
        os.path.join(UNIT_DIR, FINISH_UNIT): (FINISH_TEXT % values, '0644'),
    }


def enablement_links():
    """{link path: target} that ``systemctl enable`` would make for the two units."""
    return {
        os.path.join(UNIT_DIR, 'sysinit.target.wants', EARLY_UNIT): os.path.join(UNIT_DIR, EARLY_UNIT),
        os.path.join(UNIT_DIR, 'multi-user.target.wants', FINISH_UNIT): os.path.join(UNIT_DIR, FINISH_UNIT),
    }


def install(module, root, runner, base, python):
    """Put the units and the launcher in place and enable them (the wants links, as ``systemctl
    enable`` makes them); reload systemd when a unit file changed. Returns the paths changed."""
    changed = []
    for path, (content, mode) in sorted(wanted_files(base, python).items()):
        real = root.real(path)
        data = content.encode('utf-8')
        try:
            with open(real, 'rb') as fh:
                same = fh.read() == data and '%04o' % (os.stat(real).st_mode & 0o7777) == mode
        except (IOError, OSError):
            same = False
        if not same:
            if not os.path.isdir(os.path.dirname(real)):
                os.makedirs(os.path.dirname(real), 0o755)
            host_files.write_atomic(module, real, data, mode)
            changed.append(path)
    for link, target in sorted(enablement_links().items()):
        real = root.real(link)
        if os.path.islink(real) and os.readlink(real) == target:
            continue
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real), 0o755)
        if os.path.lexists(real):
            os.unlink(real)
        os.symlink(target, real)
        changed.append(link)
    if changed and root.root_dir == '/':
        runner.run([runner.bin('systemctl'), 'daemon-reload'], 'reloading systemd for the boot rollback units')
    return changed


def needs_services(snap):
    """Whether the rollback of ``snap`` has a part that needs the network services running."""
    conflicts = snap.manifest.get('conflicts') or []
    return bool(snap.manifest.get('ovs')) or bool(snap.manifest.get('macs')) \
        or any(c.get('action') == 'autoconnect_off' for c in conflicts)
