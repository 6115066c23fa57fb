#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kvm_network_model
short_description: Validate, normalise and render a host's kvm_network on the controller
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Runs on the controller (an action plugin) - the host is not contacted, except to read its OS facts
    when the renderer is chosen by OS and the play has none.
  - Validates O(model) and returns it normalised in RV(model) - every option present, names sorted, the
    shape every other part of the collection takes. A bad model fails the host with one message (C(msg))
    that lists every problem, one line each naming the host, the object, what is wrong and the fix,
    before anything on the host is touched.
  - Chooses the renderer (O(renderer), else the model's C(renderer), C(auto) by OS facts - Ubuntu
    netplan, Debian ifupdown, EL 8 and later networkmanager, EL 7 ifcfg) and, with O(render=true),
    renders the host's files and Open vSwitch state in RV(rendered), ready for
    M(cloudstack_kvm.networking.kvm_network_apply).
  - Normalising is done once per host and run - pass the previous result as O(previous) and, when the
    model is the same (RV(fingerprint)), its normalised model is taken instead of normalising again. The
    collection's roles share one such result per host.
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._attributes.facts
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
  check_mode:
    support: full
    details:
      - Changes nothing; runs the same in check mode.
  diff_mode:
    support: none
  facts:
    support: full
    details:
      - Returns the OS facts it read (C(setup) with C(gather_subset=min)) when it had to choose the
        renderer by OS without them.
options:
  model:
    description:
      - The host's C(kvm_network), as written in the inventory or already normalised.
    type: raw
    required: true
  renderer:
    description:
      - Overrides the model's C(renderer) (the role variable C(kvm_network_renderer)).
    type: str
    choices: [netplan, ifupdown, networkmanager, ifcfg]
  choose_renderer:
    description:
      - Choose the renderer (RV(renderer)). V(false) only validates and normalises (reading no facts).
    type: bool
    default: true
  render:
    description:
      - Also render the host's files and Open vSwitch state (RV(rendered)).
    type: bool
    default: false
  header:
    description:
      - With O(render), the text put at the top of every rendered file as comments (for example
        C(lookup('ansible.builtin.config', 'DEFAULT_MANAGED_STR'))). It always names the collection.
    type: str
  hostname:
    description:
      - With O(render), the host name written where the configuration keeps one (EL7's
        C(/etc/sysconfig/network)).
    type: str
  ovs_database_only:
    description:
      - With O(render), leave Open vSwitch settings a renderer cannot write (netplan - C(datapath_type)
        netdev, STP, bond delays) to the database reconcile of M(cloudstack_kvm.networking.kvm_network_apply)
        instead of failing.
    type: bool
    default: false
  gather_facts:
    description:
      - When the renderer is chosen by OS and the play has no OS facts, read them from the host
        (C(setup) with C(gather_subset=min)). V(false) contacts no host; the renderer must then be known.
    type: bool
    default: true
  previous:
    description:
      - An earlier result of this action for the same host (its registered variable). When RV(fingerprint)
        matches, its RV(model) is reused.
    type: dict
  traffic:
    description:
      - Ping targets to check against the model (the role variable C(kvm_network_verify_traffic)), each
        C({bridge, target, count}) - the checks the modules that ping make, here on the controller. A
        bridge the model does not have, a target that is not an address or host name or a count below 1
        fails the host, before it is touched.
    type: list
    elements: raw
  libvirt_networks:
    description:
      - The host's libvirt networks (the role variable C(kvm_libvirt_networks)) to check against the model - a
        network naming a bridge or device the model does not have, overlapping DHCP ranges or subnets, a portgroup
        VLAN outside 1-4094, two default portgroups, a name libvirt refuses - every problem at once, before the host
        is touched. Returned normalised in RV(libvirt_networks).
    type: raw
