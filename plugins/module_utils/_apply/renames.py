# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""NICs the model matches by MAC and names otherwise than they are named now, renamed live.

netplan's ``set-name`` and the systemd ``.link`` files of ifupdown and NetworkManager name a NIC
when udev first sees it, at the next boot. Until then the configuration names a device that does
not exist: so the apply renames it (``ip link set dev OLD name NEW``; the kernel renames only a
device that is down, and the activation that follows brings it up under its new name). A rollback
renames it back (the snapshot keeps the renames), at boot too, where udev has named it from the
unconfirmed files before the rollback put the old ones back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def wanted(model, exists):
    """The model's NICs matched by MAC whose name is not a device now: {name: MAC}."""
    out = {}
    for name, eth in (model.get('ethernets') or {}).items():
        mac = ((eth or {}).get('match') or {}).get('macaddress')
        if mac and not exists(name):
            out[name] = mac.lower()
    return out


def plan(model, live, exists):
    """[{from, to, mac}]: each NIC of ``wanted`` found under another name in ``live`` (the
    host_network facts; their model view gives each NIC its permanent MAC where it has one), when
    exactly one NIC has that MAC and the model does not name that NIC otherwise."""
    missing = wanted(model, exists)
    if not missing:
        return []
    nics = ((live or {}).get('model') or {}).get('ethernets') or {}
    out = []
    for name, mac in sorted(missing.items()):
        found = [n for n, e in nics.items() if ((e.get('match') or {}).get('macaddress') or '').lower() == mac]
        if len(found) == 1 and found[0] not in model['ethernets']:
            out.append({'from': found[0], 'to': name, 'mac': mac})
    return out


def commands(ip, renames):
    """(argv, what) pairs renaming each ``from`` to ``to`` (taken down first)."""
    out = []
    for r in renames:
        out.append(([ip, 'link', 'set', 'dev', r['from'], 'down'],
                    'taking %s down to rename it %s (the NIC with MAC %s)' % (r['from'], r['to'], r['mac'])))
        out.append(([ip, 'link', 'set', 'dev', r['from'], 'name', r['to']],
                    'renaming %s to %s (the NIC with MAC %s)' % (r['from'], r['to'], r['mac'])))
    return out


def reverse(renames, exists):
    """The renames that put back the names ``renames`` changed, where they were made (the new name
    exists and the old one does not): for a rollback."""
    return [{'from': r['to'], 'to': r['from'], 'mac': r['mac']} for r in reversed(renames or [])
            if exists(r['to']) and not exists(r['from'])]


def without_renamed(activation, renames, model_names=()):
    """``activation`` (argv, what) pairs without the commands that name a device ``renames`` took
    away (after the rename no device has that name, and the NIC is configured under its new one).
    A name the model gives another device stays: seed 002's bridge takes its NIC's old name."""
    gone = set(r['from'] for r in renames) - set(model_names)
    return [(argv, what) for argv, what in activation if not gone.intersection(argv[1:])]
