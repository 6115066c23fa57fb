# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Gratuitous ARP for the IPv4 addresses that moved to another interface.

When an address moves from a NIC to a bridge the neighbours still have the NIC's MAC in their ARP
caches. A Linux bridge takes a port's MAC, so that is harmless there; an Open vSwitch bridge's
internal port usually has a MAC of its own, and frames to the old MAC reach no one until the
neighbours' entries go stale - often longer than a rollback timer. ifup-eth (arping -U) and
NetworkManager announce a new address for the same reason; netplan, ifupdown and Open vSwitch do
not. So after an apply (and after a rollback) each re-activated interface announces its IPv4
addresses: an ARP request and an ARP reply from the interface's MAC, broadcast, twice.

Best effort: an interface that is down, gone or has no address is skipped; nothing here fails
the apply.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import struct
import time

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
BROADCAST = b'\xff' * 6
ROUNDS = 2
INTERVAL = 0.2
FRAME_MIN = 60      # Ethernet minimum without the FCS


def arp_frames(mac, address):
    """The announcement of ``address`` (dotted quad) by ``mac`` (6 bytes): request, then reply."""
    ip = socket.inet_aton(address)
    head = BROADCAST + mac + struct.pack('!H', ETH_P_ARP)
    out = []
    for op, target_mac in ((1, b'\x00' * 6), (2, BROADCAST)):
        arp = struct.pack('!HHBBH', 1, ETH_P_IP, 6, 4, op) + mac + ip + target_mac + ip
        frame = head + arp
        out.append(frame + b'\x00' * (FRAME_MIN - len(frame)))
    return out


def ipv4_addresses(runner, name):
    """The global IPv4 addresses of ``name`` now (none when it is gone)."""
    rc, out, _err = runner.read([runner.bin('ip'), '-j', '-4', 'address', 'show', 'dev', name])
    if rc != 0:
        return []
    try:
        links = json.loads(out or '[]')
    except ValueError:
        return []
    found = []
    for link in links:
        for info in link.get('addr_info', []):
            if info.get('family') == 'inet' and info.get('scope', 'global') == 'global' and info.get('local'):
                found.append(info['local'])
    return found


def _open(name):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    sock.bind((name, ETH_P_ARP))
    return sock


def announce(runner, names, opener=None, sleep=time.sleep):
    """Announce the IPv4 addresses of each interface in ``names``; the list of
    ``{'interface', 'address'}`` announced."""
    announced = []
    names = list(names)
    if not names:
        return announced
    opener = opener or _open
    plan = [(name, address) for name in names for address in ipv4_addresses(runner, name)]
    if not plan:
        return announced
    sockets = {}
    try:
        for name in sorted(set(n for n, dummy in plan)):
            try:
                sockets[name] = opener(name)
            except (OSError, socket.error):
                continue        # gone, or no permission: nothing to announce there
        for round_no in range(ROUNDS):
            for name, address in plan:
                sock = sockets.get(name)
                if sock is None:
                    continue
                try:
                    for frame in arp_frames(sock.getsockname()[4][:6], address):
                        sock.send(frame)
                except (OSError, socket.error):
                    continue    # down (no carrier) for now
                if round_no == 0:
                    announced.append({'interface': name, 'address': address})
            if round_no + 1 < ROUNDS:
                sleep(INTERVAL)
    finally:
        for sock in sockets.values():
            sock.close()
    return announced
