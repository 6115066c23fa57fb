# Make ``ansible_collections.cloudstack_kvm.networking`` importable from this checkout: the unit
# tests import the collection by its FQCN, through the link scripts/setup.sh creates in
# .tmp/collections (or through the real tree when the checkout already sits under
# ansible_collections/, as in ansible-test).
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

_HERE = os.path.abspath(os.path.dirname(__file__))
_PARTS = _HERE.split(os.sep)
if 'ansible_collections' in _PARTS:
    _ROOT = os.sep.join(_PARTS[:len(_PARTS) - _PARTS[::-1].index('ansible_collections') - 1])
else:
    _ROOT = os.path.join(os.path.dirname(os.path.dirname(_HERE)), '.tmp', 'collections')
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line('markers', 'controller: runs ansible-playbook, so needs a controller Python; '
                            'left out of the modules\' run on Python 3.6 (scripts/core-matrix.sh --py36)')


@pytest.fixture(autouse=True)
def _no_frames_on_the_machine(monkeypatch):
    """No unit test may send a frame on this machine's interfaces (gratuitous ARP after an apply)."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import announce

    def refuse(name):
        raise AssertionError('a unit test opened a packet socket on %s' % name)
    monkeypatch.setattr(announce, '_open', refuse)
