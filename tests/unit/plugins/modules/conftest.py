# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import safe


@pytest.fixture(autouse=True)
def _confirmations_not_over_ssh(monkeypatch):
    """A confirmation in these tests comes as over podman or a local connection (no sshd), whether
    or not pytest itself runs under an ssh login (whose sshd would date it); the tests of the ssh
    case set the connection's time themselves."""
    monkeypatch.setattr(safe, 'connection_made_at', lambda *args, **kwargs: None)
