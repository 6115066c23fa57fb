# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Read the realised network of a Linux host: ``ip -j``, /proc, /sys, and the Open vSwitch DB.

One helper class per tool, each owning its ``run_command`` calls (argv lists, ``LC_ALL=C``):

* :class:`IpTool` runs ``ip -j -d link show``, ``ip -j addr show``, ``ip -j -4/-6 route show
  default`` (JSON only: iproute2 4.14 or later).
* :class:`SysReader` reads /proc/net/bonding, /proc/net/vlan/config, /sys/class/net and the state
  files of the network stacks (systemd-networkd, ifupdown, ifcfg). ``root`` lets tests point it at
  a recorded tree.
* :class:`NmcliTool` asks NetworkManager which connection (and file) owns each device, through
  ``nmcli --terse``.
* Open vSwitch is read through the collection's shared ovs-vsctl client (``_ovs.OvsVsctl``) with
  the queries of :func:`ovs_fact_queries`; :func:`parse_ovs` interprets the rows.

Everything that interprets tool output is a pure function taking the parsed JSON or the text
(``parse_links``, ``parse_proc_bonding``, ``parse_ovs`` ...), so it is unit-tested on recorded
output; :func:`build_model` turns the gathered facts into the shape of the ``kvm_network`` model.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import (
    BOND_MODE_DEFAULT, BRIDGE_COLUMNS, INTERFACE_COLUMNS, LACP_DEFAULT, OPEN_VSWITCH_COLUMNS,
    PORT_COLUMNS, OvsSnapshot, optional, table_rows,
)

C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}

# Bridges that are not part of the user's model: CloudStack's link-local cloud0 and libvirt's
# own NAT networks (virbr*). They are reported in the raw sections, never in ``model``.
CLOUD0 = 'cloud0'
NON_MODEL_BRIDGE_RE = re.compile(r'^(?:cloud0|virbr\d+)$')

LINUX_BOND_MODES_BY_TEXT = (
    # /proc/net/bonding "Bonding Mode:" texts (drivers/net/bonding/bond_main.c bond_mode_name).
    ('load balancing (round-robin)', 'balance-rr'),
    ('fault-tolerance (active-backup)', 'active-backup'),
    ('load balancing (xor)', 'balance-xor'),
    ('fault-tolerance (broadcast)', 'broadcast'),
    ('IEEE 802.3ad Dynamic link aggregation', '802.3ad'),
    ('transmit load balancing', 'balance-tlb'),
    ('adaptive load balancing', 'balance-alb'),
)
XMIT_HASH_MODES = ('balance-xor', '802.3ad', 'balance-tlb', 'balance-alb')
PRIMARY_MODES = ('active-backup', 'balance-tlb', 'balance-alb')


class NetFactsError(Exception):
    """A tool failed or printed something that cannot be read; carries what was run."""

    def __init__(self, message, cmd=None, rc=None, stderr=None):
        super(NetFactsError, self).__init__(message)
        self.cmd = cmd
        self.rc = rc
        self.stderr = stderr


def _natural(name):
    return [int(p) if p.isdigit() else p for p in re.split(r'(\d+)', name or '')]


def _lower_mac(mac):
    return mac.lower() if isinstance(mac, str) and mac else None


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _seconds(centiseconds):
    """Bridge timers are kept in 1/100 s by the kernel and iproute2; the model uses seconds."""
    if centiseconds is None:
        return None
    value = int(centiseconds)
    return value // 100 if value % 100 == 0 else value / 100.0


# --------------------------------------------------------------------------------------------
# ip -j
# --------------------------------------------------------------------------------------------

