# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that verify a host: the wanted kvm_network against host_network_facts.

Thin wrappers: the logic lives in plugins/module_utils/_verify (compare, summary).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

# The collection's modules are imported in the filters that use them, not here: to find one filter,
# Ansible loads every filter file of the collection, in every forked worker, from source. A task
# that uses any filter of this collection then pays only for what its own filter needs.


def silent_targets(traffic):
    """The pings that did not answer (host_network_facts' or kvm_network_apply's read-back traffic
    results), each as a difference of its bridge."""
    if not is_sequence(traffic) or not all(isinstance(r, dict) and isinstance(r.get('item'), dict) for r in traffic):
        raise AnsibleFilterError('kvm_network_differences: traffic must be the list of ping results '
                                 '(read_back.traffic or host_network_facts traffic), not %r' % (traffic,))
    return [{'object': 'bridge %s' % r['item'].get('bridge'), 'kind': 'bridge.traffic', 'field': 'traffic',
             'expected': r['item'].get('target'), 'found': r.get('reason'),
             'message': 'bridge %s: %s' % (r['item'].get('bridge'), r.get('reason'))}
            for r in traffic if not r.get('answered')]


def kvm_network_differences(data, host_network, host=None, ignore=None, traffic=None):
    """Differences between kvm_network (as written in the inventory, or normalised) and the realised
    network, then the traffic targets that did not answer."""
    if not isinstance(host_network, dict):
        raise AnsibleFilterError('kvm_network_differences: the argument must be the host_network facts '
                                 '(ansible_facts.host_network from host_network_facts), not %s'
                                 % type(host_network).__name__)
    if ignore is None:
        ignore = []
    elif isinstance(ignore, str) or not is_sequence(ignore):
        raise AnsibleFilterError('kvm_network_differences: ignore must be a list of difference kinds, '
                                 'types or objects (e.g. [bond.miimon, bridge cloudbr1]), not %r' % (ignore,))
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import compare, drop_ignored
    from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._filter import model_or_fail

    silent = silent_targets(traffic) if traffic is not None else []
    return drop_ignored(compare(model_or_fail(data, host), host_network) + silent, ignore)


def kvm_network_drop_ignored(differences, ignore):
    """Differences without those whose kind, type or object is in ``ignore``."""
    if isinstance(ignore, str) or not is_sequence(ignore):
        raise AnsibleFilterError('kvm_network_drop_ignored: ignore must be a list of difference kinds, '
                                 'types or objects, not %r' % (ignore,))
    if not is_sequence(differences) or not all(isinstance(d, dict) and 'kind' in d and 'object' in d
                                               for d in differences):
        raise AnsibleFilterError('kvm_network_drop_ignored: the input must be a list of differences '
                                 '(dicts with kind and object, as kvm_network_differences returns)')
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import drop_ignored

    return drop_ignored(differences, ignore)


def kvm_network_traffic_problems(targets, data, host=None):
    """What is wrong with kvm_network_verify_traffic for this model (empty when nothing is): the same
    checks the modules that ping make, on the controller, before any host is touched."""
    if not is_sequence(targets):
        raise AnsibleFilterError('kvm_network_traffic_problems: the input must be a list of {bridge, target, count}, '
                                 'not %r' % (targets,))
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.probe import target_problems
    from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._filter import model_or_fail

    model = model_or_fail(data, host)
    return target_problems(targets, 'kvm_network_verify_traffic', model['bridges'])


def kvm_network_summary(host_network, host=None):
    """The realised network of a host as text readable like brctl show / ovs-vsctl show."""
    if not isinstance(host_network, dict):
        raise AnsibleFilterError('kvm_network_summary: the input must be the host_network facts '
                                 '(ansible_facts.host_network from host_network_facts), not %s'
                                 % type(host_network).__name__)
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.summary import summary

    return summary(host_network, host)


class FilterModule(object):

    def filters(self):
        return {
            'kvm_network_differences': kvm_network_differences,
            'kvm_network_drop_ignored': kvm_network_drop_ignored,
            'kvm_network_summary': kvm_network_summary,
            'kvm_network_traffic_problems': kvm_network_traffic_problems,
        }
