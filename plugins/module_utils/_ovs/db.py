# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The Open vSwitch database as the collection uses it: columns read, defaults, errors, and the
OVSDB JSON (``--format=json --data=json``) decoded into Python values and Python values encoded as
ovs-vsctl arguments.

* ``decode_datum`` turns ``["set",[...]]``, ``["map",[[k,v],...]]``, ``["uuid",...]`` into lists,
  dicts and id strings; ``optional``/``as_list`` undo OVSDB printing a one-member set bare.
* ``quote``/``column_arg``/``map_key_arg`` build ``column=value`` arguments (argv items, never a
  shell string).
* Typed exceptions (``OvsError`` and subclasses) carry the command and its stderr; modules turn
  them into ``fail_json`` in ``main()``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible.module_utils.common.text.converters import to_text

DEFAULT_TIMEOUT = 10

# Exit status of ovs-vsctl killed by its own --timeout alarm (SIGALRM).
TIMEOUT_RCS = (142, -14)

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


def table_rows(doc, decode=True):
    """Rows of one ``--format=json`` table document as dicts keyed by heading, values decoded
    (``decode=False``: as OVSDB JSON, ready to be written back in a transaction)."""
    if not isinstance(doc, dict) or 'headings' not in doc or 'data' not in doc:
        raise OvsOutputError('not an ovs-vsctl JSON table: %r' % (doc,))
    headings = doc['headings']
    rows = []
    for row in doc['data']:
        if len(row) != len(headings):
            raise OvsOutputError('row has %d values for %d headings' % (len(row), len(headings)))
        rows.append(dict((h, decode_datum(v) if decode else v) for h, v in zip(headings, row)))
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
