# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Plan one Open vSwitch bridge, real or fake, against a database snapshot (``BridgePlanner``):
an ``OvsPlan`` with the differences and the ovs-vsctl commands. The ovs_bridge module is this
planner plus its options; the whole-host reconcile (``state``) uses it for every bridge.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import OVS_TAG_MAX
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    DATAPATH_DEFAULT,
    FAIL_MODE_DEFAULT,
    OvsParameterError,
    OvsStateError,
    column_arg,
    map_changes,
    map_key_arg,
    normalise_map_param,
    wanted_map,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import map_column_commands
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.plan import (
    ObjectPlanner,
)


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


class BridgePlanner(ObjectPlanner):
    """Plans one ovs_bridge call from the module parameters and a database snapshot."""

    def _have(self, snapshot):
        return snapshot.bridge(self.name)

    @staticmethod
    def _view(have):
        return bridge_view(have)

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
        if p.get('vlan') is not None and not 0 <= p['vlan'] <= OVS_TAG_MAX:
            raise OvsParameterError('bridge %s: vlan %d is out of range 0-%d' % (self.name, p['vlan'], OVS_TAG_MAX))
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
        plan.wants(after, BRIDGE_VIEW_KEYS)

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
