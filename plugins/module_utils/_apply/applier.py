# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Apply a rendered kvm_network to a host: files, conflicting configuration, activation, drift.

The module kvm_network_apply is this file plus the Open vSwitch reconcile (``_ovs.state``). The
work is split in phases so that each can be checked, reported and wrapped (commit-confirm):

1. ``files.plan_files``: the rendered files against the host's, and stale files the collection
   owns (matching an owned glob *and* carrying the marker line). Nothing is written.
2. The renderer's ``System`` (``netplan``, ``ifupdown``, ``networkmanager``, ``ifcfg``) finds
   configuration the collection does not own that would fight its own (other stanzas, profiles,
   netplan files), and turns the file changes into the interfaces they concern.
3. ``detect_drift``: the live network, read by the one facts reader (``_facts.reader``), against
   the model with the comparison verify uses (``_verify.compare``). An interface that differs
   although its files did not change is re-activated: on Linux bridge hosts anything the
   renderer's tool repairs, on Open vSwitch hosts a bridge's IP configuration (the database
   reconcile, which follows, repairs bridges, bonds and ports in place).
4. The activation plan: commands to run before the files change (``ifdown --force`` with the old
   definition) and after (``netplan generate``/``apply``, ``ifup``, ``nmcli connection load``/
   ``up``), only for what changed, in dependency order. Never a restart of a whole service. An
   interface whose definition only moves into the collection's files and that is live as the
   model says is taken over as it is (``Applier._already_live``, ``activated.adopted``).
5. ``Applier.execute``: the commands and writes, atomically, each replaced file backed up.

Check mode runs phases 1-4 (reads, and read-only commands such as ``ip -j`` or ``nmcli
connection show``) and reports what phase 5 would do.

