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
      - The bridge the bond belongs on. Required when O(state=present).
      - May name a fake bridge (a VLAN bridge made with C(ovs-vsctl add-br NAME PARENT VLAN)); that is
        the same as its parent bridge with O(tag) set to the fake bridge's VLAN.
      - With O(state=absent), when given, the port is removed only if it is on this bridge.
    type: str
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
  other_config_exclusive:
    description:
      - When true, C(other_config) ends up with exactly the keys in O(other_config) (none if it is not
        given); other keys are removed.
    type: bool
    default: false
  external_ids:
    description:
      - Keys of the Port C(external_ids) column. Only the keys given are managed; a key given with a
        null value is removed.
    type: dict
  tag:
    description:
      - VLAN tag of the bond port (access VLAN), 0-4095. C(-1) removes the tag.
    type: int
  trunks:
    description:
      - VLANs the bond port trunks. An empty list removes all trunks (the port then trunks every VLAN).
    type: list
    elements: int
  vlan_mode:
    description:
      - The VLAN mode of the port.
    type: str
    choices: [access, native-tagged, native-untagged, trunk, dot1q-tunnel]
  state:
    description:
      - C(present) creates or reconciles the bond, C(absent) removes the port and its interfaces.
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
  - name: ovs-vsctl(8)
    description: The command this module runs.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vsctl.8.html
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import (
    BOND_MODE_DEFAULT,
    LACP_DEFAULT,
    OvsError,
    OvsParameterError,
    OvsPlan,
    OvsStateError,
    OvsVsctl,
    apply_plan,
    column_arg,
    common_argument_spec,
    creation_column_args,
    port_column_commands,
    port_vlan_argument_spec,
    quote,
    validate_vlan_params,
    wanted_port_columns,
)

BOND_COLUMNS = ('bond_mode', 'lacp', 'bond_updelay', 'bond_downdelay')
VLAN_COLUMNS = ('tag', 'trunks', 'vlan_mode', 'other_config', 'external_ids')
VIEW_KEYS = ('state', 'bridge', 'interfaces') + BOND_COLUMNS + VLAN_COLUMNS

DEFAULT_VIEW = {
    'state': 'present',
    'bridge': None,
    'interfaces': [],
    'bond_mode': BOND_MODE_DEFAULT,
    'lacp': LACP_DEFAULT,
    'bond_updelay': 0,
    'bond_downdelay': 0,
    'tag': None,
    'trunks': [],
    'vlan_mode': None,
    'other_config': {},
    'external_ids': {},
}


def bond_view(port):
    """The bond as this module reports it: Open vSwitch's defaults filled in."""
    return {
        'state': 'present',
        'bridge': port['bridge'],
        'interfaces': list(port['interfaces']),
        'bond_mode': port['bond_mode'] or BOND_MODE_DEFAULT,
        'lacp': port['lacp'] or LACP_DEFAULT,
        'bond_updelay': port['bond_updelay'],
        'bond_downdelay': port['bond_downdelay'],
        'tag': port['tag'],
        'trunks': list(port['trunks']),
        'vlan_mode': port['vlan_mode'],
        'other_config': dict(port['other_config']),
        'external_ids': dict(port['external_ids']),
    }


