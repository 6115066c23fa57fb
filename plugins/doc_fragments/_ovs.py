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
requirements:
  - ovs-vsctl on the managed host (tested with Open vSwitch 3.1; the commands and columns used also exist in 2.x releases such as the seed's 2.9)
seealso:
  - name: ovs-vsctl(8)
    description: The command these modules run.
    link: https://www.openvswitch.org/support/dist-docs/ovs-vsctl.8.html
'''

    # A port on a bridge (ovs_port, ovs_bond): where it is, its VLAN settings, its Port columns.
    PORT = r'''
options:
  bridge:
    description:
      - The bridge the port belongs on. Required when O(state=present).
      - May name a fake bridge (a VLAN bridge made with C(ovs-vsctl add-br NAME PARENT VLAN)); that is
        the same as its parent bridge with O(tag) set to the fake bridge's VLAN.
      - With O(state=absent), when given, the port is removed only if it is on this bridge.
    type: str
  tag:
    description:
      - VLAN tag of the port (access VLAN), 0-4095. C(-1) removes the tag.
    type: int
  trunks:
    description:
      - VLANs the port trunks. An empty list removes all trunks (the port then trunks every VLAN).
    type: list
    elements: int
  vlan_mode:
    description:
      - The VLAN mode of the port.
    type: str
    choices: [access, native-tagged, native-untagged, trunk, dot1q-tunnel]
  other_config_exclusive:
    description:
      - When true, the Port's C(other_config) ends up with exactly the keys in O(other_config) (none if it
        is not given); other keys are removed.
    type: bool
    default: false
  external_ids:
    description:
      - Keys of the Port C(external_ids) column. Only the keys given are managed; a key given with a
        null value is removed.
    type: dict
'''
