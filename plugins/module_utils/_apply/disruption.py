# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Does a planned change touch the path Ansible connects through?

The connection's address on the host is the server side of ``SSH_CONNECTION`` (what sshd saw
Ansible connect to) and the address the controller was told to use. The path is the interface
that holds it and everything below it (bridge ports, bond members, a VLAN's link, an Open vSwitch
internal port's bridge and that bridge's uplinks), plus what the model puts under a bridge that
will hold it (a first migration moves the address to a new bridge). A change is disruptive when
it re-activates or reconciles anything on that path.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import socket

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key


def connection_addresses(given=None, environ=None):
    """The host's addresses Ansible connects through, as far as the host can tell."""
    environ = os.environ if environ is None else environ
    found = set()
    ssh = (environ.get('SSH_CONNECTION') or '').split()
    if len(ssh) == 4:
        found.add(ssh[2])
    if given:
        try:
            found.add(str(ipaddress.ip_address(given)))
        except ValueError:
            try:
                found.update(info[4][0] for info in socket.getaddrinfo(given, None))
            except (socket.error, UnicodeError):
                pass
    return sorted(found)


def _holder(facts, address):
    for name, addrs in (facts.get('addresses') or {}).items():
        if any(a['address'] == address for a in addrs):
            return name
    return None


def _below(facts, name):
    """The interfaces directly under ``name`` in the realised network."""
    lower = list(((facts.get('linux_bridges') or {}).get(name) or {}).get('ports') or [])
    lower += ((facts.get('bonds') or {}).get(name) or {}).get('members') or []
    vlan = (facts.get('vlans') or {}).get(name)
    if vlan and vlan.get('link'):
        lower.append(vlan['link'])
    ovs = facts.get('ovs') or {}
    internal = (ovs.get('internal_ports') or {}).get(name)
    if internal:
        bridge = (ovs.get('bridges') or {}).get(internal['bridge']) or {}
        lower.append(internal['bridge'])
        for port, data in (bridge.get('ports') or {}).items():
            if data.get('type') in ('system', 'bond', 'dpdk', 'afxdp') and port != internal['bridge']:
                lower.append(port)
    bond = (ovs.get('bonds') or {}).get(name)
    if bond:
        lower += bond.get('members') or []
    return lower


def _model_path(model, address):
    """The model's bridge that holds ``address`` and what it is built on."""
    names = set()
    for bname, br in model['bridges'].items():
        if not any(a.split('/')[0] == address for a in br['addresses']):
            continue
        names.add(bname)
        for name in (br['port'], br['uplink'], br['vlan_interface'], br['parent']):
            if name:
                names.add(name)
        bond = model['bonds'].get(br['uplink'] or '')
        if bond:
            names.update(bond['interfaces'])
    return names


def analyse(facts, model, addresses, planned):
    """{'address', 'interface', 'path', 'touched', 'disruptive'} for the first address the host
    holds (or the model will), or None when none of ``addresses`` is the host's."""
    for address in addresses:
        holder = _holder(facts, address)
        names = _model_path(model, address)
        if holder is None and not names:
            continue
        live = set()
        todo = [holder] if holder else []
        while todo:
            name = todo.pop()
            if name not in live:
                live.add(name)
                todo.extend(_below(facts, name))
        names |= live
        touched = set(planned.get('activated', {}).get('reasons') or {}) & names
        for diff in (planned.get('ovs') or {}).get('differences') or []:
            obj = diff['name'].split('.', 1)[0].split(' ', 1)[-1]
            if obj in names:
                touched.add(obj)
        return {'address': address, 'interface': holder, 'path': sorted(names, key=natural_key),
                'touched': sorted(touched, key=natural_key), 'disruptive': bool(touched)}
    return None


def refusal(report):
    """The message that refuses a disruptive change applied without safe apply."""
    return ('this change re-activates %s, on the path Ansible connects through (%s%s); applied without '
            'safe apply it can cut the host off. Fix: set kvm_network_safe_apply: true (commit-confirm: the host '
            'rolls back by itself unless the controller confirms it can still reach it), or '
            'kvm_network_allow_disruptive: true to apply it anyway'
            % (', '.join(report['touched']), report['address'],
               ' on %s' % report['interface'] if report['interface'] else ', which the model moves'))