class BondPlanner(object):
    """Plans one ovs_bond call from the module parameters and a database snapshot."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.name = params['port']

    def __call__(self, snapshot):
        self.snapshot = snapshot
        plan = OvsPlan()
        have = snapshot.port(self.name)
        if have is not None and have['fake_bridge']:
            raise OvsStateError('%s is a fake bridge (a VLAN bridge on %s), not a bond; manage it with '
                                'cloudstack_kvm.networking.ovs_bridge or choose another port name'
                                % (self.name, have['bridge']))
        plan.before = bond_view(have) if have is not None else None
        if self.params['state'] == 'absent':
            self._plan_absent(plan, have)
        else:
            self._plan_present(plan, have)
        return plan

    # -- absent --------------------------------------------------------------------------------

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

    # -- present -------------------------------------------------------------------------------

    def _validate(self):
        p = self.params
        members = p['interfaces']
        if len(members) < 2:
            raise OvsParameterError('bond %s: Open vSwitch needs at least two interfaces in a bond, got %s; '
                                    'use cloudstack_kvm.networking.ovs_port for a single interface'
                                    % (self.name, members or 'none'))
        dupes = sorted(set(m for m in members if members.count(m) > 1))
        if dupes:
            raise OvsParameterError('bond %s: interfaces listed more than once: %s' % (self.name, ', '.join(dupes)))
        if self.name in members:
            raise OvsParameterError('bond %s: the bond port cannot also be one of its own interfaces' % self.name)
        for key in ('bond_updelay', 'bond_downdelay'):
            if p.get(key) is not None and p[key] < 0:
                raise OvsParameterError('bond %s: %s must be 0 or more milliseconds' % (self.name, key))
        validate_vlan_params(p, 'bond %s' % self.name)

    def _resolve_bridge(self, plan):
        bridge = self.params['bridge']
        resolved = self.snapshot.resolve_bridge(bridge)
        if resolved is not None:
            return resolved
        if self.check_mode:
            plan.warnings.append('bridge %s does not exist (yet): planned as if an earlier task created it'
                                 % bridge)
            return bridge, None
        raise OvsStateError('bond %s: bridge %s does not exist; create it first, for example with '
                            'cloudstack_kvm.networking.ovs_bridge' % (self.name, bridge))

    def _check_members_free(self, members):
        for member in members:
            iface = self.snapshot.interface(member)
            if iface is None or iface['port'] == self.name:
                continue
            owner = self.snapshot.port(iface['port'])
            what = 'a member of bond' if owner and len(owner['interfaces']) > 1 else 'port'
            raise OvsStateError('bond %s: interface %s is already %s %s on bridge %s; remove it there first '
                                '(cloudstack_kvm.networking.ovs_port or ovs_bond with state=absent, or '
                                'drop it from that bond\'s interfaces)'
                                % (self.name, member, what, iface['port'],
                                   owner['vsctl_bridge'] if owner else '?'))

    def _wanted(self, have_view, real_bridge, vlan):
        p = self.params
        if p.get('tag') is not None and vlan is not None and p['tag'] != vlan:
            raise OvsParameterError('bond %s: bridge %s is a fake bridge on VLAN %d, which fixes the tag; '
                                    'tag %d contradicts it (name the parent bridge to use another tag)'
                                    % (self.name, p['bridge'], vlan, p['tag']))
        want = wanted_port_columns(p, have_view, vlan=vlan)
        want['bridge'] = real_bridge
        want['interfaces'] = sorted(p['interfaces'])
        for column in BOND_COLUMNS:
            if p.get(column) is not None:
                want[column] = p[column]
        lacp = want.get('lacp', (have_view or DEFAULT_VIEW)['lacp'])
        mode = want.get('bond_mode', (have_view or DEFAULT_VIEW)['bond_mode'])
        if mode == 'balance-tcp' and lacp == 'off':
            raise OvsParameterError('bond %s: bond_mode balance-tcp needs LACP (lacp: active or passive, and LACP '
                                    'on the switch); with lacp off Open vSwitch does not run balance-tcp. '
                                    'Set lacp, or use balance-slb or active-backup' % self.name)
        return want

    def _plan_present(self, plan, have):
        p = self.params
        self._validate()
        real_bridge, vlan = self._resolve_bridge(plan)
        self._check_members_free(p['interfaces'])
        have_view = plan.before
        want = self._wanted(have_view, real_bridge, vlan)

        if have is None:
            mode = 'create'
        elif have['bridge'] != real_bridge:
            mode = 'recreate'
            plan.recreate('port %s is on bridge %s, wanted on %s; Open vSwitch cannot move a port between bridges'
                          % (self.name, have['bridge'], real_bridge))
        elif len(have['interfaces']) < 2:
            mode = 'recreate'
            plan.recreate('port %s exists as a plain port (interface %s), not a bond; it is recreated as a bond'
                          % (self.name, ', '.join(have['interfaces']) or 'none'))
        else:
            mode = 'update'

        base = dict(DEFAULT_VIEW) if have_view is None else dict(have_view)
        after = dict(base)
        after.update(want)
        after['state'] = 'present'
        plan.after = after
        for key in VIEW_KEYS:
            active = have_view.get(key) if have_view is not None else ('absent' if key == 'state' else None)
            plan.tracker.add(key, active, after[key])

        if mode == 'update':
            self._update_commands(plan, have, want)
        elif plan.tracker.has_differences or mode == 'recreate':
            if mode == 'recreate':
                plan.txn.add('del-port', self.name, options=['--if-exists'])
            self._create_commands(plan, have_view, want, after)

    def _create_commands(self, plan, have_view, want, after):
        # Explicitly wanted columns, plus (on recreation) what the old port had set, so a
        # recreation keeps the settings this call does not manage.
        source = {}
        for column in BOND_COLUMNS + VLAN_COLUMNS:
            if column in want or (have_view is not None and after[column] != DEFAULT_VIEW[column]):
                source[column] = after[column]
        args = creation_column_args(source, BOND_COLUMNS + VLAN_COLUMNS)
        plan.txn.add('add-bond', self.params['bridge'], self.name, *(list(self.params['interfaces']) + args))

    def _update_commands(self, plan, have, want):
        txn = plan.txn
        active = set(have['interfaces'])
        wanted = want['interfaces']
        added = [m for m in self.params['interfaces'] if m not in active]
        removed = sorted(active - set(wanted))
        for index, member in enumerate(added):
            ref = '@m%d' % index
            txn.add('create', 'Interface', 'name=%s' % quote(member), options=['--id=%s' % ref])
            txn.add('add', 'Port', self.name, 'interfaces', ref)
        for member in removed:
            txn.add('remove', 'Port', self.name, 'interfaces', self.snapshot.interface(member)['uuid'])
        have_view = bond_view(have)
        set_args = [column_arg(c, want[c]) for c in BOND_COLUMNS if c in want and want[c] != have_view[c]]
        if set_args:
            txn.add('set', 'Port', self.name, *set_args)
        port_column_commands(txn, self.name, have_view, want, VLAN_COLUMNS)


def argument_spec():
    spec = {
        'bridge': {'type': 'str'},
        'port': {'type': 'str', 'required': True, 'aliases': ['name', 'bond']},
        'interfaces': {'type': 'list', 'elements': 'str'},
        'bond_mode': {'type': 'str', 'choices': ['active-backup', 'balance-slb', 'balance-tcp']},
        'lacp': {'type': 'str', 'choices': ['off', 'active', 'passive']},
        'bond_updelay': {'type': 'int'},
        'bond_downdelay': {'type': 'int'},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }
    spec.update(port_vlan_argument_spec())
    spec.update(common_argument_spec())
    return spec


def build_module():
    return AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'present', ('bridge', 'interfaces'))],
        supports_check_mode=True,
    )


def run_module(module, client):
    planner = BondPlanner(module.params, check_mode=module.check_mode)
    return apply_plan(module, client, planner, 'bond')


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
