# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The traffic label devices of agent.properties, looked at on the host as the CloudStack agent
looks at them (LibvirtComputingResource.getPif, BridgeVifDriver, OvsVifDriver): a Linux bridge
with a port the agent takes as its physical device, a plain device, or an Open vSwitch bridge."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import SysReader
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.cloudstack import highest_vlan_that_fits
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import CLOUDSTACK_PORT_HUMAN, CLOUDSTACK_PORT_RE
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsError


class BridgeChecker(object):
    """Whether a traffic label device is one the agent will use, as the agent looks at it."""

    def __init__(self, module, sys_root='/'):
        self.module = module
        self.sysr = SysReader(sys_root)
        self._ovs = None
        self._ovs_error = None
        self.warnings = []

    def ovs_bridges(self):
        if self._ovs is None and self._ovs_error is None:
            if not self.module.get_bin_path('ovs-vsctl', required=False):
                self._ovs_error = 'ovs-vsctl is not installed'
            else:
                try:
                    self._ovs = set(OvsVsctl(self.module, timeout=5).snapshot().bridges)
                except OvsError as e:
                    self._ovs_error = 'the Open vSwitch database cannot be read (%s)' % e
        return self._ovs or set()

    def physical_device(self, bridge, ports=None):
        """The port the agent takes as a Linux bridge's physical device, and for a VLAN device the
        device under it (BridgeVifDriver.getPif: /sys/devices/virtual/net/BR/brif, isInterface,
        /proc/net/vlan/PORT); None when no port has a name the agent accepts. ``ports``: the
        bridge's ports when the caller has listed them already."""
        if ports is None:
            ports = self.sysr.listdir('/sys/class/net', bridge, 'brif')
        for port in ports:
            if CLOUDSTACK_PORT_RE.match(port):
                for line in (self.sysr.read('/proc/net/vlan', port) or '').splitlines():
                    if line.startswith('Device:'):
                        return line.split(':', 1)[1].strip() or port
                return port
        return None

    def _native(self, key, dev):
        """(what is wrong, fix) for a label device on a Linux bridge host, or None."""
        if self.sysr.is_linux_bridge(dev):
            ports = self.sysr.listdir('/sys/class/net', dev, 'brif')
            pif = self.physical_device(dev, ports)    # the ports listed once
            if ports and pif is None:
                return ('Linux bridge %s has no port the agent accepts as its physical device (ports: %s)'
                        % (dev, ', '.join(ports)),
                        'name the uplink %s (LibvirtComputingResource.isInterface)' % CLOUDSTACK_PORT_HUMAN)
            if not ports:
                self.warnings.append('key %s: Linux bridge %s has no port yet, so the agent finds no physical '
                                     'device for it (VLAN networks on it will fail)' % (key, dev))
            self._vlan_bridge_room(key, pif or dev)
            return None
        if dev in self.ovs_bridges():
            return ('%s is an Open vSwitch bridge, but network.bridge.type is native' % dev,
                    'set network.bridge.type: openvswitch, or use a Linux bridge')
        if self.sysr.exists('/sys/class/net', dev):
            self._vlan_bridge_room(key, dev)    # a plain device: the agent uses it as it is
            return None
        return ('there is no Linux bridge or device %s on this host' % dev,
                'create %s first, or set validate_bridges: false' % dev)

    def _vlan_bridge_room(self, key, device):
        if key not in ('guest.network.device', 'public.network.device'):
            return
        highest = highest_vlan_that_fits(device)
        if highest < 4094:
            self.warnings.append(
                'key %s: CloudStack names the bridge of a VLAN network on %s br%s-<vlan>, which does not fit '
                "Linux's 15 characters above VLAN %d%s. Fix: a shorter device name"
                % (key, device, device, highest, ' (no VLAN fits)' if not highest else ''))

    def _openvswitch(self, dev):
        if dev in self.ovs_bridges():
            return None
        if self.sysr.is_linux_bridge(dev):
            what = '%s is a Linux bridge, but network.bridge.type is openvswitch' % dev
        elif self._ovs_error:
            what = 'cannot tell whether Open vSwitch bridge %s exists: %s' % (dev, self._ovs_error)
        else:
            what = 'there is no Open vSwitch bridge %s on this host' % dev
        return what, 'create the Open vSwitch bridge %s first, or set validate_bridges: false' % dev

    def problems(self, devices, btype):
        out = []
        for key, dev in devices:
            if btype == 'tungsten':
                continue    # Tungsten Fabric's vRouter plugs guests itself
            found = self._openvswitch(dev) if btype == 'openvswitch' else self._native(key, dev)
            if found:
                out.append('key %s: %s. Fix: %s' % (key, found[0], found[1]))
        return out
