# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The whole-host apply of kvm_network_apply: its parameters checked, the files, conflicts,
activation and drift (``applier``), then the Open vSwitch reconcile (``_ovs.state``), then a
gratuitous ARP for the addresses that moved (``announce``), as one result. ``Plan`` plans once
(reading the host once, ``applier.HostReadings``); ``run`` reports that plan in check mode or
executes it. Under safe apply the detached run on the host plans afresh (another process, later).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import announce
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import applier
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.runner import Runner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure, has_marker
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import NetFactsError
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import (
    ModelError,
    is_normalised,
    normalise,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsError
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.state import reconcile


class Planning(object):
    """A module as check mode sees it (the same reads, no change), for planning a real run."""

    check_mode = True

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)


def ovs_client(module):
    params = module.params
    return OvsVsctl(module, db=params['ovs_database'], timeout=params['ovs_timeout'])


def uses_ovs(params):
    return bool(params['reconcile_ovs'] and (params['ovs_state'] or {}).get('bridges'))


def check_params(params):
    """Refuse what no renderer produces; normalise a model given as written in the inventory."""
    if not is_normalised(params['model']):
        try:
            params['model'] = normalise(params['model'])
        except ModelError as exc:
            raise ModuleFailure(exc.report())
    for item in params['files']:
        if not item['path'].startswith('/'):
            raise ModuleFailure('files: %s is not an absolute path. Fix: pass the files of the '
                                'kvm_network_render filter unchanged' % item['path'])
        try:
            int(item['mode'], 8)
        except ValueError:
            raise ModuleFailure('files: %s: mode %r is not an octal mode such as "0644". Fix: pass the files '
                                'of the kvm_network_render filter unchanged' % (item['path'], item['mode']))
        if not has_marker(item['content'], params['marker']):
            raise ModuleFailure('files: %s has no comment line with the marker %r, so a later run could not '
                                'tell it is the collection\'s. Fix: render with the kvm_network_render filter '
                                '(its header always names the collection)' % (item['path'], params['marker']))


def ovs_diff(result):
    """One diff entry for the Open vSwitch objects that change."""
    names = [d['name'] for d in result['differences']]
    before = result['diff']['before'] if isinstance(result['diff']['before'], dict) else {}
    after = result['diff']['after'] if isinstance(result['diff']['after'], dict) else {}
    labels = sorted(set(k for k in list(before) + list(after) if any(n.startswith(k + '.') for n in names)))
    labels += sorted(set(n.rsplit('.', 1)[0] for n in names) - set(labels) - set(before) - set(after))

    def text(side):
        return json.dumps(dict((k, side.get(k, {'state': 'absent'})) for k in labels), indent=2, sort_keys=True) + '\n'
    return {'before_header': 'Open vSwitch database', 'after_header': 'Open vSwitch database',
            'before': text(before), 'after': text(after)}


class Plan(object):
    """The whole host planned once (files, conflicts, drift, activation), to report in check mode
    and to execute as it is: a real run after a plan neither reads nor plans again."""

    def __init__(self, module, readings=None, ovs_client_factory=None):
        params = module.params
        check_params(params)
        self.client = (ovs_client_factory or ovs_client)(module) if uses_ovs(params) else None
        self.applier = applier.Applier(module, params, self.client, readings)
        self.applier.plan()

    @property
    def readings(self):
        return self.applier.readings


def run(module, plan=None, ovs_client_factory=None):
    """The whole apply of ``plan`` (planned now when not given); in check mode the plan's report.
    Returns ``(result, warnings)``."""
    params = module.params
    if plan is None:
        plan = Plan(module, ovs_client_factory=ovs_client_factory)
    state = params['ovs_state'] or {}
    client = plan.client
    result, warnings = applier.run(module, params, client, plan.applier)
    result['renderer'] = params['renderer']
    diff = result.pop('diff')
    if client is not None:
        managed = list(params['model']['ethernets']) + list(params['model']['bonds'])
        ovs = reconcile(module, client, {'bridges': state.get('bridges') or {}, 'ports': state.get('ports') or {}},
                        managed)
        keys = ('changed', 'commands', 'differences', 'recreated', 'recreate_reason', 'foreign_ports')
        result['ovs'] = dict((k, ovs[k]) for k in keys)
        result['changed'] = result['changed'] or ovs['changed']
        if ovs['changed'] and not module.check_mode:
            plan.readings.changed()
        if ovs['changed'] and module._diff:
            diff.append(ovs_diff(ovs))
    result['activated']['announced'] = announce_moved(module, params, result)
    if module._diff:
        result['diff'] = diff
    return result, warnings


def announce_moved(module, params, result):
    """Gratuitous ARP from the interfaces the run re-activated (and, when Open vSwitch changed, the
    model's bridges): the neighbours learn where the addresses are now."""
    if module.check_mode or (params.get('root_dir') or '/') != '/':
        return []
    names = list(result['activated']['interfaces'])
    if result.get('ovs', {}).get('changed'):
        names += [n for n in params['model'].get('bridges', {}) if n not in names]
    return announce.announce(Runner(module), names)


def failure(exc):
    """fail_json's arguments for the errors a whole-host run can raise (None for others)."""
    if isinstance(exc, ModuleFailure):
        return dict(exc.kwargs, msg=exc.msg)
    if isinstance(exc, OvsError):
        kwargs = exc.fail_kwargs()
        kwargs['msg'] = 'Open vSwitch: %s' % kwargs['msg']
        return kwargs
    if isinstance(exc, NetFactsError):
        return dict(msg='reading the live network for the drift check failed: %s. Fix: install iproute2 '
                    '4.14 or later, or set drift: false' % exc, cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
    if isinstance(exc, (IOError, OSError)):
        return dict(msg='%s: %s. Fix: check that the path is writable by the connecting user (become: true)'
                    % (getattr(exc, 'filename', None) or 'file operation', exc))
    return None
