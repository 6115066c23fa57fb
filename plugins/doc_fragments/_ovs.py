# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: for this collection's own modules only.

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The Open vSwitch database modules (ovs_bond, ovs_bridge, ovs_port): how they reach the
    # database, and what check and diff mode do for them.
    DOCUMENTATION = r'''
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the database and returns the exact C(ovs-vsctl) command that a real run
        would execute, without executing it.
  diff_mode:
    support: full
options:
  database:
    description:
      - The OVSDB server to talk to, as for C(ovs-vsctl --db), for example
        C(unix:/run/openvswitch/db.sock). The default is ovs-vsctl's own default.
    type: str
  timeout:
    description:
      - Seconds ovs-vsctl waits for the database and for ovs-vswitchd to apply a change
        (C(ovs-vsctl --timeout)).
    type: int
    default: 10
'''
