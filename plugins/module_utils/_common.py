# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The vocabulary every stage shares, defined once.

* How names sort (``natural_key``: eth2 before eth10), how tools are run (``C_LOCALE``,
  ``SBIN_DIRS``), how a value leaves Ansible's containers (``plain_copy``).
* What marks a file as the collection's (``MARKER`` on a comment line: ``has_marker``).
* The names and ranges every stage checks against: the systems (``RENDERERS``), Linux's interface
  name limit, the VLAN ranges of a model bridge and of an Open vSwitch tag, the LACP modes.
* The bond modes of Linux and Open vSwitch, with the kernel's numbers and texts.
* ``ModuleFailure``: an error a module turns into ``fail_json(msg=..., **kwargs)``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from collections.abc import Mapping

# Tools are run with the C locale, so their output (and error texts) can be parsed.
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}
# Network tools live in sbin directories that are not always on a non-root PATH.
SBIN_DIRS = ['/sbin', '/usr/sbin', '/usr/local/sbin']

# Every file the collection writes carries this text in a comment line; a file without it is
# not the collection's and is never pruned or edited as if it were.
MARKER = 'cloudstack_kvm.networking'

# --- names and ranges ----------------------------------------------------------------------------

# The systems a host's network is written for, one renderer and one activation each
# (kvm_network.renderer; ``auto`` chooses among them by the host's OS).
RENDERERS = ('netplan', 'ifupdown', 'networkmanager', 'ifcfg')
# Linux interface names: IFNAMSIZ is 16 bytes, the terminating NUL included.
IFNAME_MAX = 15
# 802.1Q VLAN ids a bridge of the model may use (0 and 4095 are reserved).
VLAN_MIN = 1
VLAN_MAX = 4094
# An Open vSwitch port's tag column and a fake bridge's VLAN (ovs-vswitchd.conf.db(5): 0-4095).
OVS_TAG_MAX = 4095
# LACP on an Open vSwitch bond (ovs lacp column) and in the model; the ones that negotiate.
LACP_MODES = ('off', 'active', 'passive')
LACP_NEGOTIATING = ('active', 'passive')


def renderer_for_os(facts):
    """The renderer a host gets when its model says ``auto``, by its OS facts (``distribution``,
    ``os_family``, ``distribution_major_version``, with or without the ``ansible_`` prefix): netplan
    on Ubuntu, ifupdown on Debian and its family, NetworkManager on EL 8 and later, ifcfg on EL 7.
    Raises ValueError naming what it could not decide."""
    facts = facts or {}
    distro = facts.get('distribution') or facts.get('ansible_distribution')
    family = facts.get('os_family') or facts.get('ansible_os_family')
    major = facts.get('distribution_major_version') or facts.get('ansible_distribution_major_version')
    if not distro and not family:
        raise ValueError('renderer is auto but no OS facts are known for this host')
    if distro == 'Ubuntu':
        return 'netplan'
    if distro == 'Debian' or family == 'Debian':
        return 'ifupdown'
    if family == 'RedHat':
        try:
            number = int(str(major).split('.', maxsplit=1)[0])
        except ValueError:
            number = 0
        return 'ifcfg' if number and number <= 7 else 'networkmanager'
    raise ValueError('renderer is auto and %s (%s) is not a system this collection knows' % (distro, family))


# --- guests' ports -------------------------------------------------------------------------------

# Ports guests get on a bridge: never the model's, never reported as differences, never removed.
# By name: libvirt's tap devices (vnetN), Xen's and CloudStack's vifN, tapN, macvtapN, and
# CloudStack's DPDK vhost-user ports (DpdkDriverImpl.DPDK_PORT_PREFIX, "csdpdk-").
GUEST_PORT_RE = re.compile(r'^(?:vnet|vif|tap|macvtap|csdpdk-)')
# By kind: the Linux link types of a guest's device, and the Open vSwitch interface types of a
# guest's vhost-user port (DpdkDriverImpl: dpdkvhostuser, dpdkvhostuserclient).
GUEST_LINK_TYPES = ('tun', 'tap', 'macvtap')
GUEST_OVS_INTERFACE_TYPES = ('dpdkvhostuser', 'dpdkvhostuserclient')
# The Interface external IDs libvirt (and CloudStack through it) sets on a guest's OVS port.
GUEST_EXTERNAL_IDS = ('vm-id', 'attached-mac', 'iface-id')


