# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The Linux side of the realised network: ``ip -j``, /proc, /sys and the network stacks' state
files, read and parsed.

* :class:`IpTool` runs ``ip -j -d link show``, ``ip -j addr show``, ``ip -j -4/-6 route show
  default`` (JSON only: iproute2 4.14 or later).
* :class:`SysReader` reads /proc/net/bonding, /proc/net/vlan/config, /sys/class/net and the state
  files of the network stacks (systemd-networkd, ifupdown, ifcfg). ``root`` lets tests point it at
  a recorded tree.
* Everything that interprets tool output is a pure function taking the parsed JSON or the text
  (``parse_links``, ``parse_proc_bonding``, ``linux_bonds`` ...), unit-tested on recorded output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import (
    LINUX_BOND_MODE_TEXT,
    LINUX_BOND_MODES,
    LINUX_XMIT_HASH_MODES,
    natural_key,
)


class NetFactsError(Exception):
    """A tool failed or printed something that cannot be read; carries what was run."""

    def __init__(self, message, cmd=None, rc=None, stderr=None):
        super(NetFactsError, self).__init__(message)
        self.cmd = cmd
        self.rc = rc
        self.stderr = stderr


def lower_mac(mac):
    return mac.lower() if isinstance(mac, str) and mac else None


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def seconds(centiseconds):
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
        rc, out, err = command.run(self.module, argv)
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


def _by_ifname(data):
    """(name, item) for each item of ``ip -j`` output that names an interface."""
    for item in data or []:
        name = item.get('ifname')
        if name:
            yield name, item


def parse_links(data):
    """``ip -j -d link show`` -> {name: normalised link}."""
    links = {}
    for name, item in _by_ifname(data):
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
            'mac': lower_mac(item.get('address')),
            'permanent_mac': lower_mac(slave.get('perm_hwaddr') or item.get('permaddr')),
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
    for name, item in _by_ifname(data):
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

def _bond_mode_from_text(value):
    for mode in LINUX_BOND_MODES:
        text = LINUX_BOND_MODE_TEXT[mode]
        if value.startswith(text):
            return mode
    m = re.search(r'\(([^)]+)\)', value)
    return m.group(1) if m else value


def _first_word(value):
    return value.split(' ', 1)[0]


def _member_name(value):
    """A member as /proc/net/bonding names it: None for 'None'."""
    return None if value in ('None', '') else value


# The lines of /proc/net/bonding/BOND this reader knows: {label: (key, parse the value)}, for the
# bond and for each member (the lines after its 'Slave Interface').
_PROC_BOND_LINES = {
    'Bonding Mode': ('mode', _bond_mode_from_text),
    'Primary Slave': ('primary', lambda value: _member_name(_first_word(value))),
    'Currently Active Slave': ('active', _member_name),
    'MII Status': ('mii_status', str.lower),
    'MII Polling Interval (ms)': ('miimon', int_or_none),
    'Up Delay (ms)': ('updelay', int_or_none),
    'Down Delay (ms)': ('downdelay', int_or_none),
    'Transmit Hash Policy': ('xmit_hash_policy', _first_word),
    'LACP rate': ('lacp_rate', _first_word),
}
_PROC_MEMBER_LINES = {
    'MII Status': ('mii_status', str.lower),
    'Permanent HW addr': ('permanent_mac', lower_mac),
    'Link Failure Count': ('link_failure_count', int_or_none),
}


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
        target, lines = (bond, _PROC_BOND_LINES) if member is None else (member, _PROC_MEMBER_LINES)
        if key in lines:
            field, parse = lines[key]
            target[field] = parse(value)
    return bond


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

    def sriov(self, name):
        """{totalvfs, numvfs} of an SR-IOV physical function, or None (no SR-IOV capability)."""
        total = int_or_none((self.read('/sys/class/net', name, 'device/sriov_totalvfs') or '').strip())
        if total is None:
            return None
        return {'totalvfs': total,
                'numvfs': int_or_none((self.read('/sys/class/net', name, 'device/sriov_numvfs') or '').strip())}

    def sys_bridge(self, name):
        """stp and forward_delay of a Linux bridge and its ports, from /sys (fallback source)."""
        if not self.is_linux_bridge(name):
            return None
        return {
            'stp_state': int_or_none((self.read('/sys/class/net', name, 'bridge/stp_state') or '').strip()),
            'forward_delay': int_or_none((self.read('/sys/class/net', name, 'bridge/forward_delay') or '').strip()),
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
# --------------------------------------------------------------------------------------------
# Linux sections: bridges, bonds, VLANs
# --------------------------------------------------------------------------------------------

def _links_of_type(links, kind):
    """(name, link) of each link of type ``kind``, in natural order of the names."""
    for name in sorted(links, key=natural_key):
        if links[name]['type'] == kind:
            yield name, links[name]


def linux_bridges(links, sysr=None):
    """{bridge: {ports, stp, forward_delay, mtu, mac}} from ip JSON, /sys when JSON lacks it."""
    out = {}
    for name, link in _links_of_type(links, 'bridge'):
        data = link['info_data']
        ports = sorted((n for n, l in links.items() if l['master'] == name), key=natural_key)
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
            'forward_delay': seconds(fd),
            'mtu': link['mtu'],
            'mac': link['mac'],
        }
    return out


def linux_bonds(links, proc_bonding):
    """{bond: {...}}: ip JSON linkinfo first, /proc/net/bonding for whatever JSON lacks."""
    out = {}
    names = set(n for n, l in links.items() if l['type'] == 'bond') | set(proc_bonding or {})
    for name in sorted(names, key=natural_key):
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
            'xmit_hash_policy': pick('xmit_hash_policy') if mode in LINUX_XMIT_HASH_MODES else None,
            'mtu': link.get('mtu'),
            'mac': link.get('mac'),
            'member_permanent_macs': dict((n, perm.get(n)) for n in members),
        }
    return out


def linux_vlans(links, proc_vlans):
    """{device: {id, link, protocol}}: ip JSON first, /proc/net/vlan/config as fallback."""
    out = {}
    for name, link in _links_of_type(links, 'vlan'):
        data = link['info_data']
        proc = (proc_vlans or {}).get(name) or {}
        out[name] = {'id': data.get('id', proc.get('id')), 'link': link['link'] or proc.get('link'),
                     'protocol': data.get('protocol', '802.1Q')}
    for name, proc in (proc_vlans or {}).items():
        if name not in out:
            out[name] = {'id': proc['id'], 'link': proc['link'], 'protocol': '802.1Q'}
    return dict((k, out[k]) for k in sorted(out, key=natural_key))
