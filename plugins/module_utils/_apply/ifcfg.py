# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""EL7 network-scripts' side of applying: other ifcfg files for our devices (reported), what a
changed file concerns (one device per file), and activation (``ifdown`` with the old file,
``ifup`` with the new one, per device, as for ifupdown).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import has_marker
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.ifupdown import IfupdownSystem
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.system import System
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import parse_keyvalue_state

IFCFG_DIR = '/etc/sysconfig/network-scripts'
IFCFG_NETWORK = '/etc/sysconfig/network'


class IfcfgSystem(IfupdownSystem):
    """EL7 network-scripts: ``ifdown`` with the old file, ``ifup`` with the new one, per device."""

    name = 'ifcfg'
    DOWN_OPTIONS = ()    # initscripts' ifdown has no --force

    def stale_globs(self, owned):
        # Device files are named after devices, so those of removed devices match no owned glob.
        return list(owned or []) + [IFCFG_DIR + '/ifcfg-*', IFCFG_DIR + '/route-*', IFCFG_DIR + '/route6-*']

    def definitions(self, path, text):
        base = os.path.basename(path)
        if path == IFCFG_NETWORK:
            # GATEWAY= and the IPv6 switches: the bridges that carry a default route.
            return dict((n, text) for n, br in self.model['bridges'].items() if br['gateway4'] or br['gateway6'])
        for prefix in ('ifcfg-', 'route6-', 'route-'):
            if base.startswith(prefix):
                if prefix == 'ifcfg-':
                    device = parse_keyvalue_state(text).get('DEVICE') or base[len(prefix):]
                else:
                    device = base[len(prefix):]
                return {device: text}
        return {}

    @staticmethod
    def kind_of(definition):
        data = parse_keyvalue_state(definition or '')
        kind = data.get('TYPE', '')
        if kind == 'OVSBridge':
            return 'ovs_fake' if len(data.get('OVS_OPTIONS', '').split()) == 2 else 'ovs_bridge'
        if kind in ('OVSBond', 'OVSPort', 'OVSIntPort'):
            return 'ovs_port'
        if kind == 'Bridge':
            return 'bridge'
        if kind == 'Bond' or data.get('BONDING_MASTER') == 'yes':
            return 'bond'
        if data.get('VLAN') == 'yes':
            return 'vlan'
        return 'ethernet'

    def conflicts(self, changes):
        """Other ifcfg files for our devices (another file name, same DEVICE): reported."""
        ours = set(f['path'] for f in self.files)
        reports = []
        for path in self.root.glob(IFCFG_DIR + '/ifcfg-*'):
            if path in ours or path.endswith('~') or has_marker(self.root.read(path), self.marker):
                continue
            device = parse_keyvalue_state(self.root.read(path)).get('DEVICE')
            if device in self.names:
                reports.append({'file': path, 'interfaces': [device], 'action': 'reported'})
                self.warnings.append('%s also configures %s, which kvm_network manages in %s/ifcfg-%s: '
                                     'initscripts would bring it up twice. Fix: remove %s.'
                                     % (path, device, IFCFG_DIR, device, path))
        return [], reports, []

    def affected(self, changes):
        return System.affected(self, changes)