Every path is a path on the host, below ``root_dir`` (``/`` on a real host; a scratch tree in
tests and staging).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import files as file_plan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import renames
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.ifcfg import IfcfgSystem
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.ifupdown import IfupdownSystem
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.netplan import NetplanSystem
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.networkmanager import NetworkManagerSystem
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.runner import Runner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.system import LINK_SUFFIX
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure, natural_key
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.reader import (
    COMPARE_SECTIONS,
    SECTIONS as READ_BACK_SECTIONS,
    read_host_network,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.graph import (
    built_on,
    model_names,
    model_parents,
    upward_closure,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._verify.compare import compare

# The system each renderer's files are activated by.
SYSTEMS = {
    'netplan': NetplanSystem,
    'ifupdown': IfupdownSystem,
    'networkmanager': NetworkManagerSystem,
    'ifcfg': IfcfgSystem,
}

# Drift the renderer's tool repairs by re-activating the interface (what is missing or set
# differently). Anything else (a NIC that is absent, an extra address or port added by hand, a
# DHCP lease not obtained) is reported as a warning: re-activating would not change it and a
# rerun would never converge.
REPAIRABLE_DRIFT = (
    'bridge.present', 'bridge.port', 'bridge.addresses', 'bridge.gateway4', 'bridge.gateway6', 'bridge.mtu',
    'bridge.stp', 'bridge.forward_delay',
    'bond.present', 'bond.interfaces', 'bond.mode', 'bond.miimon', 'bond.updelay', 'bond.downdelay',
    'bond.primary', 'bond.lacp_rate', 'bond.xmit_hash_policy', 'bond.mtu',
    'vlan.present', 'vlan.id', 'vlan.link',
    'ethernet.mtu',
)
# With Open vSwitch the database reconcile repairs bridges, bonds and ports in place; what only
# re-activation brings back is a bridge's IP configuration (and a bridge that is gone).
REPAIRABLE_DRIFT_OVS = ('bridge.present', 'bridge.addresses', 'bridge.gateway4', 'bridge.gateway6')


def detect_drift(model, facts, differences=None):
    """(repairable {interface: [difference]}, reported [message]) from ``_verify.compare`` (or its
    ``differences``, already computed).

    With Open vSwitch, only what re-activation repairs is looked at (a bridge's addresses and
    default route, a bridge that is gone); the rest is the database reconcile's, which follows.
    """
    ovs = model['backend'] == 'openvswitch'
    repairable = REPAIRABLE_DRIFT_OVS if ovs else REPAIRABLE_DRIFT
    repair = {}
    report = []
    for diff in compare(model, facts) if differences is None else differences:
        name = diff['object'].split(' ', 1)[1]
        # A bond's primary expected none (the model has none, the bond has one) is repaired too.
        if diff['kind'] in repairable and (diff['expected'] not in (None, False) or diff['kind'] == 'bond.primary'):
            repair.setdefault(name, []).append(diff)
        elif not ovs or diff['kind'] in repairable:
            report.append(diff['message'])
    return repair, report


# Differences of an interface that say what is built on what: the interfaces below it (its ports,
# members, link) are not as the model says either.
MEMBERSHIP = ('bridge.present', 'bridge.port', 'bridge.parent', 'bridge.vlan', 'bridge.fake', 'bridge.type',
              'bond.present', 'bond.interfaces', 'bond.type', 'vlan.present', 'vlan.link', 'vlan.id')


def live_differs(model, live, differences):
    """The model's interfaces whose live state is not the model's: those a difference names,
    those below an interface whose membership differs (a NIC whose bridge is missing), and NICs,
    bonds and VLAN devices that hold an address (the model puts addresses only on bridges: an
    installer's DHCP on a NIC the model bonds)."""
    differs = set(d['object'].split(' ', 1)[1] for d in differences)
    membership = set(d['object'].split(' ', 1)[1] for d in differences if d['kind'] in MEMBERSHIP)
    above = built_on(model)
    for name in model_names(model):
        if upward_closure([name], above) & membership - {name}:
            differs.add(name)
    addresses = live.get('addresses') or {}
    for name in model_names(model) - set(model['bridges']):
        if any(a.get('scope') == 'global' for a in addresses.get(name) or []):
            differs.add(name)
    return differs


LINK_NAME = re.compile(r'^Name=(\S+)', re.M)

# The model's sections by difference type, and the fields shown whole (a list) in a drift diff.
SECTIONS = {'bridge': 'bridges', 'bond': 'bonds', 'vlan': 'vlans', 'ethernet': 'ethernets'}
WHOLE_FIELDS = ('addresses', 'interfaces')


def drift_diff(differences, model, live):
    """One diff entry for an interface whose live state drifted: for each field that differs, the
    realised value (before) and the model's (after), one ``field: value`` line each."""
    realised = live.get('model') or {}
    before, after, seen = [], [], set()
    for diff in differences:
        kind_type, field = diff['kind'].split('.', 1)
        if field in seen:
            continue
        seen.add(field)
        name = diff['object'].split(' ', 1)[1]
        have = (realised.get(SECTIONS[kind_type]) or {}).get(name)
        want = model[SECTIONS[kind_type]].get(name) or {}
        if field == 'present':
            field, old, new = 'state', 'absent', 'present'
        elif field in WHOLE_FIELDS and have is not None:
            old, new = have.get(field), want.get(field)
        else:
            old, new = diff['found'], diff['expected']
        before.append('%s: %s\n' % (field, json.dumps(old, sort_keys=True)))
        after.append('%s: %s\n' % (field, json.dumps(new, sort_keys=True)))
    label = differences[0]['object']
    return {'before_header': '%s (live network)' % label, 'after_header': '%s (kvm_network, re-activated)' % label,
            'before': ''.join(before), 'after': ''.join(after)}


# --- the whole apply ----------------------------------------------------------------------------------

class Applier(object):
    """Plans and (unless check mode) applies one rendered kvm_network on the host."""

    def __init__(self, module, params, ovs_client=None, readings=None):
        self.module = module
        self.params = params
        self.ovs_client = ovs_client
        self.readings = readings or HostReadings(module, params)
        self._ovs_snapshot = None
        self.reasons = {}
        self.model = params['model']
        self.root = host_files.Root(params['root_dir'])
        self.runner = Runner(module)
        self.system = SYSTEMS[params['renderer']](module, self.root, self.runner, self.model, params['marker'],
                                                  params['files'])
        self.changes = []
        self.replaced_foreign = []
        self.conflict_reports = []
        self.conflict_commands = []
        self.affected = {}
        self.drift = []
        self.drift_diffs = []
        self._drift_found = {}
        self.reasons_in_place = {}
        self.adopted = []
        self._live_differs = None
        self.drift_reported = []
        self.deferred = []
        self.before = []
        self.after = []
        self.renames = []

    # -- planning ------------------------------------------------------------------------------
    def plan(self):
        p = self.params
        changes, self.replaced_foreign = file_plan.plan_files(self.root, p['files'], self.system.stale_globs(p['owned']),
                                                              p['marker'], p['prune'])
        edits, self.conflict_reports, self.conflict_commands = self.system.conflicts(changes)
        self.changes = sorted(changes + edits, key=lambda c: c.path)
        self.affected = self.system.affected(self.changes)
        if p['activate'] and renames.wanted(self.model, self._link_exists):
            self.renames = renames.plan(self.model, self.readings.live(self.ovs_client), self._link_exists)
        if p['activate'] and p['drift']:
            live = self.readings.live(self.ovs_client)
            differences = compare(self.model, live)
            self._live_differs = live_differs(self.model, live, differences)
            repair, self.drift_reported = detect_drift(self.model, live, differences)
            # A NIC about to be renamed to its model name is not missing.
            renamed = ['ethernet %s: missing' % r['to'] for r in self.renames]
            self.drift_reported = [m for m in self.drift_reported if m not in renamed]
            for name in sorted(repair, key=natural_key):
                if name not in self.affected:
                    self.drift.append({'interface': name, 'differences': [d['message'] for d in repair[name]]})
                    self.drift_diffs.append(drift_diff(repair[name], self.model, live))
                    self._drift_found[name] = repair[name]
        if p['activate']:
            self._plan_activation()
        self._warn_link_files()

    def _link_exists(self, name):
        return self.root.exists('/sys/class/net/%s' % name)

    def _warn_link_files(self):
        """A changed systemd .link file that no live rename stands for takes effect at the next boot."""
        live = set(r[k] for r in self.renames for k in ('from', 'to'))    # renames are planned only with activate
        for change in self.changes:
            if not change.path.endswith(LINK_SUFFIX) or change.action not in ('create', 'write', 'remove'):
                continue
            names = set(LINK_NAME.findall((change.old or '') + '\n' + (change.new or '')))
            if not names or not names <= live:
                self.system.warnings.append('%s changed: systemd .link files name NICs when udev sees them, so this '
                                            'takes effect at the next boot' % change.path)

    def _plan_activation(self):
        """The interfaces to re-activate, with why, and the commands that do it. Drift the system
        repairs in place (an address or a default route gone) is repaired so: re-creating the
        bridge would give it a new MAC (stale ARP caches) and take guests' ports off it."""
        system = self.system
        reasons = dict(self.affected)
        adopted = self._already_live(reasons)
        for name in adopted:
            del reasons[name]
        in_place = []
        for entry in self.drift:
            commands = system.repair_in_place(entry['interface'], self._drift_found[entry['interface']])
            if commands is not None:
                in_place.extend(commands)
                self.reasons_in_place[entry['interface']] = 'drift'
                continue
            reasons.setdefault(entry['interface'], 'drift')
        removed = set(n for n, why in reasons.items() if why == 'removed')
        if system.rebuilds_dependents():
            for name in upward_closure(set(reasons) - removed, model_parents(self.model)):
                reasons.setdefault(name, 'depends')
        # One that must come up again because what it is built on does is not taken over in place.
        self.adopted = system.adopted = [n for n in adopted if n not in reasons]
        self._defer_busy_bridges(reasons, removed)
        self.before, self.after = system.activation(reasons, removed, self.changes)
        # A NIC renamed live goes by its new name once the files are written.
        self.after = renames.commands(self.runner.bin('ip'), self.renames) + \
            renames.without_renamed(self.after, self.renames, model_names(self.model)) + in_place
        self.reasons = dict(reasons, **self.reasons_in_place)

    def _already_live(self, reasons):
        """The interfaces this change only takes ownership of: added or changed because their
        definition moves into the collection's files (from a file it does not own, or from none:
        a bridge made by hand), and whose live state already is the model's (``_verify.compare``
        finds no difference for them). Moving a definition is never by itself a reason to take a
        link down: they are not re-activated. Needs the live read (``drift``); never for a system
        whose configuration is live objects (``System.adopts_live``)."""
        if self._live_differs is None or not self.system.adopts_live:
            return []
        ours_before = set()
        changed_paths = set(c.path for c in self.changes)
        for change in self.changes:
            if change.old is not None and change.reason in ('render', 'stale') and not change.foreign:
                ours_before.update(self.system.definitions(change.path, change.old))
        for item in self.params['files']:
            if item['path'] not in changed_paths:    # unchanged: what it defines was ours already
                ours_before.update(self.system.definitions(item['path'], item['content']))
        names = model_names(self.model)
        return sorted((n for n, why in reasons.items() if why in ('added', 'changed') and n in names
                       and n not in ours_before and n not in self._live_differs), key=natural_key)

    def _bridge_ports(self, bridge, kind):
        """Ports of a live bridge: Linux from /sys, Open vSwitch from the database."""
        if kind == 'bridge':
            return self.root.listdir('/sys/class/net/%s/brif' % bridge)
        if kind != 'ovs_bridge' or self.ovs_client is None:
            return []
        if self._ovs_snapshot is None:
            self._ovs_snapshot = self.ovs_client.snapshot()
        br = self._ovs_snapshot.bridge(bridge)
        if br is None or br['fake']:
            return []
        return [p for p in br['ports'] if p != bridge and not self._ovs_snapshot.port(p)['fake_bridge']]

    def _defer_busy_bridges(self, reasons, removed):
        """ifdown of a bridge deletes it, and with it the guests' ports on it: a bridge carrying
        ports that are not the model's is not restarted (nor what would be re-added to it),
        unless restart_bridges_with_guests."""
        if self.params['restart_bridges_with_guests']:
            return
        kinds = self.system.all_kinds(self.changes)
        known = model_names(self.model) | set(reasons)
        busy = {}
        for name, why in sorted(reasons.items()):
            if why == 'added' or kinds.get(name) not in ('bridge', 'ovs_bridge'):
                continue
            if self.system.deletes_bridges == 'removed' and why != 'removed':
                continue
            foreign = [p for p in self._bridge_ports(name, kinds[name]) if p not in known]
            if foreign:
                busy[name] = foreign
        if not busy:
            return
        parents = model_parents(self.model)
        for name in sorted(reasons, key=natural_key):
            hit = sorted(upward_closure([name], parents) & set(busy))
            if not hit:
                continue
            bridge = hit[0]
            del reasons[name]
            removed.discard(name)
            self.deferred.append({'interface': name, 'bridge': bridge, 'ports': busy[bridge]})
            self.system.warnings.append(
                'not restarting %s: bridge %s carries ports kvm_network does not describe (%s), which restarting it '
                'would remove (guests would lose their network). The configuration is written and takes effect '
                'when %s restarts (maintenance window, reboot), or now with restart_bridges_with_guests: true.'
                % (name, bridge, ', '.join(busy[bridge]), bridge))

    # -- applying ---------------------------------------------------------------------------------
    def _backup(self, path):
        directory = self.system.backup_dir(path)
        dest = host_files.backup(self.root.real(path),
                                 self.root.real(directory) if directory else None)
        return self.root.host(dest)

    def write_files(self):
        """Write, chmod and remove; returns {written, created, removed, backups}."""
        done = {'written': [], 'created': [], 'removed': [], 'backups': []}
        for change in self.changes:
            real = self.root.real(change.path)
            backup = None
            if self.params['backup'] and change.old is not None and change.action != 'chmod':
                backup = self._backup(change.path)
                done['backups'].append({'path': change.path, 'backup': backup})
            if change.action == 'remove':
                os.unlink(real)
                done['removed'].append(change.path)
                continue
            if change.action == 'chmod':
                os.chmod(real, int(change.mode, 8))
            else:
                mode = change.mode or ('%04o' % change.old_mode if change.old_mode is not None else '0644')
                host_files.write_atomic(self.module, real, change.new, mode)
            done['created' if change.old is None else 'written'].append(change.path)
        return done

    def restore(self, changes):
        """Put the previous content back (a failed ``netplan generate``)."""
        for change in changes:
            real = self.root.real(change.path)
            if change.old is None:
                if os.path.exists(real):
                    os.unlink(real)
            else:
                host_files.write_atomic(self.module, real, change.old, '%04o' % (change.old_mode or 0o644))

    def execute(self):
        for argv, what in self.conflict_commands:
            self.runner.run(argv, what)
        for argv, what in self.before:
            self.runner.run(argv, what)
        files = self.write_files()
        for index, (argv, what) in enumerate(self.after):
            try:
                self.runner.run(argv, what)
            except ModuleFailure as exc:
                undo = self.system.after_failure(argv, self.changes)
                if undo is not None:
                    self.restore(undo[0])
                    exc.msg = exc.msg.rstrip('. ') + '. ' + undo[1]
                    # The files are back and no command that changes the network ran before this
                    # one: a rollback has nothing to re-activate (doing so would bounce links).
                    exc.kwargs['nothing_applied'] = index == 0 and not (self.conflict_commands or self.before)
                exc.kwargs.setdefault('files', files)
                raise
        return files

    # -- result ------------------------------------------------------------------------------------
    def planned_files(self):
        return {
            'written': [c.path for c in self.changes if c.action in ('write', 'chmod')],
            'created': [c.path for c in self.changes if c.action == 'create'],
            'removed': [c.path for c in self.changes if c.action == 'remove'],
            'backups': [],
        }

    @property
    def changed(self):
        return bool(self.changes or self.conflict_commands or self.before or self.after)

    def commands(self):
        return [list(a) for a, dummy in self.conflict_commands + self.before + self.after]


class HostReadings(object):
    """The host's live network for one call: read once, when first needed, and handed to the drift
    check, the disruption analysis and the read-back; read again only after the call changed the
    host (``changed``). ``count`` is how many reads were made. With a read-back asked for, the one
    read has its sections and Open vSwitch settings (the drift check compares the same way)."""

    def __init__(self, module, params):
        self.module = module
        self.root = params.get('root_dir') or '/'
        spec = params.get('read_back') if not module.check_mode else None     # no read-back in check mode
        self.sections = READ_BACK_SECTIONS if spec else COMPARE_SECTIONS
        self.ovs = spec['ovs'] if spec else 'false'
        self.ovs_timeout = spec['ovs_timeout'] if spec else 5
        self._facts = None
        self.count = 0

    def live(self, ovs_client=None):
        if self._facts is None:
            self._facts = read_host_network(self.module, self.sections, ovs=self.ovs, ovs_timeout=self.ovs_timeout,
                                            root=self.root, ovs_client=ovs_client)
            self.count += 1
        return self._facts

    def changed(self):
        self._facts = None


def run(module, params, ovs_client=None, applier=None):
    """Plan (unless ``applier`` comes planned) and, unless check mode, apply files, conflicts and
    activation; the result's file, conflict, activation and drift parts, ``changed`` and ``diff``
    for them, and warnings."""
    if applier is None:
        applier = Applier(module, params, ovs_client)
        applier.plan()
    if module.check_mode:
        files = applier.planned_files()
        commands = applier.commands()
    else:
        files = applier.execute()
        commands = applier.runner.ran
        if applier.changed:
            applier.readings.changed()
    result = {
        'changed': applier.changed,
        'files': files,
        'replaced_foreign': applier.replaced_foreign,
        'conflicts': applier.conflict_reports,
        'activated': {
            'interfaces': sorted(applier.reasons, key=natural_key) if (applier.before or applier.after) else [],
            'reasons': applier.reasons if (applier.before or applier.after) else {},
            'commands': commands,
            'deferred': applier.deferred,
            'renamed': applier.renames,
            'adopted': applier.adopted,
        },
        'drift': applier.drift,
        'diff': [c.diff() for c in applier.changes] + applier.drift_diffs,
    }
    warnings = list(applier.system.warnings)
    for message in applier.drift_reported:
        warnings.append('the live network differs from the model where re-activating would not change it: %s'
                        % message)
    return result, warnings
