# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Reconcile the whole Open vSwitch state of a rendered kvm_network model in one transaction.

``StatePlanner`` plans the ``ovs_state`` of ``desired.desired_state`` with the per-object
planners (``bridge``, ``port``) over one snapshot: real bridges, then fake bridges, then uplink
ports. Each object it plans is added to a working copy of the snapshot, so a bond planned on a
bridge the same transaction creates finds it, and a check-mode run predicts exactly the commands
a real run executes. ``reconcile`` runs it through ``plan.apply_plan`` (snapshot, plan, transact,
read again and verify).

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

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import is_guest_port as common_is_guest_port
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    INTERFACE_COLUMNS,
    INTERFACE_TYPE_DEFAULT,
    column_arg,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import (
    OvsPlan,
    apply_plan,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.bridge import BridgePlanner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.port import BondPlanner, PortPlanner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.snapshot import OvsSnapshot


# The Port other_config keys a kvm_network bond manages (desired.bond_options): a key the model
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
    """Whether a port is a guest's (libvirt/CloudStack): by name, or by its Interface's type or
    external IDs (_common.is_guest_port)."""
    if common_is_guest_port(name):
        return True
    port = snapshot.port(name) or {}
    for iface_name in port.get('interfaces') or []:
        iface = snapshot.interface(iface_name) or {}
        if common_is_guest_port(name, ovs_type=iface.get('type'), external_ids=iface.get('external_ids')):
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
    """Plans a whole ovs_state (``desired.desired_state``) into one OvsPlan.

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
        moves = self._hand_over(plan, view)
        for index, port in enumerate(sorted(self.state['ports'].values(), key=lambda p: p['name'])):
            self._free_interfaces(plan, view, port)
            params = uplink_params(port)
            released = [iface for iface in port['interfaces'] if iface in moves]
            handed_over = [iface for iface, holder in moves.items() if holder == port['name']]
            if port['kind'] == 'bond':
                planner = BondPlanner(params, self.check_mode, ref_prefix='b%dm' % index, released=released,
                                      handed_over=handed_over)
            else:
                planner = PortPlanner(params, self.check_mode, released=released, handed_over=handed_over)
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

    def _hand_over(self, plan, view):
        """Members that move between two ports of the model: removed from the port they leave at the
        head of the transaction, before any port takes them (ovs-vsctl's add-port and add-bond refuse
        an interface that is still on a port). Returns {interface: the port it leaves}."""
        moves = {}
        for port in sorted(self.state['ports'].values(), key=lambda p: p['name']):
            for iface in port['interfaces']:
                row = view.interface(iface) or {}
                holder = row.get('port')
                if holder and holder != port['name'] and holder in self.state['ports']:
                    moves[iface] = holder
        for iface in sorted(moves):
            plan.txn.add('remove', 'Port', moves[iface], 'interfaces', view.interface(iface)['uuid'])
        return moves

    def _free_interfaces(self, plan, view, port):
        """Remove the model's stale ports that hold an interface this port needs."""
        for iface in port['interfaces']:
            holder = (view.interface(iface) or {}).get('port')
            if not holder or holder == port['name'] or holder in self.state['ports']:
                continue
            # The model's stale port: its name is the model's, or every interface it holds is (a bond
            # the model replaced by one of its NICs). A port holding anything else is not ours to
            # take apart: the port planner refuses it with a message that names it.
            if holder not in self.managed and not set((view.port(holder) or {}).get('interfaces') or [holder]) \
                    <= self.managed:
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
