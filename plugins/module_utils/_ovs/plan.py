# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The flow every Open vSwitch module shares: snapshot, plan, run (unless check mode), read again
and verify, report (``OvsPlan``, ``ObjectPlanner``, ``apply_plan``, ``run_object_module``); and
the options and Port column handling the ovs_bridge, ovs_bond and ovs_port modules have in common.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import OVS_TAG_MAX
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import (
    OvsVsctl,
    Transaction,
    map_column_commands,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    DEFAULT_TIMEOUT,
    OvsError,
    OvsParameterError,
    OvsStateError,
    column_arg,
    map_key_arg,
    normalise_map_param,
    wanted_map,
)


# --- the common module flow ----------------------------------------------------------------------

class OvsPlan(object):
    """What one module call wants done.

    ``tracker``: a DifferenceTracker with one record per reported parameter; ``txn``: the
    transaction that reaches the wanted state (empty when nothing differs); ``before``/``after``:
    the object's normalised view (None when absent); ``recreated`` and ``recreate_reason`` when
    the object must be deleted and created again in that transaction; ``warnings`` for the user.
    """

    def __init__(self):
        self.tracker = DifferenceTracker()
        self.txn = Transaction()
        self.before = None
        self.after = None
        self.recreated = False
        self.recreate_reason = None
        self.warnings = []

    def recreate(self, reason):
        self.recreated = True
        self.recreate_reason = reason

    @property
    def changed(self):
        return bool(self.txn)

    def diff(self):
        return {'before': self.before if self.before is not None else {'state': 'absent'},
                'after': self.after if self.after is not None else {'state': 'absent'}}

    def wants(self, after, keys):
        """``after`` is the object's wanted view: each of ``keys`` is tracked against ``before``
        (a missing object's state is 'absent', its other keys None)."""
        self.after = after
        for key in keys:
            active = self.before.get(key) if self.before is not None else ('absent' if key == 'state' else None)
            self.tracker.add(key, active, after[key])


class ObjectPlanner(object):
    """What the bridge, bond and port planners share: the module parameters, check mode, the
    object's name (the parameter ``name_param``), and the call that plans one object against a
    database snapshot. A planner gives ``_have(snapshot)`` (the object, None when absent),
    ``_view(have)`` (the object as its module reports it), ``_plan_present`` and ``_plan_absent``.
    """

    name_param = 'name'

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.name = params[self.name_param]
        self.snapshot = None

    def __call__(self, snapshot):
        self.snapshot = snapshot
        have = self._have(snapshot)
        plan = OvsPlan()
        plan.before = self._view(have) if have is not None else None
        if self.params['state'] == 'absent':
            self._plan_absent(plan, have)
        else:
            self._plan_present(plan, have)
        return plan


def apply_plan(module, client, planner, result_key, read=None):
    """Snapshot, plan, apply unless in check mode, verify, and build the module result.

    ``planner(snapshot)`` returns an OvsPlan. After a real change the database is read again and
    planned again: anything still to do means ovs-vsctl did not reach the wanted state, which is
    an error rather than a silent success. ``read`` (default ``client.snapshot``) takes the
    snapshots.
    """
    read = read or client.snapshot
    snapshot = read()
    plan = planner(snapshot)
    if plan.changed != plan.tracker.has_differences:
        # changed, the diff and the commands must tell the same story; never report one without the other.
        raise OvsStateError('internal error: the plan has %s but %s; please report this with the module arguments'
                            % ('commands' if plan.changed else 'no commands',
                               'no differences' if plan.changed else 'differences in %s' % ', '.join(plan.tracker.names())))
    commands = [client.transaction_argv(plan.txn)] if plan.changed else []
    after = plan.after
    if plan.changed and not module.check_mode:
        client.transact(plan.txn)
        verify = planner(read())
        if verify.changed:
            raise OvsStateError('ovs-vsctl reported success, but the database still differs in: %s. '
                                'Another process may be changing Open vSwitch at the same time.'
                                % ', '.join(verify.tracker.names() or ['(recreation)']),
                                cmd=commands[0])
        after = verify.after
    for warning in plan.warnings:
        module.warn(warning)
    result = {
        'changed': plan.changed,
        'commands': commands,
        'differences': plan.tracker.differences,
        'recreated': plan.recreated,
        'recreate_reason': plan.recreate_reason,
        result_key: after,
    }
    if module._diff:
        result['diff'] = plan.diff()
    return result


