# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Reconcile Open vSwitch objects with what is wanted: one planner per object, and the whole host.

* ``BridgePlanner``, ``BondPlanner``, ``PortPlanner`` plan one bridge (real or fake), bond or
  plain port against an ``OvsSnapshot``: an ``OvsPlan`` with the differences and the ovs-vsctl
  commands. The modules ovs_bridge, ovs_bond and ovs_port are these planners plus their options.
* ``StatePlanner`` plans the whole ``ovs_state`` of a rendered kvm_network model
  (``_ovs_plan.desired_state``) with the same planners over one snapshot, into one transaction:
  real bridges, then fake bridges, then uplink ports. Each object it plans is added to a working
  copy of the snapshot, so a bond planned on a bridge the same transaction creates finds it, and
  a check-mode run predicts exactly the commands a real run executes. ``reconcile`` runs it
  through ``_ovs.apply_plan`` (snapshot, plan, transact, read again and verify).

What the whole-host reconcile leaves alone: bridges the model does not name, and ports on a
managed bridge that are not the model's (CloudStack and libvirt plug guests' vnet/vif ports into
these bridges; anything not created from the model may be someone's). Those are reported in
``foreign_ports``, never removed. The only ports it removes are ports named after an interface
of the model (a NIC or bond) that stand in the way of the model's own port, such as a NIC that
was a bridge's single uplink and is now a bond member.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import (
    BOND_MODE_DEFAULT,
    DATAPATH_DEFAULT,
    FAIL_MODE_DEFAULT,
    INTERFACE_COLUMNS,
    INTERFACE_TYPE_DEFAULT,
    LACP_DEFAULT,
    OvsParameterError,
    OvsPlan,
    OvsSnapshot,
    OvsStateError,
    apply_plan,
    column_arg,
    creation_column_args,
    map_changes,
    map_column_commands,
    map_key_arg,
    normalise_map_param,
    port_column_commands,
    quote,
    validate_vlan_params,
    wanted_map,
    wanted_port_columns,
)


# --- bridges --------------------------------------------------------------------------------------

BRIDGE_VIEW_KEYS = ('state', 'fake', 'parent', 'vlan', 'datapath_type', 'fail_mode', 'stp_enable',
                    'other_config', 'external_ids')
REAL_ONLY = ('datapath_type', 'fail_mode', 'stp_enable', 'other_config')

BRIDGE_DEFAULT_VIEW = {
    'state': 'present',
    'fake': False,
    'parent': None,
    'vlan': None,
    'datapath_type': DATAPATH_DEFAULT,
    'fail_mode': FAIL_MODE_DEFAULT,
    'stp_enable': False,
    'other_config': {},
    'external_ids': {},
}


def bridge_view(br):
    return {
        'state': 'present',
        'fake': br['fake'],
        'parent': br['parent'],
        'vlan': br['vlan'],
        'datapath_type': br['datapath_type'],
        'fail_mode': None if br['fake'] else (br['fail_mode'] or FAIL_MODE_DEFAULT),
        'stp_enable': br['stp_enable'],
        'other_config': dict(br['other_config']),
        'external_ids': dict(br['external_ids']),
    }


def fake_view(parent_datapath, parent, vlan, external_ids):
    return {
        'state': 'present',
        'fake': True,
        'parent': parent,
        'vlan': vlan,
        'datapath_type': parent_datapath,
        'fail_mode': None,
        'stp_enable': False,
        'other_config': {},
        'external_ids': external_ids,
    }


