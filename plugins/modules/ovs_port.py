#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_port
short_description: Manage a plain, internal, patch or tunnel port on an Open vSwitch bridge
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Creates, updates or removes an Open vSwitch port that has one interface of the same name, as
    C(ovs-vsctl add-port) does. The interface can be a system NIC, an internal port (for example a
    tagged host interface), a patch port, a tap or a tunnel port.
  - On an existing port every parameter given is compared with the database and corrected in place
    with one C(ovs-vsctl) transaction. That covers VLAN tag, trunks, VLAN mode, C(other_config) and
    C(external_ids) of the Port, and type and options of its Interface.
  - The port is deleted and created again, in the same single transaction, only where Open vSwitch
    cannot change it in place; the result says so in RV(recreated) and RV(recreate_reason). That is
    the case when the port exists on another bridge (moving a port between bridges), or exists as a
    bond or with an interface of another name.
  - After a change the database is read again and the module fails if it does not show the wanted
    state. Parameters that are not given are not managed.
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._ovs
  - cloudstack_kvm.networking._ovs.port
options:
  port:
    description:
      - Name of the port and of its interface.
    type: str
    required: true
    aliases: [name]
  type:
    description:
      - Type of the port's interface. C(system) is a network device of the host (the empty type in the
        database); C(internal) is a device Open vSwitch creates, as the local port of a bridge.
      - When not given, a new port is a C(system) port and an existing port keeps its type.
    type: str
    choices: [system, internal, patch, tap, vxlan, gre, geneve, dpdk, dpdkvhostuserclient]
  peer:
    description:
      - For O(type=patch), the name of the patch port at the other end (the interface's
        C(options:peer)).
    type: str
  interface_options:
    description:
      - Keys of the Interface C(options) column, for example C(remote_ip) and C(key) of a tunnel.
        Only the keys given are managed; a key given with a null value is removed. Values are stored
        as strings.
    type: dict
  other_config:
    description:
      - Keys of the Port C(other_config) column. Values are stored as strings (integers and booleans are
        converted). Only the keys given are managed, unless O(other_config_exclusive=true); a key
        given with a null value is removed.
    type: dict
  state:
    description:
      - C(present) creates or reconciles the port, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - For bonds (two or more interfaces) use M(cloudstack_kvm.networking.ovs_bond); for bridges and fake
    (VLAN) bridges use M(cloudstack_kvm.networking.ovs_bridge).
  - The port must not be the fake-bridge port of a VLAN bridge; such ports are bridges.
seealso:
  - module: cloudstack_kvm.networking.ovs_bond
  - module: cloudstack_kvm.networking.ovs_bridge
  - name: ovs-vswitchd.conf.db(5), Port and Interface tables
    description: What every port and interface column means.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vswitchd.conf.db.5.html
'''

EXAMPLES = r'''
# A single-NIC uplink instead of a bond: eth1 on cloudbr1.
- name: Put eth1 on cloudbr1
  cloudstack_kvm.networking.ovs_port:
    bridge: cloudbr1
    port: eth1

# A tagged internal port for storage traffic on VLAN 100 (an alternative to a fake bridge).
- name: Internal port storage0 on cloudbr0, VLAN 100
  cloudstack_kvm.networking.ovs_port:
    bridge: cloudbr0
    port: storage0
    type: internal
    tag: 100

- name: Patch cloudbr0 and cloudbr1 together
  cloudstack_kvm.networking.ovs_port:
    bridge: "{{ item.bridge }}"
    port: "{{ item.port }}"
    type: patch
    peer: "{{ item.peer }}"
  loop:
    - {bridge: cloudbr0, port: patch-br0-br1, peer: patch-br1-br0}
    - {bridge: cloudbr1, port: patch-br1-br0, peer: patch-br0-br1}

- name: A trunk port carrying VLANs 100 and 200
  cloudstack_kvm.networking.ovs_port:
    bridge: cloudbr1
    port: eth5
    trunks: [100, 200]
    vlan_mode: trunk

- name: Remove the tag of storage0 (it then carries untagged traffic)
  cloudstack_kvm.networking.ovs_port:
    bridge: cloudbr0
    port: storage0
    tag: -1

- name: Remove storage0
  cloudstack_kvm.networking.ovs_port:
    port: storage0
    state: absent
'''

RETURN = r'''
port:
  description:
    - The port after the call (in check mode, as it would be). Null when the port is absent.
    - C(bridge) is the real bridge; a port on a fake bridge shows its parent and the VLAN in C(tag).
  returned: always
  type: dict
  sample:
    state: present
    bridge: cloudbr0
    interfaces: [storage0]
    type: internal
    interface_options: {}
    tag: 100
    trunks: []
    vlan_mode: null
    other_config: {}
    external_ids: {}
commands:
  description:
    - The ovs-vsctl commands run, as argv lists (one transaction per list); in check mode, the
      commands a real run would execute. Empty when nothing differs.
  returned: always
  type: list
  elements: list
  sample:
    - [/usr/bin/ovs-vsctl, --timeout=10, --, add-port, cloudbr0, storage0, tag=100, --, set, Interface,
       storage0, type=internal]
differences:
  description: The parameters that differ, each with the active (database) and wanted value.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: tag, active: 200, wanted: 100}
recreated:
  description: Whether the port is (or in check mode, would be) deleted and created again.
  returned: always
  type: bool
  sample: true
recreate_reason:
  description: Why the port has to be recreated; null when it is changed in place or not at all.
  returned: always
  type: str
  sample: port storage0 is on bridge cloudbr1, wanted on cloudbr0; Open vSwitch cannot move a port between bridges
diff:
  description:
    - The port before and after, with the keys of RV(port).
    - "C({state: absent}) stands for a missing port."
  returned: when diff mode is on
  type: dict
  sample:
    before: {state: present, bridge: cloudbr0, type: internal, tag: 200}
    after: {state: present, bridge: cloudbr0, type: internal, tag: 100}
'''

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.port import PORT_TYPES, PortPlanner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import (
    common_argument_spec,
    port_vlan_argument_spec,
    run_object_module,
)


def argument_spec():
    spec = {
        'bridge': {'type': 'str'},
        'port': {'type': 'str', 'required': True, 'aliases': ['name']},
        'type': {'type': 'str', 'choices': PORT_TYPES},
        'peer': {'type': 'str'},
        'interface_options': {'type': 'dict'},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }
    spec.update(port_vlan_argument_spec())
    spec.update(common_argument_spec())
    return spec


# What this module manages: its planner, the result key, and AnsibleModule's constraints.
OBJECT = {'planner': PortPlanner, 'result_key': 'port', 'constraints': {'required_if': [('state', 'present', ('bridge',))]}}


def main():
    run_object_module(argument_spec(), **OBJECT)


if __name__ == '__main__':
    main()
