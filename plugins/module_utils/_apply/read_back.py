# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The realised network read back at the end of kvm_network_apply, for a verification that then
needs no round trip of its own: the one facts reader (as host_network_facts returns it) and the
traffic pings (as the kvm_network_verify role runs them). The comparison with the model stays on
the controller (the kvm_network_differences filter)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.reader import SECTIONS, read_host_network


def ping_argv(ping, target):
    return [ping, '-n', '-c', str(target['count']), '-W', '2', '-I', target['bridge'], target['target']]


def pings(module, targets):
    """One result per target in the shape of an ansible.builtin.command loop item (item, rc,
    stdout_lines, stderr_lines), so the verify role reads both the same way."""
    if not targets:
        return []
    ping = module.get_bin_path('ping', opt_dirs=['/bin', '/usr/bin', '/sbin', '/usr/sbin'])
    out = []
    for target in targets:
        item = {'bridge': target['bridge'], 'target': target['target'], 'count': target['count']}
        if ping is None:
            out.append({'item': item, 'rc': 127, 'stdout_lines': [], 'stderr_lines': [],
                        'msg': 'ping was not found on the host'})
            continue
        rc, stdout, stderr = command.run(module, ping_argv(ping, target), timeout=None)    # ping -W bounds it
        out.append({'item': item, 'rc': rc, 'stdout_lines': stdout.splitlines(), 'stderr_lines': stderr.splitlines()})
    return out


def read_back(module, spec, root='/'):
    """{'host_network': facts, 'traffic': [ping results]} of the host as it is now."""
    return {'host_network': read_host_network(module, SECTIONS, ovs=spec['ovs'], ovs_timeout=spec['ovs_timeout'],
                                              root=root),
            'traffic': pings(module, spec['traffic'])}
