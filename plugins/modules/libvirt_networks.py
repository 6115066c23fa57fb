#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: libvirt_networks
short_description: Define, update in place and remove a KVM host's libvirt networks
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Brings the host's libvirt networks to O(networks), through libvirt's Python binding (C(python3-libvirt)).
  - A network that is missing is defined, started and marked autostart (its C(autostart), true by default).
  - A network that differs is compared with its stored definition semantically - ordering and what libvirt adds
    (uuid, MAC, the bridge name it picked, NAT ports, an active pool's VFs) do not count. What libvirt can change
    on a running network is changed live and in the stored definition at once (virNetworkUpdate) - DHCP hosts and
    ranges, DNS host entries, portgroups, a macvtap pool's devices - and nothing restarts.
  - Anything else (forward mode or device, bridge name, STP, MTU, domain, an address or prefix) needs the network
    redefined and restarted. A restart deletes the bridge libvirt created, which takes running guests' interfaces
    off it, so it is refused while guests use the network unless O(allow_restart=true); then each guest's interface
    is plugged back into the new bridge (it keeps its MAC and stays up) and RV(networks) names them.
  - Networks this module created and O(networks) no longer lists are removed (O(prune)); libvirt's own C(default)
    network only with O(remove_default=true). Which networks it created is kept in O(state_file).
requirements:
  - libvirt's Python binding (C(python3-libvirt)) on the managed host
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
attributes:
  check_mode:
    support: full
    details:
      - Everything is read and compared as in a real run; nothing is defined, updated, restarted or removed. A
        restart that guests would refuse fails in check mode too.
  diff_mode:
    support: full
    details:
      - The semantic difference per network, one setting per line (the whole XML of a network to create).
options:
  networks:
    description:
      - The networks, as the C(kvm_libvirt_networks) role variable lists them (see docs/guest-networking.md). The
        role checks them against the host model on the controller first (bridges and devices must be the model's).
    type: list
    elements: dict
    required: true
  prune:
    description: Remove the networks this module created that O(networks) no longer lists.
    type: bool
    default: true
  remove_default:
    description: Also remove libvirt's own C(default) network when O(networks) does not list it.
    type: bool
    default: false
  allow_restart:
    description:
      - Consent to restart (or remove) a network that running guests use; their interfaces are plugged back after
        a restart.
    type: bool
    default: false
  uri:
    description: The libvirt connection URI.
    type: str
    default: qemu:///system
  state_file:
    description: Where the names of the networks this module created are kept.
    type: path
    default: /var/lib/cloudstack-kvm/libvirt-networks.json
'''

EXAMPLES = r'''
- name: A NAT network with a static host, and an Open vSwitch network with VLAN portgroups
  cloudstack_kvm.networking.libvirt_networks:
    networks:
      - name: guests
        kind: nat
        bridge: virbr10
        ips:
          - address: 203.0.113.1/24
            dhcp:
              ranges: [{start: 203.0.113.100, end: 203.0.113.199}]
              hosts: [{mac: "52:54:00:aa:00:01", name: vm1, ip: 203.0.113.10}]
      - name: ovs-guests
        kind: openvswitch
        bridge: cloudbr1
        portgroups:
          - {name: vlan-100, vlan: 100, default: true}
          - {name: trunk, trunk: [200, 201]}
'''

RETURN = r'''
networks:
  description:
    - Per network - C(action) (C(created), C(updated), C(redefined), C(restarted), C(started), C(autostart),
      C(removed), C(unchanged)), C(updates) (each live update - C(command), C(section), C(parent_index), C(xml),
      C(what)), C(restart) (why it was redefined), C(guests) (the running guests' interfaces - C(domain), C(mac),
      C(dev)) and C(reattached) (those plugged back, with their C(bridge)).
  returned: always
  type: dict
  sample: {"guests": {"action": "updated", "updates": [{"command": "add-last", "section": "ip-dhcp-host",
           "parent_index": -1, "xml": "<host mac=\"52:54:00:aa:00:02\" ip=\"203.0.113.11\" />",
           "what": "DHCP host 203.0.113.11 (52:54:00:aa:00:02) added"}], "restart": [], "guests": [], "reattached": []}}
owned:
  description: The networks this module created and keeps (O(state_file)).
  returned: always
  type: list
  elements: str
commands:
  description: The commands run (the interfaces plugged back after a restart).
  returned: always
  type: list
  elements: list
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt import definition
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._libvirt.manage import STATE_FILE, Networks

try:
    import libvirt
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()
else:
    LIBVIRT_IMPORT_ERROR = None


def argument_spec():
    return dict(
        networks=dict(type='list', elements='dict', required=True),
        prune=dict(type='bool', default=True),
        remove_default=dict(type='bool', default=False),
        allow_restart=dict(type='bool', default=False),
        uri=dict(type='str', default='qemu:///system'),
        state_file=dict(type='path', default=STATE_FILE),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        wanted = definition.normalise(params['networks'])
    except definition.DefinitionError as err:
        module.fail_json(msg=err.report())
    if libvirt is None:
        module.fail_json(msg=missing_required_lib('libvirt (python3-libvirt)') + ' (the kvm_libvirt role '
                         'installs it)', exception=LIBVIRT_IMPORT_ERROR)
    try:
        conn = libvirt.open(params['uri'])
    except libvirt.libvirtError as err:
        module.fail_json(msg='cannot connect to libvirt at %s: %s. Fix: start libvirtd (or virtqemud and '
                         'virtnetworkd) on the host' % (params['uri'], err))
    try:
        result = Networks(module, conn, wanted, prune=params['prune'], remove_default=params['remove_default'],
                          allow_restart=params['allow_restart'], state_file=params['state_file']).run()
    except ModuleFailure as failure:
        module.fail_json(msg=failure.msg, **failure.kwargs)
    except libvirt.libvirtError as err:
        module.fail_json(msg='libvirt refused a change: %s' % err)
    finally:
        conn.close()
    if not module._diff:
        result.pop('diff')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
