# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Plan one Open vSwitch bond (``BondPlanner``) or plain port (``PortPlanner``) against a
database snapshot: members changed in place, and a recreation only where Open vSwitch requires it
(a port cannot move between bridges), said in ``recreate_reason``. The ovs_bond and ovs_port
modules are these planners plus their options; the whole-host reconcile uses them for uplinks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    BOND_MODE_DEFAULT,
    INTERFACE_TYPE_DEFAULT,
    LACP_DEFAULT,
    OvsParameterError,
    OvsStateError,
    column_arg,
    map_key_arg,
    normalise_map_param,
    quote,
    wanted_map,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import map_column_commands
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import (
    ObjectPlanner,
    creation_column_args,
    port_column_commands,
    validate_vlan_params,
    wanted_port_columns,
)


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


class _PortPlannerBase(ObjectPlanner):
    """What the bond and port planners share: removal and finding the bridge a port goes on."""

    kind = 'port'
    name_param = 'port'
    # What the planner manages, for the refusal of a fake bridge of its name.
    what = 'a port'

    def __init__(self, params, check_mode=False, released=(), handed_over=()):
        super(_PortPlannerBase, self).__init__(params, check_mode)
        # A member moving between two ports of one whole-host transaction (bond0 = eth0+eth1 and
        # bond1 = eth2+eth3 re-cabled to eth0+eth2 and eth1+eth3): the transaction removes it from
        # the port it leaves first (``handed_over`` there, nothing more to remove), so the port it
        # joins takes it without conflict (``released`` there).
        self.released = frozenset(released)
        self.handed_over = frozenset(handed_over)

    def _have(self, snapshot):
        """The port as it is in ``snapshot``; a fake bridge of this name is refused, since it is a
        bridge and not ``what``."""
        have = snapshot.port(self.name)
        if have is not None and have['fake_bridge']:
            raise OvsStateError('%s is a fake bridge (a VLAN bridge on %s), not %s; manage it with '
                                'cloudstack_kvm.networking.ovs_bridge or choose another port name'
                                % (self.name, have['bridge'], self.what))
        return have

    def _placement(self, plan, have, real_bridge):
        """'create' (no such port), 'recreate' (on another bridge: Open vSwitch cannot move a port),
        or None (on the right bridge; the planner decides the rest)."""
        if have is None:
            return 'create'
        if have['bridge'] != real_bridge:
            plan.recreate('port %s is on bridge %s, wanted on %s; Open vSwitch cannot move a port between bridges'
                          % (self.name, have['bridge'], real_bridge))
            return 'recreate'
        return None

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
    what = 'a bond'

    def __init__(self, params, check_mode=False, ref_prefix='m', released=(), handed_over=()):
        super(BondPlanner, self).__init__(params, check_mode, released, handed_over)
        # Named row ids (--id=@m0) must be unique in one ovs-vsctl transaction: the whole-host
        # reconcile plans several bonds into one and gives each its own prefix.
        self.ref_prefix = ref_prefix

    @staticmethod
    def _view(have):
        return bond_view(have)

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
            if iface is None or iface['port'] == self.name or member in self.released:
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

        mode = self._placement(plan, have, real_bridge)
        if mode is None and len(have['interfaces']) < 2:
            mode = 'recreate'
            plan.recreate('port %s exists as a plain port (interface %s), not a bond; it is recreated as a bond'
                          % (self.name, ', '.join(have['interfaces']) or 'none'))
        elif mode is None:
            mode = 'update'

        base = dict(BOND_DEFAULT_VIEW) if have_view is None else dict(have_view)
        after = dict(base)
        after.update(want)
        after['state'] = 'present'
        plan.wants(after, BOND_VIEW_KEYS)

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
        removed = sorted(active - set(wanted) - self.handed_over)
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

    what = 'a plain port'

    def _view(self, have):
        iface = self.snapshot.interface(self.name) if self.name in have['interfaces'] else None
        return port_view(have, iface)

    def _plan_present(self, plan, have):
        p = self.params
        validate_vlan_params(p, 'port %s' % self.name)
        real_bridge, vlan = self._resolve_bridge(plan)
        if p.get('tag') is not None and vlan is not None and p['tag'] != vlan:
            raise OvsParameterError('port %s: bridge %s is a fake bridge on VLAN %d, which fixes the tag; '
                                    'tag %d contradicts it (name the parent bridge to use another tag)'
                                    % (self.name, p['bridge'], vlan, p['tag']))
        other = self.snapshot.interface(self.name)
        if other is not None and other['port'] != self.name and self.name not in self.released:
            owner = self.snapshot.port(other['port'])
            bridge = owner['vsctl_bridge'] if owner else '?'
            raise OvsStateError('port %s: interface %s is already a member of %s %s on bridge %s; remove it '
                                'there first (ovs-vsctl del-port %s %s), or, when kvm_network replaces that port, '
                                'name every interface it holds in kvm_network.ethernets'
                                % (self.name, self.name, 'bond' if owner and len(owner['interfaces']) > 1 else 'port',
                                   other['port'], bridge, bridge, other['port']))
        have_view = plan.before
        mode = self._placement(plan, have, real_bridge)
        if mode is None and have['interfaces'] != [self.name]:
            mode = 'recreate'
            what = ('a bond of %s' % ', '.join(have['interfaces']) if len(have['interfaces']) > 1
                    else 'a port with interface %s' % ', '.join(have['interfaces']))
            plan.recreate('port %s exists as %s; it is recreated with one interface named %s'
                          % (self.name, what, self.name))
            have_view = dict(have_view, type=PORT_DEFAULT_VIEW['type'], interface_options={})
        elif mode is None:
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
        plan.wants(after, PORT_VIEW_KEYS)

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