class IpTool(object):
    """Runs iproute2's ``ip`` with JSON output."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('ip', required=False)
        if not self.bin:
            raise NetFactsError('the ip command (iproute2) was not found on the host; install iproute2')

    def _json(self, args, optional=False):
        argv = [self.bin, '-j'] + list(args)
        rc, out, err = self.module.run_command(argv, environ_update=C_LOCALE)
        if rc != 0:
            if optional:
                return None
            raise NetFactsError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip()),
                                cmd=argv, rc=rc, stderr=err)
        out = (out or '').strip()
        if not out:
            return []
        try:
            return json.loads(out)
        except ValueError:
            raise NetFactsError('%s did not print JSON; iproute2 4.14 or later is needed for "ip -j"'
                                % ' '.join(argv), cmd=argv, rc=rc, stderr=err)

    def links(self):
        return self._json(['-d', 'link', 'show'])

    def addresses(self):
        return self._json(['addr', 'show'])

    def default_routes(self, family):
        # An IPv6-disabled kernel refuses -6 queries: that means "no IPv6 default route".
        return self._json(['-%d' % family, 'route', 'show', 'default'], optional=(family == 6)) or []


def link_type(link):
    """The kind of a link in one word: ethernet, bridge, bond, vlan, veth, tun, openvswitch, ..."""
    info = link.get('linkinfo') or {}
    kind = info.get('info_kind')
    if link.get('link_type') == 'loopback':
        return 'loopback'
    if kind:
        return kind
    if link.get('link_type') == 'ether':
        return 'ethernet'
    return link.get('link_type') or 'unknown'


def parse_links(data):
    """``ip -j -d link show`` -> {name: normalised link}."""
    links = {}
    for item in data or []:
        name = item.get('ifname')
        if not name:
            continue
        info = item.get('linkinfo') or {}
        flags = item.get('flags') or []
        slave = info.get('info_slave_data') or {}
        links[name] = {
            'ifindex': item.get('ifindex'),
            'type': link_type(item),
            'slave_type': info.get('info_slave_kind'),
            'state': (item.get('operstate') or 'unknown').lower(),
            'admin_up': 'UP' in flags,
            'carrier': 'LOWER_UP' in flags,
            'mac': _lower_mac(item.get('address')),
            'permanent_mac': _lower_mac(slave.get('perm_hwaddr') or item.get('permaddr')),
            'mtu': item.get('mtu'),
            'master': item.get('master'),
            'link': item.get('link'),
            'info_data': info.get('info_data') or {},
            'slave_data': slave,
        }
    return links


def parse_addresses(data):
    """``ip -j addr show`` -> {name: [{address, prefixlen, cidr, family, scope, dynamic}]}."""
    out = {}
    for item in data or []:
        name = item.get('ifname')
        if not name:
            continue
        addrs = []
        for a in item.get('addr_info') or []:
            fam = a.get('family')
            if fam not in ('inet', 'inet6') or not a.get('local'):
                continue
            addrs.append({
                'address': a['local'],
                'prefixlen': a.get('prefixlen'),
                'cidr': '%s/%s' % (a['local'], a.get('prefixlen')),
                'family': 4 if fam == 'inet' else 6,
                'scope': a.get('scope'),
                'dynamic': bool(a.get('dynamic')),
            })
        out[name] = addrs
    return out


def parse_default_routes(data4, data6):
    """``ip -j -4/-6 route show default`` -> {'ipv4': [...], 'ipv6': [...]} sorted by metric."""
    def norm(data):
        routes = []
        for r in data or []:
            if r.get('dst') not in ('default', None):
                continue
            routes.append({'gateway': r.get('gateway'), 'dev': r.get('dev'),
                           'metric': r.get('metric', 0), 'protocol': r.get('protocol')})
        return sorted(routes, key=lambda r: (r['metric'] or 0))
    return {'ipv4': norm(data4), 'ipv6': norm(data6)}


# --------------------------------------------------------------------------------------------
# /proc and /sys
# --------------------------------------------------------------------------------------------

def parse_proc_bonding(text):
    """/proc/net/bonding/BOND text -> dict. Unknown lines are ignored, so new kernels still read."""
    bond = {'mode': None, 'primary': None, 'active': None, 'miimon': None, 'updelay': None,
            'downdelay': None, 'lacp_rate': None, 'xmit_hash_policy': None, 'mii_status': None,
            'members': []}
    member = None
    for raw in (text or '').splitlines():
        if ':' not in raw:
            continue
        key, value = raw.split(':', 1)
        key = key.strip()
        value = value.strip()
        if key == 'Slave Interface':
            member = {'name': value, 'mii_status': None, 'permanent_mac': None,
                      'link_failure_count': None}
            bond['members'].append(member)
            continue
        if member is not None:
            if key == 'MII Status':
                member['mii_status'] = value.lower()
            elif key == 'Permanent HW addr':
                member['permanent_mac'] = _lower_mac(value)
            elif key == 'Link Failure Count':
                member['link_failure_count'] = _int_or_none(value)
            continue
        if key == 'Bonding Mode':
            bond['mode'] = _bond_mode_from_text(value)
        elif key == 'Primary Slave':
            name = value.split(' ', 1)[0]
            bond['primary'] = None if name in ('None', '') else name
        elif key == 'Currently Active Slave':
            bond['active'] = None if value in ('None', '') else value
        elif key == 'MII Status':
            bond['mii_status'] = value.lower()
        elif key == 'MII Polling Interval (ms)':
            bond['miimon'] = _int_or_none(value)
        elif key == 'Up Delay (ms)':
            bond['updelay'] = _int_or_none(value)
        elif key == 'Down Delay (ms)':
            bond['downdelay'] = _int_or_none(value)
        elif key == 'Transmit Hash Policy':
            bond['xmit_hash_policy'] = value.split(' ', 1)[0]
        elif key == 'LACP rate':
            bond['lacp_rate'] = value.split(' ', 1)[0]
    return bond


def _bond_mode_from_text(value):
    for text, mode in LINUX_BOND_MODES_BY_TEXT:
        if value.startswith(text):
            return mode
    m = re.search(r'\(([^)]+)\)', value)
    return m.group(1) if m else value


def parse_proc_vlan_config(text):
    """/proc/net/vlan/config -> {device: {'id': int, 'link': parent}}."""
    vlans = {}
    for raw in (text or '').splitlines():
        parts = [p.strip() for p in raw.split('|')]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        vlans[parts[0]] = {'id': int(parts[1]), 'link': parts[2]}
    return vlans


def parse_keyvalue_state(text):
    """systemd-networkd's /run/systemd/netif/links/N: KEY=VALUE lines -> dict."""
    out = {}
    for raw in (text or '').splitlines():
        raw = raw.strip()
        if not raw or raw.startswith('#') or '=' not in raw:
            continue
        key, value = raw.split('=', 1)
        out[key.strip()] = value.strip().strip('"')
    return out


