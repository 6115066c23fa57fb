# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""systemd units for kvm_host_prepare: every unit's state read in one ``systemctl show``, then
only the start/stop/enable/disable that are needed. Nothing is restarted here (no interface is
bounced), except a service asked to restart after a package install."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure

ENABLED_STATES = ('enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias', 'linked', 'linked-runtime')


def unit_name(name):
    return name if '.' in name else name + '.service'


def parse_show(text):
    """``systemctl show -p ... U1 U2`` -> one {property: value} per unit, in the order asked."""
    blocks = []
    current = {}
    for line in text.splitlines() + ['']:
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, dummy, value = line.partition('=')
        current[key] = value
    return blocks


def unit_states(module, systemctl, names):
    """{unit: {'exists', 'active', 'enabled'}} for the units ``names`` (one call)."""
    units = [unit_name(n) for n in names]
    if not units:
        return {}
    argv = [systemctl, 'show', '--no-pager', '-p', 'Id,LoadState,ActiveState,UnitFileState'] + units
    rc, out, err = command.run(module, argv)
    blocks = parse_show(out) if rc == 0 else []
    if len(blocks) != len(units):
        raise ModuleFailure('systemctl show of %s failed (rc=%d): %s. Fix: the host must run systemd.'
                            % (', '.join(units), rc, (err or out).strip()), cmd=argv)
    states = {}
    for unit, block in zip(units, blocks):
        states[unit] = {
            'exists': block.get('LoadState') not in (None, 'not-found'),
            'masked': block.get('LoadState') == 'masked',
            'active': block.get('ActiveState') in ('active', 'activating', 'reloading'),
            'enabled': block.get('UnitFileState') in ENABLED_STATES,
        }
    return states
