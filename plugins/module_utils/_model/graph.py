# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The normalised model as a graph: what kind each interface is, what is built on what, and the
order interfaces come up in (down: the reverse). The applier uses it to bring up only what
changed, and what sits on it, in dependency order.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key

# Interface kinds and the order they come up in (down: the reverse).
LEVELS = {'ethernet': 0, 'bond': 1, 'vlan': 2, 'bridge': 3,
          'ovs_bridge': 0, 'ovs_fake': 1, 'ovs_port': 2}


def model_kinds(model):
    """{interface name: kind} of every interface the model defines."""
    kinds = {}
    ovs = model['backend'] == 'openvswitch'
    for name in model['ethernets']:
        kinds[name] = 'ovs_port' if ovs else 'ethernet'
    for name in model['bonds']:
        kinds[name] = 'ovs_port' if ovs else 'bond'
    for name in model.get('vlans') or {}:
        kinds[name] = 'vlan'
    for name, br in model['bridges'].items():
        if ovs:
            kinds[name] = 'ovs_fake' if br['parent'] else 'ovs_bridge'
        else:
            kinds[name] = 'bridge'
    return kinds


def model_parents(model):
    """{interface: set of interfaces built on it} for Linux: a bond's bridge and VLANs, a VLAN's
    bridge, a NIC's bond or bridge. Re-creating an interface takes it out of what sits on it."""
    parents = {}
    if model['backend'] == 'openvswitch':
        return parents
    for name, eth in model['ethernets'].items():
        for above in (eth['bond'], eth['bridge']):
            if above:
                parents.setdefault(name, set()).add(above)
    for name, vlan in (model.get('vlans') or {}).items():
        parents.setdefault(vlan['link'], set()).add(name)
        if vlan['bridge']:
            parents.setdefault(name, set()).add(vlan['bridge'])
    for name, br in model['bridges'].items():
        if br['port']:
            parents.setdefault(br['port'], set()).add(name)
    return parents


def built_on(model):
    """{interface: set of interfaces built on it}, for either backend: ``model_parents``, and with
    Open vSwitch a NIC's bond or bridge and a bond's bridge (ports, not devices re-created)."""
    if model['backend'] != 'openvswitch':
        return model_parents(model)
    above = {}
    for name, eth in model['ethernets'].items():
        for parent in (eth['bond'], eth['bridge']):
            if parent:
                above.setdefault(name, set()).add(parent)
    for name, bond in model['bonds'].items():
        if bond['bridge']:
            above.setdefault(name, set()).add(bond['bridge'])
    return above


def upward_closure(names, parents):
    out = set(names)
    todo = list(names)
    while todo:
        for above in parents.get(todo.pop(), ()):
            if above not in out:
                out.add(above)
                todo.append(above)
    return out


def model_names(model):
    return set(model['ethernets']) | set(model['bonds']) | set(model.get('vlans') or {}) | set(model['bridges'])


def ordered(names, kinds, reverse=False):
    """``names`` in the order they come up (``reverse``: go down), by kind, then naturally."""
    return sorted(names, key=lambda n: (LEVELS.get(kinds.get(n), 0), natural_key(n)), reverse=reverse)
