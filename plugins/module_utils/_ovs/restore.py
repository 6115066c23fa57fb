# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The managed part of the Open vSwitch database, saved and put back exactly (safe apply).

``save`` keeps, for the bridges a model manages, their Bridge rows, their ports' Port rows and
those ports' Interface rows: every configuration column, as OVSDB JSON, with the rows' UUIDs.
``restore_operations`` turns such a save and the database as it is now into one OVSDB
transaction that writes the saved rows back under their own UUIDs (rows the change deleted are
inserted again with them), so that ``ovs-vsctl show``, which orders ports by UUID, prints the
same text as before. Rows the change added to those bridges go with the references to them
(Open vSwitch garbage-collects unreferenced bridges, ports and interfaces); guests' ports that
appeared meanwhile stay. ``OvsdbClient`` runs the transaction with ``ovsdb-client transact``:
ovs-vsctl cannot give a new row a chosen UUID.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import C_LOCALE
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    TIMEOUT_RCS,
    OvsCommandError,
    OvsOutputError,
    decode_datum,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.snapshot import OvsSnapshot
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.state import is_guest_port

TABLES = ('Open_vSwitch', 'Bridge', 'Port', 'Interface')
# The configuration columns a save keeps and a restore writes back. Status columns ovs-vswitchd
# fills in (ofport, mac_in_use, statistics, ...) are never written; columns this Open vSwitch's
# schema does not have are skipped.
CONFIG_COLUMNS = {
    'Bridge': ('name', 'datapath_type', 'fail_mode', 'stp_enable', 'rstp_enable', 'mcast_snooping_enable',
               'protocols', 'flood_vlans', 'other_config', 'external_ids', 'ports'),
    'Port': ('name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'bond_mode', 'lacp', 'bond_updelay',
             'bond_downdelay', 'bond_fake_iface', 'fake_bridge', 'other_config', 'external_ids'),
    'Interface': ('name', 'type', 'options', 'mtu_request', 'ofport_request', 'mac', 'other_config',
                  'external_ids'),
}


def read_raw(client):
    """{table: [row]} of the Open_vSwitch, Bridge, Port and Interface tables, every column as
    OVSDB JSON, in one ovs-vsctl call."""
    return dict(zip(TABLES, client.query([('list', table, None, None) for table in TABLES], decode=False)))


def _uuid(row):
    return decode_datum(row['_uuid'])


def _refs(datum):
    """The UUIDs of a reference column (a set printed bare when it has one member)."""
    value = decode_datum(datum) if datum is not None else []
    return list(value) if isinstance(value, list) else [value]


def _decoded(raw):
    return OvsSnapshot.from_rows(*[[dict((k, decode_datum(v)) for k, v in row.items()) for row in raw.get(t, [])]
                                   for t in TABLES])


def _managed_uuids(raw, bridge_names):
    """{table: set of UUIDs} of the bridges named, their ports and those ports' interfaces."""
    bridges = [r for r in raw.get('Bridge', []) if decode_datum(r['name']) in bridge_names]
    ports = set(u for r in bridges for u in _refs(r.get('ports')))
    interfaces = set(u for r in raw.get('Port', []) if _uuid(r) in ports for u in _refs(r.get('interfaces')))
    return {'Bridge': set(_uuid(r) for r in bridges), 'Port': ports, 'Interface': interfaces}


def save(raw, bridge_names):
    """What a snapshot keeps of ``raw`` (read_raw's result) for the bridges in ``bridge_names``."""
    names = sorted(set(bridge_names))
    managed = _managed_uuids(raw, set(names))
    saved = {'bridge_names': names, 'tables': {}}
    for table in ('Bridge', 'Port', 'Interface'):
        rows = []
        for row in raw.get(table, []):
            if _uuid(row) in managed[table]:
                rows.append(dict((k, v) for k, v in row.items() if k == '_uuid' or k in CONFIG_COLUMNS[table]))
        saved['tables'][table] = sorted(rows, key=lambda r: decode_datum(r['name']))
    return saved


def _uuid_set(uuids):
    return ['set', [['uuid', u] for u in sorted(uuids)]]


