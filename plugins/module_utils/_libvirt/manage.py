# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The host's libvirt networks brought to their wanted definitions, through libvirt's Python
binding (a ``virConnect``, or anything with its methods: the unit tests give a fake one).

Per network: defined, started and autostarted when missing; changed in place where libvirt can
(``plan.py``: virNetworkUpdate, live and in the stored definition); otherwise redefined and, when
it runs, restarted: refused while running guests use it unless ``allow_restart``, and then every
guest's interface is plugged back into the bridge libvirt created again (a network that stops
deletes its bridge, which takes the guests' taps off it: they stay up but cut off until re-plugged).
Networks the collection created and the list no longer has are removed; libvirt's ``default``
only when asked. Which networks the collection created is kept in a small state file, since
libvirt 9.0 has no metadata for networks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import xml.etree.ElementTree as ET

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import netxml
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import plan as planner
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt.definition import (
    LIBVIRT_DEFAULT,
    OWN_BRIDGE_KINDS,
)

# libvirt constants (libvirt-network.h, libvirt-domain.h): the binding's names are not needed.
XML_INACTIVE = 1                   # VIR_NETWORK_XML_INACTIVE: the stored definition
AFFECT_LIVE, AFFECT_CONFIG = 1, 2  # VIR_NETWORK_UPDATE_AFFECT_*
LIST_ACTIVE_DOMAINS = 1            # VIR_CONNECT_LIST_DOMAINS_ACTIVE
STATE_FILE = '/var/lib/cloudstack-kvm/libvirt-networks.json'


def guests_of(conn, name):
    """[{domain, mac, dev}]: the running domains' interfaces on network ``name``."""
    found = []
    for dom in conn.listAllDomains(LIST_ACTIVE_DOMAINS):
        root = ET.fromstring(dom.XMLDesc(0))
        for iface in root.findall('./devices/interface'):
            source = iface.find('source')
            if iface.get('type') != 'network' or source is None or source.get('network') != name:
                continue
            target = iface.find('target')
            mac = iface.find('mac')
            found.append({'domain': dom.name(), 'mac': mac.get('address') if mac is not None else None,
                          'dev': target.get('dev') if target is not None else None})
    return sorted(found, key=lambda g: (g['domain'], g['dev'] or ''))