# --- option specs shared by the OVS modules ------------------------------------------------------

def common_argument_spec():
    return {
        'database': {'type': 'str'},
        'timeout': {'type': 'int', 'default': DEFAULT_TIMEOUT},
    }


def port_vlan_argument_spec():
    return {
        'tag': {'type': 'int'},
        'trunks': {'type': 'list', 'elements': 'int'},
        'vlan_mode': {'type': 'str', 'choices': ['access', 'native-tagged', 'native-untagged', 'trunk',
                                                 'dot1q-tunnel']},
        'other_config': {'type': 'dict'},
        'other_config_exclusive': {'type': 'bool', 'default': False},
        'external_ids': {'type': 'dict'},
    }


def validate_vlan_params(params, name):
    """Range checks for tag (-1 removes it) and trunks, naming the object."""
    tag = params.get('tag')
    if tag is not None and not -1 <= tag <= OVS_TAG_MAX:
        raise OvsParameterError('%s: tag %d is out of range: use 0-%d, or -1 to remove the tag' % (name, tag, OVS_TAG_MAX))
    for t in params.get('trunks') or []:
        if not 0 <= t <= OVS_TAG_MAX:
            raise OvsParameterError('%s: trunk VLAN %d is out of range 0-%d' % (name, t, OVS_TAG_MAX))


def wanted_port_columns(params, have, vlan=None):
    """The Port columns tag/trunks/vlan_mode/other_config/external_ids a module asks for.

    Returns a dict with only the managed columns; ``tag`` None means "no tag". ``vlan`` is the
    VLAN of the fake bridge the port is asked to be on (it fixes the tag).
    """
    want = {}
    tag = params.get('tag')
    if vlan is not None:
        want['tag'] = vlan
    elif tag is not None:
        want['tag'] = None if tag == -1 else tag
    if params.get('trunks') is not None:
        want['trunks'] = sorted(set(params['trunks']))
    if params.get('vlan_mode') is not None:
        want['vlan_mode'] = params['vlan_mode']
    have = have or {}
    if params.get('other_config') is not None:
        want['other_config'] = wanted_map(have.get('other_config'), normalise_map_param(params['other_config']),
                                          params.get('other_config_exclusive'))
    elif params.get('other_config_exclusive'):
        want['other_config'] = {}
    if params.get('external_ids') is not None:
        want['external_ids'] = wanted_map(have.get('external_ids'), normalise_map_param(params['external_ids']))
    return want


def port_column_commands(txn, port, active, wanted, columns):
    """Commands that bring Port ``port`` from ``active`` to ``wanted`` for ``columns``.

    Scalar and set columns go into one ``set``; a tag going away is a ``clear``; map columns are
    changed key by key.
    """
    set_args = []
    for column in columns:
        if column not in wanted or active.get(column) == wanted[column]:
            continue
        value = wanted[column]
        if column in ('other_config', 'external_ids'):
            continue
        if value is None:
            txn.add('clear', 'Port', port, column)
        else:
            set_args.append(column_arg(column, value))
    if set_args:
        txn.add('set', 'Port', port, *set_args)
    for column in ('other_config', 'external_ids'):
        if column in columns and column in wanted:
            map_column_commands(txn, 'Port', port, column, active.get(column), wanted[column])


def creation_column_args(wanted, columns):
    """``column=value`` arguments for add-port/add-bond: every managed column that has a value
    (an absent tag, empty sets and maps are what a new port has anyway)."""
    args = []
    for column in columns:
        value = wanted.get(column)
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, dict):
            args.extend(map_key_arg(column, k, v) for k, v in sorted(value.items()))
        else:
            args.append(column_arg(column, value))
    return args


def object_module(argument_spec, **constraints):
    """The AnsibleModule of an Open vSwitch object module (check mode supported); ``constraints``
    are AnsibleModule's required_if, required_together, ..."""
    return AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **constraints)


def run_object_module(argument_spec, planner, result_key, constraints=None, client_factory=None):
    """main() of an Open vSwitch object module: plan the module's parameters with ``planner``
    against the database, apply, and exit; an OvsError becomes fail_json naming the command."""
    module = object_module(argument_spec, **(constraints or {}))
    try:
        client = (client_factory or OvsVsctl.from_module)(module)
        result = apply_plan(module, client, planner(module.params, check_mode=module.check_mode), result_key)
    except OvsError as e:
        module.fail_json(**e.fail_kwargs())
    module.exit_json(**result)
