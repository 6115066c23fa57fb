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
requirements:
  - ovs-vsctl on the managed host (tested with Open vSwitch 3.1; the commands and columns used also exist in 2.x releases such as the seed's 2.9)
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the database and returns the exact C(ovs-vsctl) command that a real run
        would execute, without executing it.
  diff_mode:
    support: full
options:
  bridge:
    description:
      - The bridge the port belongs on. Required when O(state=present).
      - May name a fake bridge (a VLAN bridge made with C(ovs-vsctl add-br NAME PARENT VLAN)); that is
        the same as its parent bridge with O(tag) set to the fake bridge's VLAN.
      - With O(state=absent), when given, the port is removed only if it is on this bridge.
    type: str
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
  tag:
    description:
      - VLAN tag of the port (access VLAN), 0-4095. C(-1) removes the tag.
    type: int
  trunks:
    description:
      - VLANs the port trunks. An empty list removes all trunks (the port then trunks every VLAN).
    type: list
    elements: int
  vlan_mode:
    description:
      - The VLAN mode of the port.
    type: str
    choices: [access, native-tagged, native-untagged, trunk, dot1q-tunnel]
  other_config:
    description:
      - Keys of the Port C(other_config) column. Values are stored as strings (integers and booleans are
        converted). Only the keys given are managed, unless O(other_config_exclusive=true); a key
        given with a null value is removed.
    type: dict
  other_config_exclusive:
    description:
      - When true, the Port's C(other_config) ends up with exactly the keys in O(other_config).
    type: bool
    default: false
  external_ids:
    description:
      - Keys of the Port C(external_ids) column. Only the keys given are managed; a key given with a
        null value is removed.
    type: dict
  state:
    description:
      - C(present) creates or reconciles the port, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  database:
    description:
      - The OVSDB server to talk to, as for C(ovs-vsctl --db), for example
        C(unix:/run/openvswitch/db.sock). The default is ovs-vsctl's own default.
    type: str
  timeout:
    description:
      - Seconds ovs-vsctl waits for the database and for ovs-vswitchd to apply a change
        (C(ovs-vsctl --timeout)).
    type: int
    default: 10
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
  - name: ovs-vsctl(8)
    description: The command this module runs.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vsctl.8.html
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import (
    INTERFACE_TYPE_DEFAULT,
    OvsError,
    OvsParameterError,
    OvsPlan,
    OvsStateError,
    OvsVsctl,
    apply_plan,
    column_arg,
    common_argument_spec,
    creation_column_args,
    map_column_commands,
    map_key_arg,
    normalise_map_param,
    port_column_commands,
    port_vlan_argument_spec,
    validate_vlan_params,
    wanted_map,
    wanted_port_columns,
)

VLAN_COLUMNS = ('tag', 'trunks', 'vlan_mode', 'other_config', 'external_ids')
VIEW_KEYS = ('state', 'bridge', 'interfaces', 'type', 'interface_options') + VLAN_COLUMNS
TYPES = ['system', 'internal', 'patch', 'tap', 'vxlan', 'gre', 'geneve', 'dpdk', 'dpdkvhostuserclient']

DEFAULT_VIEW = {
    'state': 'present',
    'bridge': None,
    'interfaces': [],
    'type': INTERFACE_TYPE_DEFAULT,
    'interface_options': {},
    'tag': None,
    'trunks': [],
    'vlan_mode': None,
    'other_config': {},
    'external_ids': {},
}


def port_view(port, iface):
    return {
        'state': 'present',
        'bridge': port['bridge'],
        'interfaces': list(port['interfaces']),
        'type': iface['type'] if iface else INTERFACE_TYPE_DEFAULT,
        'interface_options': dict(iface['options']) if iface else {},
        'tag': port['tag'],
        'trunks': list(port['trunks']),
        'vlan_mode': port['vlan_mode'],
        'other_config': dict(port['other_config']),
        'external_ids': dict(port['external_ids']),
    }


class PortPlanner(object):
    """Plans one ovs_port call from the module parameters and a database snapshot."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.name = params['port']

    def __call__(self, snapshot):
        self.snapshot = snapshot
        plan = OvsPlan()
        have = snapshot.port(self.name)
        if have is not None and have['fake_bridge']:
            raise OvsStateError('%s is a fake bridge (a VLAN bridge on %s), not a plain port; manage it with '
                                'cloudstack_kvm.networking.ovs_bridge' % (self.name, have['bridge']))
        iface = None
        if have is not None and self.name in have['interfaces']:
            iface = snapshot.interface(self.name)
        plan.before = port_view(have, iface) if have is not None else None
        if self.params['state'] == 'absent':
            self._plan_absent(plan, have)
        else:
            self._plan_present(plan, have, iface)
        return plan

    def _plan_absent(self, plan, have):
        bridge = self.params.get('bridge')
        if have is None:
            plan.tracker.add('state', 'absent', 'absent')
            return
        if bridge and bridge not in (have['bridge'], have['vsctl_bridge']):
            plan.warnings.append('port %s is on bridge %s, not on %s: left alone'
                                 % (self.name, have['vsctl_bridge'], bridge))
            plan.tracker.add('state', 'present', 'present')
            plan.after = plan.before
            return
        plan.tracker.add('state', 'present', 'absent')
        plan.txn.add('del-port', self.name, options=['--if-exists'])
        plan.after = None

    def _resolve_bridge(self, plan):
        bridge = self.params['bridge']
        resolved = self.snapshot.resolve_bridge(bridge)
        if resolved is not None:
            return resolved
        if self.check_mode:
            plan.warnings.append('bridge %s does not exist (yet): planned as if an earlier task created it'
                                 % bridge)
            return bridge, None
        raise OvsStateError('port %s: bridge %s does not exist; create it first, for example with '
                            'cloudstack_kvm.networking.ovs_bridge' % (self.name, bridge))

    def _plan_present(self, plan, have, iface):
        p = self.params
        validate_vlan_params(p, 'port %s' % self.name)
        real_bridge, vlan = self._resolve_bridge(plan)
        if p.get('tag') is not None and vlan is not None and p['tag'] != vlan:
            raise OvsParameterError('port %s: bridge %s is a fake bridge on VLAN %d, which fixes the tag; '
                                    'tag %d contradicts it (name the parent bridge to use another tag)'
                                    % (self.name, p['bridge'], vlan, p['tag']))
        other = self.snapshot.interface(self.name)
        if other is not None and other['port'] != self.name:
            owner = self.snapshot.port(other['port'])
            raise OvsStateError('port %s: interface %s is already a member of %s %s on bridge %s; remove it '
                                'there first' % (self.name, self.name,
                                                 'bond' if owner and len(owner['interfaces']) > 1 else 'port',
                                                 other['port'], owner['vsctl_bridge'] if owner else '?'))
        have_view = plan.before
        if have is None:
            mode = 'create'
        elif have['bridge'] != real_bridge:
            mode = 'recreate'
            plan.recreate('port %s is on bridge %s, wanted on %s; Open vSwitch cannot move a port between bridges'
                          % (self.name, have['bridge'], real_bridge))
        elif have['interfaces'] != [self.name]:
            mode = 'recreate'
            what = ('a bond of %s' % ', '.join(have['interfaces']) if len(have['interfaces']) > 1
                    else 'a port with interface %s' % ', '.join(have['interfaces']))
            plan.recreate('port %s exists as %s; it is recreated with one interface named %s'
                          % (self.name, what, self.name))
            have_view = dict(have_view, type=DEFAULT_VIEW['type'], interface_options={})
        else:
            mode = 'update'

        want = wanted_port_columns(p, have_view, vlan=vlan)
        want['bridge'] = real_bridge
        want['interfaces'] = [self.name]
        if p.get('type') is not None:
            want['type'] = p['type']
        options = normalise_map_param(p.get('interface_options')) or {}
        if p.get('peer') is not None:
            options['peer'] = p['peer']
        if p.get('interface_options') is not None or p.get('peer') is not None:
            want['interface_options'] = wanted_map((have_view or DEFAULT_VIEW)['interface_options'], options)

        base = dict(DEFAULT_VIEW) if have_view is None else dict(have_view)
        after = dict(base)
        after.update(want)
        after['state'] = 'present'
        if after['type'] == 'patch' and not after['interface_options'].get('peer'):
            raise OvsParameterError('port %s: a patch port needs its peer: set peer to the patch port at the other end'
                                    % self.name)
        if p.get('peer') is not None and after['type'] != 'patch':
            raise OvsParameterError('port %s: peer only applies to type patch, the port is %s'
                                    % (self.name, after['type']))
        plan.after = after
        for key in VIEW_KEYS:
            active = plan.before.get(key) if plan.before is not None else ('absent' if key == 'state' else None)
            plan.tracker.add(key, active, after[key])

        if mode == 'update':
            port_column_commands(plan.txn, self.name, have_view, want, VLAN_COLUMNS)
            iface_args = []
            if 'type' in want and want['type'] != have_view['type']:
                iface_args.append(column_arg('type', '' if want['type'] == INTERFACE_TYPE_DEFAULT else want['type']))
            if iface_args:
                plan.txn.add('set', 'Interface', self.name, *iface_args)
            if 'interface_options' in want:
                map_column_commands(plan.txn, 'Interface', self.name, 'options',
                                    have_view['interface_options'], want['interface_options'])
            return
        if mode == 'recreate':
            plan.txn.add('del-port', self.name, options=['--if-exists'])
        source = {}
        for column in VLAN_COLUMNS:
            if column in want or (have_view is not None and after[column] != DEFAULT_VIEW[column]):
                source[column] = after[column]
        plan.txn.add('add-port', p['bridge'], self.name, *creation_column_args(source, VLAN_COLUMNS))
        iface_args = []
        if after['type'] != INTERFACE_TYPE_DEFAULT:
            iface_args.append(column_arg('type', after['type']))
        iface_args.extend(map_key_arg('options', k, v) for k, v in sorted(after['interface_options'].items()))
        if iface_args:
            plan.txn.add('set', 'Interface', self.name, *iface_args)


def argument_spec():
    spec = {
        'bridge': {'type': 'str'},
        'port': {'type': 'str', 'required': True, 'aliases': ['name']},
        'type': {'type': 'str', 'choices': TYPES},
        'peer': {'type': 'str'},
        'interface_options': {'type': 'dict'},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }
    spec.update(port_vlan_argument_spec())
    spec.update(common_argument_spec())
    return spec


def build_module():
    return AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'present', ('bridge',))],
        supports_check_mode=True,
    )


def run_module(module, client):
    planner = PortPlanner(module.params, check_mode=module.check_mode)
    return apply_plan(module, client, planner, 'port')


def main():
    module = build_module()
    try:
        client = OvsVsctl.from_module(module)
        result = run_module(module, client)
    except OvsError as e:
        module.fail_json(**e.fail_kwargs())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
