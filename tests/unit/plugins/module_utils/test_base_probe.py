# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reachability probe: its argv, and what it says about a target that did not answer,
from ping's (iputils) own output as recorded on the lab's Debian 12 hosts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import probe
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import Clock, FakeRunCommand

SILENT = ('PING 203.0.113.254 (203.0.113.254) from 203.0.113.11 cloudbr100: 56(84) bytes of data.\n\n'
          '--- 203.0.113.254 ping statistics ---\n'
          '3 packets transmitted, 0 received, 100% packet loss, time 2038ms\n\n')
ANSWERED = ('PING 198.51.100.254 (198.51.100.254) from 198.51.100.11 cloudbr0: 56(84) bytes of data.\n'
            '64 bytes from 198.51.100.254: icmp_seq=1 ttl=64 time=0.067 ms\n\n'
            '--- 198.51.100.254 ping statistics ---\n'
            '3 packets transmitted, 1 received, 66.6667% packet loss, time 2010ms\n')


class Module(object):
    def __init__(self, fake, ping='/usr/bin/ping'):
        self.fake = fake
        self.ping = ping

    def run_command(self, args, **kwargs):
        return self.fake(self, args, **kwargs)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.ping


@pytest.mark.parametrize('rc, out, err, expected', [
    (1, SILENT, '', 'none of 3 pings to 203.0.113.254 through cloudbr100 answered'),
    (1, SILENT, 'ping: Warning: source address might be selected on device other than: cloudbr100\n',
     'none of 3 pings to 203.0.113.254 through cloudbr100 answered'),
    (2, '', 'ping: SO_BINDTODEVICE cloudbr100: No such device\n', 'cloudbr100 does not exist on the host or has no '
     'address to send from'),
    (2, '', 'ping: connect: Network is unreachable\n', 'the host has no route to 203.0.113.254 through cloudbr100'),
    (2, '', 'ping: 203.0.113.254: Name or service not known\n',
     '203.0.113.254 is not an address and its name does not resolve'),
    (2, '', 'ping: something new\nsecond line\n', 'ping to 203.0.113.254 through cloudbr100 failed (rc=2): '
     'ping: something new; second line'),
])
def test_a_silent_target_is_told_in_plain_words(rc, out, err, expected):
    fake = FakeRunCommand().expect(argv=['/usr/bin/ping', '-n', '-c', '1', '-w', '3', '-I', 'cloudbr100', '203.0.113.254'],
                                   rc=rc, stdout=out, stderr=err)
    result = probe.probe(Module(fake), '203.0.113.254', 'cloudbr100')
    assert result['answered'] is False and result['reason'] == expected
    assert result['item'] == {'target': '203.0.113.254', 'bridge': 'cloudbr100', 'count': 3}
    assert 'SO_BINDTODEVICE' not in result['reason'] and 'pipe' not in result['reason']


def test_one_answer_of_three_is_reachable():
    fake = FakeRunCommand().expect(argv=['/usr/bin/ping', '-n', '-c', '1', '-w', '3', '-I', 'cloudbr0', '198.51.100.254'],
                                   rc=0, stdout=ANSWERED)
    result = probe.probes(Module(fake), [{'target': '198.51.100.254', 'bridge': 'cloudbr0'}])[0]
    assert result['answered'] is True and result['reason'] == '' and result['rc'] == 0


def test_without_a_bridge_and_without_ping():
    fake = FakeRunCommand().expect(argv=['/usr/bin/ping', '-n', '-c', '1', '-w', '1', '198.51.100.1'], rc=1,
                                   stdout=SILENT.replace('3 packets transmitted', '1 packets transmitted'))
    assert probe.probe(Module(fake), '198.51.100.1', count=1)['reason'] == 'none of 1 pings to 198.51.100.1 answered'
    missing = probe.probe(Module(FakeRunCommand(), ping=None), '198.51.100.1')
    assert missing['answered'] is False and missing['reason'].startswith('ping is not installed on the host')


def test_first_answer_stops_at_the_first_answer():
    fake = FakeRunCommand().expect(argv=['/usr/bin/ping', '-n', '-c', '1', '-w', '10', '-I', 'cloudbr0', '198.51.100.254'],
                                   rc=0, stdout=ANSWERED.replace('3 packets transmitted', '1 packets transmitted'))
    result = probe.first_answer(Module(fake), '198.51.100.254', 'cloudbr0')
    assert result['answered'] is True and result['reason'] == ''
    assert result['item'] == {'target': '198.51.100.254', 'bridge': 'cloudbr0', 'count': 10}


def test_first_answer_retries_an_early_error_until_its_time_is_up(monkeypatch):
    """The bridge has no address yet: ping ends at once (rc 2), is tried again each second with what
    is left of the time, then a silent target ends ping at its own deadline (rc 1) and that is final."""
    clock = Clock()
    monkeypatch.setattr(probe, 'time', clock)
    argv = ['/usr/bin/ping', '-n', '-c', '1', '-w', '{0}', '-I', 'cloudbr0', '198.51.100.254']
    early = 'ping: bind: Cannot assign requested address\n'
    fake = (FakeRunCommand()
            .expect(argv=[a.format(10) for a in argv], rc=2, stderr=early)
            .expect(argv=[a.format(9) for a in argv], rc=2, stderr=early)
            .expect(argv=[a.format(8) for a in argv], rc=1, stdout=SILENT.replace('3 packets', '8 packets')))
    result = probe.first_answer(Module(fake), '198.51.100.254', 'cloudbr0')
    assert result['answered'] is False and result['reason'] == 'none of 8 pings to 198.51.100.254 through cloudbr0 answered'
    assert clock.now == 1002.0, 'two early errors, a second apart'


def test_first_answer_gives_up_on_an_early_error_when_the_time_is_up(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(probe, 'time', clock)
    fake = FakeRunCommand()
    for left in (2, 1):
        fake.expect(argv=['/usr/bin/ping', '-n', '-c', '1', '-w', str(left), '-I', 'cloudbr9', '198.51.100.254'],
                    rc=2, stderr='ping: SO_BINDTODEVICE cloudbr9: No such device\n')
    result = probe.first_answer(Module(fake), '198.51.100.254', 'cloudbr9', within=2)
    assert result['answered'] is False and result['reason'] == 'cloudbr9 does not exist on the host or has no address to send from'
    missing = probe.first_answer(Module(FakeRunCommand(), ping=None), '198.51.100.254')
    assert missing['answered'] is False and missing['reason'].startswith('ping is not installed on the host')
