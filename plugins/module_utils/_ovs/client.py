# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""ovs-vsctl, the one owner of every call: argv lists, ``LC_ALL=C``, ``--timeout``, optional
``--db``/``--no-wait``, machine-readable reads of several tables in one call, and writes as one
atomic transaction (commands joined by ``--``, collected by ``Transaction``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command as host_command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import C_LOCALE
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import (
    TIMEOUT_RCS,
    BRIDGE_COLUMNS,
    DEFAULT_TIMEOUT,
    INTERFACE_COLUMNS,
    OPEN_VSWITCH_COLUMNS,
    PORT_COLUMNS,
    OvsCommandError,
    OvsOutputError,
    map_changes,
    map_key_arg,
    parse_json_documents,
    quote,
    table_rows,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.snapshot import OvsSnapshot

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
        self.environ = dict(C_LOCALE)
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
        # ovs-vsctl --timeout bounds it; names and values go to it exactly as given.
        rc, out, err = host_command.run(self.module, argv, timeout=None, environ=self.environ)
        if rc != 0:
            err_text = to_text(err).strip()
            if rc in TIMEOUT_RCS:
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

    def query(self, queries, decode=True):
        """Run several list/find commands in one call; a list of row lists, one per query
        (``decode=False``: values as OVSDB JSON)."""
        args = self.query_argv(queries)
        out = self.run(args)
        docs = parse_json_documents(out)
        if len(docs) != len(queries):
            raise OvsOutputError('ovs-vsctl printed %d JSON tables for %d queries'
                                 % (len(docs), len(queries)), cmd=self.base_argv() + args, stdout=out)
        return [table_rows(doc, decode) for doc in docs]

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
