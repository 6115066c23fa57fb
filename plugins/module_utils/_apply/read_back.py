# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The realised network read back at the end of kvm_network_apply, for a verification that then
needs no round trip of its own: the one facts reader (as host_network_facts returns it) and the
traffic probes (the host layer's one ping, as host_network_facts' traffic runs it for the
kvm_network_verify role). The comparison with the model stays on
the controller (the kvm_network_differences filter)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import probe


def read_back(module, spec, readings, client=None):
    """{'host_network': facts, 'traffic': [ping results]} of the host as it is now: the call's one
    reading (``applier.HostReadings``, read with the read-back's sections), read again only when the
    call changed the host."""
    return {'host_network': readings.live(client), 'traffic': probe.probes(module, spec['traffic'])}
