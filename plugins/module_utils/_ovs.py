# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Open vSwitch through ovs-vsctl: one client, the database snapshot, and shared planning.

* ``OvsVsctl`` owns every ovs-vsctl call: argv lists, ``LC_ALL=C``, ``--timeout``, optional
  ``--db``/``--no-wait``, ``--format=json --data=json`` for reads, and one atomic transaction
  (commands joined by ``--``) for writes.
* ``decode_datum`` turns OVSDB JSON (``["set",[...]]``, ``["map",[[k,v],...]]``,
  ``["uuid",...]``) into Python values; ``OvsSnapshot`` is the whole configuration database
  (bridges, fake bridges, ports, interfaces) in normalised form, read with one ovs-vsctl call.
* ``Transaction`` collects ovs-vsctl commands; ``OvsPlan`` and ``apply_plan`` give every OVS
  module the same flow: snapshot, plan, run (unless check mode), verify, report.
* Typed exceptions (``OvsError`` and subclasses) carry the command and its stderr; modules turn
  them into ``fail_json`` in ``main()``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._diff import DifferenceTracker


DEFAULT_TIMEOUT = 10

# Exit status of ovs-vsctl killed by its own --timeout alarm (SIGALRM).
_TIMEOUT_RCS = (142, -14)

# Columns read by the snapshot. Every one exists in the Open_vSwitch schema since OVS 2.0.
OPEN_VSWITCH_COLUMNS = ('ovs_version',)
BRIDGE_COLUMNS = ('_uuid', 'name', 'datapath_type', 'fail_mode', 'stp_enable', 'other_config',
                  'external_ids', 'ports')
PORT_COLUMNS = ('_uuid', 'name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'bond_mode', 'lacp',
                'bond_updelay', 'bond_downdelay', 'other_config', 'external_ids', 'fake_bridge')
INTERFACE_COLUMNS = ('_uuid', 'name', 'type', 'options', 'external_ids')

# What Open vSwitch does when a column is unset (ovs-vswitchd.conf.db(5)).
BOND_MODE_DEFAULT = 'active-backup'
LACP_DEFAULT = 'off'
FAIL_MODE_DEFAULT = 'standalone'
DATAPATH_DEFAULT = 'system'
INTERFACE_TYPE_DEFAULT = 'system'

# Prefix ovs-vsctl uses for a fake bridge's external IDs, stored on its Port record.
FAKE_BRIDGE_ID_PREFIX = 'fake-bridge-'


class OvsError(Exception):
    """Base class: an Open vSwitch operation failed. ``fail_kwargs()`` feeds fail_json."""

    def __init__(self, msg, cmd=None, rc=None, stdout=None, stderr=None):
        super(OvsError, self).__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def fail_kwargs(self):
        kwargs = {'msg': self.msg}
        for key in ('cmd', 'rc', 'stdout', 'stderr'):
            value = getattr(self, key)
            if value is not None:
                kwargs[key] = value
        return kwargs


class OvsCommandError(OvsError):
    """ovs-vsctl is missing, exited non-zero, or timed out."""


class OvsOutputError(OvsError):
    """ovs-vsctl printed something that is not the OVSDB JSON we asked for."""


class OvsParameterError(OvsError):
    """The module's parameters contradict each other or Open vSwitch's rules."""


class OvsStateError(OvsError):
    """The database is in a state the requested change must not override (or did not reach)."""


# --- OVSDB JSON decoding -------------------------------------------------------------------------

def decode_datum(value):
    """One OVSDB JSON datum (``--data=json``) as a Python value.

    ``["set", [...]]`` -> list, ``["map", [[k, v], ...]]`` -> dict, ``["uuid", u]`` and
    ``["named-uuid", n]`` -> the id string; atoms (str, int, float, bool) are returned as they are.
    A set with a single member is printed as the bare atom; ``optional()`` undoes that.
    """
    if isinstance(value, list):
        if len(value) != 2 or not isinstance(value[0], str):
            raise OvsOutputError('not an OVSDB JSON datum: %r' % (value,))
        kind, payload = value
        if kind == 'set':
            return [decode_datum(v) for v in payload]
        if kind == 'map':
            return dict((decode_datum(k), decode_datum(v)) for k, v in payload)
        if kind in ('uuid', 'named-uuid'):
            return payload
        raise OvsOutputError('unknown OVSDB JSON datum type %r in %r' % (kind, value))
    return value


