# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small kvm_network models the renderer tests build their one-case-per-option tables from.

``linux()``/``ovs()``: three NICs, bond0 on eth0+eth1 and the given bridges (cloudbr0 on bond0 when
none is given); ``linux_bond(mode, ...)``/``ovs_bond(...)``: the same with bond0's options; ``patched``:
a copy with one nested value set. ``ABSENT`` stands for "this key must not be there".
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.ovs import OVS_FACT_COLUMNS
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import table_rows

ABSENT = object()


def ovs_rows_from_documents(docs):
    """Recorded ``ovs-vsctl --format=json`` documents (one per table, in OVS_FACT_COLUMNS order)
    -> {table: rows}, as the facts reader's one query returns them."""
    return dict((table, table_rows(doc)) for (table, dummy), doc in zip(OVS_FACT_COLUMNS, docs))


def linux(**bridges):
    return {'backend': 'linux_bridge',
            'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {}},
            'bonds': {'bond0': {'interfaces': ['eth0', 'eth1']}},
            'bridges': bridges or {'cloudbr0': {'uplink': 'bond0'}}}


def ovs(**bridges):
    data = linux(**bridges)
    data['backend'] = 'openvswitch'
    return data


def patched(data, path, value):
    """A deep copy of ``data`` with data[a][b][c] = value for path ('a', 'b', 'c') or 'a.b.c'
    (value None deletes the key)."""
    data = copy.deepcopy(data)
    keys = path.split('.') if isinstance(path, str) else list(path)
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return data


def linux_bond(mode, **opts):
    data = linux()
    opts['interfaces'] = ['eth0', 'eth1']
    opts['mode'] = mode
    data['bonds']['bond0'] = opts
    return data


def ovs_bond(**opts):
    data = ovs()
    opts['interfaces'] = ['eth0', 'eth1']
    data['bonds']['bond0'] = opts
    return data