def is_guest_port(name, link_type=None, ovs_type=None, external_ids=None):
    """Whether a bridge port is a guest's, by its name or by what it is."""
    return bool(GUEST_PORT_RE.match(name or '') or link_type in GUEST_LINK_TYPES
                or ovs_type in GUEST_OVS_INTERFACE_TYPES
                or any((external_ids or {}).get(key) for key in GUEST_EXTERNAL_IDS))


# --- bond modes ----------------------------------------------------------------------------------

LINUX_BOND_MODES = ('balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad',
                    'balance-tlb', 'balance-alb')
# The numeric modes of BONDING_OPTS "mode=1" and the kernel's documentation.
LINUX_BOND_MODE_NUMBERS = dict((str(i), m) for i, m in enumerate(LINUX_BOND_MODES))
# The modes in which a Linux bond has a primary member, and those that hash by xmit_hash_policy.
LINUX_PRIMARY_MODES = ('active-backup', 'balance-tlb', 'balance-alb')
LINUX_XMIT_HASH_MODES = ('balance-xor', '802.3ad', 'balance-tlb', 'balance-alb')
# /proc/net/bonding "Bonding Mode:" texts (drivers/net/bonding/bond_main.c bond_mode_name()).
LINUX_BOND_MODE_TEXT = {
    'balance-rr': 'load balancing (round-robin)',
    'active-backup': 'fault-tolerance (active-backup)',
    'balance-xor': 'load balancing (xor)',
    'broadcast': 'fault-tolerance (broadcast)',
    '802.3ad': 'IEEE 802.3ad Dynamic link aggregation',
    'balance-tlb': 'transmit load balancing',
    'balance-alb': 'adaptive load balancing',
}
OVS_BOND_MODES = ('active-backup', 'balance-slb', 'balance-tcp')


def linux_bond_mode(value):
    """A Linux bond mode as its name: 1 and '1' are active-backup."""
    if value is None:
        return None
    return LINUX_BOND_MODE_NUMBERS.get(str(value), str(value))


# --- small helpers -------------------------------------------------------------------------------

def natural_key(name):
    """Sort eth2 before eth10 (None sorts as the empty name)."""
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', '' if name is None else str(name))]


def plain_copy(value):
    """A copy of ``value`` as plain dicts and lists (mappings -> dict, lists/tuples -> list).

    Not copy.deepcopy: on the controller, ansible-core 2.19 hands filters lazily templated
    containers, and deep-copying one copies its templar and plugin loader along with it (the
    copied Jinja2 filter loader is broken: "The filter plugin 'from_json' failed to load:
    'dict' object is not callable" once a value still to be templated uses a filter).
    Iterating the container templates every value instead. On a host it also turns
    OrderedDicts into dicts, so entries compare equal to what YAML parsing gives."""
    if isinstance(value, Mapping):
        return dict((k, plain_copy(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain_copy(v) for v in value]
    return value


def has_marker(text, marker=MARKER):
    """Whether a file carries the collection's marker as a comment line (``#`` or ``;``).

    The one rule for "a file we own": the marker anywhere else (a value, a path in a
    ``source`` line) does not make a file ours."""
    for line in (text or '').splitlines():
        stripped = line.strip()
        if stripped.startswith(('#', ';')) and marker in stripped:
            return True
    return False


class ModuleFailure(Exception):
    """A problem a module reports with ``fail_json``: ``msg`` plus extra result keys."""

    def __init__(self, msg, **kwargs):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.kwargs = kwargs