def optional(value):
    """An optional scalar column (min 0, max 1): None when unset, else the atom."""
    if isinstance(value, list):
        if not value:
            return None
        if len(value) == 1:
            return value[0]
        raise OvsOutputError('expected at most one value, got %r' % (value,))
    return value


def as_list(value):
    """A set column: always a list (OVSDB prints a one-member set as the bare atom)."""
    if isinstance(value, list):
        return value
    return [value]


def parse_json_documents(text):
    """Parse the JSON documents ovs-vsctl prints, one per command, into a list."""
    decoder = json.JSONDecoder()
    docs = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        try:
            doc, end = decoder.raw_decode(text, pos)
        except ValueError as e:
            raise OvsOutputError('ovs-vsctl printed output that is not JSON (%s): %r' % (e, text[pos:pos + 200]))
        docs.append(doc)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return docs


def table_rows(doc):
    """Rows of one ``--format=json`` table document as dicts keyed by heading, values decoded."""
    if not isinstance(doc, dict) or 'headings' not in doc or 'data' not in doc:
        raise OvsOutputError('not an ovs-vsctl JSON table: %r' % (doc,))
    headings = doc['headings']
    rows = []
    for row in doc['data']:
        if len(row) != len(headings):
            raise OvsOutputError('row has %d values for %d headings' % (len(row), len(headings)))
        rows.append(dict((h, decode_datum(v)) for h, v in zip(headings, row)))
    return rows


# --- ovs-vsctl argument encoding -----------------------------------------------------------------

_BARE_TOKEN = re.compile(r'^[A-Za-z0-9_./+-]+$')


def quote(text):
    """A string atom as ovs-vsctl parses it: bare when safe, else a JSON string."""
    text = to_text(text)
    if _BARE_TOKEN.match(text):
        return text
    return json.dumps(text)


def encode_atom(value):
    """A Python scalar as an ovs-vsctl atom (bools as true/false, strings quoted when needed)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    return quote(value)


def column_arg(column, value):
    """``column=value`` for ``set`` and create commands; lists become sets, dicts maps."""
    if isinstance(value, (list, tuple)):
        return '%s=[%s]' % (column, ','.join(encode_atom(v) for v in value))
    if isinstance(value, dict):
        pairs = ['%s=%s' % (quote(k), encode_atom(v)) for k, v in sorted(value.items())]
        return '%s={%s}' % (column, ','.join(pairs))
    return '%s=%s' % (column, encode_atom(value))


def map_key_arg(column, key, value):
    """``column:key=value``: set one key of a map column."""
    return '%s:%s=%s' % (column, quote(key), encode_atom(value))


# --- value normalisation -------------------------------------------------------------------------

def config_string(value):
    """A map value as OVS stores it: strings, with ints as digits and bools as true/false."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return to_text(value)


def normalise_map_param(value):
    """A dict option (other_config, external_ids, options): keys and values as strings;
    a None value stays None (it means: make sure this key is absent)."""
    if value is None:
        return None
    return dict((to_text(k), None if v is None else config_string(v)) for k, v in value.items())


def wanted_map(active, given, exclusive=False):
    """The map OVS should hold after the change.

    ``given`` None: unmanaged, keep ``active``. ``exclusive``: exactly the given keys (None values
    dropped). Otherwise ``active`` with the given keys set, and keys given as None removed.
    """
    active = dict(active or {})
    if given is None:
        return active
    if exclusive:
        return dict((k, v) for k, v in given.items() if v is not None)
    result = active
    for k, v in given.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = v
    return result


