#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_bridge
short_description: Manage an Open vSwitch bridge or fake (VLAN) bridge
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Creates, updates or removes an Open vSwitch bridge (C(ovs-vsctl add-br NAME)) or a fake bridge, a
    VLAN bridge on a parent bridge (C(ovs-vsctl add-br NAME PARENT VLAN)), such as the storage bridge
    C(cloudbr100) on C(cloudbr0) VLAN 100.
  - On an existing real bridge every parameter given is compared with the database and corrected in
    place with one C(ovs-vsctl) transaction (C(datapath_type), C(fail_mode), C(stp_enable),
    C(other_config), C(external_ids)).
  - A fake bridge cannot change its parent or VLAN, and a real bridge cannot become a fake bridge or
    the other way round; then the bridge is deleted and created again in one transaction and the
    result says so in RV(recreated) and RV(recreate_reason). Deleting a bridge deletes its ports, so
    that is refused when the bridge has ports, unless O(force=true).
  - After a change the database is read again and the module fails if it does not show the wanted
    state. Parameters that are not given are not managed. Unset C(datapath_type) is C(system) and
    unset C(fail_mode) is C(standalone) for Open vSwitch, so they compare equal.
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._ovs
options:
  name:
    description:
      - Name of the bridge.
    type: str
    required: true
    aliases: [bridge]
  parent:
    description:
      - Makes the bridge a fake bridge on this parent (a real bridge). Needs O(vlan).
    type: str
  vlan:
    description:
      - VLAN of the fake bridge, 0-4095. Needs O(parent).
    type: int
  datapath_type:
    description:
      - C(system) for the kernel datapath, C(netdev) for the userspace datapath (containers, DPDK).
        Only for real bridges; a fake bridge uses its parent's datapath.
      - Changing it on an existing bridge is done in place; ovs-vswitchd then moves the bridge to the
        other datapath, which interrupts its traffic briefly.
    type: str
    choices: [system, netdev]
  fail_mode:
    description:
      - What the bridge does without an OpenFlow controller. Only for real bridges.
    type: str
    choices: [standalone, secure]
  stp_enable:
    description:
      - Spanning Tree Protocol on the bridge. Only for real bridges.
    type: bool
  other_config:
    description:
      - Keys of the Bridge C(other_config) column, for example C(hwaddr) or C(stp-forward-delay).
        Values are stored as strings (integers and booleans are converted). Only the keys given are
        managed, unless O(other_config_exclusive=true); a key given with a null value is removed.
        Only for real bridges.
    type: dict
  other_config_exclusive:
    description:
      - When true, the Bridge's C(other_config) ends up with exactly the keys in O(other_config).
    type: bool
    default: false
  external_ids:
    description:
      - External IDs of the bridge (for a fake bridge, stored on its Port as C(fake-bridge-KEY), as
        C(ovs-vsctl br-set-external-id) does). Only the keys given are managed; a key given with a null
        value is removed.
    type: dict
  force:
    description:
      - Allow deleting a bridge (for O(state=absent), or to recreate it) that has ports other than its
        own internal port. Those ports are deleted with it; for a real bridge this includes its fake
        bridges and their ports.
    type: bool
    default: false
  state:
    description:
      - C(present) creates or reconciles the bridge, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - A fake bridge is a Port on its parent with C(fake_bridge=true), a VLAN tag and an internal
    Interface of the bridge's name; ports added to the fake bridge are parent ports with that tag.
seealso:
  - module: cloudstack_kvm.networking.ovs_bond
  - module: cloudstack_kvm.networking.ovs_port
  - name: ovs-vsctl(8), bridge commands and fake bridges
    description: How fake bridges are made and what deleting a bridge deletes.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vsctl.8.html
  - name: ovs-vswitchd.conf.db(5), Bridge table
    description: What every bridge column means.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vswitchd.conf.db.5.html
