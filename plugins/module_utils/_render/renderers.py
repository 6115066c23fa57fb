# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The renderers by name: which one a host gets (``resolve_renderer``, by OS facts) and one
entry point over all of them (``render``: a normalised model and a renderer name in, files out).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import RENDERERS as SYSTEMS, renderer_for_os
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import (
    RENDERERS as MODEL_RENDERERS,
    ModelError,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import desired
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import (
    ifcfg,
    ifupdown,
    netplan,
    networkmanager,
)

RENDERERS = {
    'netplan': netplan.render,
    'ifupdown': ifupdown.render,
    'networkmanager': networkmanager.render,
    'ifcfg': ifcfg.render,
}


def _one_of(names):
    return ', '.join(names[:-1]) + ' or ' + names[-1]


def render(model, renderer, options=None):
    """Render a normalised model for ``renderer``.

    Returns the renderer's result (renderer, files, owned, marker) plus, for Open vSwitch,
    ``ovs_state`` (the database state the files describe) and ``ovs_commands`` (ovs-vsctl argv
    lists that build it on an empty database).
    """
    if renderer not in RENDERERS:
        raise ValueError('unknown renderer %r: use one of %s' % (renderer, ', '.join(sorted(RENDERERS))))
    out = RENDERERS[renderer](model, options)
    state = desired.desired_state(model)
    out['ovs_state'] = state
    out['ovs_commands'] = desired.commands_from_scratch(state) if model['backend'] == 'openvswitch' else []
    return out


def resolve_renderer(model, facts=None, override=None, host=None):
    """Pick the renderer for a host: the override, the model's own choice, or by OS facts.

    ``facts`` is the host's ansible_facts (distribution, distribution_major_version, os_family).
    """
    prefix = 'host %s: ' % host if host else ''
    choice = override or model.get('renderer') or 'auto'
    if choice not in MODEL_RENDERERS:
        raise ModelError(['%skvm_network.renderer: unknown renderer %r. Fix: use one of %s.' % (prefix, choice, ', '.join(MODEL_RENDERERS))])
    if choice != 'auto':
        return choice
    try:
        return renderer_for_os(facts)
    except ValueError as err:
        fix = ('gather facts (gather_subset: [distribution]) or set kvm_network.renderer / kvm_network_renderer to %s'
               if 'no OS facts' in str(err) else 'set kvm_network.renderer to %s') % _one_of(SYSTEMS)
        raise ModelError(['%skvm_network.renderer: %s. Fix: %s.' % (prefix, err, fix)])
