# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the kvm_network model: validate/normalise it and render it for a system.

Thin wrappers: the logic lives in plugins/module_utils (_model, _render, _ovs_plan).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import _model, _ovs_plan

try:
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import _render
    RENDER_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - only while a renderer is missing from a checkout
    _render = None
    RENDER_IMPORT_ERROR = exc


def _fail(problems, host):
    head = 'kvm_network is invalid%s (%d problem%s):' % (' for host %s' % host if host else '', len(problems),
                                                         '' if len(problems) == 1 else 's')
    raise AnsibleFilterError('\n'.join([head] + ['  - %s' % p for p in problems]))


def kvm_network_validate(data, host=None):
    """Validate and normalise a kvm_network mapping; fail with every problem at once."""
    try:
        return _model.normalise(data, host)
    except _model.ModelError as err:
        _fail(err.problems, host)
    except ImportError as err:
        raise AnsibleFilterError(str(err))


def kvm_network_renderer(data, facts=None, override=None, host=None):
    """The renderer a host gets: override, the model's renderer, or by OS facts."""
    norm = kvm_network_validate(data, host)
    try:
        return _model.resolve_renderer(norm, facts, override=override or None, host=host)
    except _model.ModelError as err:
        _fail(err.problems, host)


def kvm_network_render(data, renderer=None, facts=None, host=None, header=None, hostname=None,
                       ovs_database_only=False):
    """Render kvm_network for one host: {renderer, files, owned, marker, ovs_state, ovs_commands, ovs_script}.

    ``ovs_database_only``: Open vSwitch settings a renderer cannot write (netplan: datapath_type
    netdev, STP, bond delays) are left to the database reconcile instead of failing.
    """
    if _render is None:
        raise AnsibleFilterError('cloudstack_kvm.networking renderers are missing: %s' % RENDER_IMPORT_ERROR)
    norm = kvm_network_validate(data, host)
    try:
        name = _model.resolve_renderer(norm, facts, override=renderer or None, host=host)
    except _model.ModelError as err:
        _fail(err.problems, host)
    options = {'host': host, 'hostname': hostname, 'ovs_database_only': bool(ovs_database_only)}
    if header:
        options['header'] = header
    try:
        out = _render.render(norm, name, options)
    except ValueError as err:
        raise AnsibleFilterError('host %s: cannot render kvm_network with %s: %s' % (host, name, err))
    out['ovs_script'] = _ovs_plan.format_commands(out['ovs_commands'])
    return out


class FilterModule(object):

    def filters(self):
        return {
            'kvm_network_validate': kvm_network_validate,
            'kvm_network_renderer': kvm_network_renderer,
            'kvm_network_render': kvm_network_render,
        }