notes:
  - O(model) that is not a mapping (C(kvm_network | default(none)) for a host without one) fails the host
    with a message that says to define C(kvm_network).
  - The filters C(kvm_network_validate), C(kvm_network_renderer) and C(kvm_network_render) do the same
    inside a template; a failing filter's message reaches the user wrapped in Ansible's template error
    text, this action's does not.
seealso:
  - module: cloudstack_kvm.networking.kvm_network_apply
'''

EXAMPLES = r'''
- name: Validate, choose the renderer and render (on the controller)
  cloudstack_kvm.networking.kvm_network_model:
    model: "{{ kvm_network }}"
    render: true
    header: "{{ lookup('ansible.builtin.config', 'DEFAULT_MANAGED_STR') }}"
    ovs_database_only: true
  register: desired

- name: Apply it
  cloudstack_kvm.networking.kvm_network_apply:
    renderer: "{{ desired.renderer }}"
    files: "{{ desired.rendered.files }}"
    owned: "{{ desired.rendered.owned }}"
    marker: "{{ desired.rendered.marker }}"
    ovs_state: "{{ desired.rendered.ovs_state }}"
    model: "{{ desired.model }}"

- name: Later in the run, the same model again, not normalised a second time
  cloudstack_kvm.networking.kvm_network_model:
    model: "{{ kvm_network }}"
    choose_renderer: false
    previous: "{{ desired }}"
  register: desired
'''

RETURN = r'''
model:
  description: The normalised model (see docs/model.md); it carries C(normalised) with the schema version.
  returned: success
  type: dict
  sample: {normalised: 1, backend: linux_bridge, renderer: auto, bridges: {cloudbr0: {uplink: eth0, port: eth0}}}
fingerprint:
  description: Stands for the model given and the host; equal fingerprints mean the same model.
  returned: always
  type: str
  sample: 3f1c9a0b5d2e4f6a8b7c9d0e1f2a3b4c
renderer:
  description: The renderer the host gets; null with O(choose_renderer=false) and no O(render).
  returned: success
  type: str
  sample: netplan
needs:
  description: What the host needs because of the model (for host preparation).
  returned: success
  type: dict
  contains:
    kernel_modules:
      description: The kernel modules the backend needs (openvswitch; or bridge, and bonding and 8021q when used).
      type: list
      elements: str
    linux_bonds:
      description: Whether the host has Linux bonds.
      type: bool
    vlans:
      description: Whether the host has Linux VLAN devices.
      type: bool
    nameservers:
      description: Whether a bridge has DNS servers.
      type: bool
    ipv6:
      description: Where IPv6 is used (addresses, then bridges with gateway6, with dhcp6).
      type: list
      elements: str
    management_address:
      description: The first address of the management traffic label's bridge, without prefix, or empty.
      type: str
    gateways:
      description: "The default gateways, each as C({target, bridge}) (the default confirmation targets of a
        safe apply)."
      type: list
      elements: dict
  sample: {kernel_modules: [bridge, bonding], linux_bonds: true, vlans: false, nameservers: true, ipv6: [],
           management_address: 198.51.100.11, gateways: [{target: 198.51.100.1, bridge: cloudbr0}]}
libvirt_networks:
  description: With O(libvirt_networks) - the networks normalised, by name (see docs/guest-networking.md).
  returned: when O(libvirt_networks) is given
  type: dict
msg:
  description: With O(render) - what the host gets, in one line (the backend, the renderer and the files).
  returned: when O(render=true)
  type: str
  sample: "linux_bridge by netplan: /etc/netplan/60-cloudstack-kvm.yaml"
rendered:
  description: With O(render) - the renderer's files (C(path), C(content), C(mode)), C(owned) globs, C(marker),
    C(ovs_state), C(ovs_commands) and C(ovs_script) (the ovs-vsctl commands that build the Open vSwitch state
    from nothing, one shell line each), as the C(kvm_network_render) filter returns them.
  returned: when O(render=true)
  type: dict
'''
