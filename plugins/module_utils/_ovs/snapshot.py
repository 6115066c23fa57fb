# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The whole Open vSwitch configuration database in normalised form (``OvsSnapshot``), read with
one ovs-vsctl call: bridges (fake bridges found the way ovs-vsctl finds them), ports, interfaces.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import OVS_TAG_MAX
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    DATAPATH_DEFAULT,
    FAKE_BRIDGE_ID_PREFIX,
    INTERFACE_TYPE_DEFAULT,
    OvsOutputError,
    as_list,
    optional,
)

# --- the database snapshot -----------------------------------------------------------------------


def _referenced(row, table, column, by_uuid, what):
    """The names of the rows ``row`` (of ``table``) refers to in its set ``column``, looked up in
    ``by_uuid``; a reference to a row the output lacks is an OvsOutputError."""
    names = []
    for uuid in as_list(row.get(column, [])):
        target = by_uuid.get(uuid)
        if target is None:
            raise OvsOutputError('%s %s refers to a missing %s %s' % (table, row['name'], what, uuid))
        names.append(target['name'])
    return names


class OvsSnapshot(object):
    """The configuration database in normalised form, as ovs-vsctl sees it.

    ``bridges``: name -> {name, uuid, fake, parent, vlan, datapath_type, fail_mode, stp_enable,
    other_config, external_ids, ports}. Real bridges have ``fake`` False; ``ports`` lists every
    Port record on the bridge (its own local port and fake-bridge ports included). A fake bridge
    (``add-br NAME PARENT VLAN``) is a Port on its parent with ``fake_bridge=true``, a tag and an
    internal Interface of the same name: it is listed with ``fake`` True, ``parent``, ``vlan``,
    its parent's datapath_type, the ``fake-bridge-*`` external IDs of its Port (prefix removed)
    and, as ``ports``, the parent's ports tagged with its VLAN.

    ``ports``: name -> {name, uuid, bridge (the real bridge holding it), vsctl_bridge (the fake
    bridge ovs-vsctl assigns it to by tag, else the real one), interfaces (sorted names), tag,
    trunks, vlan_mode, bond_mode, lacp, bond_updelay, bond_downdelay, other_config, external_ids,
    fake_bridge}. Unset optional columns are None; values are as stored (no defaults filled in).

    ``interfaces``: name -> {name, uuid, type ('system' for the empty type), options,
    external_ids, port}.
    """

    def __init__(self, ovs_version, bridges, ports, interfaces):
        self.ovs_version = ovs_version
        self.bridges = bridges
        self.ports = ports
        self.interfaces = interfaces

    @classmethod
    def from_rows(cls, ovs_rows, bridge_rows, port_rows, interface_rows):
        ovs_version = optional(ovs_rows[0].get('ovs_version')) if ovs_rows else None
        iface_by_uuid = dict((r['_uuid'], r) for r in interface_rows)
        port_by_uuid = dict((r['_uuid'], r) for r in port_rows)
        interfaces = {}
        ports = {}
        bridges = {}
        for row in interface_rows:
            interfaces[row['name']] = {
                'name': row['name'],
                'uuid': row['_uuid'],
                'type': row.get('type') or INTERFACE_TYPE_DEFAULT,
                'options': dict(row.get('options') or {}),
                'external_ids': dict(row.get('external_ids') or {}),
                'port': None,
            }
            if 'mtu_request' in row:
                interfaces[row['name']]['mtu_request'] = optional(row['mtu_request'])
        for row in port_rows:
            names = _referenced(row, 'port', 'interfaces', iface_by_uuid, 'interface')
            for name in names:
                interfaces[name]['port'] = row['name']
            trunks = as_list(row.get('trunks', []))
            ports[row['name']] = {
                'name': row['name'],
                'uuid': row['_uuid'],
                'bridge': None,
                'vsctl_bridge': None,
                'interfaces': sorted(names),
                'tag': optional(row.get('tag', [])),
                'trunks': sorted(int(t) for t in trunks),
                'vlan_mode': optional(row.get('vlan_mode', [])),
                'bond_mode': optional(row.get('bond_mode', [])),
                'lacp': optional(row.get('lacp', [])),
                'bond_updelay': int(row.get('bond_updelay') or 0),
                'bond_downdelay': int(row.get('bond_downdelay') or 0),
                'other_config': dict(row.get('other_config') or {}),
                'external_ids': dict(row.get('external_ids') or {}),
                'fake_bridge': bool(row.get('fake_bridge')),
            }
        for row in bridge_rows:
            port_names = _referenced(row, 'bridge', 'ports', port_by_uuid, 'port')
            for name in port_names:
                ports[name]['bridge'] = row['name']
                ports[name]['vsctl_bridge'] = row['name']
            bridges[row['name']] = {
                'name': row['name'],
                'uuid': row['_uuid'],
                'fake': False,
                'parent': None,
                'vlan': None,
                'datapath_type': row.get('datapath_type') or DATAPATH_DEFAULT,
                'fail_mode': optional(row.get('fail_mode', [])),
                'stp_enable': bool(row.get('stp_enable')),
                'other_config': dict(row.get('other_config') or {}),
                'external_ids': dict(row.get('external_ids') or {}),
                'ports': sorted(port_names),
            }
        # Fake bridges, the way ovs-vsctl finds them: a fake_bridge Port with a valid tag.
        for real in list(bridges.values()):
            for pname in real['ports']:
                port = ports[pname]
                if port['fake_bridge'] and port['tag'] is not None and 0 <= port['tag'] <= OVS_TAG_MAX:
                    if port['name'] in bridges:
                        continue
                    bridges[port['name']] = {
                        'name': port['name'],
                        'uuid': port['uuid'],
                        'fake': True,
                        'parent': real['name'],
                        'vlan': port['tag'],
                        'datapath_type': real['datapath_type'],
                        'fail_mode': None,
                        'stp_enable': False,
                        'other_config': {},
                        'external_ids': dict((k[len(FAKE_BRIDGE_ID_PREFIX):], v)
                                             for k, v in port['external_ids'].items()
                                             if k.startswith(FAKE_BRIDGE_ID_PREFIX)),
                        'ports': [],
                    }
        for fake in [b for b in bridges.values() if b['fake']]:
            for pname in bridges[fake['parent']]['ports']:
                port = ports[pname]
                if pname != fake['name'] and port['tag'] == fake['vlan'] and not port['fake_bridge']:
                    port['vsctl_bridge'] = fake['name']
                    fake['ports'].append(pname)
        return cls(ovs_version, bridges, ports, interfaces)

    def bridge(self, name):
        return self.bridges.get(name)

    def port(self, name):
        return self.ports.get(name)

    def interface(self, name):
        return self.interfaces.get(name)

    def resolve_bridge(self, name):
        """``(real_bridge, vlan)`` for a real or fake bridge name; None when it does not exist."""
        br = self.bridges.get(name)
        if br is None:
            return None
        if br['fake']:
            return br['parent'], br['vlan']
        return br['name'], None

    def foreign_ports(self, name):
        """Ports that deleting bridge ``name`` would delete besides its own local port.

        For a real bridge: every other port on it, fake-bridge ports included; for a fake bridge:
        the parent's ports tagged with its VLAN.
        """
        br = self.bridges[name]
        if br['fake']:
            return list(br['ports'])
        return [p for p in br['ports'] if p != name]

    def as_dict(self):
        return {'ovs_version': self.ovs_version, 'bridges': self.bridges, 'ports': self.ports,
                'interfaces': self.interfaces}
