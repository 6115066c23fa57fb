# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_model: the host's model validated, normalised and (on request) rendered on the
controller, in one task; the documentation is plugins/modules/kvm_network_model.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.probe import target_problems
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import definition as libvirt_definition
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.cloudstack import label_warnings
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import RENDERERS
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.needs import host_needs
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _front_door as front_door

ARGUMENT_SPEC = {
    'model': {'type': 'raw', 'required': True},
    'renderer': {'type': 'str', 'choices': list(RENDERERS)},
    'choose_renderer': {'type': 'bool', 'default': True},
    'render': {'type': 'bool', 'default': False},
    'header': {'type': 'str'},
    'hostname': {'type': 'str'},
    'ovs_database_only': {'type': 'bool', 'default': False},
    'previous': {'type': 'dict'},
    'gather_facts': {'type': 'bool', 'default': True},
    'traffic': {'type': 'list', 'elements': 'raw'},
    'libvirt_networks': {'type': 'raw'},
}
# The OS facts the renderer is chosen by, read when the play has none.
FACT_KEYS = ('distribution', 'os_family')


def fingerprint(data, host):
    """What the model is, as a short stable text: equal for the same kvm_network of the same host."""
    text = json.dumps([host, data], sort_keys=True, default=str, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            return dict(result, failed=True, msg='kvm_network_model: %s' % '; '.join(validation.error_messages))
        args = validation.validated_parameters
        host = task_vars.get('inventory_hostname')
        result['changed'] = False

        if not isinstance(args['model'], dict):
            # What an inventory without kvm_network for this host passes (kvm_network | default(none)).
            return dict(result, failed=True, msg='host %s: kvm_network is not defined (or not a mapping). Fix: define '
                        'it in the inventory (see docs/model.md and examples/).' % host)
        mark = fingerprint(args['model'], host)
        previous = args['previous'] or {}
        if previous.get('fingerprint') == mark and isinstance(previous.get('model'), dict):
            model = previous['model']    # normalised once per host and run: reuse it
        else:
            try:
                model = front_door.validate(args['model'], host)
            except front_door.FrontDoorError as err:
                return dict(result, failed=True, msg=str(err))
            # Said once per host and run, when the model is first normalised.
            warnings = label_warnings(model)
            if warnings:
                result['warnings'] = ['host %s: %s' % (host, w) for w in warnings]
        result.update({'fingerprint': mark, 'model': model, 'needs': host_needs(model), 'renderer': None})
        if args['traffic'] is not None:
            # The checks the modules that ping make, here, before any host is touched.
            problems = target_problems(args['traffic'], 'kvm_network_verify_traffic', model['bridges'])
            if problems:
                return dict(result, failed=True, msg='host %s: %s' % (host, '; '.join(problems)))

        if args['libvirt_networks'] is not None:
            try:
                result['libvirt_networks'] = libvirt_definition.normalise(args['libvirt_networks'], model, host)
            except libvirt_definition.DefinitionError as err:
                return dict(result, failed=True, msg=err.report(host))

        if args['choose_renderer'] or args['render']:
            facts = dict(task_vars.get('ansible_facts') or {})
            choice = args['renderer'] or model['renderer']
            if choice == 'auto' and args['gather_facts'] and not any(facts.get(k) for k in FACT_KEYS):
                gathered = self._execute_module(module_name='ansible.legacy.setup',
                                                module_args={'gather_subset': ['min']}, task_vars=task_vars)
                if gathered.get('failed'):
                    return dict(result, failed=True, msg='host %s: reading the OS facts the renderer is chosen by '
                                'failed: %s. Fix: set kvm_network_renderer (or kvm_network.renderer)'
                                % (host, gathered.get('msg')))
                facts.update(gathered.get('ansible_facts') or {})
                result['ansible_facts'] = gathered.get('ansible_facts') or {}
            try:
                result['renderer'] = front_door.choose_renderer(model, facts, args['renderer'], host)
            except front_door.FrontDoorError as err:
                return dict(result, failed=True, msg=str(err))

        if args['render']:
            try:
                result['rendered'] = front_door.render_for_host(model, result['renderer'], host, args['hostname'],
                                                                args['header'], args['ovs_database_only'])
            except front_door.FrontDoorError as err:
                return dict(result, failed=True, msg=str(err))
            result['msg'] = '%s by %s: %s' % (model['backend'], result['renderer'],
                                              ', '.join(f['path'] for f in result['rendered']['files']) or 'no file')
        return result
