# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Bridged guest traffic accepted on FORWARD (``kvm_network`` ``forwarding.accept_bridged``).

With br_netfilter and ``bridge-nf-call-iptables=1`` (what CloudStack's security groups need)
frames a Linux bridge forwards between a guest and the uplink go through the FORWARD chain, and a
firewall whose FORWARD policy drops (firewalld, Docker, a hand-made ruleset) cuts the guests off.
The usual fix, in seed 003, is one rule: ``-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT``.

It is put in the host's own framework and nothing else of it is touched:

- firewalld running: a permanent and a runtime direct rule (``firewall-cmd --direct``), with a
  marker file saying the collection added it, so that only a rule it added is ever removed;
- otherwise iptables (on Debian 12 and EL 8+ the ``iptables`` command drives nftables): the rule
  inserted first in FORWARD now, and a systemd unit of ours inserting it at every boot after the
  firewall loads its ruleset (iptables-persistent, iptables.service, nftables.service flush it);
- neither: a clear error, before any change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure

UNIT = 'cloudstack-kvm-accept-bridged.service'
UNIT_FILE = '/etc/systemd/system/' + UNIT
FIREWALLD_MARKER = '/var/lib/cloudstack-kvm/accept-bridged.firewalld'
MATCH = ['-m', 'physdev', '--physdev-is-bridged', '-j', 'ACCEPT']
# firewalld's direct rule: family, table, chain, priority, then the match.
DIRECT = ['ipv4', 'filter', 'FORWARD', '0'] + MATCH


def unit_text(header, iptables):
    """The unit that puts the rule first in FORWARD at boot (and takes it out when stopped)."""
    rule = ' '.join(MATCH)
    return (header.rstrip('\n') + '\n'
            '[Unit]\n'
            'Description=Accept bridged guest traffic on FORWARD (cloudstack_kvm.networking, seed 003)\n'
            '# After the firewall has loaded (and flushed) its ruleset, before guests start.\n'
            'After=network-pre.target iptables.service netfilter-persistent.service nftables.service '
            'ufw.service\n'
            'Before=network.target libvirtd.service\n'
            'Wants=network-pre.target\n\n'
            '[Service]\n'
            'Type=oneshot\n'
            'RemainAfterExit=yes\n'
            # Deleted first so that a restart never leaves two.
            'ExecStart=-%(ipt)s -w -D FORWARD %(rule)s\n'
            'ExecStart=%(ipt)s -w -I FORWARD 1 %(rule)s\n'
            'ExecStop=-%(ipt)s -w -D FORWARD %(rule)s\n\n'
            '[Install]\n'
            'WantedBy=multi-user.target\n') % {'ipt': iptables, 'rule': rule}


class AcceptBridged(object):
    """One host's rule brought to ``state`` (present or absent); ``prep`` is the Preparation
    (its _file, _run, changes and check mode)."""

    def __init__(self, prep, spec):
        self.prep = prep
        self.module = prep.module
        self.spec = spec

    def _bin(self, name):
        return self.module.get_bin_path(name, opt_dirs=['/sbin', '/usr/sbin'])

    def _firewalld(self):
        """firewall-cmd, when firewalld runs (``--state`` exits 0 only then)."""
        cmd = self._bin('firewall-cmd')
        if cmd and command.run(self.module, [cmd, '--state'])[0] == 0:
            return cmd
        return None

    def run(self):
        """{framework, state}; a host that has none of it and is not asked for it runs no command."""
        present = self.spec['state'] == 'present'
        ours_firewalld = self.prep.root.read(FIREWALLD_MARKER) is not None
        ours_unit = self.prep.root.read(self.spec['unit_file']) is not None
        firewalld = self._firewalld() if present or ours_firewalld else None
        if firewalld:
            self._with_firewalld(firewalld, present)
        elif ours_firewalld:    # firewalld is gone: its rules went with it
            self.prep._file(FIREWALLD_MARKER, None, what='accept bridged (firewalld)')
        if present and not firewalld:
            self._with_iptables()
        elif ours_unit:
            self._remove_unit()
        return {'framework': ('firewalld' if firewalld else 'iptables') if present else None,
                'state': self.spec['state']}

    # -- firewalld ----------------------------------------------------------------------------------
    def _with_firewalld(self, cmd, present):
        for scope in (['--permanent'], []):
            there = command.run(self.module, [cmd] + scope + ['--direct', '--query-rule'] + DIRECT)[0] == 0
            if there == present:
                continue
            verb = '--add-rule' if present else '--remove-rule'
            self.prep.changes.append('firewalld: %s direct rule FORWARD %s%s' % (
                'add' if present else 'remove', ' '.join(MATCH), ' (permanent)' if scope else ''))
            self.prep._run([cmd] + scope + ['--direct', verb] + DIRECT, 'firewall-cmd %s' % verb)
        self.prep._file(FIREWALLD_MARKER, 'firewalld direct rule FORWARD %s added by cloudstack_kvm.networking\n'
                        % ' '.join(MATCH) if present else None, '0644', what='accept bridged (firewalld)')

    # -- iptables -----------------------------------------------------------------------------------
    def _with_iptables(self):
        iptables = self._bin('iptables')
        if not iptables:
            raise ModuleFailure('forwarding.accept_bridged needs a firewall to put its FORWARD rule in, and the host '
                                'has neither firewalld running nor iptables. Fix: install iptables (on Debian 12 and '
                                'EL 8+ it drives nftables), or drop forwarding.accept_bridged from kvm_network.')
        systemctl = self.prep._bin('systemctl')
        if self.prep._file(self.spec['unit_file'], unit_text(self.spec['header'], iptables), '0644',
                           what='accept bridged traffic at boot'):
            self.prep._run([systemctl, 'daemon-reload'], 'reloading systemd')
        if command.run(self.module, [systemctl, 'is-enabled', '--quiet', UNIT])[0] != 0:
            self.prep.changes.append('enable %s' % UNIT)
            self.prep._run([systemctl, 'enable', UNIT], 'enabling %s' % UNIT)
        if not self._rule_there(iptables):
            self.prep.changes.append('iptables: insert FORWARD %s' % ' '.join(MATCH))
            self.prep._run([iptables, '-w', '-I', 'FORWARD', '1'] + MATCH, 'inserting the FORWARD rule')

    def _rule_there(self, iptables):
        """Whether FORWARD holds the rule now (``iptables -C`` exits 0 only then)."""
        return command.run(self.module, [iptables, '-w', '-C', 'FORWARD'] + MATCH)[0] == 0

    def _remove_unit(self):
        systemctl = self.prep._bin('systemctl')
        iptables = self._bin('iptables')
        if iptables and self._rule_there(iptables):
            self.prep.changes.append('iptables: delete FORWARD %s' % ' '.join(MATCH))
            self.prep._run([iptables, '-w', '-D', 'FORWARD'] + MATCH, 'deleting the FORWARD rule')
        self.prep.changes.append('disable %s' % UNIT)
        self.prep._run([systemctl, 'disable', UNIT], 'disabling %s' % UNIT)
        self.prep._file(self.spec['unit_file'], None, what='accept bridged traffic at boot')
        self.prep._run([systemctl, 'daemon-reload'], 'reloading systemd')
