# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for CloudStack's KVM ``extraconfig`` (DPDK guests): thin wrappers over
plugins/module_utils/_cloudstack/extraconfig.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

# The collection's modules are imported in the filters that use them, not here: to find one filter,
# Ansible loads every filter file of the collection, in every forked worker, from source. A task
# that uses any filter of this collection then pays only for what its own filter needs.


def cloudstack_extraconfig(configs):
    """``{name: xml}`` -> the URL-encoded extraconfig string deployVirtualMachine takes."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack import extraconfig

    try:
        return extraconfig.encode(configs)
    except extraconfig.ExtraConfigError as err:
        raise AnsibleFilterError('cloudstack_extraconfig: %s' % err)


def cloudstack_extraconfig_decode(value):
    """The extraconfig string -> ``{name: xml}`` as CloudStack stores it."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack import extraconfig

    try:
        return extraconfig.decode(value)
    except extraconfig.ExtraConfigError as err:
        raise AnsibleFilterError('cloudstack_extraconfig_decode: %s' % err)


class FilterModule(object):
    def filters(self):
        return {
            'cloudstack_extraconfig': cloudstack_extraconfig,
            'cloudstack_extraconfig_decode': cloudstack_extraconfig_decode,
        }
