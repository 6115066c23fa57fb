#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_bond
short_description: Manage an Open vSwitch bond port, reconciling members, mode and LACP
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Creates, updates or removes a bonded port (a Port with two or more Interfaces) on an Open vSwitch
    bridge, as C(ovs-vsctl add-bond) does, and keeps it as described on later runs.
  - On an existing bond every parameter given is compared with the database and corrected, member
    interfaces included. Members are added and removed in place, and C(bond_mode), C(lacp), the
    delays, VLAN settings, C(other_config) and C(external_ids) are changed in place with one
    C(ovs-vsctl) transaction.
  - The port is deleted and created again, in the same single transaction, only where Open vSwitch
    cannot change it in place; the result says so in RV(recreated) and RV(recreate_reason). That is
    the case when a port of this name exists on another bridge, or exists as a plain (one
    interface) port.
  - All changes of one call are one atomic OVSDB transaction. After a change the database is read
    again and the module fails if it does not show the wanted state.
  - Parameters that are not given are not managed and keep their current value. Where Open vSwitch
    treats an unset column as a default (C(bond_mode) unset is C(active-backup), C(lacp) unset is
    C(off)), the default and the explicit value compare equal.
  - Works the same on bridges with C(datapath_type) C(system) (kernel datapath) and C(netdev)
    (userspace datapath).
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._ovs
  - cloudstack_kvm.networking._ovs.port
options:
  port:
    description:
      - Name of the bond port, for example C(bond0).
    type: str
    required: true
    aliases: [name, bond]
  interfaces:
    description:
      - The member interfaces (network devices) of the bond. Open vSwitch needs at least two.
      - The bond ends up with exactly these members; members not listed are removed.
      - An interface may not be a member or port of any other port.
      - Required when O(state=present).
    type: list
    elements: str
  bond_mode:
    description:
      - The bonding mode. Unset in the database means C(active-backup).
      - C(balance-tcp) requires LACP (O(lacp) C(active) or C(passive)); the module refuses it with
        LACP off, because Open vSwitch would not run the mode asked for.
    type: str
    choices: [active-backup, balance-slb, balance-tcp]
  lacp:
    description:
      - LACP on the bond. Unset in the database means C(off).
    type: str
    choices: ['off', active, passive]
  bond_updelay:
    description:
      - Milliseconds a member's link must stay up before it is used.
    type: int
  bond_downdelay:
    description:
      - Milliseconds a member's link must stay down before it is dropped.
    type: int
  other_config:
    description:
      - Keys of the Port C(other_config) column, for example C(bond-detect-mode=miimon),
        C(bond-miimon-interval=100), C(lacp-time=fast), C(bond-primary=eth0), C(lacp-fallback-ab=true).
      - Values are stored as strings; integers and booleans are converted to the strings Open vSwitch
        stores (C(100), C(true)), so C(100) and C("100") are the same value.
      - Only the keys given are managed, unless O(other_config_exclusive=true). A key given with a
        null value is removed.
    type: dict
  state:
    description:
      - C(present) creates or reconciles the bond, C(absent) removes the port and its interfaces.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Members are added with C(create Interface) and C(add Port ... interfaces) and removed with
    C(remove Port ... interfaces), which every Open vSwitch version understands (the seed's 2.9
    included); C(add-bond-iface) and C(del-bond-iface) only exist in recent ovs-vsctl releases.
  - Members are created as system interfaces (C(type) empty). DPDK members need their type and
    C(options:dpdk-devargs) set on the Interface, which this module does not manage.
  - This module changes the Open vSwitch database; to make a bond survive a reboot on systems
    whose network scripts recreate it (ifcfg C(OVSBond), ifupdown C(ovs_bonds)), keep those files
    in step, as the collection's roles do.
seealso:
  - module: cloudstack_kvm.networking.ovs_bridge
  - module: cloudstack_kvm.networking.ovs_port
  - name: ovs-vswitchd.conf.db(5), Port table, bonding configuration
    description: What every bond column and other_config key means.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vswitchd.conf.db.5.html
'''

EXAMPLES = r'''
# The seed topology: cloudbr0 and cloudbr1, each fed by an active-backup bond with MII monitoring.
- name: Bond eth0 and eth1 into bond0 on cloudbr0
  cloudstack_kvm.networking.ovs_bond:
    bridge: cloudbr0
    port: bond0
    interfaces: [eth0, eth1]
    bond_mode: active-backup
    lacp: "off"
    other_config:
      bond-detect-mode: miimon
      bond-miimon-interval: 100

