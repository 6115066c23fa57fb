# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""What a host needs because of its normalised model: for host preparation (the kvm_host role)
the kernel modules, what selects packages (Linux bonds, VLAN devices, DNS), where IPv6 is used and
the management address its /etc/hosts entry carries, the forwarding its guests need (seed 003);
for a safe apply the gateways it must still reach after a change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.sriov import host_sriov


def kernel_modules(model):
    """The kernel modules the backend needs: Open vSwitch's, or the Linux bridge's and, when the
    model has them, bonding and 802.1Q."""
    if model['backend'] == 'openvswitch':
        return ['openvswitch']
    return ['bridge'] + (['bonding'] if model['bonds'] else []) + (['8021q'] if model['vlans'] else [])


def ipv6_uses(model):
    """Where the model uses IPv6: its IPv6 addresses, then the bridges with gateway6, with dhcp6."""
    bridges = list(model['bridges'].values())
    return ([a for br in bridges for a in br['addresses'] if ':' in a]
            + [br['name'] for br in bridges if br['gateway6']]
            + [br['name'] for br in bridges if br['dhcp6']])


def management_address(model):
    """The first address (without prefix) of the management traffic label's bridge, or ''."""
    bridge = model['bridges'].get(model['traffic_labels'].get('management'))
    if not bridge:
        return ''    # no label, or a label naming a plain device (which has no address here)
    addresses = bridge['addresses']
    return addresses[0].split('/')[0] if addresses else ''


def gateways(model):
    """The default gateways, each with the bridge that reaches it: what a host must still reach
    after a network change (the default confirmation targets of a safe apply)."""
    found = []
    for name, br in model['bridges'].items():
        for key in ('gateway4', 'gateway6'):
            if br[key]:
                found.append({'target': br[key], 'bridge': name})
    return found


def host_needs(model):
    """All of it, as the kvm_network_model action returns it in ``needs``."""
    return {
        'kernel_modules': kernel_modules(model),
        'linux_bonds': model['backend'] == 'linux_bridge' and bool(model['bonds']),
        'vlans': bool(model['vlans']),
        'nameservers': any(br['nameservers']['addresses'] for br in model['bridges'].values()),
        'ipv6': ipv6_uses(model),
        'management_address': management_address(model),
        'sriov': host_sriov(model),
        'gateways': gateways(model),
        'forwarding': dict(model['forwarding']),
    }
