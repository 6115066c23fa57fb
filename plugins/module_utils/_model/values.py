# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Single values of a kvm_network model: read, checked, and every problem recorded.

``Checker`` collects the problems of one host's model (each naming the host, the object, what
is wrong and the fix); the ``as_*`` readers turn what YAML gave into booleans, integers, lists
and mappings, recording a problem and returning a default when they cannot; the address helpers
parse interface addresses and route destinations with the standard library's ``ipaddress``
(not netaddr: the model also runs inside modules on managed hosts, where netaddr is rarely
installed).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import ipaddress
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import IFNAME_MAX

IFNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
MAC_RE = re.compile(r'^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$')
DOMAIN_RE = re.compile(r'^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*'
                       r'[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$')


class Checker(object):
    """Collects problems while walking a model."""

    def __init__(self, host):
        self.host = host
        self.problems = []

    def add(self, where, what, fix):
        prefix = 'host %s: ' % self.host if self.host else ''
        self.problems.append('%s%s: %s. Fix: %s.' % (prefix, where, what, fix))

    def unknown_keys(self, where, given, known):
        for key in given:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=2)
            if close:
                hint = 'did you mean %s?' % ' or '.join("'%s'" % c for c in sorted(close))
            else:
                hint = 'use one of %s' % ', '.join(known)
            self.add(where, "unknown option '%s'" % key, 'remove it or rename it (%s)' % hint)


def is_bool(value):
    return isinstance(value, bool)


def as_bool(chk, where, key, value, default):
    if value is None:
        return default
    if is_bool(value):
        return value
    if isinstance(value, str) and value.lower() in ('yes', 'true', 'on', 'no', 'false', 'off'):
        return value.lower() in ('yes', 'true', 'on')
    chk.add(where, '%s must be true or false, not %r' % (key, value), 'write %s: true or %s: false' % (key, key))
    return default


def as_int(chk, where, key, value, low, high, unit=''):
    """Return an int in [low, high] or None (after recording a problem)."""
    if value is None:
        return None
    if is_bool(value) or not isinstance(value, (int, str)):
        chk.add(where, '%s must be an integer, not %r' % (key, value), 'write a number between %d and %d%s' % (low, high, unit))
        return None
    try:
        number = int(value)
    except ValueError:
        chk.add(where, '%s must be an integer, not %r' % (key, value), 'write a number between %d and %d%s' % (low, high, unit))
        return None
    if number < low or number > high:
        chk.add(where, '%s %d is outside %d-%d' % (key, number, low, high), 'use a value between %d and %d%s' % (low, high, unit))
        return None
    return number


def as_list(chk, where, key, value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        chk.add(where, '%s must be a list, not the string %r' % (key, value), 'write %s: [%s]' % (key, value))
        return []
    chk.add(where, '%s must be a list, not %r' % (key, value), 'write %s as a YAML list' % key)
    return []


def as_mapping(chk, where, value):
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    chk.add(where, 'must be a mapping of options, not %r' % (value,), 'write it as {} or a mapping of options')
    return {}


def check_ifname(chk, where, name):
    if not isinstance(name, str) or not name:
        chk.add(where, 'interface name %r is not a string' % (name,), 'use a name like eth0, bond0 or cloudbr0')
        return False
    ok = True
    if len(name) > IFNAME_MAX:
        chk.add(where, "name '%s' is %d characters; Linux allows at most %d" % (name, len(name), IFNAME_MAX),
                'use a shorter name')
        ok = False
    if not IFNAME_RE.match(name) or name in ('.', '..'):
        chk.add(where, "name '%s' has characters an interface name cannot have" % name,
                'use letters, digits, dot, dash and underscore, starting with a letter or digit')
        ok = False
    return ok


def parse_ip(value):
    """An address without prefix (dotted quad or IPv6 text only), or None."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def split_cidr(text):
    """'198.51.100.20/24' as an ipaddress interface, or None when it is not address/prefix."""
    addr, _sep, prefix = text.partition('/')
    ip = parse_ip(addr)
    if ip is None or not prefix.isdigit() or int(prefix) > ip.max_prefixlen:
        return None
    return ipaddress.ip_interface('%s/%d' % (ip, int(prefix)))


def _cidr(chk, where, value, problem, fix):
    """``value`` as address/prefix (``split_cidr``), or None once ``problem % value`` is recorded."""
    net = split_cidr(str(value).strip())
    if net is None:
        chk.add(where, problem % (value,), fix)
    return net


def parse_interface_address(chk, where, value):
    """A host address with prefix length, e.g. 198.51.100.20/24: an ipaddress interface or None."""
    text = str(value).strip()
    ip = parse_ip(text) if '/' not in text else None
    if ip is not None:
        example = '%s/%s' % (ip, 24 if ip.version == 4 else 64)
        chk.add(where, 'address %s has no prefix length' % text, 'write it in CIDR notation, e.g. %s' % example)
        return None
    net = _cidr(chk, where, value, 'address %r is not an IP address in CIDR notation',
                'write it as address/prefix, e.g. 198.51.100.20/24 or 2001:db8::20/64')
    if net is None:
        return None
    ip = net.ip
    subnet = net.network
    plen = subnet.prefixlen
    reserved = None
    if ip.version == 4 and plen <= 30:
        if ip == subnet.network_address:
            reserved = 'the network address'
        elif ip == subnet.broadcast_address:
            reserved = 'the broadcast address'
    elif ip.version == 6 and plen <= 126 and ip == subnet.network_address:
        reserved = 'the subnet-router anycast (network) address'
    if reserved:
        first = '%s/%d' % (subnet.network_address + 1, plen)
        chk.add(where, 'address %s is %s of %s' % (text, reserved, subnet),
                'use a host address inside %s, e.g. %s' % (subnet, first))
        return None
    return net


def format_address(net):
    return '%s/%d' % (net.ip, net.network.prefixlen)


def parse_route_target(chk, where, value):
    text = str(value).strip()
    if text in ('default', '0.0.0.0/0', '::/0'):
        return text
    net = _cidr(chk, where, value, 'route destination %r is not a network in CIDR notation',
                "write a network like 203.0.113.0/24, or 'default'")
    if net is None:
        return None
    if net.ip != net.network.network_address:
        chk.add(where, 'route destination %s has host bits set' % text, 'write the network, %s' % net.network)
        return None
    return str(net.network)


def route_family(to):
    if to == 'default':
        return None
    return 6 if ':' in to else 4


def is_default_route(to):
    return to in ('default', '0.0.0.0/0', '::/0')
