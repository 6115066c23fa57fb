# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""One entry point over every renderer: a normalised model and a renderer name in, files out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import (
    _ovs_plan,
    _render_ifcfg,
    _render_ifupdown,
    _render_netplan,
    _render_networkmanager,
)

RENDERERS = {
    'netplan': _render_netplan.render,
    'ifupdown': _render_ifupdown.render,
    'networkmanager': _render_networkmanager.render,
    'ifcfg': _render_ifcfg.render,
}


def render(model, renderer, options=None):
    """Render a normalised model for ``renderer``.

    Returns the renderer's result (renderer, files, owned, marker) plus, for Open vSwitch,
    ``ovs_state`` (the database state the files describe) and ``ovs_commands`` (ovs-vsctl argv
    lists that build it on an empty database).
    """
    if renderer not in RENDERERS:
        raise ValueError('unknown renderer %r: use one of %s' % (renderer, ', '.join(sorted(RENDERERS))))
    out = RENDERERS[renderer](model, options)
    state = _ovs_plan.desired_state(model)
    out['ovs_state'] = state
    out['ovs_commands'] = _ovs_plan.commands_from_scratch(state) if model['backend'] == 'openvswitch' else []
    return out