def map_changes(active, wanted):
    """``(set_pairs, removed_keys)`` that turn map ``active`` into ``wanted``."""
    active = active or {}
    to_set = dict((k, v) for k, v in wanted.items() if active.get(k) != v)
    to_remove = sorted(k for k in active if k not in wanted)
    return to_set, to_remove


# --- commands and transactions -------------------------------------------------------------------

class Transaction(object):
    """ovs-vsctl commands that run as one OVSDB transaction (joined by ``--``)."""

    def __init__(self):
        self.commands = []

    def add(self, *args, **kwargs):
        """Append one command; ``options`` (e.g. ``['--if-exists']``) precede its name."""
        options = list(kwargs.pop('options', None) or [])
        if kwargs:
            raise TypeError('unexpected keyword arguments: %s' % ', '.join(sorted(kwargs)))
        self.commands.append(options + [to_text(a) for a in args])
        return self

    def extend(self, other):
        self.commands.extend(other.commands)
        return self

    def __len__(self):
        return len(self.commands)

    def __bool__(self):
        return bool(self.commands)

    __nonzero__ = __bool__

    def args(self):
        """The command arguments, each command preceded by ``--``."""
        result = []
        for cmd in self.commands:
            result.append('--')
            result.extend(cmd)
        return result


def map_column_commands(txn, table, record, column, active, wanted):
    """Add the ``set``/``remove`` commands that turn one map column from active to wanted."""
    to_set, to_remove = map_changes(active, wanted)
    if to_remove:
        txn.add('remove', table, record, column, *[quote(k) for k in to_remove])
    if to_set:
        txn.add('set', table, record, *[map_key_arg(column, k, v) for k, v in sorted(to_set.items())])


# --- the client ----------------------------------------------------------------------------------

