# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host layer's reachability probe: the one ping, for the apply's read-back, commit-confirm's
confirmation and verify alike, and a plain-words account of what did not answer.

``probe(module, target, bridge, count)`` returns a dict in the shape of an
``ansible.builtin.command`` loop item (``item``, ``rc``, ``stdout_lines``, ``stderr_lines``) with
``answered`` and ``reason`` added: "none of 3 pings answered", "cloudbr9 does not exist on the
host", never a raw tool string. ``first_answer(module, target, bridge, within)`` gives a target that
long to answer once, for a host checking itself right after a change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import SBIN_DIRS

# Pings to a target, one a second: the first answer ends the probe (a target that answers costs a
# round trip), and a silent target costs as many seconds.
DEFAULT_COUNT = 3
# Seconds a target gets to answer right after a change: a bridge may still be settling (its
# address, its uplink's carrier, a bond's negotiation) when the host first pings through it.
SETTLE_WAIT = 10
# An address or a host name: nothing ping could take for an option.
TARGET_RE = re.compile(r'^[A-Za-z0-9:.%_][A-Za-z0-9:.%_-]*$')
_SUMMARY_RE = re.compile(r'(\d+) packets transmitted, \d+ (?:packets )?received')
# What ping (iputils) says, in the words a user needs.
_REASONS = (
    (re.compile(r'SO_BINDTODEVICE|unknown iface|No such device|Cannot assign requested address.*bind', re.I),
     '{bridge} does not exist on the host or has no address to send from'),
    (re.compile(r'Network is unreachable', re.I), 'the host has no route to {target}{through}'),
    (re.compile(r'Name or service not known|Temporary failure in name resolution|unknown host', re.I),
     '{target} is not an address and its name does not resolve'),
    (re.compile(r'Operation not permitted', re.I), 'ping is not allowed to send (it needs root or CAP_NET_RAW)'),
)


def ping_argv(ping, target, bridge=None, count=DEFAULT_COUNT):
    """Up to ``count`` pings, one a second: ``-c 1`` with a deadline (``-w``) makes ping stop at
    the first answer, or at the deadline when none came."""
    argv = [ping, '-n', '-c', '1', '-w', str(count)]
    if bridge:
        argv += ['-I', bridge]
    return argv + [target]


def reason(rc, out, err, target, bridge=None):
    """What happened, in plain words ('' when every ping was answered)."""
    through = ' through %s' % bridge if bridge else ''
    words = {'target': target, 'bridge': bridge or 'the interface', 'through': through}
    summary = _SUMMARY_RE.search(out or '')
    if rc == 0:
        return ''   # answered (a lost ping among them still proves the path)
    for pattern, text in _REASONS:
        if pattern.search(err or '') or pattern.search(out or ''):
            return text.format(**words)
    if summary:     # -c 1: one answer would have ended ping with rc 0
        return 'none of %s pings to %s%s answered' % (summary.group(1), target, through)
    return 'ping to %s%s failed (rc=%d): %s' % (target, through, rc, command.brief(err or out))


def probe(module, target, bridge=None, count=DEFAULT_COUNT, ping=None):
    """One target pinged (``ping``: the binary, found once by the caller for many targets)."""
    ping = ping or find_ping(module)
    if ping is None:
        return _no_ping(target, bridge, count)
    # ping bounds itself: its deadline is count seconds.
    rc, out, err = command.run(module, ping_argv(ping, target, bridge, count), timeout=None)
    return _probed({'target': target, 'bridge': bridge, 'count': count}, rc, out, err)


def first_answer(module, target, bridge=None, within=SETTLE_WAIT, ping=None):
    """``probe`` with ``within`` seconds, for a host right after a change: an error that ends ping
    early (the bridge has no address yet) is tried again until the time is up."""
    ping = ping or find_ping(module)
    if ping is None:
        return _no_ping(target, bridge, within)
    deadline = time.monotonic() + within
    while True:
        left = max(1, int(round(deadline - time.monotonic())))
        rc, out, err = command.run(module, ping_argv(ping, target, bridge, left), timeout=None)
        # rc 0: answered; rc 1: silent until ping's deadline; anything else ended ping early.
        if rc in (0, 1) or time.monotonic() + 1 >= deadline:
            break
        time.sleep(1)
    return _probed({'target': target, 'bridge': bridge, 'count': within}, rc, out, err)


def _probed(item, rc, out, err):
    why = reason(rc, out, err, item['target'], item['bridge'])
    return {'item': item, 'rc': rc, 'stdout_lines': out.splitlines(), 'stderr_lines': err.splitlines(),
            'answered': rc == 0, 'reason': why}


def _no_ping(target, bridge, count):
    return {'item': {'target': target, 'bridge': bridge, 'count': count}, 'rc': 127, 'stdout_lines': [],
            'stderr_lines': [], 'answered': False,
            'reason': 'ping is not installed on the host (iputils-ping on Debian/Ubuntu, iputils on EL)',
            'msg': 'ping was not found on the host'}


def find_ping(module):
    return module.get_bin_path('ping', required=False, opt_dirs=SBIN_DIRS)     # PATH is searched too


def probes(module, targets):
    """Every target of a list of {target, bridge, count}; ping looked up once."""
    ping = find_ping(module)
    return [probe(module, t['target'], t.get('bridge'), t.get('count') or DEFAULT_COUNT, ping) for t in targets]


def targets_argument_spec(bridge_required=True):
    """The argument spec of a list of targets ({target, bridge, count}), as modules take it."""
    return dict(type='list', elements='dict', default=[], options=dict(
        target=dict(type='str', required=True),
        bridge=dict(type='str', required=bridge_required),
        count=dict(type='int', default=DEFAULT_COUNT),
    ))


def target_problems(targets, where, bridges=None):
    """What is wrong with a list of targets, one message each (naming the option ``where``, the
    target and the fix): a target that is not an address or host name, a count below 1, and, when
    ``bridges`` (the model's) are given, a bridge that is not one of them."""
    problems = []
    for target in targets or []:
        if not isinstance(target, dict):
            problems.append('%s: %r is not a {target, bridge, count} entry. Fix: e.g. {bridge: cloudbr0, target: '
                            '198.51.100.254}' % (where, target))
            continue
        name, bridge, count = target.get('target'), target.get('bridge'), target.get('count', DEFAULT_COUNT)
        at = '%s: %s through %s' % (where, name, bridge)
        if bridges is not None and bridge not in bridges:
            problems.append('%s: %s is not a bridge of the model (%s). Fix: name one of them'
                            % (at, bridge, ', '.join(sorted(bridges)) or 'none'))
        if not isinstance(name, str) or not TARGET_RE.match(name):
            problems.append('%s: the target must be an address or a host name. Fix: e.g. 198.51.100.1' % at)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            problems.append('%s: count must be at least 1, not %s' % (at, count))
    return problems
