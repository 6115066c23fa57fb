# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Pieces every renderer shares: the result shape, headers, address helpers.

A renderer is ``render(model, options=None) -> dict`` over a *normalised* model (see _model.py)::

    {'renderer': NAME,
     'files': [{'path': ABSOLUTE_PATH, 'content': TEXT, 'mode': '0644'}, ...],   # sorted by path
     'owned': [GLOB, ...],       # paths this renderer owns on a host: stale ones may be removed
     'marker': TEXT}             # a line every owned file carries (files without it are not ours)

``options``: header (text put at the top of every file as comments; default DEFAULT_HEADER),
host (inventory name, used where a stable identifier is needed), hostname (for ifcfg's
/etc/sysconfig/network).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import uuid

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import MARKER

DEFAULT_HEADER = 'Managed by %s: local changes will be overwritten.' % MARKER
FILE_PREFIX = 'cloudstack-kvm'
# A fixed namespace so the same host and connection always get the same NetworkManager UUID.
UUID_NAMESPACE = uuid.UUID('6f0b9a52-5c1e-4d53-9f35-2b0d7c1a8e41')


class RenderError(ValueError):
    """A model option the target system cannot express: the message names the option, the object
    and the alternative."""


def options_with_defaults(options):
    opts = dict(options or {})
    opts.setdefault('header', DEFAULT_HEADER)
    opts.setdefault('host', None)
    opts.setdefault('hostname', None)
    return opts


def for_host(host, build, model):
    """``build(model)``, with the host's name put in front of a RenderError's message."""
    try:
        return build(model)
    except RenderError as exc:
        if host:
            raise RenderError('host %s: %s' % (host, exc))
        raise


def comment_header(header, char='#'):
    """The header as comment lines, always naming the collection so ownership can be told."""
    lines = [line.rstrip() for line in (header or DEFAULT_HEADER).splitlines()] or [DEFAULT_HEADER]
    if not any(MARKER in line for line in lines):
        lines.append('Written by %s.' % MARKER)
    return ''.join(('%s %s' % (char, line)).rstrip() + '\n' for line in lines)


def result(renderer, files, owned):
    return {
        'renderer': renderer,
        'files': sorted(files, key=lambda f: f['path']),
        'owned': list(owned),
        'marker': MARKER,
    }


def file_entry(path, content, mode='0644'):
    return {'path': path, 'content': content, 'mode': mode}


def prefix_to_netmask(prefix):
    """24 -> 255.255.255.0 (IPv4 only)."""
    bits = (0xffffffff << (32 - int(prefix))) & 0xffffffff
    return '.'.join(str((bits >> shift) & 0xff) for shift in (24, 16, 8, 0))


def split_address(cidr):
    """'198.51.100.20/24' -> ('198.51.100.20', 24, 4)."""
    addr, _sep, prefix = cidr.partition('/')
    return addr, int(prefix), 6 if ':' in addr else 4


def addresses_by_family(addresses, family):
    return [a for a in addresses if split_address(a)[2] == family]


def stable_uuid(host, conn_id):
    return str(uuid.uuid5(UUID_NAMESPACE, '%s/%s' % (host or '', conn_id)))


# The Linux bonding driver's options a bond of the model may set, by the driver's own names
# (/sys/class/net/BOND/bonding/NAME), in the order every renderer writes them.
LINUX_BOND_OPTIONS = ('mode', 'miimon', 'updelay', 'downdelay', 'primary', 'lacp_rate', 'xmit_hash_policy')


def linux_bond_options(bond):
    """(driver option, value) for each of LINUX_BOND_OPTIONS the bond sets (not None)."""
    return [(key, bond[key]) for key in LINUX_BOND_OPTIONS if bond[key] is not None]


def bond_member_mtus(model, bond_name):
    """(member, MTU) for each member of a bond that has one (its own, else the bond's): the
    ``mtu_request`` an Open vSwitch bond's interfaces get from ifupdown's and ifcfg's extras."""
    bond = model['bonds'][bond_name]
    out = []
    for member in bond['interfaces']:
        mtu = model['ethernets'][member]['mtu'] or bond['mtu']
        if mtu:
            out.append((member, mtu))
    return out