class OvsVsctl(object):
    """The one owner of ovs-vsctl calls.

    ``db`` is an OVSDB remote (``unix:/path/db.sock``); ``no_wait`` adds ``--no-wait`` so
    ovs-vsctl does not wait for ovs-vswitchd to apply a change (for databases no vswitchd serves,
    as in tests). ``binary`` and ``environ`` let tests point at an unpacked OVS.
    """

    def __init__(self, module, binary=None, db=None, timeout=DEFAULT_TIMEOUT, no_wait=False, environ=None):
        self.module = module
        self.db = db
        self.timeout = int(timeout) if timeout is not None else DEFAULT_TIMEOUT
        self.no_wait = no_wait
        self.environ = {'LC_ALL': 'C', 'LANG': 'C'}
        if environ:
            self.environ.update(environ)
        self.binary = binary or self._find_binary()

    @classmethod
    def from_module(cls, module):
        """A client configured by the module's ``database`` and ``timeout`` options."""
        return cls(module, db=module.params.get('database'),
                   timeout=module.params.get('timeout') or DEFAULT_TIMEOUT)

    def _find_binary(self):
        path = self.module.get_bin_path('ovs-vsctl', required=False)
        if not path:
            raise OvsCommandError('ovs-vsctl was not found on the host: install Open vSwitch '
                                  '(openvswitch-switch on Debian/Ubuntu, openvswitch on EL) and '
                                  'start it before managing bridges, ports or bonds')
        return path

    def base_argv(self):
        argv = [self.binary, '--timeout=%d' % self.timeout]
        if self.db:
            argv.append('--db=%s' % self.db)
        if self.no_wait:
            argv.append('--no-wait')
        return argv

    def run(self, args):
        """Run ovs-vsctl with ``args`` (after the base options); return stdout or raise."""
        argv = self.base_argv() + list(args)
        # No ~ or $VAR expansion: names and values go to ovs-vsctl exactly as given.
        rc, out, err = self.module.run_command(argv, environ_update=self.environ, expand_user_and_vars=False)
        if rc != 0:
            err_text = to_text(err).strip()
            if rc in _TIMEOUT_RCS:
                msg = ('ovs-vsctl timed out after %d seconds (is ovs-vswitchd running? a change may '
                       'have been committed without ovs-vswitchd confirming it): %s'
                       % (self.timeout, err_text or 'no message'))
            else:
                msg = 'ovs-vsctl failed (rc=%d): %s' % (rc, err_text or to_text(out).strip() or 'no message')
            raise OvsCommandError(msg, cmd=argv, rc=rc, stdout=to_text(out), stderr=err_text)
        return to_text(out)

    def query_argv(self, queries):
        """Argument list for read-only ``list``/``find`` commands (after the base options).

        ``queries``: ``[(command, table, columns, args)]`` with command ``list`` or ``find``.
        """
        args = ['--format=json', '--data=json']
        for command, table, columns, extra in queries:
            args.append('--')
            if columns:
                args.append('--columns=%s' % ','.join(columns))
            args.append(command)
            args.append(table)
            args.extend(extra or [])
        return args

    def query(self, queries):
        """Run several list/find commands in one call; a list of row lists, one per query."""
        args = self.query_argv(queries)
        out = self.run(args)
        docs = parse_json_documents(out)
        if len(docs) != len(queries):
            raise OvsOutputError('ovs-vsctl printed %d JSON tables for %d queries'
                                 % (len(docs), len(queries)), cmd=self.base_argv() + args, stdout=out)
        return [table_rows(doc) for doc in docs]

    def list_table(self, table, columns=None, records=None):
        """``list TABLE [RECORD...]`` as a list of dicts."""
        return self.query([('list', table, columns, list(records or []))])[0]

    def find(self, table, conditions, columns=None):
        """``find TABLE COLUMN=VALUE...``; ``conditions`` is a dict of column -> Python value."""
        extra = [column_arg(k, v) for k, v in sorted(conditions.items())]
        return self.query([('find', table, columns, extra)])[0]

    def snapshot_queries(self, interface_columns=INTERFACE_COLUMNS):
        return [('list', 'Open_vSwitch', OPEN_VSWITCH_COLUMNS, None),
                ('list', 'Bridge', BRIDGE_COLUMNS, None),
                ('list', 'Port', PORT_COLUMNS, None),
                ('list', 'Interface', interface_columns, None)]

    def snapshot(self, interface_columns=INTERFACE_COLUMNS):
        """The whole configuration database, read in one ovs-vsctl call.

        ``interface_columns`` may add Interface columns (``mtu_request``) for callers that
        manage them; the per-object modules read the default set.
        """
        ovs, bridges, ports, interfaces = self.query(self.snapshot_queries(interface_columns))
        return OvsSnapshot.from_rows(ovs, bridges, ports, interfaces)

    def transaction_argv(self, txn):
        return self.base_argv() + txn.args()

    def transact(self, txn):
        """Run all commands of ``txn`` as one transaction; return stdout."""
        return self.run(txn.args())


# --- the database snapshot -----------------------------------------------------------------------