def restore_operations(saved, raw):
    """The OVSDB operations that bring the managed rows of ``raw`` (the database now) back to
    ``saved``; an empty list when they are as saved."""
    names = set(saved['bridge_names'])
    now = _managed_uuids(raw, names)
    current = dict((t, dict((_uuid(r), r) for r in raw.get(t, []))) for t in ('Bridge', 'Port', 'Interface'))
    snapshot = _decoded(raw)
    guests = {}
    for row in raw.get('Bridge', []):
        if _uuid(row) in now['Bridge']:
            guests[decode_datum(row['name'])] = [
                u for u in _refs(row.get('ports')) if u in current['Port']
                and is_guest_port(snapshot, decode_datum(current['Port'][u]['name']))]
    ops = []
    kept = {}
    for table in ('Bridge', 'Port', 'Interface'):
        kept[table] = set()
        for row in saved['tables'][table]:
            uuid = _uuid(row)
            kept[table].add(uuid)
            values = dict((k, v) for k, v in row.items() if k != '_uuid')
            if table == 'Bridge':
                # Guests' ports that came meanwhile stay on their bridge.
                extra = [u for u in guests.get(decode_datum(row['name']), []) if u not in _refs(row.get('ports'))]
                if extra:
                    values['ports'] = _uuid_set(_refs(row.get('ports')) + extra)
            old = current[table].get(uuid)
            if old is None:
                ops.append({'op': 'insert', 'table': table, 'uuid': uuid, 'row': values})
                continue
            changed = dict((k, v) for k, v in values.items() if _normal(old.get(k)) != _normal(v))
            if changed:
                ops.append({'op': 'update', 'table': table, 'where': [['_uuid', '==', ['uuid', uuid]]],
                            'row': changed})
    # The managed bridges: those saved are referenced from Open_vSwitch, those added since are not.
    add = kept['Bridge'] - now['Bridge']
    drop = now['Bridge'] - kept['Bridge']
    if add or drop:
        mutations = []
        if drop:
            mutations.append(['bridges', 'delete', _uuid_set(drop)])
        if add:
            mutations.append(['bridges', 'insert', _uuid_set(add)])
        ops.append({'op': 'mutate', 'table': 'Open_vSwitch', 'where': [], 'mutations': mutations})
    return ops


def _normal(datum):
    """A datum in a form where equal values compare equal (a one-member set printed bare or not)."""
    value = decode_datum(datum) if datum is not None else None
    if isinstance(value, list):
        return sorted(json.dumps(v, sort_keys=True) for v in value)
    if isinstance(value, dict):
        return sorted(value.items())
    return value


class OvsdbClient(object):
    """ovsdb-client for the one thing ovs-vsctl cannot do: insert rows under chosen UUIDs.

    Built beside an OvsVsctl (same database, timeout and environment). Unless ``no_wait``, a
    transaction bumps ``next_cfg`` and the client waits until ovs-vswitchd has applied it
    (``cur_cfg``), as ovs-vsctl does.
    """

    def __init__(self, vsctl):
        self.vsctl = vsctl
        self.module = vsctl.module
        beside = os.path.join(os.path.dirname(vsctl.binary), 'ovsdb-client')
        self.binary = beside if os.path.exists(beside) else self.module.get_bin_path('ovsdb-client', required=False)
        if not self.binary:
            raise OvsCommandError('ovsdb-client was not found on the host (it comes with Open vSwitch): the '
                                  'Open vSwitch database cannot be restored')
        self.environ = dict(C_LOCALE)
        self.environ.update(vsctl.environ)

    def transact(self, operations):
        """Run ``operations`` as one transaction on the Open_vSwitch database; return the results."""
        ops = list(operations)
        if not self.vsctl.no_wait:
            ops.append({'op': 'mutate', 'table': 'Open_vSwitch', 'where': [], 'mutations': [['next_cfg', '+=', 1]]})
            ops.append({'op': 'select', 'table': 'Open_vSwitch', 'where': [], 'columns': ['next_cfg']})
        argv = [self.binary, '--timeout=%d' % self.vsctl.timeout, 'transact']
        if self.vsctl.db:
            argv.append(self.vsctl.db)
        argv.append(json.dumps(['Open_vSwitch'] + ops, sort_keys=True))
        rc, out, err = command.run(self.module, argv, timeout=None, environ=self.environ)
        if rc != 0:
            what = 'timed out after %d seconds' % self.vsctl.timeout if rc in TIMEOUT_RCS else 'failed (rc=%d)' % rc
            raise OvsCommandError('ovsdb-client transact %s: %s' % (what, to_text(err).strip() or 'no message'),
                                  cmd=argv, rc=rc, stdout=to_text(out), stderr=to_text(err))
        try:
            results = json.loads(out)
        except ValueError:
            raise OvsOutputError('ovsdb-client printed output that is not JSON: %r' % to_text(out)[:200], cmd=argv)
        errors = [r for r in results if isinstance(r, dict) and r.get('error')]
        if errors or len(results) < len(ops):
            raise OvsCommandError('the Open vSwitch database refused the restore: %s'
                                  % '; '.join('%s (%s)' % (e['error'], e.get('details', '')) for e in errors),
                                  cmd=argv, stdout=to_text(out))
        if not self.vsctl.no_wait:
            self._wait_applied(results[-1]['rows'][0]['next_cfg'])
        return results

    def _wait_applied(self, next_cfg):
        deadline = time.time() + self.vsctl.timeout
        while True:
            rows = self.vsctl.query([('list', 'Open_vSwitch', ['cur_cfg'], None)])[0]
            if rows and (rows[0].get('cur_cfg') or 0) >= next_cfg:
                return
            if time.time() > deadline:
                raise OvsCommandError('ovs-vswitchd did not apply the restored Open vSwitch configuration within %d '
                                      'seconds (is it running?)' % self.vsctl.timeout)
            time.sleep(0.1)


def restore(vsctl, saved):
    """Put the managed rows back as saved; returns the operations run (none when nothing differed)."""
    ops = restore_operations(saved, read_raw(vsctl))
    if ops:
        OvsdbClient(vsctl).transact(ops)
    return ops
