# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The realised network of one host as text (``summary``), readable like ``brctl show``,
``/proc/net/bonding/BOND`` and ``/proc/net/vlan/config`` (Linux bridge) or ``ovs-vsctl show`` and
``ovs-appctl bond/show`` (Open vSwitch), from the host_network facts only: no tool's human output
is parsed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    LINUX_BOND_MODE_TEXT,
    LINUX_PRIMARY_MODES,
    LINUX_XMIT_HASH_MODES,
    linux_bond_mode,
    natural_key,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import text_of

# --------------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------------


def _table(rows, widths):
    out = []
    for row in rows:
        cells = [str(c) for c in row]
        line = ''.join(c.ljust(w) for c, w in zip(cells[:-1], widths)) + cells[-1]
        out.append(line.rstrip())
    return out


def _linux_section(facts):
    links = facts.get('links') or {}
    lbr = facts.get('linux_bridges') or {}
    lines = []
    if lbr:
        lines.append('# brctl show')
        rows = [('bridge name', 'STP enabled', 'interfaces')]
        for name in sorted(lbr, key=natural_key):
            br = lbr[name]
            ports = sorted(br.get('ports') or [], key=natural_key)
            stp = 'yes' if br.get('stp') else 'no'
            rows.append((name, stp, ports[0] if ports else ''))
            for port in ports[1:]:
                rows.append(('', '', port))
        lines.extend(_table(rows, (16, 16)))
        lines.append('')
    for name in sorted(facts.get('bonds') or {}, key=natural_key):
        bond = facts['bonds'][name]
        mode = linux_bond_mode(bond.get('mode'))
        link = links.get(name) or {}
        lines.append('# cat /proc/net/bonding/%s' % name)
        lines.append('Bonding Mode: %s' % LINUX_BOND_MODE_TEXT.get(mode, text_of(mode)))
        if mode in LINUX_XMIT_HASH_MODES:
            lines.append('Transmit Hash Policy: %s' % (bond.get('xmit_hash_policy') or 'layer2'))
        if mode in LINUX_PRIMARY_MODES:
            lines.append('Primary Slave: %s' % (bond.get('primary') or 'None'))
        if mode == 'active-backup':
            lines.append('Currently Active Slave: %s' % (bond.get('active') or 'None'))
        if link:
            lines.append('MII Status: %s' % ('up' if link.get('carrier') else 'down'))
        lines.append('MII Polling Interval (ms): %s' % text_of(bond.get('miimon')))
        lines.append('Up Delay (ms): %s' % text_of(bond.get('updelay')))
        lines.append('Down Delay (ms): %s' % text_of(bond.get('downdelay')))
        if mode == '802.3ad':
            lines.append('LACP rate: %s' % (bond.get('lacp_rate') or 'slow'))
        perm = bond.get('member_permanent_macs') or {}
        for member in bond.get('members') or []:
            mlink = links.get(member) or {}
            lines.append('')
            lines.append('Slave Interface: %s' % member)
            if mlink:
                lines.append('MII Status: %s' % ('up' if mlink.get('carrier') else 'down'))
            if perm.get(member):
                lines.append('Permanent HW addr: %s' % perm[member])
        lines.append('')
    vlans = facts.get('vlans') or {}
    if vlans:
        lines.append('# cat /proc/net/vlan/config')
        lines.append('VLAN Dev name    | VLAN ID')
        for name in sorted(vlans, key=natural_key):
            lines.append('%-15s| %-4s | %s' % (name, text_of(vlans[name].get('id')), text_of(vlans[name].get('link'))))
        lines.append('')
    return lines


def _ovs_section(ovs):
    bridges = ovs.get('bridges') or {}
    interfaces = ovs.get('interfaces') or {}
    lines = ['# ovs-vsctl show']
    for name in sorted(bridges, key=natural_key):
        br = bridges[name]
        if br.get('fake'):
            continue    # ovs-vsctl shows a fake bridge as its internal port on the parent
        lines.append('    Bridge %s' % name)
        if br.get('fail_mode'):
            lines.append('        fail_mode: %s' % br['fail_mode'])
        if br.get('datapath_type') and br['datapath_type'] != 'system':
            lines.append('        datapath_type: %s' % br['datapath_type'])
        ports = br.get('ports') or {}
        for pname in sorted(ports, key=natural_key):
            port = ports[pname]
            lines.append('        Port %s' % pname)
            if port.get('tag') is not None:
                lines.append('            tag: %s' % port['tag'])
            if port.get('trunks'):
                lines.append('            trunks: [%s]' % ', '.join(str(t) for t in port['trunks']))
            if port.get('vlan_mode'):
                lines.append('            vlan_mode: %s' % port['vlan_mode'])
            for iname in port.get('interfaces') or []:
                lines.append('            Interface %s' % iname)
                itype = (interfaces.get(iname) or {}).get('type')
                if itype and itype != 'system':
                    lines.append('                type: %s' % itype)
    if ovs.get('version'):
        lines.append('    ovs_version: "%s"' % ovs['version'])
    lines.append('')
    for name in sorted(ovs.get('bonds') or {}, key=natural_key):
        bond = ovs['bonds'][name]
        lines.append('# ovs-appctl bond/show %s' % name)
        lines.append('---- %s ----' % name)
        lines.append('bond_mode: %s' % text_of(bond.get('mode')))
        if bond.get('miimon'):
            lines.append('bond-detect-mode: miimon (%s ms)' % bond['miimon'])
        else:
            lines.append('bond-detect-mode: carrier')
        lines.append('updelay: %s ms' % text_of(bond.get('updelay') or 0))
        lines.append('downdelay: %s ms' % text_of(bond.get('downdelay') or 0))
        lacp = bond.get('lacp') or 'off'
        lines.append('lacp: %s' % lacp)
        if lacp != 'off':
            lines.append('lacp-time: %s' % (bond.get('lacp_rate') or 'slow'))
        backup = bond.get('mode') == 'active-backup'
        if backup and bond.get('primary'):
            lines.append('active-backup primary: %s' % bond['primary'])
        if backup and bond.get('active_mac'):
            lines.append('active member mac: %s(%s)' % (bond['active_mac'], bond.get('active') or 'none'))
        for member in bond.get('members') or []:
            state = (interfaces.get(member) or {}).get('link_state')
            lines.append('')
            lines.append('member %s: %s' % (member, 'enabled' if state == 'up' else 'disabled'))
            if backup and member == bond.get('active'):
                lines.append('  active member')
            lines.append('  link_state: %s' % text_of(state))
        lines.append('')
    return lines


