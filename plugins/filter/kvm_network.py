# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the kvm_network model: validate/normalise it and render it for a system.

Thin wrappers: the logic lives in plugins/module_utils (_model, _render, _ovs.desired).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import ModelError
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.desired import format_commands
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.renderers import (
    render,
    resolve_renderer,
)
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._filter import model_or_fail


def _renderer(norm, facts, override, host):
    try:
        return resolve_renderer(norm, facts, override=override or None, host=host)
    except ModelError as err:
        raise AnsibleFilterError(err.report(host))


def kvm_network_validate(data, host=None):
    """Validate and normalise a kvm_network mapping; fail with every problem at once."""
    return model_or_fail(data, host)


def kvm_network_renderer(data, facts=None, override=None, host=None):
    """The renderer a host gets: override, the model's renderer, or by OS facts."""
    return _renderer(model_or_fail(data, host), facts, override, host)


def kvm_network_render(data, renderer=None, facts=None, host=None, header=None, hostname=None,
                       ovs_database_only=False):
    """Render kvm_network for one host: {renderer, files, owned, marker, ovs_state, ovs_commands, ovs_script}.

    ``data`` is kvm_network as written or already normalised (kvm_network_validate's output).
    ``ovs_database_only``: Open vSwitch settings a renderer cannot write (netplan: datapath_type
    netdev, STP, bond delays) are left to the database reconcile instead of failing.
    """
    norm = model_or_fail(data, host)
    name = _renderer(norm, facts, renderer, host)
    options = {'host': host, 'hostname': hostname, 'ovs_database_only': bool(ovs_database_only)}
    if header:
        options['header'] = header
    try:
        out = render(norm, name, options)
    except ValueError as err:
        raise AnsibleFilterError('host %s: cannot render kvm_network with %s: %s' % (host, name, err))
    out['ovs_script'] = format_commands(out['ovs_commands'])
    return out


class FilterModule(object):

    def filters(self):
        return {
            'kvm_network_validate': kvm_network_validate,
            'kvm_network_renderer': kvm_network_renderer,
            'kvm_network_render': kvm_network_render,
        }
