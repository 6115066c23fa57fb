# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this plugin_utils file is for this collection's own plugins only; its API may change
# without notice.
"""The one controller front door to the model: validate and normalise, choose the renderer,
render. The kvm_network_model action (what the roles call) and the kvm_network_* filters are
both thin callers of these functions, so a model fails the same way, with the same words,
whichever of them a user reaches it through.

Every failure is a ``FrontDoorError`` whose text names the host, the object and the fix; the
action returns it as ``msg``, the filters raise it as an AnsibleFilterError.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import ModelError, normalise

# The renderers are imported by the functions that render: a task that only validates (kvm_host's,
# a verification) does not compile them in its forked worker (the collection loader compiles
# every module from source).


class FrontDoorError(Exception):
    """A model the controller refuses; ``str()`` is the whole report for the user."""


def validate(data, host=None):
    """``data`` (kvm_network as written, or already normalised) normalised; every problem at once."""
    try:
        return normalise(data, host)
    except ModelError as err:
        raise FrontDoorError(err.report(host))


def choose_renderer(model, facts=None, override=None, host=None):
    """The system a host gets: ``override``, the model's own ``renderer``, or by its OS facts."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.renderers import resolve_renderer

    try:
        return resolve_renderer(model, facts or {}, override=override or None, host=host)
    except ModelError as err:
        raise FrontDoorError(err.report(host))


def render_for_host(model, renderer, host=None, hostname=None, header=None, ovs_database_only=False):
    """The files and the Open vSwitch state of a normalised model for ``renderer``:
    {renderer, files, owned, marker, ovs_state, ovs_commands, ovs_script}."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.desired import format_commands
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.renderers import render

    options = {'host': host, 'hostname': hostname, 'ovs_database_only': bool(ovs_database_only)}
    if header:
        options['header'] = header
    try:
        rendered = render(model, renderer, options)
    except ValueError as err:
        raise FrontDoorError('host %s: cannot render kvm_network with %s: %s' % (host, renderer, err))
    rendered['ovs_script'] = format_commands(rendered['ovs_commands'])
    return rendered