'''

EXAMPLES = r'''
# The seed topology: two bridges and the storage VLAN bridge cloudbr100 on cloudbr0, VLAN 100.
- name: Create cloudbr0 and cloudbr1
  cloudstack_kvm.networking.ovs_bridge:
    name: "{{ item }}"
  loop: [cloudbr0, cloudbr1]

- name: Create the storage VLAN bridge cloudbr100 on cloudbr0, VLAN 100
  cloudstack_kvm.networking.ovs_bridge:
    name: cloudbr100
    parent: cloudbr0
    vlan: 100

# Userspace datapath, as in containers without the OVS kernel module.
- name: cloudbr0 on the netdev datapath
  cloudstack_kvm.networking.ovs_bridge:
    name: cloudbr0
    datapath_type: netdev
    external_ids:
      managed-by: cloudstack_kvm.networking

# Moving the storage bridge to VLAN 200 recreates it; refused while it has ports unless forced.
- name: Move cloudbr100 to VLAN 200
  cloudstack_kvm.networking.ovs_bridge:
    name: cloudbr100
    parent: cloudbr0
    vlan: 200
  register: storage_bridge

- name: Remove cloudbr1 with its bonds and ports
  cloudstack_kvm.networking.ovs_bridge:
    name: cloudbr1
    state: absent
    force: true
'''

RETURN = r'''
bridge:
  description:
    - The bridge after the call (in check mode, as it would be). Null when it is absent.
    - C(fail_mode) and C(datapath_type) show Open vSwitch's defaults when the columns are unset.
      For a fake bridge, C(datapath_type) is its parent's.
  returned: always
  type: dict
  sample:
    state: present
    fake: true
    parent: cloudbr0
    vlan: 100
    datapath_type: system
    fail_mode: null
    stp_enable: false
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
    - [/usr/bin/ovs-vsctl, --timeout=10, --, --may-exist, add-br, cloudbr100, cloudbr0, "100"]
differences:
  description: The parameters that differ, each with the active (database) and wanted value.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: vlan, active: 100, wanted: 200}
recreated:
  description: Whether the bridge is (or in check mode, would be) deleted and created again.
  returned: always
  type: bool
  sample: true
recreate_reason:
  description: Why the bridge has to be recreated; null when it is changed in place or not at all.
  returned: always
  type: str
  sample: fake bridge cloudbr100 is on cloudbr0 VLAN 100, wanted on cloudbr0 VLAN 200; Open vSwitch cannot change that in place
diff:
  description:
    - The bridge before and after, with the keys of RV(bridge).
    - "C({state: absent}) stands for a missing bridge."
  returned: when diff mode is on
  type: dict
  sample:
    before: {state: present, fake: true, parent: cloudbr0, vlan: 100}
    after: {state: present, fake: true, parent: cloudbr0, vlan: 200}
'''

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.bridge import BridgePlanner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import (
    common_argument_spec,
    run_object_module,
)


def argument_spec():
    spec = {
        'name': {'type': 'str', 'required': True, 'aliases': ['bridge']},
        'parent': {'type': 'str'},
        'vlan': {'type': 'int'},
        'datapath_type': {'type': 'str', 'choices': ['system', 'netdev']},
        'fail_mode': {'type': 'str', 'choices': ['standalone', 'secure']},
        'stp_enable': {'type': 'bool'},
        'other_config': {'type': 'dict'},
        'other_config_exclusive': {'type': 'bool', 'default': False},
        'external_ids': {'type': 'dict'},
        'force': {'type': 'bool', 'default': False},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }
    spec.update(common_argument_spec())
    return spec


# What this module manages: its planner, the result key, and AnsibleModule's constraints.
OBJECT = {'planner': BridgePlanner, 'result_key': 'bridge', 'constraints': {'required_together': [('parent', 'vlan')]}}


def main():
    run_object_module(argument_spec(), **OBJECT)


if __name__ == '__main__':
    main()