class SysReader(object):
    """Reads /proc, /sys, /run and /etc below ``root`` (``/`` on a host, a recorded tree in tests)."""

    def __init__(self, root='/'):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *[p.lstrip('/') for p in parts])

    def read(self, *parts):
        try:
            with open(self.path(*parts), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except (IOError, OSError):
            return None

    def listdir(self, *parts):
        try:
            return sorted(os.listdir(self.path(*parts)))
        except (IOError, OSError):
            return []

    def isdir(self, *parts):
        return os.path.isdir(self.path(*parts))

    def exists(self, *parts):
        return os.path.lexists(self.path(*parts))

    # --- kernel ---------------------------------------------------------------------------
    def proc_bonding(self):
        return dict((name, parse_proc_bonding(self.read('/proc/net/bonding', name)))
                    for name in self.listdir('/proc/net/bonding'))

    def proc_vlans(self):
        return parse_proc_vlan_config(self.read('/proc/net/vlan/config'))

    def is_linux_bridge(self, name):
        return self.isdir('/sys/class/net', name, 'bridge')

    def is_physical(self, name):
        return self.exists('/sys/class/net', name, 'device')

    def sys_bridge(self, name):
        """stp and forward_delay of a Linux bridge and its ports, from /sys (fallback source)."""
        if not self.is_linux_bridge(name):
            return None
        return {
            'stp_state': _int_or_none((self.read('/sys/class/net', name, 'bridge/stp_state') or '').strip()),
            'forward_delay': _int_or_none((self.read('/sys/class/net', name, 'bridge/forward_delay') or '').strip()),
            'ports': self.listdir('/sys/class/net', name, 'brif'),
        }

    # --- network stacks ---------------------------------------------------------------------
    def networkd_link(self, ifindex):
        text = self.read('/run/systemd/netif/links', str(ifindex))
        return parse_keyvalue_state(text) if text is not None else None

    def ifupdown_up(self):
        """Interfaces ifupdown brought up (/run/network/ifstate or ifstate.NAME files)."""
        names = set()
        for line in (self.read('/run/network/ifstate') or '').splitlines():
            if '=' in line:
                names.add(line.split('=', 1)[0].strip())
        for entry in self.listdir('/run/network'):
            if entry.startswith('ifstate.') and (self.read('/run/network', entry) or '').strip():
                names.add(entry[len('ifstate.'):])
        return names

    def ifcfg_files(self):
        """{DEVICE: path} of /etc/sysconfig/network-scripts/ifcfg-* (EL network-scripts)."""
        out = {}
        base = '/etc/sysconfig/network-scripts'
        for entry in self.listdir(base):
            if not entry.startswith('ifcfg-') or entry == 'ifcfg-lo' or entry.endswith(('~', '.bak', '.orig', '.rpmsave')):
                continue
            data = parse_keyvalue_state(self.read(base, entry))
            out[data.get('DEVICE') or entry[len('ifcfg-'):]] = os.path.join(base, entry)
        return out


# --------------------------------------------------------------------------------------------
# NetworkManager
# --------------------------------------------------------------------------------------------

def split_terse(line):
    """One ``nmcli -t`` line -> fields (``:`` separates, ``\\:`` and ``\\\\`` are escapes)."""
    fields = ['']
    i = 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            fields[-1] += line[i + 1]
            i += 2
            continue
        if c == ':':
            fields.append('')
        else:
            fields[-1] += c
        i += 1
    return fields


def parse_nmcli_active(text):
    """``nmcli -t -f DEVICE,NAME,FILENAME connection show --active`` -> {device: {name, file}}."""
    out = {}
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        fields = split_terse(line)
        if len(fields) < 3 or not fields[0]:
            continue
        out[fields[0]] = {'connection': fields[1], 'file': fields[2] or None}
    return out


class NmcliTool(object):
    """NetworkManager's view of devices, through ``nmcli --terse``; None when NM is absent."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('nmcli', required=False)

    def active_connections(self):
        if not self.bin:
            return None
        argv = [self.bin, '--terse', '--fields', 'DEVICE,NAME,FILENAME', 'connection', 'show', '--active']
        rc, out, dummy = self.module.run_command(argv, environ_update=C_LOCALE)
        if rc != 0:
            # NetworkManager not running: nothing is owned by it.
            return None
        return parse_nmcli_active(out)


def decide_owners(links, nm_active, networkd, ifupdown, ifcfg):
    """{ifname: {'owner': ..., 'file': ...}}: which stack configures each interface.

    ``nm_active`` {dev: {connection, file}} or None, ``networkd`` {ifname: state dict},
    ``ifupdown`` set of names, ``ifcfg`` {device: path}. Owners: netplan (netplan-generated
    networkd or NetworkManager configuration), networkmanager, networkd, ifupdown, ifcfg, unknown.
    """
    owners = {}
    for name in sorted(links, key=_natural):
        if links[name]['type'] == 'loopback':
            continue
        owner, path = 'unknown', None
        nm = (nm_active or {}).get(name)
        nd = (networkd or {}).get(name) or {}
        if nm:
            path = nm.get('file')
            owner = 'netplan' if path and os.path.basename(path).startswith('netplan-') else 'networkmanager'
        elif nd.get('ADMIN_STATE') in ('configuring', 'configured', 'failed', 'linger') and nd.get('NETWORK_FILE'):
            path = nd['NETWORK_FILE']
            owner = 'netplan' if 'netplan' in os.path.basename(path) else 'networkd'
        elif name in (ifupdown or ()):
            owner = 'ifupdown'
        elif name in (ifcfg or {}):
            owner, path = 'ifcfg', ifcfg[name]
        owners[name] = {'owner': owner, 'file': path}
    return owners


# --------------------------------------------------------------------------------------------
# Open vSwitch (ovs-vsctl --format=json --data=json list TABLE)
# --------------------------------------------------------------------------------------------

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


def ovs_rows_from_documents(docs):
    """Recorded ``ovs-vsctl --format=json`` documents (one per table, in OVS_FACT_COLUMNS order)
    -> {table: rows}."""
    return dict((table, table_rows(doc)) for (table, dummy), doc in zip(OVS_FACT_COLUMNS, docs))


def _is_vm_interface(iface):
    ext = iface.get('external_ids') or {}
    return bool(ext.get('vm-id') or ext.get('attached-mac') or ext.get('iface-id'))


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
            'mac_in_use': _lower_mac(optional(st.get('mac_in_use', []))),
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
        active_mac = _lower_mac(optional((port_status.get(pname) or {}).get('bond_active_slave', [])))
        owners = [m for m in port['interfaces'] if active_mac and interfaces.get(m, {}).get('mac_in_use') == active_mac]
        bonds[pname] = {
            'bridge': port['bridge'],
            'mode': port['bond_mode'] or BOND_MODE_DEFAULT,
            'lacp': lacp,
            'lacp_rate': (other.get('lacp-time') or 'slow') if lacp in ('active', 'passive') else None,
            'miimon': (_int_or_none(other.get('bond-miimon-interval')) or 100) if detect == 'miimon' else 0,
            'updelay': port['bond_updelay'],
            'downdelay': port['bond_downdelay'],
            'primary': other.get('bond-primary') or None,
            'members': sorted(port['interfaces'], key=_natural),
            'active': owners[0] if len(owners) == 1 else None,
            'active_mac': active_mac,
        }

    for bname in sorted(snapshot.bridges, key=_natural):
        br = snapshot.bridges[bname]
        parent = snapshot.bridges.get(br['parent']) if br['fake'] else None
        port_names = [bname] if br['fake'] else br['ports']
        ports = {}
        for pname in sorted(set(port_names) | set(br['ports']), key=_natural):
            port = snapshot.ports[pname]
            ports[pname] = {
                'type': _port_type(port, snapshot),
                'tag': port['tag'],
                'trunks': port['trunks'],
                'vlan_mode': port['vlan_mode'],
                'interfaces': sorted(port['interfaces'], key=_natural),
                'fake_bridge': port['fake_bridge'],
            }
        bridges[bname] = {
            'datapath_type': br['datapath_type'],
            'fake': br['fake'],
            'parent': br['parent'],
            'vlan': br['vlan'],
            'stp': (parent or br)['stp_enable'],
            'fail_mode': (parent or br)['fail_mode'],
            'forward_delay': None if br['fake'] else _int_or_none(br['other_config'].get('stp-forward-delay')),
            'ports': ports,
        }
    return {
        'version': snapshot.ovs_version,
        'bridges': bridges,
        'bonds': dict((k, bonds[k]) for k in sorted(bonds, key=_natural)),
        'internal_ports': dict((k, internal[k]) for k in sorted(internal, key=_natural)),
        'interfaces': dict((k, interfaces[k]) for k in sorted(interfaces, key=_natural)),
    }


# --------------------------------------------------------------------------------------------
# Linux sections: bridges, bonds, VLANs
# --------------------------------------------------------------------------------------------

def linux_bridges(links, sysr=None):
    """{bridge: {ports, stp, forward_delay, mtu, mac}} from ip JSON, /sys when JSON lacks it."""
    out = {}
    for name in sorted(links, key=_natural):
        link = links[name]
        if link['type'] != 'bridge':
            continue
        data = link['info_data']
        ports = sorted((n for n, l in links.items() if l['master'] == name), key=_natural)
        stp = data.get('stp_state')
        fd = data.get('forward_delay')
        if (stp is None or fd is None or not ports) and sysr is not None:
            sysb = sysr.sys_bridge(name) or {}
            stp = sysb.get('stp_state') if stp is None else stp
            fd = sysb.get('forward_delay') if fd is None else fd
            ports = ports or sysb.get('ports') or []
        out[name] = {
            'ports': ports,
            'stp': bool(stp) if stp is not None else None,
            'forward_delay': _seconds(fd),
            'mtu': link['mtu'],
            'mac': link['mac'],
        }
    return out


def linux_bonds(links, proc_bonding):
    """{bond: {...}}: ip JSON linkinfo first, /proc/net/bonding for whatever JSON lacks."""
    out = {}
    names = set(n for n, l in links.items() if l['type'] == 'bond') | set(proc_bonding or {})
    for name in sorted(names, key=_natural):
        link = links.get(name) or {'info_data': {}, 'mtu': None, 'mac': None}
        data = link['info_data']
        proc = (proc_bonding or {}).get(name) or parse_proc_bonding('')
        members = [m['name'] for m in proc['members']]
        for n in sorted((n for n, l in links.items() if l['master'] == name and l['slave_type'] in ('bond', None)),
                        key=lambda n: links[n]['ifindex'] or 0):
            if n not in members:
                members.append(n)
        mode = data.get('mode') or proc['mode']
        active = data.get('active_slave')
        if active is None:
            states = [n for n in members if (links.get(n) or {}).get('slave_data', {}).get('state') == 'ACTIVE']
            if mode == 'active-backup' and len(states) == 1:
                active = states[0]
        if active is None:
            active = proc['active']
        perm = {}
        for m in proc['members']:
            perm[m['name']] = m['permanent_mac']
        for n in members:
            if links.get(n, {}).get('permanent_mac'):
                perm[n] = links[n]['permanent_mac']

        def pick(key, proc_key=None):
            value = data.get(key)
            return proc[proc_key or key] if value is None else value
        out[name] = {
            'mode': mode,
            'miimon': pick('miimon'),
            'updelay': pick('updelay'),
            'downdelay': pick('downdelay'),
            'primary': data.get('primary') or proc['primary'],
            'members': members,
            'active': active,
            'lacp_rate': pick('ad_lacp_rate', 'lacp_rate') if mode == '802.3ad' else None,
            'xmit_hash_policy': pick('xmit_hash_policy') if mode in XMIT_HASH_MODES else None,
            'mtu': link.get('mtu'),
            'mac': link.get('mac'),
            'member_permanent_macs': dict((n, perm.get(n)) for n in members),
        }
    return out


def linux_vlans(links, proc_vlans):
    """{device: {id, link, protocol}}: ip JSON first, /proc/net/vlan/config as fallback."""
    out = {}
    for name in sorted(links, key=_natural):
        link = links[name]
        if link['type'] != 'vlan':
            continue
        data = link['info_data']
        proc = (proc_vlans or {}).get(name) or {}
        out[name] = {'id': data.get('id', proc.get('id')), 'link': link['link'] or proc.get('link'),
                     'protocol': data.get('protocol', '802.1Q')}
    for name, proc in (proc_vlans or {}).items():
        if name not in out:
            out[name] = {'id': proc['id'], 'link': proc['link'], 'protocol': '802.1Q'}
    return dict((k, out[k]) for k in sorted(out, key=_natural))


# --------------------------------------------------------------------------------------------
# The model view
# --------------------------------------------------------------------------------------------

def _is_nic(link):
    return link['type'] in ('ethernet', 'veth')


def _l3(name, addresses, routes):
    addrs = addresses.get(name) or []
    static = [a['cidr'] for a in addrs if a['scope'] == 'global' and not a['dynamic']]
    gw4 = [r['gateway'] for r in routes['ipv4'] if r['dev'] == name and r['gateway']]
    gw6 = [r['gateway'] for r in routes['ipv6'] if r['dev'] == name and r['gateway']]
    return {
        'addresses': static,
        'dhcp4': any(a['family'] == 4 and a['dynamic'] for a in addrs),
        'gateway4': gw4[0] if gw4 else None,
        'gateway6': gw6[0] if gw6 else None,
    }


def detect_backend(linux_bridges_, ovs):
    lb = [n for n in linux_bridges_ if not NON_MODEL_BRIDGE_RE.match(n)]
    ob = [n for n in ((ovs or {}).get('bridges') or {}) if not NON_MODEL_BRIDGE_RE.match(n)]
    if lb and ob:
        return 'mixed'
    if ob:
        return 'openvswitch'
    if lb:
        return 'linux_bridge'
    return None


def build_model(facts):
    """The realised network in the shape of the normalised ``kvm_network`` model.

    ``facts`` holds the raw sections (links, addresses, routes, linux_bridges, bonds, vlans, ovs).
    """
    links = facts.get('links') or {}
    addresses = facts.get('addresses') or {}
    routes = facts.get('routes') or {'ipv4': [], 'ipv6': []}
    lbr = facts.get('linux_bridges') or {}
    lbonds = facts.get('bonds') or {}
    lvlans = facts.get('vlans') or {}
    ovs = facts.get('ovs') or {}
    obridges = ovs.get('bridges') or {}
    obonds = ovs.get('bonds') or {}
    backend = detect_backend(lbr, ovs)

    ethernets, bonds, bridges, vlans = {}, {}, {}, {}
    ovs_member_of = dict((m, b) for b, bond in obonds.items() for m in bond['members'])
    for name in sorted(links, key=_natural):
        link = links[name]
        if not _is_nic(link):
            continue
        mac = link['permanent_mac']
        if mac is None:
            mac = (lbonds.get(link['master'] or '') or {}).get('member_permanent_macs', {}).get(name)
        bond = link['master'] if link['master'] in lbonds else ovs_member_of.get(name)
        bridge = link['master'] if link['master'] in lbr else None
        if bridge is None:
            oi = (ovs.get('interfaces') or {}).get(name)
            if oi and oi['port'] == name:
                bridge = oi['bridge']
        ethernets[name] = {'name': name, 'match': {'macaddress': mac or link['mac']}, 'mtu': link['mtu'],
                           'bond': bond, 'bridge': bridge}

    for name, b in lbonds.items():
        bonds[name] = {
            'name': name, 'interfaces': sorted(b['members'], key=_natural), 'mode': b['mode'], 'miimon': b['miimon'],
            'updelay': b['updelay'], 'downdelay': b['downdelay'],
            'primary': b['primary'] if b['mode'] in PRIMARY_MODES else None,
            'lacp': None, 'lacp_rate': b['lacp_rate'], 'xmit_hash_policy': b['xmit_hash_policy'],
            'mtu': b['mtu'], 'bridge': (links.get(name) or {}).get('master') if (links.get(name) or {}).get('master') in lbr else None,
            'active': b['active'],
        }
    for name, b in obonds.items():
        member_mtus = [links[m]['mtu'] for m in b['members'] if m in links]
        bonds[name] = {
            'name': name, 'interfaces': list(b['members']), 'mode': b['mode'], 'miimon': b['miimon'],
            'updelay': b['updelay'], 'downdelay': b['downdelay'],
            'primary': b['primary'] if b['mode'] == 'active-backup' else None,
            'lacp': b['lacp'], 'lacp_rate': b['lacp_rate'], 'xmit_hash_policy': None,
            'mtu': min(member_mtus) if member_mtus else None, 'bridge': b['bridge'], 'active': b['active'],
        }

    def kind(port):
        if port in bonds:
            return 'bond'
        if port in ethernets:
            return 'ethernet'
        return None

    for name, vl in lvlans.items():
        vlans[name] = {'name': name, 'id': vl['id'], 'link': vl['link'],
                       'bridge': (links.get(name) or {}).get('master')}

    for name, br in lbr.items():
        if NON_MODEL_BRIDGE_RE.match(name):
            continue
        candidates = [p for p in br['ports'] if p in lvlans or p in bonds or (p in links and _is_nic(links[p]))]
        entry = {'name': name, 'uplink': None, 'uplink_kind': None, 'vlan': None, 'vlan_interface': None,
                 'parent': None, 'port': None, 'ports': list(br['ports']), 'mtu': br['mtu'], 'stp': br['stp'],
                 'forward_delay': br['forward_delay'], 'type': 'linux_bridge'}
        if candidates:
            port = candidates[0]
            entry['port'] = port
            if port in lvlans:
                entry['vlan'] = lvlans[port]['id']
                entry['vlan_interface'] = port
                entry['uplink'] = lvlans[port]['link']
            else:
                entry['uplink'] = port
            entry['uplink_kind'] = kind(entry['uplink'])
        entry.update(_l3(name, addresses, routes))
        bridges[name] = entry

    for name, br in obridges.items():
        if NON_MODEL_BRIDGE_RE.match(name):
            continue
        entry = {'name': name, 'uplink': None, 'uplink_kind': None, 'vlan': None, 'vlan_interface': None,
                 'parent': None, 'port': None, 'ports': sorted(br['ports'], key=_natural),
                 'mtu': (links.get(name) or {}).get('mtu'), 'stp': br['stp'],
                 'forward_delay': br['forward_delay'], 'type': 'openvswitch'}
        if br['fake']:
            parent = obridges.get(br['parent']) or {}
            entry['parent'] = br['parent']
            entry['vlan'] = br['vlan']
            entry['ports'] = [name]
            entry['forward_delay'] = None
            up = _ovs_uplink(br['parent'], parent)
        else:
            up = _ovs_uplink(name, br)
        if up:
            entry['uplink'] = entry['port'] = up
            entry['uplink_kind'] = kind(up)
        entry.update(_l3(name, addresses, routes))
        bridges[name] = entry

    datapaths = sorted(set(b['datapath_type'] for n, b in obridges.items() if not NON_MODEL_BRIDGE_RE.match(n)))
    model = {
        'backend': backend,
        'ethernets': ethernets,
        'bonds': dict((k, bonds[k]) for k in sorted(bonds, key=_natural)),
        'bridges': dict((k, bridges[k]) for k in sorted(bridges, key=_natural)),
        'vlans': vlans,
    }
    if obridges:
        model['ovs'] = {'datapath_type': datapaths[0] if len(datapaths) == 1 else (datapaths or None)}
    return model


def _ovs_uplink(name, br):
    """The uplink port of an OVS bridge: its bond port, else its one NIC port."""
    ports = br.get('ports') or {}
    bonds = sorted((p for p, d in ports.items() if d['type'] == 'bond'), key=_natural)
    if bonds:
        return bonds[0]
    nics = sorted((p for p, d in ports.items()
                   if d['type'] in ('system', 'dpdk', 'afxdp') and p != name and not d['fake_bridge']), key=_natural)
    return nics[0] if nics else None


def cloud0_facts(links, addresses, lbr, ovs):
    """CloudStack's own link-local bridge cloud0, or None when it does not exist."""
    if CLOUD0 in lbr:
        kind, ports = 'linux_bridge', lbr[CLOUD0]['ports']
    elif CLOUD0 in ((ovs or {}).get('bridges') or {}):
        kind, ports = 'openvswitch', sorted(p for p in ovs['bridges'][CLOUD0]['ports'] if p != CLOUD0)
    elif CLOUD0 in links:
        kind, ports = links[CLOUD0]['type'], []
    else:
        return None
    return {
        'type': kind,
        'state': (links.get(CLOUD0) or {}).get('state'),
        'addresses': [a['cidr'] for a in addresses.get(CLOUD0) or []
                      if a['scope'] != 'host' and not (a['family'] == 6 and a['scope'] == 'link')],
        'ports': ports,
    }
