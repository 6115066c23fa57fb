# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Secrets never leave a host in any output: which values are secret, and how they are hidden.

* ``is_secret_key``: a property whose name says password or passphrase (the agent's
  ``keystore.passphrase``, the management server's ``https.keystore.password``), or one the user
  marks secret.
* ``SecretsModule``: an ``AnsibleModule`` that learns the secret values of its parameters before
  it logs its invocation (the "Invoked with" line in the host's journal), so Ansible's own
  ``no_log`` masking hides them there and in every result, warning and error. A module adds the
  secrets it finds later (in a file it reads) with ``hide``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.module_utils.basic import AnsibleModule

# What Ansible prints for a no_log value inside a string; the same mask everywhere.
SECRET_MASK = '********'
_SECRET_NAME_RE = re.compile(r'pass(word|phrase|wd)|secret', re.I)


def is_secret_key(key, extra=()):
    return bool(_SECRET_NAME_RE.search(key or '')) or key in extra


def secret_values(mapping, extra=()):
    """The values of the secret keys of a dict, as non-empty strings."""
    return set(str(v) for k, v in (mapping or {}).items() if v not in (None, '') and is_secret_key(k, extra))


def mask(mapping, extra=()):
    """A copy of a dict with the values of its secret keys masked (None stays None)."""
    return dict((k, SECRET_MASK if v is not None and is_secret_key(k, extra) else v) for k, v in mapping.items())


class SecretsModule(AnsibleModule):
    """``secrets_of(params)`` returns the secret values in the parameters; they are no_log values
    from before the invocation is logged."""

    def __init__(self, secrets_of, **kwargs):
        def found(params):
            try:
                return secrets_of(params)
            except Exception:   # unvalidated parameters of any shape: nothing found, no traceback
                return ()
        self._secrets_of = found
        super(SecretsModule, self).__init__(**kwargs)
        self.hide(self._secrets_of(self.params))     # also when the task's no_log skipped the invocation log

    def _log_invocation(self):
        self.hide(self._secrets_of(self.params))
        super(SecretsModule, self)._log_invocation()

    def fail_json(self, msg, **kwargs):
        # Argument validation can fail before the invocation is logged: hide what can be found.
        self.hide(self._secrets_of(self.params))
        super(SecretsModule, self).fail_json(msg=msg, **kwargs)

    def hide(self, values):
        self.no_log_values.update(v for v in values if v)
