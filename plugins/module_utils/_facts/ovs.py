# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The Open vSwitch side of the realised network: the queries (``ovs_fact_queries``, one
ovs-vsctl call for four tables with the status columns ovs-vswitchd fills in) and their rows
interpreted (``parse_ovs``): bridges, fake bridges, ports, bonds with their active member,
internal ports and interfaces.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import LACP_NEGOTIATING, is_guest_port, natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import int_or_none, lower_mac
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    BOND_MODE_DEFAULT,
    BRIDGE_COLUMNS,
    INTERFACE_COLUMNS,
    LACP_DEFAULT,
    OPEN_VSWITCH_COLUMNS,
    PORT_COLUMNS,
    optional,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.snapshot import OvsSnapshot


# Columns read for the facts: those of the shared snapshot plus the status columns ovs-vswitchd
# fills in (active bond member, MAC in use, link state, MTU).
OVS_FACT_COLUMNS = (
    ('Open_vSwitch', OPEN_VSWITCH_COLUMNS),
    ('Bridge', BRIDGE_COLUMNS),
    ('Port', PORT_COLUMNS + ('bond_active_slave',)),
    ('Interface', INTERFACE_COLUMNS + ('mac_in_use', 'ofport', 'link_state', 'admin_state', 'mtu')),
)


def ovs_fact_queries():
    """The read-only queries for ``OvsVsctl.query``: one ovs-vsctl call for all four tables."""
    return [('list', table, columns, None) for table, columns in OVS_FACT_COLUMNS]


def _is_vm_interface(iface):
    """A guest's port: libvirt's external IDs, or CloudStack's DPDK vhost-user type."""
    return is_guest_port(None, ovs_type=iface.get('type'), external_ids=iface.get('external_ids'))


def _port_type(port, snapshot):
    members = [snapshot.interfaces[n] for n in port['interfaces'] if n in snapshot.interfaces]
    if len(members) > 1:
        return 'bond'
    if not members:
        return 'unknown'
    if members[0]['type'] == 'internal':
        return 'internal'
    if _is_vm_interface(members[0]):
        return 'vm'
    return members[0]['type']


def parse_ovs(rows):
    """The OVS database (decoded rows of the tables in OVS_FACT_COLUMNS) -> normalised OVS facts.

    Bridges, fake bridges and ports come from the collection's shared ``OvsSnapshot``; the status
    columns add each bond's active member: ``bond_active_slave`` is the member's MAC, matched to
    the Interface whose ``mac_in_use`` it is (``ovs-appctl bond/show`` has no machine format).
    """
    snapshot = OvsSnapshot.from_rows(rows.get('Open_vSwitch') or [], rows.get('Bridge') or [],
                                     rows.get('Port') or [], rows.get('Interface') or [])
    port_status = dict((r['name'], r) for r in rows.get('Port') or [])
    iface_status = dict((r['name'], r) for r in rows.get('Interface') or [])

    bridges, bonds, internal, interfaces = {}, {}, {}, {}
    for name, iface in snapshot.interfaces.items():
        st = iface_status.get(name) or {}
        port = snapshot.ports.get(iface['port']) or {}
        interfaces[name] = {
            'type': iface['type'],
            'mac_in_use': lower_mac(optional(st.get('mac_in_use', []))),
            'ofport': optional(st.get('ofport', [])),
            'link_state': optional(st.get('link_state', [])),
            'admin_state': optional(st.get('admin_state', [])),
            'mtu': optional(st.get('mtu', [])),
            'port': iface['port'],
            'bridge': port.get('bridge'),
            'vm': _is_vm_interface(iface),
        }
        if iface['type'] == 'internal' and port:
            internal[name] = {'bridge': port.get('bridge'), 'port': iface['port'], 'tag': port.get('tag')}

    for pname, port in snapshot.ports.items():
        if len(port['interfaces']) < 2:
            continue
        other = port['other_config']
        detect = other.get('bond-detect-mode') or 'carrier'
        lacp = port['lacp'] or LACP_DEFAULT
        active_mac = lower_mac(optional((port_status.get(pname) or {}).get('bond_active_slave', [])))
        owners = [m for m in port['interfaces'] if active_mac and interfaces.get(m, {}).get('mac_in_use') == active_mac]
        bonds[pname] = {
            'bridge': port['bridge'],
            'mode': port['bond_mode'] or BOND_MODE_DEFAULT,
            'lacp': lacp,
            'lacp_rate': (other.get('lacp-time') or 'slow') if lacp in LACP_NEGOTIATING else None,
            'miimon': (int_or_none(other.get('bond-miimon-interval')) or 100) if detect == 'miimon' else 0,
            'updelay': port['bond_updelay'],
            'downdelay': port['bond_downdelay'],
            'primary': other.get('bond-primary') or None,
            'members': sorted(port['interfaces'], key=natural_key),
            'active': owners[0] if len(owners) == 1 else None,
            'active_mac': active_mac,
        }

    for bname in sorted(snapshot.bridges, key=natural_key):
        br = snapshot.bridges[bname]
        parent = snapshot.bridges.get(br['parent']) if br['fake'] else None
        port_names = [bname] if br['fake'] else br['ports']
        ports = {}
        for pname in sorted(set(port_names) | set(br['ports']), key=natural_key):
            port = snapshot.ports[pname]
            ports[pname] = {
                'type': _port_type(port, snapshot),
                'tag': port['tag'],
                'trunks': port['trunks'],
                'vlan_mode': port['vlan_mode'],
                'interfaces': sorted(port['interfaces'], key=natural_key),
                'fake_bridge': port['fake_bridge'],
            }
        bridges[bname] = {
            'datapath_type': br['datapath_type'],
            'fake': br['fake'],
            'parent': br['parent'],
            'vlan': br['vlan'],
            'stp': (parent or br)['stp_enable'],
            'fail_mode': (parent or br)['fail_mode'],
            'forward_delay': None if br['fake'] else int_or_none(br['other_config'].get('stp-forward-delay')),
            'ports': ports,
        }
    return {
        'version': snapshot.ovs_version,
        'bridges': bridges,
        'bonds': dict((k, bonds[k]) for k in sorted(bonds, key=natural_key)),
        'internal_ports': dict((k, internal[k]) for k in sorted(internal, key=natural_key)),
        'interfaces': dict((k, interfaces[k]) for k in sorted(interfaces, key=natural_key)),
    }