class BridgePlanner(object):
    """Plans one ovs_bridge call from the module parameters and a database snapshot."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.name = params['name']

    def __call__(self, snapshot):
        self.snapshot = snapshot
        plan = OvsPlan()
        have = snapshot.bridge(self.name)
        plan.before = bridge_view(have) if have is not None else None
        if self.params['state'] == 'absent':
            self._plan_absent(plan, have)
        else:
            self._plan_present(plan, have)
        return plan

    def _ports_block(self, have, action):
        """Raise unless force, when deleting ``have`` would delete other ports."""
        ports = self.snapshot.foreign_ports(self.name)
        if not ports or self.params['force']:
            return
        labels = []
        for pname in sorted(ports):
            port = self.snapshot.port(pname)
            if port['fake_bridge']:
                labels.append('%s (fake bridge)' % pname)
            elif len(port['interfaces']) > 1:
                labels.append('%s (bond)' % pname)
            else:
                labels.append(pname)
        raise OvsStateError('bridge %s still has ports: %s; %s it would delete them. Remove or move them first, '
                            'or set force: true' % (self.name, ', '.join(labels), action))

    def _plan_absent(self, plan, have):
        if have is None:
            plan.tracker.add('state', 'absent', 'absent')
            return
        self._ports_block(have, 'deleting')
        plan.tracker.add('state', 'present', 'absent')
        plan.txn.add('del-br', self.name, options=['--if-exists'])
        plan.after = None

    def _validate(self):
        p = self.params
        if (p.get('parent') is None) != (p.get('vlan') is None):
            raise OvsParameterError('bridge %s: parent and vlan go together (a fake bridge needs both)' % self.name)
        if p.get('vlan') is not None and not 0 <= p['vlan'] <= 4095:
            raise OvsParameterError('bridge %s: vlan %d is out of range 0-4095' % (self.name, p['vlan']))
        if p.get('parent') is not None:
            given = [k for k in REAL_ONLY if p.get(k) is not None]
            if p.get('other_config_exclusive'):
                given.append('other_config_exclusive')
            if given:
                raise OvsParameterError(
                    'bridge %s: %s apply to real bridges only; fake bridge %s shares them with its parent %s: '
                    'set them there' % (self.name, ', '.join(given), self.name, p['parent']))
            if p['parent'] == self.name:
                raise OvsParameterError('bridge %s cannot be its own parent' % self.name)

    def _plan_present(self, plan, have):
        p = self.params
        self._validate()
        port = self.snapshot.port(self.name)
        if have is None and port is not None:
            raise OvsStateError('bridge %s: a port of that name already exists on bridge %s; remove the port first '
                                '(cloudstack_kvm.networking.ovs_port state=absent)' % (self.name, port['vsctl_bridge']))
        ext_given = normalise_map_param(p.get('external_ids'))
        if p.get('parent') is not None:
            after = self._want_fake(plan, have, ext_given)
        else:
            after = self._want_real(have, ext_given)
        plan.after = after
        for key in BRIDGE_VIEW_KEYS:
            active = plan.before.get(key) if plan.before is not None else ('absent' if key == 'state' else None)
            plan.tracker.add(key, active, after[key])

        if have is not None and have['fake'] != after['fake']:
            plan.recreate('bridge %s is a %s bridge, wanted as a %s bridge; Open vSwitch cannot convert it in place'
                          % (self.name, 'fake' if have['fake'] else 'real', 'fake' if after['fake'] else 'real'))
        elif have is not None and have['fake'] and (have['parent'], have['vlan']) != (after['parent'], after['vlan']):
            plan.recreate('fake bridge %s is on %s VLAN %d, wanted on %s VLAN %d; Open vSwitch cannot change that in '
                          'place' % (self.name, have['parent'], have['vlan'], after['parent'], after['vlan']))
        if plan.recreated:
            self._ports_block(have, 'recreating')
            plan.txn.add('del-br', self.name, options=['--if-exists'])

        if have is None or plan.recreated:
            self._create(plan, after)
        else:
            self._update(plan, have, after)

    def _want_fake(self, plan, have, ext_given):
        p = self.params
        parent = self.snapshot.bridge(p['parent'])
        if parent is None:
            if not self.check_mode:
                raise OvsStateError('fake bridge %s: parent bridge %s does not exist; create it first'
                                    % (self.name, p['parent']))
            plan.warnings.append('parent bridge %s does not exist (yet): planned as if an earlier task created it'
                                 % p['parent'])
            datapath = DATAPATH_DEFAULT
        elif parent['fake']:
            raise OvsParameterError('fake bridge %s: parent %s is itself a fake bridge (on %s); the parent must be a '
                                    'real bridge' % (self.name, p['parent'], parent['parent']))
        else:
            datapath = parent['datapath_type']
        active_ids = have['external_ids'] if have is not None and have['fake'] else {}
        return fake_view(datapath, p['parent'], p['vlan'], wanted_map(active_ids, ext_given))

    def _want_real(self, have, ext_given):
        p = self.params
        base = bridge_view(have) if have is not None and not have['fake'] else dict(BRIDGE_DEFAULT_VIEW)
        after = dict(base)
        for key in ('datapath_type', 'fail_mode', 'stp_enable'):
            if p.get(key) is not None:
                after[key] = p[key]
        if p.get('other_config') is not None or p.get('other_config_exclusive'):
            after['other_config'] = wanted_map(base['other_config'], normalise_map_param(p.get('other_config')) or {},
                                               p.get('other_config_exclusive'))
        after['external_ids'] = wanted_map(base['external_ids'], ext_given)
        return after

    def _create(self, plan, after):
        txn = plan.txn
        if after['fake']:
            txn.add('add-br', self.name, after['parent'], str(after['vlan']), options=['--may-exist'])
            for k, v in sorted(after['external_ids'].items()):
                txn.add('br-set-external-id', self.name, k, v)
            return
        txn.add('add-br', self.name, options=['--may-exist'])
        args = []
        if after['datapath_type'] != DATAPATH_DEFAULT:
            args.append(column_arg('datapath_type', after['datapath_type']))
        if self.params.get('fail_mode') is not None:
            args.append(column_arg('fail_mode', after['fail_mode']))
        if after['stp_enable']:
            args.append(column_arg('stp_enable', True))
        args.extend(map_key_arg('other_config', k, v) for k, v in sorted(after['other_config'].items()))
        args.extend(map_key_arg('external_ids', k, v) for k, v in sorted(after['external_ids'].items()))
        if args:
            txn.add('set', 'Bridge', self.name, *args)

    def _update(self, plan, have, after):
        txn = plan.txn
        before = plan.before
        if after['fake']:
            to_set, to_remove = map_changes(before['external_ids'], after['external_ids'])
            for k in to_remove:
                txn.add('br-set-external-id', self.name, k)
            for k, v in sorted(to_set.items()):
                txn.add('br-set-external-id', self.name, k, v)
            return
        args = [column_arg(k, after[k]) for k in ('datapath_type', 'fail_mode', 'stp_enable')
                if after[k] != before[k]]
        if args:
            txn.add('set', 'Bridge', self.name, *args)
        map_column_commands(txn, 'Bridge', self.name, 'other_config', before['other_config'], after['other_config'])
        map_column_commands(txn, 'Bridge', self.name, 'external_ids', before['external_ids'], after['external_ids'])


# --- bonds and ports -----------------------------------------------------------------------------

BOND_COLUMNS = ('bond_mode', 'lacp', 'bond_updelay', 'bond_downdelay')
VLAN_COLUMNS = ('tag', 'trunks', 'vlan_mode', 'other_config', 'external_ids')
BOND_VIEW_KEYS = ('state', 'bridge', 'interfaces') + BOND_COLUMNS + VLAN_COLUMNS

BOND_DEFAULT_VIEW = {
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


PORT_VIEW_KEYS = ('state', 'bridge', 'interfaces', 'type', 'interface_options') + VLAN_COLUMNS
PORT_TYPES = ['system', 'internal', 'patch', 'tap', 'vxlan', 'gre', 'geneve', 'dpdk', 'dpdkvhostuserclient']

PORT_DEFAULT_VIEW = {
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


class _PortPlannerBase(object):
    """What the bond and port planners share: removal and finding the bridge a port goes on."""

    kind = 'port'

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.name = params['port']
        self.snapshot = None

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
        raise OvsStateError('%s %s: bridge %s does not exist; create it first, for example with '
                            'cloudstack_kvm.networking.ovs_bridge' % (self.kind, self.name, bridge))


class BondPlanner(_PortPlannerBase):
    """Plans one ovs_bond call from the module parameters and a database snapshot."""

    kind = 'bond'

    def __init__(self, params, check_mode=False, ref_prefix='m'):
        super(BondPlanner, self).__init__(params, check_mode)
        # Named row ids (--id=@m0) must be unique in one ovs-vsctl transaction: the whole-host
        # reconcile plans several bonds into one and gives each its own prefix.
        self.ref_prefix = ref_prefix

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
        lacp = want.get('lacp', (have_view or BOND_DEFAULT_VIEW)['lacp'])
        mode = want.get('bond_mode', (have_view or BOND_DEFAULT_VIEW)['bond_mode'])
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

        base = dict(BOND_DEFAULT_VIEW) if have_view is None else dict(have_view)
        after = dict(base)
        after.update(want)
        after['state'] = 'present'
        plan.after = after
        for key in BOND_VIEW_KEYS:
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
            if column in want or (have_view is not None and after[column] != BOND_DEFAULT_VIEW[column]):
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
            ref = '@%s%d' % (self.ref_prefix, index)
            txn.add('create', 'Interface', 'name=%s' % quote(member), options=['--id=%s' % ref])
            txn.add('add', 'Port', self.name, 'interfaces', ref)
        for member in removed:
            txn.add('remove', 'Port', self.name, 'interfaces', self.snapshot.interface(member)['uuid'])
        have_view = bond_view(have)
        set_args = [column_arg(c, want[c]) for c in BOND_COLUMNS if c in want and want[c] != have_view[c]]
        if set_args:
            txn.add('set', 'Port', self.name, *set_args)
        port_column_commands(txn, self.name, have_view, want, VLAN_COLUMNS)


class PortPlanner(_PortPlannerBase):
    """Plans one ovs_port call from the module parameters and a database snapshot."""

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
            have_view = dict(have_view, type=PORT_DEFAULT_VIEW['type'], interface_options={})
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
            want['interface_options'] = wanted_map((have_view or PORT_DEFAULT_VIEW)['interface_options'], options)

        base = dict(PORT_DEFAULT_VIEW) if have_view is None else dict(have_view)
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
        for key in PORT_VIEW_KEYS:
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
            if column in want or (have_view is not None and after[column] != PORT_DEFAULT_VIEW[column]):
                source[column] = after[column]
        plan.txn.add('add-port', p['bridge'], self.name, *creation_column_args(source, VLAN_COLUMNS))
        iface_args = []
        if after['type'] != INTERFACE_TYPE_DEFAULT:
            iface_args.append(column_arg('type', after['type']))
        iface_args.extend(map_key_arg('options', k, v) for k, v in sorted(after['interface_options'].items()))
        if iface_args:
            plan.txn.add('set', 'Interface', self.name, *iface_args)


# --- the whole host: kvm_network's ovs_state -----------------------------------------------------

# Ports CloudStack and libvirt plug into a bridge for guests: by name, or by the external IDs
# libvirt sets on their Interface.
GUEST_PORT_RE = re.compile(r'^(?:vnet|vif|tap|macvtap)')
GUEST_EXTERNAL_IDS = ('vm-id', 'attached-mac', 'iface-id')
# The Port other_config keys a kvm_network bond manages (_ovs_plan.bond_options): a key the model
# no longer sets is removed, other keys are left alone.
BOND_OTHER_CONFIG_KEYS = ('bond-detect-mode', 'bond-miimon-interval', 'lacp-time', 'bond-primary')
# The whole-host reconcile also manages the MTU of the bridges' internal interfaces.
RECONCILE_INTERFACE_COLUMNS = INTERFACE_COLUMNS + ('mtu_request',)
_OTHER_CONFIG = 'other_config:'


def bridge_params(br):
    """ovs_bridge-style parameters for one bridge of an ovs_state."""
    params = {'name': br['name'], 'parent': None, 'vlan': None, 'datapath_type': None, 'fail_mode': None,
              'stp_enable': None, 'other_config': None, 'other_config_exclusive': False, 'external_ids': None,
              'force': False, 'state': 'present'}
    if br['parent']:
        params['parent'] = br['parent']
        params['vlan'] = br['vlan']
        return params
    params['datapath_type'] = br['datapath_type']
    params['stp_enable'] = bool(br['stp_enable'])
    if br['stp_enable'] and br['forward_delay'] is not None:
        params['other_config'] = {'stp-forward-delay': str(br['forward_delay'])}
    return params


def uplink_params(port):
    """ovs_bond- or ovs_port-style parameters for one uplink port of an ovs_state.

    The uplink is an untagged trunk (tag -1: no tag). A bond's delays the model leaves unset are
    Open vSwitch's default 0, and its managed other_config keys the model does not set are removed.
    """
    params = {'bridge': port['bridge'], 'port': port['name'], 'tag': -1, 'trunks': None, 'vlan_mode': None,
              'other_config': None, 'other_config_exclusive': False, 'external_ids': None, 'state': 'present'}
    if port['kind'] != 'bond':
        params.update({'type': None, 'peer': None, 'interface_options': None})
        return params
    columns = dict(port['options'])
    other = dict((key, None) for key in BOND_OTHER_CONFIG_KEYS)
    for column, value in port['options']:
        if column.startswith(_OTHER_CONFIG):
            other[column[len(_OTHER_CONFIG):]] = value
    params.update({
        'interfaces': list(port['interfaces']),
        'bond_mode': columns.get('bond_mode'),
        'lacp': columns.get('lacp'),
        'bond_updelay': int(columns.get('bond_updelay') or 0),
        'bond_downdelay': int(columns.get('bond_downdelay') or 0),
        'other_config': other,
    })
    return params


def is_guest_port(snapshot, name):
    """Whether a port looks like a guest's (libvirt/CloudStack), by name or Interface external IDs."""
    if GUEST_PORT_RE.match(name):
        return True
    port = snapshot.port(name) or {}
    for iface_name in port.get('interfaces') or []:
        ext = (snapshot.interface(iface_name) or {}).get('external_ids') or {}
        if any(ext.get(key) for key in GUEST_EXTERNAL_IDS):
            return True
    return False


