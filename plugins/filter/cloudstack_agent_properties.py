# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent.properties keys a host gets from its kvm_network model: a thin wrapper over
plugins/module_utils/_cloudstack/agent.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

# The collection's modules are imported in the filters that use them, not here: to find one filter,
# Ansible loads every filter file of the collection, in every forked worker, from source. A task
# that uses any filter of this collection then pays only for what its own filter needs.


def cloudstack_agent_properties(data, host=None, servers=None, algorithm=None, check_interval=None, dpdk=False,
                                dpdk_ovs_path=None, extra=None):
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.agent import (
        AgentModelError,
        properties_for,
    )
    from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._filter import model_or_fail

    try:
        return properties_for(model_or_fail(data, host), host=host, servers=servers, algorithm=algorithm,
                              check_interval=check_interval, dpdk=dpdk, dpdk_ovs_path=dpdk_ovs_path, extra=extra)
    except AgentModelError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {'cloudstack_agent_properties': cloudstack_agent_properties}