def _addresses_section(facts):
    links = facts.get('links') or {}
    addresses = facts.get('addresses') or {}
    owners = facts.get('owners') or {}
    model_bridges = ((facts.get('model') or {}).get('bridges') or {})
    names = set(model_bridges)
    for name, addrs in addresses.items():
        if any(a.get('scope') == 'global' for a in addrs):
            names.add(name)
    if facts.get('cloud0'):
        names.add('cloud0')
    names.discard('lo')
    lines = []
    if names:
        lines.append('# ip -brief address (global addresses)')
        rows = []
        for name in sorted(names, key=natural_key):
            state = ((links.get(name) or {}).get('state') or 'unknown').upper()
            addrs = [a['cidr'] + (' (dynamic)' if a.get('dynamic') else '') for a in addresses.get(name) or []
                     if a.get('scope') != 'link' and a.get('scope') != 'host']
            if name == 'cloud0':
                addrs = [a['cidr'] for a in addresses.get(name) or [] if a.get('family') == 4]
            owner = (owners.get(name) or {}).get('owner')
            owner = None if owner == 'unknown' else owner
            rows.append((name, state, '  '.join(part for part in (' '.join(addrs), '[%s]' % owner if owner else '') if part)))
        lines.extend(_table(rows, (17, 15)))
        lines.append('')
    routes = facts.get('routes') or {}
    defaults = [('', r) for r in routes.get('ipv4') or []] + [('-6 ', r) for r in routes.get('ipv6') or []]
    if defaults:
        lines.append('# ip route show default')
        for prefix, r in defaults:
            lines.append('%sdefault via %s dev %s metric %s%s' % (
                prefix, text_of(r.get('gateway')), text_of(r.get('dev')), text_of(r.get('metric')),
                ' proto %s' % r['protocol'] if r.get('protocol') else ''))
        lines.append('')
    return lines


def summary(facts, host=None):
    """The realised network of one host as text, from host_network facts."""
    facts = facts or {}
    model = facts.get('model') or {}
    ovs = facts.get('ovs') or {}
    backend = model.get('backend')
    lines = ['%s%s' % ('host %s: ' % host if host else '',
                       'backend %s' % backend if backend else 'no Linux or Open vSwitch bridge')]
    lines.append('')
    body = []
    if facts.get('linux_bridges') or facts.get('bonds') or facts.get('vlans'):
        body.extend(_linux_section(facts))
    if ovs.get('available', True) and ovs.get('bridges'):
        body.extend(_ovs_section(ovs))
    elif ovs and ovs.get('available') is False and ovs.get('reason') and backend in (None, 'openvswitch'):
        body.append('# Open vSwitch not read: %s' % ovs['reason'])
        body.append('')
    if not body and model.get('bridges'):
        body.extend(_model_section(model))
    body.extend(_addresses_section(facts))
    body.extend(_sriov_section(facts))
    lines.extend(body)
    while lines and not lines[-1]:
        lines.pop()
    return '\n'.join(lines) + '\n'


def _model_section(model):
    """Only the model view was gathered: bridges and their ports in brctl's shape."""
    rows = [('bridge name', 'type', 'interfaces')]
    for name in sorted(model.get('bridges') or {}, key=natural_key):
        br = model['bridges'][name]
        ports = list(br.get('ports') or [])
        rows.append((name, br.get('type') or '', ports[0] if ports else ''))
        for port in ports[1:]:
            rows.append(('', '', port))
    return ['# bridges'] + _table(rows, (16, 16)) + ['']


def _sriov_section(facts):
    """The SR-IOV physical functions and the VFs present (sysfs' sriov_numvfs of sriov_totalvfs)."""
    pfs = [(n, l['sriov']) for n, l in sorted((facts.get('links') or {}).items(), key=lambda i: natural_key(i[0]))
           if l.get('sriov')]
    if not pfs:
        return []
    rows = [('PF', 'VFs', 'of')] + [(n, text_of(s.get('numvfs')), text_of(s.get('totalvfs'))) for n, s in pfs]
    return ['# SR-IOV (sriov_numvfs)'] + _table(rows, (17, 6)) + ['']