def _working_copy(snapshot):
    return OvsSnapshot(snapshot.ovs_version, copy.deepcopy(snapshot.bridges), copy.deepcopy(snapshot.ports),
                       copy.deepcopy(snapshot.interfaces))


def _add_port_record(view, name, bridge, interfaces, iface_type=INTERFACE_TYPE_DEFAULT, tag=None,
                     fake_bridge=False):
    view.ports[name] = {
        'name': name, 'uuid': None, 'bridge': bridge, 'vsctl_bridge': bridge, 'interfaces': sorted(interfaces),
        'tag': tag, 'trunks': [], 'vlan_mode': None, 'bond_mode': None, 'lacp': None, 'bond_updelay': 0,
        'bond_downdelay': 0, 'other_config': {}, 'external_ids': {}, 'fake_bridge': fake_bridge,
    }
    for iface in interfaces:
        view.interfaces.setdefault(iface, {'name': iface, 'uuid': None, 'type': iface_type, 'options': {},
                                           'external_ids': {}, 'port': name, 'mtu_request': None})
        view.interfaces[iface]['port'] = name
    if bridge in view.bridges and name not in view.bridges[bridge]['ports']:
        view.bridges[bridge]['ports'] = sorted(view.bridges[bridge]['ports'] + [name])


def _add_fake_bridge(view, name, parent, vlan):
    view.bridges[name] = {
        'name': name, 'uuid': None, 'fake': True, 'parent': parent, 'vlan': vlan,
        'datapath_type': view.bridges[parent]['datapath_type'], 'fail_mode': None, 'stp_enable': False,
        'other_config': {}, 'external_ids': {}, 'ports': [],
    }