class OvsSnapshot(object):
    """The configuration database in normalised form, as ovs-vsctl sees it.

    ``bridges``: name -> {name, uuid, fake, parent, vlan, datapath_type, fail_mode, stp_enable,
    other_config, external_ids, ports}. Real bridges have ``fake`` False; ``ports`` lists every
    Port record on the bridge (its own local port and fake-bridge ports included). A fake bridge
    (``add-br NAME PARENT VLAN``) is a Port on its parent with ``fake_bridge=true``, a tag and an
    internal Interface of the same name: it is listed with ``fake`` True, ``parent``, ``vlan``,
    its parent's datapath_type, the ``fake-bridge-*`` external IDs of its Port (prefix removed)
    and, as ``ports``, the parent's ports tagged with its VLAN.

    ``ports``: name -> {name, uuid, bridge (the real bridge holding it), vsctl_bridge (the fake
    bridge ovs-vsctl assigns it to by tag, else the real one), interfaces (sorted names), tag,
    trunks, vlan_mode, bond_mode, lacp, bond_updelay, bond_downdelay, other_config, external_ids,
    fake_bridge}. Unset optional columns are None; values are as stored (no defaults filled in).

    ``interfaces``: name -> {name, uuid, type ('system' for the empty type), options,
    external_ids, port}.
    """

    def __init__(self, ovs_version, bridges, ports, interfaces):
        self.ovs_version = ovs_version
        self.bridges = bridges
        self.ports = ports
        self.interfaces = interfaces

    @classmethod
    def from_rows(cls, ovs_rows, bridge_rows, port_rows, interface_rows):
        ovs_version = optional(ovs_rows[0].get('ovs_version')) if ovs_rows else None
        iface_by_uuid = dict((r['_uuid'], r) for r in interface_rows)
        port_by_uuid = dict((r['_uuid'], r) for r in port_rows)
        interfaces = {}
        ports = {}
        bridges = {}
        for row in interface_rows:
            interfaces[row['name']] = {
                'name': row['name'],
                'uuid': row['_uuid'],
                'type': row.get('type') or INTERFACE_TYPE_DEFAULT,
                'options': dict(row.get('options') or {}),
                'external_ids': dict(row.get('external_ids') or {}),
                'port': None,
            }
            if 'mtu_request' in row:
                interfaces[row['name']]['mtu_request'] = optional(row['mtu_request'])
        for row in port_rows:
            names = []
            for uuid in as_list(row.get('interfaces', [])):
                iface = iface_by_uuid.get(uuid)
                if iface is None:
                    raise OvsOutputError('port %s refers to a missing interface %s' % (row['name'], uuid))
                names.append(iface['name'])
                interfaces[iface['name']]['port'] = row['name']
            trunks = as_list(row.get('trunks', []))
            ports[row['name']] = {
                'name': row['name'],
                'uuid': row['_uuid'],
                'bridge': None,
                'vsctl_bridge': None,
                'interfaces': sorted(names),
                'tag': optional(row.get('tag', [])),
                'trunks': sorted(int(t) for t in trunks),
                'vlan_mode': optional(row.get('vlan_mode', [])),
                'bond_mode': optional(row.get('bond_mode', [])),
                'lacp': optional(row.get('lacp', [])),
                'bond_updelay': int(row.get('bond_updelay') or 0),
                'bond_downdelay': int(row.get('bond_downdelay') or 0),
                'other_config': dict(row.get('other_config') or {}),
                'external_ids': dict(row.get('external_ids') or {}),
                'fake_bridge': bool(row.get('fake_bridge')),
            }
        for row in bridge_rows:
            port_names = []
            for uuid in as_list(row.get('ports', [])):
                prow = port_by_uuid.get(uuid)
                if prow is None:
                    raise OvsOutputError('bridge %s refers to a missing port %s' % (row['name'], uuid))
                port_names.append(prow['name'])
                ports[prow['name']]['bridge'] = row['name']
                ports[prow['name']]['vsctl_bridge'] = row['name']
            bridges[row['name']] = {
                'name': row['name'],
                'uuid': row['_uuid'],
                'fake': False,
                'parent': None,
                'vlan': None,
                'datapath_type': row.get('datapath_type') or DATAPATH_DEFAULT,
                'fail_mode': optional(row.get('fail_mode', [])),
                'stp_enable': bool(row.get('stp_enable')),
                'other_config': dict(row.get('other_config') or {}),
                'external_ids': dict(row.get('external_ids') or {}),
                'ports': sorted(port_names),
            }
        # Fake bridges, the way ovs-vsctl finds them: a fake_bridge Port with a valid tag.
        for real in list(bridges.values()):
            for pname in real['ports']:
                port = ports[pname]
                if port['fake_bridge'] and port['tag'] is not None and 0 <= port['tag'] <= 4095:
                    if port['name'] in bridges:
                        continue
                    bridges[port['name']] = {
                        'name': port['name'],
                        'uuid': port['uuid'],
                        'fake': True,
                        'parent': real['name'],
                        'vlan': port['tag'],
                        'datapath_type': real['datapath_type'],
                        'fail_mode': None,
                        'stp_enable': False,
                        'other_config': {},
                        'external_ids': dict((k[len(FAKE_BRIDGE_ID_PREFIX):], v)
                                             for k, v in port['external_ids'].items()
                                             if k.startswith(FAKE_BRIDGE_ID_PREFIX)),
                        'ports': [],
                    }
        for fake in [b for b in bridges.values() if b['fake']]:
            for pname in bridges[fake['parent']]['ports']:
                port = ports[pname]
                if pname != fake['name'] and port['tag'] == fake['vlan'] and not port['fake_bridge']:
                    port['vsctl_bridge'] = fake['name']
                    fake['ports'].append(pname)
        return cls(ovs_version, bridges, ports, interfaces)

    def bridge(self, name):
        return self.bridges.get(name)

    def port(self, name):
        return self.ports.get(name)

    def interface(self, name):
        return self.interfaces.get(name)

    def resolve_bridge(self, name):
        """``(real_bridge, vlan)`` for a real or fake bridge name; None when it does not exist."""
        br = self.bridges.get(name)
        if br is None:
            return None
        if br['fake']:
            return br['parent'], br['vlan']
        return br['name'], None

    def foreign_ports(self, name):
        """Ports that deleting bridge ``name`` would delete besides its own local port.

        For a real bridge: every other port on it, fake-bridge ports included; for a fake bridge:
        the parent's ports tagged with its VLAN.
        """
        br = self.bridges[name]
        if br['fake']:
            return list(br['ports'])
        return [p for p in br['ports'] if p != name]

    def as_dict(self):
        return {'ovs_version': self.ovs_version, 'bridges': self.bridges, 'ports': self.ports,
                'interfaces': self.interfaces}


