# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Which network stack owns each interface: NetworkManager (``nmcli --terse``), netplan or
systemd-networkd (networkd's state files), ifupdown (its ifstate), EL network-scripts (ifcfg
files). ``split_terse`` is the one parser of nmcli's terse output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key


def split_terse(line):
    """One ``nmcli -t`` line -> fields (``:`` separates, ``\\:`` and ``\\\\`` are escapes)."""
    fields = ['']
    i = 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            fields[-1] += line[i + 1]
            i += 2
            continue
        if c == ':':
            fields.append('')
        else:
            fields[-1] += c
        i += 1
    return fields


def parse_nmcli_active(text):
    """``nmcli -t -f DEVICE,NAME,FILENAME connection show --active`` -> {device: {name, file}}."""
    out = {}
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        fields = split_terse(line)
        if len(fields) < 3 or not fields[0]:
            continue
        out[fields[0]] = {'connection': fields[1], 'file': fields[2] or None}
    return out


class NmcliTool(object):
    """NetworkManager's view of devices, through ``nmcli --terse``; None when NM is absent."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('nmcli', required=False)

    def active_connections(self):
        if not self.bin:
            return None
        argv = [self.bin, '--terse', '--fields', 'DEVICE,NAME,FILENAME', 'connection', 'show', '--active']
        rc, out, dummy = command.run(self.module, argv)
        if rc != 0:
            # NetworkManager not running: nothing is owned by it.
            return None
        return parse_nmcli_active(out)


def decide_owners(links, nm_active, networkd, ifupdown, ifcfg):
    """{ifname: {'owner': ..., 'file': ...}}: which stack configures each interface.

    ``nm_active`` {dev: {connection, file}} or None, ``networkd`` {ifname: state dict},
    ``ifupdown`` set of names, ``ifcfg`` {device: path}. Owners: netplan (netplan-generated
    networkd or NetworkManager configuration), networkmanager, networkd, ifupdown, ifcfg, unknown.
    """
    owners = {}
    for name in sorted(links, key=natural_key):
        if links[name]['type'] == 'loopback':
            continue
        owner, path = 'unknown', None
        nm = (nm_active or {}).get(name)
        nd = (networkd or {}).get(name) or {}
        if nm:
            path = nm.get('file')
            owner = 'netplan' if path and os.path.basename(path).startswith('netplan-') else 'networkmanager'
        elif nd.get('ADMIN_STATE') in ('configuring', 'configured', 'failed', 'linger') and nd.get('NETWORK_FILE'):
            path = nd['NETWORK_FILE']
            owner = 'netplan' if 'netplan' in os.path.basename(path) else 'networkd'
        elif name in (ifupdown or ()):
            owner = 'ifupdown'
        elif name in (ifcfg or {}):
            owner, path = 'ifcfg', ifcfg[name]
        owners[name] = {'owner': owner, 'file': path}
    return owners