def _simulate_bridge(view, params, after):
    """Put a bridge the transaction creates into the working copy."""
    name = params['name']
    if params['parent']:
        _add_port_record(view, name, params['parent'], [name], 'internal', tag=params['vlan'], fake_bridge=True)
        _add_fake_bridge(view, name, params['parent'], params['vlan'])
        return
    view.bridges[name] = {
        'name': name, 'uuid': None, 'fake': False, 'parent': None, 'vlan': None,
        'datapath_type': after['datapath_type'], 'fail_mode': None, 'stp_enable': after['stp_enable'],
        'other_config': dict(after['other_config']), 'external_ids': {}, 'ports': [],
    }
    _add_port_record(view, name, name, [name], 'internal')


def _simulate_del_port(view, name):
    port = view.ports.pop(name)
    for iface in port['interfaces']:
        view.interfaces.pop(iface, None)
    if port['bridge'] in view.bridges:
        view.bridges[port['bridge']]['ports'] = [p for p in view.bridges[port['bridge']]['ports'] if p != name]


class StatePlanner(object):
    """Plans a whole ovs_state (``_ovs_plan.desired_state``) into one OvsPlan.

    ``managed``: names of the model's interfaces (NICs and bonds); a port of such a name that
    holds an interface the model's port needs is removed in the same transaction. After a call,
    ``foreign_ports`` lists the ports on the managed bridges that are not the model's.
    """

    def __init__(self, state, managed=None, check_mode=False):
        self.state = state
        self.managed = set(managed or [])
        for port in state['ports'].values():
            self.managed.add(port['name'])
            self.managed.update(port['interfaces'])
        self.check_mode = check_mode
        self.foreign_ports = []

    def __call__(self, snapshot):
        view = _working_copy(snapshot)
        plan = OvsPlan()
        plan.before = {}
        plan.after = {}
        bridges = self.state['bridges']
        ordered = sorted(bridges.values(), key=lambda b: (b['parent'] is not None, b['name']))
        for br in ordered:
            if br['parent']:
                self._fake_bridge_flag(plan, view, br)
            params = bridge_params(br)
            self._merge(plan, 'bridge %s' % br['name'], BridgePlanner(params, self.check_mode)(view), view,
                        lambda sub, p=params: _simulate_bridge(view, p, sub.after) if sub.before is None else None)
            self._mtu(plan, view, br)
        for index, port in enumerate(sorted(self.state['ports'].values(), key=lambda p: p['name'])):
            self._free_interfaces(plan, view, port)
            params = uplink_params(port)
            if port['kind'] == 'bond':
                planner = BondPlanner(params, self.check_mode, ref_prefix='b%dm' % index)
            else:
                planner = PortPlanner(params, self.check_mode)
            self._merge(plan, '%s %s' % ('bond' if port['kind'] == 'bond' else 'port', port['name']),
                        planner(view), view, None)
        self.foreign_ports = self._foreign_ports(plan, view)
        return plan

    @staticmethod
    def _merge(plan, label, sub, view, on_create):
        plan.tracker.merge(sub.tracker, prefix=label)
        plan.txn.extend(sub.txn)
        plan.warnings.extend(sub.warnings)
        if sub.recreated:
            plan.recreate('; '.join(r for r in (plan.recreate_reason, sub.recreate_reason) if r))
        if sub.before is not None:
            plan.before[label] = sub.before
        if sub.after is not None:
            plan.after[label] = sub.after
        if on_create is not None and sub.txn:
            on_create(sub)

    @staticmethod
    def _fake_bridge_flag(plan, view, br):
        """A tagged internal port that is a fake bridge in all but the flag gets ``fake_bridge=true``.

        NetworkManager has no fake bridge: its profiles create the port without the flag, so
        ``ovs-vsctl br-exists`` (which the CloudStack agent asks) does not know the bridge.
        """
        name = br['name']
        port = view.port(name)
        if view.bridge(name) is not None or port is None or port['fake_bridge']:
            return
        iface = view.interface(name) or {}
        if port['bridge'] != br['parent'] or port['tag'] != br['vlan'] or port['interfaces'] != [name] \
                or iface.get('type') != 'internal':
            return  # not the same thing: BridgePlanner refuses it with a message that names it
        plan.tracker.add('bridge %s.fake_bridge' % name, False, True)
        plan.txn.add('set', 'Port', name, 'fake_bridge=true')
        port['fake_bridge'] = True
        _add_fake_bridge(view, name, br['parent'], br['vlan'])

    @staticmethod
    def _mtu(plan, view, br):
        if not br['mtu']:
            return
        name = br['name']
        active = (view.interface(name) or {}).get('mtu_request')
        plan.tracker.add('bridge %s.mtu_request' % name, active, br['mtu'])
        if active != br['mtu']:
            plan.txn.add('set', 'Interface', name, column_arg('mtu_request', br['mtu']))

    def _free_interfaces(self, plan, view, port):
        """Remove the model's stale ports that hold an interface this port needs."""
        for iface in port['interfaces']:
            holder = (view.interface(iface) or {}).get('port')
            if not holder or holder == port['name'] or holder not in self.managed or holder in self.state['ports']:
                continue
            if holder in self.state['bridges'] or (view.port(holder) or {}).get('fake_bridge'):
                continue
            plan.tracker.add('port %s.state' % holder, 'present', 'absent')
            plan.txn.add('del-port', holder, options=['--if-exists'])
            _simulate_del_port(view, holder)

    def _foreign_ports(self, plan, view):
        own = set(self.state['bridges']) | set(self.state['ports'])
        found = []
        for name in sorted(self.state['bridges']):
            br = view.bridge(name)
            if br is None or br['fake']:
                continue
            for pname in br['ports']:
                if pname in own:
                    continue
                guest = is_guest_port(view, pname)
                found.append({'bridge': name, 'port': pname, 'guest': guest})
                if not guest:
                    plan.warnings.append('Open vSwitch bridge %s has port %s, which kvm_network does not describe: '
                                         'left alone. Remove it by hand (ovs-vsctl del-port %s %s) if it is not '
                                         'wanted there.' % (name, pname, name, pname))
        return found


def reconcile(module, client, state, managed=None):
    """Bring the Open vSwitch database to ``state`` in one transaction (none in check mode).

    Returns apply_plan's result (changed, commands, differences, recreated, recreate_reason,
    state, diff) plus ``foreign_ports``.
    """
    planner = StatePlanner(state, managed, check_mode=module.check_mode)
    result = apply_plan(module, client, planner, 'state',
                        read=lambda: client.snapshot(interface_columns=RECONCILE_INTERFACE_COLUMNS))
    result['foreign_ports'] = planner.foreign_ports
    return result