# --- the common module flow ----------------------------------------------------------------------

class OvsPlan(object):
    """What one module call wants done.

    ``tracker``: a DifferenceTracker with one record per reported parameter; ``txn``: the
    transaction that reaches the wanted state (empty when nothing differs); ``before``/``after``:
    the object's normalised view (None when absent); ``recreated`` and ``recreate_reason`` when
    the object must be deleted and created again in that transaction; ``warnings`` for the user.
    """

    def __init__(self):
        self.tracker = DifferenceTracker()
        self.txn = Transaction()
        self.before = None
        self.after = None
        self.recreated = False
        self.recreate_reason = None
        self.warnings = []

    def recreate(self, reason):
        self.recreated = True
        self.recreate_reason = reason

    @property
    def changed(self):
        return bool(self.txn)

    def diff(self):
        return {'before': self.before if self.before is not None else {'state': 'absent'},
                'after': self.after if self.after is not None else {'state': 'absent'}}


def apply_plan(module, client, planner, result_key, read=None):
    """Snapshot, plan, apply unless in check mode, verify, and build the module result.

    ``planner(snapshot)`` returns an OvsPlan. After a real change the database is read again and
    planned again: anything still to do means ovs-vsctl did not reach the wanted state, which is
    an error rather than a silent success. ``read`` (default ``client.snapshot``) takes the
    snapshots.
    """
    read = read or client.snapshot
    snapshot = read()
    plan = planner(snapshot)
    if plan.changed != plan.tracker.has_differences:
        # changed, the diff and the commands must tell the same story; never report one without the other.
        raise OvsStateError('internal error: the plan has %s but %s; please report this with the module arguments'
                            % ('commands' if plan.changed else 'no commands',
                               'no differences' if plan.changed else 'differences in %s' % ', '.join(plan.tracker.names())))
    commands = [client.transaction_argv(plan.txn)] if plan.changed else []
    after = plan.after
    if plan.changed and not module.check_mode:
        client.transact(plan.txn)
        verify = planner(read())
        if verify.changed:
            raise OvsStateError('ovs-vsctl reported success, but the database still differs in: %s. '
                                'Another process may be changing Open vSwitch at the same time.'
                                % ', '.join(verify.tracker.names() or ['(recreation)']),
                                cmd=commands[0])
        after = verify.after
    for warning in plan.warnings:
        module.warn(warning)
    result = {
        'changed': plan.changed,
        'commands': commands,
        'differences': plan.tracker.differences,
        'recreated': plan.recreated,
        'recreate_reason': plan.recreate_reason,
        result_key: after,
    }
    if module._diff:
        result['diff'] = plan.diff()
    return result