class Networks(object):
    """Plans and (unless check mode) applies the wanted networks {name: normalised network}."""

    def __init__(self, module, conn, wanted, prune=True, remove_default=False, allow_restart=False,
                 state_file=STATE_FILE, root=None):
        self.module = module
        self.conn = conn
        self.wanted = wanted
        self.prune = prune
        self.remove_default = remove_default
        self.allow_restart = allow_restart
        self.root = root or host_files.Root('/')
        self.state_file = state_file
        self.check = module.check_mode
        self.report = {}
        self.diff = []
        self.commands = []

    # -- the state file: the networks this collection defined ----------------------------------------
    def _owned(self):
        text = self.root.read(self.state_file)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        return sorted(data.get('networks') or [])

    def _save_owned(self, names):
        if self.check:
            return
        real = self.root.real(self.state_file)
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real), 0o700)
        host_files.write_atomic(self.module, real, json.dumps({'networks': sorted(names)}, indent=1) + '\n', '0644')

    def _lookup(self, name):
        names = set(self.conn.listNetworks()) | set(self.conn.listDefinedNetworks())
        return self.conn.networkLookupByName(name) if name in names else None

    # -- one network --------------------------------------------------------------------------------
    def _guests_unless_allowed(self, name, active, what, fix):
        """The running guests on ``name``; with some and no consent, a failure saying ``what`` needs
        doing, naming them, and ``fix``."""
        guests = guests_of(self.conn, name) if active else []
        if guests and not self.allow_restart:
            raise ModuleFailure('libvirt network %s, and running guests use it: %s. %s'
                                % (what, ', '.join('%s (%s)' % (g['domain'], g['dev']) for g in guests), fix))
        return guests

    def _reattach(self, net, guests):
        """Plug each guest's tap back into the bridge the restarted network created."""
        bridge = net.bridgeName()
        done = []
        for guest in guests:
            if not guest['dev']:
                continue
            for argv in (['ip', 'link', 'set', 'dev', guest['dev'], 'master', bridge],
                         ['ip', 'link', 'set', 'dev', guest['dev'], 'up']):
                command.run(self.module, argv, check=True,
                            what='plugging %s of guest %s back into %s' % (guest['dev'], guest['domain'], bridge))
                self.commands.append(argv)
            done.append(dict(guest, bridge=bridge))
        return done

    def _create(self, name, wanted):
        entry = {'action': 'created', 'updates': [], 'restart': [], 'guests': [], 'reattached': []}
        self.diff.append({'before_header': 'libvirt network %s' % name, 'before': '',
                          'after_header': 'libvirt network %s' % name, 'after': netxml.render(wanted) + '\n'})
        if not self.check:
            net = self.conn.networkDefineXML(netxml.render(wanted))
            net.setAutostart(1 if wanted['autostart'] else 0)
            net.create()
        return entry

    def _converge(self, name, wanted, net):
        entry = {'action': 'unchanged', 'updates': [], 'restart': [], 'guests': [], 'reattached': []}
        stored = net.XMLDesc(XML_INACTIVE)
        want = netxml.canonical(netxml.render(wanted))
        have = netxml.canonical(stored)
        result = planner.plan(want, have)
        active = bool(net.isActive())
        if result['differences']:
            self.diff.append({'before_header': 'libvirt network %s' % name,
                              'before': _lines(netxml.comparable(want, have)),
                              'after_header': 'libvirt network %s' % name, 'after': _lines(want)})
        if result['restart']:
            entry.update(action='restarted' if active else 'redefined', restart=result['restart'])
            guests = entry['guests'] = self._guests_unless_allowed(
                name, active, '%s: %s needs the network restarted (libvirt cannot change it live)'
                % (name, '; '.join(result['restart'])),
                'A restart takes their interfaces off the bridge until they are plugged back. Fix: set '
                'kvm_libvirt_allow_restart: true (the module plugs them back) in a maintenance window, or stop '
                'the guests first')
            if not self.check:
                # Replacing a definition must carry the network's UUID: without one libvirt makes up
                # another and refuses ("network ... already exists with uuid ...").
                net = self.conn.networkDefineXML(_with_uuid(netxml.render(wanted), net.UUIDString()))
                if active:
                    net.destroy()
                    net.create()
                    if wanted['kind'] in OWN_BRIDGE_KINDS:
                        entry['reattached'] = self._reattach(net, guests)
        elif result['updates']:
            entry.update(action='updated', updates=[u.report() for u in result['updates']])
            if not self.check:
                flags = AFFECT_CONFIG | (AFFECT_LIVE if active else 0)
                for update in result['updates']:
                    net.update(update.command, update.section, update.parent, update.xml, flags)
        if not active:
            entry['action'] = 'started' if entry['action'] == 'unchanged' else entry['action']
            if not self.check:
                net.create()
        if bool(net.autostart()) != wanted['autostart']:
            if entry['action'] == 'unchanged':
                entry['action'] = 'autostart'
            if not self.check:
                net.setAutostart(1 if wanted['autostart'] else 0)
        return entry

    def _remove(self, name, net):
        entry = {'action': 'removed', 'updates': [], 'restart': [], 'guests': [], 'reattached': []}
        active = bool(net.isActive())
        entry['guests'] = self._guests_unless_allowed(
            name, active, '%s is no longer in kvm_libvirt_networks' % name,
            'Removing it would cut them off. Fix: move the guests to another network first, or set '
            'kvm_libvirt_allow_restart: true to remove it anyway')
        self.diff.append({'before_header': 'libvirt network %s' % name, 'before': _lines(netxml.canonical(
            net.XMLDesc(XML_INACTIVE))), 'after_header': 'libvirt network %s (removed)' % name, 'after': ''})
        if not self.check:
            if active:
                net.destroy()
            net.undefine()
        return entry

    # -- the whole list -----------------------------------------------------------------------------
    def run(self):
        owned = set(self._owned())
        for name in sorted(self.wanted):
            wanted = self.wanted[name]
            net = self._lookup(name)
            if wanted['state'] == 'absent':
                if net is not None:
                    self.report[name] = self._remove(name, net)
                owned.discard(name)
                continue
            self.report[name] = self._create(name, wanted) if net is None else self._converge(name, wanted, net)
            if net is None:
                owned.add(name)
        if self.prune:
            stale = sorted(owned - set(self.wanted))
            if self.remove_default and LIBVIRT_DEFAULT not in self.wanted:
                stale.append(LIBVIRT_DEFAULT)
            for name in stale:
                net = self._lookup(name)
                if net is not None:
                    self.report[name] = self._remove(name, net)
                owned.discard(name)
        if owned != set(self._owned()):
            self._save_owned(owned)
        changed = any(e['action'] != 'unchanged' for e in self.report.values())
        return {'changed': changed, 'networks': self.report, 'commands': self.commands, 'diff': self.diff,
                'owned': sorted(owned)}


def _with_uuid(xml, uuid):
    """The network XML ``xml`` with ``<uuid>`` set right after its name."""
    root = ET.fromstring(xml)
    for old in root.findall('uuid'):
        root.remove(old)
    element = ET.Element('uuid')
    element.text = uuid
    names = [index for index, child in enumerate(root) if child.tag == 'name']
    root.insert(names[0] + 1 if names else 0, element)
    return netxml.to_text(root)


def _lines(canonical):
    """A canonical network as stable text, one setting per line (the diff's before and after)."""
    out = []
    for key in sorted(canonical):
        value = canonical[key]
        if value in (None, [], False) and key not in ('stp',):
            continue
        out.append('%s: %s' % (key, json.dumps(value, sort_keys=True)))
    return '\n'.join(out) + '\n'
