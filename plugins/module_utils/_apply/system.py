# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""What a renderer's system needs besides the files, as one base class (``System``): the
configuration it does not own that would fight ours (``conflicts``), the interfaces a file change
concerns (``definitions``, ``affected``), and the commands that bring them live (``activation``).

One subclass per system, side by side with its renderer: ``netplan``, ``ifupdown``, ``ifcfg``,
``networkmanager`` in this package, ``_render`` for the files they activate.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.graph import model_kinds, model_names

LINK_SUFFIX = '.link'


class System(object):
    """What a renderer's system needs besides the files: conflicts, activation, drift repair.

    ``affected(changes)`` -> {interface: 'reason'}; ``activation(names, removed)`` ->
    (commands before the files change, commands after), each command a (argv, what) pair.
    """

    name = None
    # Which bridges activation deletes (and with them the ports guests have on them): 'all' that
    # it re-activates (ifdown deletes a bridge), or only the 'removed' ones.
    deletes_bridges = 'removed'
    # {bridge: MAC} an activation that re-creates Open vSwitch bridges gives them, where that is not
    # the MAC they have now (a rollback: the snapshot's); by default the one read before they go.
    keep_macs = None
    # Whether an interface whose definition only moves into the collection's files, and whose live
    # state already is the model's, may be taken over without re-activating it: true where the
    # files are read only when an interface comes up (netplan, ifupdown, network-scripts); not
    # NetworkManager, whose profiles are live objects (its own active profile stays in charge).
    adopts_live = True
    # The interfaces of this apply taken over that way (set by the applier before ``activation``).
    adopted = ()

    def __init__(self, module, root, runner, model, marker, files):
        self.module = module
        self.root = root
        self.runner = runner
        self.model = model
        self.marker = marker
        self.files = files
        self.kinds = model_kinds(model)
        self.names = model_names(model)
        self.warnings = []

    def stale_globs(self, owned):
        """Where stale files of ours may be: the renderer's owned globs."""
        return list(owned or [])

    def backup_dir(self, path):
        """Where the backup of ``path`` goes: None for beside it (``FILE.PID.DATE~``)."""
        return None

    def conflicts(self, changes):
        """(extra FileChanges for configuration we do not own, conflict reports, commands)."""
        return [], [], []

    def definitions(self, path, text):
        """{interface: comparable definition} of one file's text."""
        return {}

    def affected(self, changes):
        """{interface: added|changed|removed} for the interfaces whose definitions the changes
        touch, compared over all changed files (a definition may move from one file to another)."""
        old = {}
        new = {}
        for change in changes:
            if change.path.endswith(LINK_SUFFIX):
                continue    # NIC names: the applier renames live what it can (_apply/renames.py)
            for text, defs in ((change.old, old), (change.new, new)):
                if text is not None:
                    for name, body in self.definitions(change.path, text).items():
                        defs.setdefault(name, []).append((change.path, body))
        out = {}
        for name in set(old) | set(new):
            if sorted(old.get(name, [])) == sorted(new.get(name, [])):
                continue
            if name not in self.names:
                out[name] = 'removed'
            else:
                out[name] = 'added' if name not in old else 'changed'
        return out

    def all_kinds(self, changes):
        """Kinds of the model's interfaces and, for interfaces it no longer has, of their old definitions."""
        kinds = {}
        for change in changes:
            if change.old is None or change.path.endswith(LINK_SUFFIX):
                continue
            for name, definition in self.definitions(change.path, change.old).items():
                kinds.setdefault(name, self.kind_of(definition))
        kinds.update(self.kinds)
        return kinds

    @staticmethod
    def kind_of(definition):
        """The kind of an interface from its old definition (for interfaces the model no longer has)."""
        return 'ethernet'

    def repair_in_place(self, name, differences):
        """Commands that repair ``name``'s drift (differences of _verify.compare) without
        re-activating it, or None when it must be re-activated. By default: re-activation."""
        return None

    def activation(self, reasons, removed, changes):
        """(commands before the files change, commands after) for ``reasons`` {interface:
        added|changed|removed|depends|drift}; ``removed`` go down and stay down."""
        return [], []

    def rebuilds_dependents(self):
        """Whether re-activating a NIC, bond or VLAN device takes what is built on it down with it,
        so those must be re-activated too (the applier then adds them, as ``depends``)."""
        return False

    def after_failure(self, argv, changes):
        """When a command of the activation fails: (the changes to put back, what to tell the user),
        or None to leave the files as written."""
        return None

    def at_boot(self):
        """Commands a boot-time rollback (``_confirm/boot.py``) runs once the files are back and
        before the network services start: what early boot has already derived from the files it
        put back. By default nothing: the services read the files when they start."""
        return []
