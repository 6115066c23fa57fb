# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Open vSwitch bridges keep their MAC address. An Open vSwitch bridge that is deleted and added
back (ifdown/ifup by ifupdown, the rows of a rollback written back) gets another MAC: a random one
for a fake bridge's internal port, whichever port's is lowest for a bridge. The gateway's and the
neighbours' ARP caches would keep the old one, so the MAC it had is set again
(ovs-vswitchd.conf.db(5): Bridge other_config:hwaddr, Interface mac). The reconcile leaves both
alone (it merges other_config and does not read mac).

The MAC is best given when the bridge is created, before ifup configures its addresses: with the
userspace datapath (netdev, DPDK) a bridge's own port is a tap, and ovs-vswitchd brings a tap down
to change its MAC (lib/netdev-linux.c, netdev_linux_set_etheraddr), which drops the device's IPv6
addresses and its routes. (Changing it live with ``ip link`` does not help: ovs-vswitchd notices
the link change, reconfigures and puts its own MAC back the same way.) So ifupdown's activation
creates a bridge it re-creates itself, with its MAC, just before its ifup (ifupdown's
``--may-exist`` then finds it there); only a rollback's rows, written back after the interfaces are
up, may still need the MAC set afterwards."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import DEFAULT_TIMEOUT

_MAC = re.compile(r'^([0-9a-f]{2}:){5}[0-9a-f]{2}$')


def current_mac(root, name):
    """The MAC of the device ``name`` now (lower case), or None (no device, or no Ethernet MAC)."""
    mac = (root.read('/sys/class/net/%s/address' % name) or '').strip().lower()
    return mac if _MAC.match(mac) and mac != '00:00:00:00:00:00' else None


def current_macs(root, names):
    """{name: MAC} of the devices of ``names`` that exist now."""
    out = {}
    for name in names:
        mac = current_mac(root, name)
        if mac:
            out[name] = mac
    return out


def keep_mac_command(vsctl, name, mac, fake_bridge):
    """(argv, what) setting ``mac`` on the bridge (or fake bridge) ``name`` that exists."""
    argv = [vsctl, '--timeout=%d' % DEFAULT_TIMEOUT, 'set']
    if fake_bridge:
        argv += ['Interface', name, 'mac="%s"' % mac]
    else:
        argv += ['Bridge', name, 'other-config:hwaddr="%s"' % mac]
    return argv, 'keeping the MAC address %s of %s' % (mac, name)


def create_bridge_command(vsctl, name, mac, datapath_type=None):
    """(argv, what) creating the bridge ``name`` with ``mac`` (if it exists, only its MAC and datapath
    type are set)."""
    argv = [vsctl, '--timeout=%d' % DEFAULT_TIMEOUT, '--may-exist', 'add-br', name,
            '--', 'set', 'Bridge', name, 'other-config:hwaddr="%s"' % mac]
    if datapath_type:
        argv.append('datapath_type=%s' % datapath_type)
    return argv, 'creating %s with the MAC address %s it had' % (name, mac)


def create_fake_bridge_command(vsctl, name, mac, parent, options):
    """(argv, what) creating the fake bridge (internal port) ``name`` on ``parent`` with ``mac``
    and the port's ``options`` (``tag=100``...), as ifupdown would add it."""
    argv = [vsctl, '--timeout=%d' % DEFAULT_TIMEOUT, '--may-exist', 'add-port', parent, name] + list(options) + \
        ['--', 'set', 'Interface', name, 'type=internal', 'mac="%s"' % mac]
    return argv, 'creating %s with the MAC address %s it had' % (name, mac)


def restore_macs(runner, root, macs):
    """After the rows of a rollback are written back: each bridge of ``macs`` {name: MAC} whose MAC
    changed gets it back. Returns the names it set."""
    changed = [(n, m) for n, m in sorted(macs.items()) if current_mac(root, n) not in (None, m)]
    if not changed:
        return []
    vsctl = runner.bin('ovs-vsctl')
    for name, mac in changed:
        rc, out, dummy = runner.read([vsctl, '--timeout=%d' % DEFAULT_TIMEOUT, 'br-to-parent', name])
        fake_bridge = rc == 0 and out.strip() not in ('', name)
        runner.run(*keep_mac_command(vsctl, name, mac, fake_bridge))
    return [n for n, dummy in changed]
