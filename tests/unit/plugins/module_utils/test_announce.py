# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gratuitous ARP after an apply or a rollback: the frames, and which interfaces send them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import struct

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import announce

MAC = bytes(bytearray([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]))


class FakeRunner(object):
    """``ip -j -4 address show dev NAME`` answered from ``addresses`` {name: [addr, ...]} (missing: gone)."""

    def __init__(self, addresses):
        self.addresses = addresses
        self.reads = []

    def bin(self, name):
        return '/usr/sbin/' + name

    def read(self, argv):
        self.reads.append(argv)
        name = argv[-1]
        if name not in self.addresses:
            return 1, '', 'Device "%s" does not exist.' % name
        info = [{'family': 'inet', 'local': a, 'prefixlen': 24, 'scope': 'global'} for a in self.addresses[name]]
        info.append({'family': 'inet', 'local': '127.0.0.2', 'prefixlen': 8, 'scope': 'host'})
        return 0, json.dumps([{'ifname': name, 'addr_info': info}]), ''


class FakeSocket(object):
    def __init__(self, name, fail_send=False):
        self.name = name
        self.sent = []
        self.closed = False
        self.fail_send = fail_send

    def getsockname(self):
        return (self.name, announce.ETH_P_ARP, 0, 1, MAC)

    def send(self, frame):
        if self.fail_send:
            raise OSError(100, 'Network is down')
        self.sent.append(frame)

    def close(self):
        self.closed = True


def test_frames_are_an_arp_request_and_reply_for_the_address_broadcast_from_the_mac():
    request, reply = announce.arp_frames(MAC, '198.51.100.11')
    for frame, op, target in ((request, 1, b'\x00' * 6), (reply, 2, b'\xff' * 6)):
        assert len(frame) == 60
        assert frame[:6] == b'\xff' * 6 and frame[6:12] == MAC
        assert struct.unpack('!H', frame[12:14])[0] == 0x0806
        htype, ptype, hlen, plen, got_op = struct.unpack('!HHBBH', frame[14:22])
        assert (htype, ptype, hlen, plen, got_op) == (1, 0x0800, 6, 4, op)
        assert frame[22:28] == MAC and frame[28:32] == socket.inet_aton('198.51.100.11')
        assert frame[32:38] == target and frame[38:42] == socket.inet_aton('198.51.100.11')


def test_each_global_ipv4_address_is_announced_twice_from_its_interface():
    sockets = {}
    runner = FakeRunner({'cloudbr0': ['198.51.100.11', '198.51.100.12'], 'eth0': []})
    sleeps = []

    def opener(name):
        sockets[name] = FakeSocket(name)
        return sockets[name]
    done = announce.announce(runner, ['cloudbr0', 'eth0', 'cloudbr9'], opener=opener, sleep=sleeps.append)
    assert done == [{'interface': 'cloudbr0', 'address': '198.51.100.11'},
                    {'interface': 'cloudbr0', 'address': '198.51.100.12'}]
    assert list(sockets) == ['cloudbr0'], 'no socket where there is nothing to announce'
    sent = sockets['cloudbr0'].sent
    assert len(sent) == 2 * 2 * 2, 'request and reply, per address, per round'
    assert sent[0][28:32] == socket.inet_aton('198.51.100.11') and sent[2][28:32] == socket.inet_aton('198.51.100.12')
    assert sockets['cloudbr0'].closed and sleeps == [announce.INTERVAL]
    assert runner.reads[0] == ['/usr/sbin/ip', '-j', '-4', 'address', 'show', 'dev', 'cloudbr0']


def test_an_interface_that_is_down_or_cannot_be_opened_is_skipped_without_failing():
    def opener(name):
        if name == 'cloudbr1':
            raise OSError(19, 'No such device')
        return FakeSocket(name, fail_send=True)
    runner = FakeRunner({'cloudbr0': ['198.51.100.11'], 'cloudbr1': ['203.0.113.11']})
    assert announce.announce(runner, ['cloudbr0', 'cloudbr1'], opener=opener, sleep=lambda s: None) == []


def test_nothing_to_announce_opens_nothing():
    def opener(name):
        raise AssertionError('opened %s' % name)
    assert announce.announce(FakeRunner({}), [], opener=opener) == []
    assert announce.announce(FakeRunner({'eth0': []}), ['eth0'], opener=opener) == []