# --- option specs shared by the OVS modules ------------------------------------------------------

def common_argument_spec():
    return {
        'database': {'type': 'str'},
        'timeout': {'type': 'int', 'default': DEFAULT_TIMEOUT},
    }


def port_vlan_argument_spec():
    return {
        'tag': {'type': 'int'},
        'trunks': {'type': 'list', 'elements': 'int'},
        'vlan_mode': {'type': 'str', 'choices': ['access', 'native-tagged', 'native-untagged', 'trunk',
                                                 'dot1q-tunnel']},
        'other_config': {'type': 'dict'},
        'other_config_exclusive': {'type': 'bool', 'default': False},
        'external_ids': {'type': 'dict'},
    }


def validate_vlan_params(params, name):
    """Range checks for tag (-1 removes it) and trunks, naming the object."""
    tag = params.get('tag')
    if tag is not None and not -1 <= tag <= 4095:
        raise OvsParameterError('%s: tag %d is out of range: use 0-4095, or -1 to remove the tag' % (name, tag))
    for t in params.get('trunks') or []:
        if not 0 <= t <= 4095:
            raise OvsParameterError('%s: trunk VLAN %d is out of range 0-4095' % (name, t))


def wanted_port_columns(params, have, vlan=None):
    """The Port columns tag/trunks/vlan_mode/other_config/external_ids a module asks for.

    Returns a dict with only the managed columns; ``tag`` None means "no tag". ``vlan`` is the
    VLAN of the fake bridge the port is asked to be on (it fixes the tag).
    """
    want = {}
    tag = params.get('tag')
    if vlan is not None:
        want['tag'] = vlan
    elif tag is not None:
        want['tag'] = None if tag == -1 else tag
    if params.get('trunks') is not None:
        want['trunks'] = sorted(set(params['trunks']))
    if params.get('vlan_mode') is not None:
        want['vlan_mode'] = params['vlan_mode']
    have = have or {}
    if params.get('other_config') is not None:
        want['other_config'] = wanted_map(have.get('other_config'), normalise_map_param(params['other_config']),
                                          params.get('other_config_exclusive'))
    elif params.get('other_config_exclusive'):
        want['other_config'] = {}
    if params.get('external_ids') is not None:
        want['external_ids'] = wanted_map(have.get('external_ids'), normalise_map_param(params['external_ids']))
    return want


def port_column_commands(txn, port, active, wanted, columns):
    """Commands that bring Port ``port`` from ``active`` to ``wanted`` for ``columns``.

    Scalar and set columns go into one ``set``; a tag going away is a ``clear``; map columns are
    changed key by key.
    """
    set_args = []
    for column in columns:
        if column not in wanted or active.get(column) == wanted[column]:
            continue
        value = wanted[column]
        if column in ('other_config', 'external_ids'):
            continue
        if value is None:
            txn.add('clear', 'Port', port, column)
        else:
            set_args.append(column_arg(column, value))
    if set_args:
        txn.add('set', 'Port', port, *set_args)
    for column in ('other_config', 'external_ids'):
        if column in columns and column in wanted:
            map_column_commands(txn, 'Port', port, column, active.get(column), wanted[column])


def creation_column_args(wanted, columns):
    """``column=value`` arguments for add-port/add-bond: every managed column that has a value
    (an absent tag, empty sets and maps are what a new port has anyway)."""
    args = []
    for column in columns:
        value = wanted.get(column)
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, dict):
            args.extend(map_key_arg(column, k, v) for k, v in sorted(value.items()))
        else:
            args.append(column_arg(column, value))
    return args