- name: Bond eth2 and eth3 into bond1 on cloudbr1
  cloudstack_kvm.networking.ovs_bond:
    bridge: cloudbr1
    port: bond1
    interfaces: [eth2, eth3]
    bond_mode: active-backup
    lacp: "off"
    other_config:
      bond-detect-mode: miimon
      bond-miimon-interval: 100

# Replace a member in place (eth1 leaves, eth4 joins) and switch to LACP load balancing.
- name: Reconcile bond0 to LACP balance-tcp over eth0 and eth4
  cloudstack_kvm.networking.ovs_bond:
    bridge: cloudbr0
    port: bond0
    interfaces: [eth0, eth4]
    bond_mode: balance-tcp
    lacp: active
    bond_updelay: 200
    bond_downdelay: 200
    other_config:
      lacp-time: fast
      lacp-fallback-ab: true
  register: bond0

- name: Show whether the port had to be recreated
  ansible.builtin.debug:
    msg: "{{ bond0.recreate_reason if bond0.recreated else 'changed in place' }}"

# Own other_config completely: keys not listed are removed.
- name: Keep only MII monitoring settings in bond1's other_config
  cloudstack_kvm.networking.ovs_bond:
    bridge: cloudbr1
    port: bond1
    interfaces: [eth2, eth3]
    other_config:
      bond-detect-mode: miimon
      bond-miimon-interval: 100
    other_config_exclusive: true

- name: Remove bond1
  cloudstack_kvm.networking.ovs_bond:
    bridge: cloudbr1
    port: bond1
    state: absent
'''

RETURN = r'''
bond:
  description:
    - The bond after the call (in check mode, as it would be). Null when the port is absent.
    - C(bridge) is the real bridge; a bond on a fake bridge shows its parent and the VLAN in C(tag).
    - C(bond_mode) and C(lacp) show Open vSwitch's defaults when the columns are unset.
  returned: always
  type: dict
  sample:
    state: present
    bridge: cloudbr0
    interfaces: [eth0, eth1]
    bond_mode: active-backup
    lacp: "off"
    bond_updelay: 0
    bond_downdelay: 0
    other_config: {bond-detect-mode: miimon, bond-miimon-interval: "100"}
    external_ids: {}
    tag: null
    trunks: []
    vlan_mode: null
commands:
  description:
    - The ovs-vsctl commands run, as argv lists (one transaction per list); in check mode, the
      commands a real run would execute. Empty when nothing differs.
  returned: always
  type: list
  elements: list
  sample:
    - [/usr/bin/ovs-vsctl, --timeout=10, --, --id=@m0, create, Interface, name=eth4, --, add, Port, bond0,
       interfaces, "@m0", --, remove, Port, bond0, interfaces, 00641b5b-0bef-4a7a-bffb-409f54c07687]
differences:
  description: The parameters that differ, each with the active (database) and wanted value.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: interfaces, active: [eth0, eth1], wanted: [eth0, eth4]}
recreated:
  description: Whether the port is (or in check mode, would be) deleted and created again.
  returned: always
  type: bool
  sample: false
recreate_reason:
  description: Why the port has to be recreated; null when it is changed in place or not at all.
  returned: always
  type: str
  sample: port bond0 is on bridge cloudbr1, wanted on cloudbr0; Open vSwitch cannot move a port between bridges
diff:
  description:
    - The bond before and after, with the keys of RV(bond).
    - "C({state: absent}) stands for a missing port."
  returned: when diff mode is on
  type: dict
  sample:
    before: {state: present, bridge: cloudbr0, interfaces: [eth0, eth1], bond_mode: active-backup}
    after: {state: present, bridge: cloudbr0, interfaces: [eth0, eth4], bond_mode: balance-tcp}
'''

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import LACP_MODES, OVS_BOND_MODES
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.port import BondPlanner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import (
    common_argument_spec,
    port_vlan_argument_spec,
    run_object_module,
)


def argument_spec():
    spec = {
        'bridge': {'type': 'str'},
        'port': {'type': 'str', 'required': True, 'aliases': ['name', 'bond']},
        'interfaces': {'type': 'list', 'elements': 'str'},
        'bond_mode': {'type': 'str', 'choices': list(OVS_BOND_MODES)},
        'lacp': {'type': 'str', 'choices': list(LACP_MODES)},
        'bond_updelay': {'type': 'int'},
        'bond_downdelay': {'type': 'int'},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }
    spec.update(port_vlan_argument_spec())
    spec.update(common_argument_spec())
    return spec


# What this module manages: its planner, the result key, and AnsibleModule's constraints.
OBJECT = {'planner': BondPlanner, 'result_key': 'bond', 'constraints': {'required_if': [('state', 'present', ('bridge', 'interfaces'))]}}


def main():
    run_object_module(argument_spec(), **OBJECT)


if __name__ == '__main__':
    main()
