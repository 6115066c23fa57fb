# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""What the CloudStack KVM agent makes of a normalised model: the device behind each traffic label
and the warnings about names the agent cannot use in full."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import IFNAME_MAX as IFNAMSIZ, VLAN_MAX

# The traffic types whose VLAN networks the agent gives a bridge of their own (BridgeVifDriver:
# createVnetBr for guest and public networks, createStorageVnetBridgeIfNeeded for storage).
VLAN_BRIDGE_TRAFFIC = ('guest', 'public', 'storage')


def agent_device(model, label):
    """The device the agent finds behind ``label`` on a Linux bridge host (BridgeVifDriver.getPif):
    the bridge's physical port, picked by the agent's name rule (normalise.CLOUDSTACK_PORT_PATTERNS),
    and for a VLAN device the device it is on (/proc/net/vlan); a label that is no bridge, or a
    bridge without a port, is used as it is (BridgeVifDriver.createVnetBr)."""
    bridge = model['bridges'].get(label)
    port = bridge['port'] if bridge else None
    if not port:
        return label
    vlan = model['vlans'].get(port)
    return vlan['link'] if vlan else port


def vlan_bridge_name(device, vlan):
    """The bridge BridgeVifDriver.setVnetBrName creates for a VLAN network on ``device``."""
    return 'br%s-%d' % (device, vlan)


def highest_vlan_that_fits(device):
    """The highest VLAN id whose bridge name fits Linux's 15 characters on ``device``, or 0."""
    room = IFNAMSIZ - len(vlan_bridge_name(device, 0)) + 1
    if room < 1:
        return 0
    return min(VLAN_MAX, 10 ** room - 1)


def label_warnings(model):
    """Warnings for a Linux bridge host whose guest, public or storage label sits on a device so long that
    CloudStack's br<device>-<vlan> bridges cannot be created for every VLAN (Open vSwitch tags
    guest ports on the label's bridge instead, so it has no such limit)."""
    if model['backend'] != 'linux_bridge':
        return []
    warnings = []
    for kind in VLAN_BRIDGE_TRAFFIC:
        label = model['traffic_labels'].get(kind)
        if not label:
            continue
        device = agent_device(model, label)
        highest = highest_vlan_that_fits(device)
        if highest >= VLAN_MAX:
            continue
        reach = 'no VLAN at all' if not highest else 'only VLANs up to %d' % highest
        warnings.append(
            'traffic label %s (%s): CloudStack names the bridge of a VLAN %s network %s, which for '
            'VLAN %d is %d characters, over Linux\'s %d; %s can be used. Fix: give %s a shorter name '
            '(at most %d characters)'
            % (kind, label, kind, 'br%s-<vlan>' % device, VLAN_MAX,
               len(vlan_bridge_name(device, VLAN_MAX)), IFNAMSIZ, reach, device,
               IFNAMSIZ - len(vlan_bridge_name('', VLAN_MAX))))
    return warnings
