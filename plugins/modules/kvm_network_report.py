#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/kvm_network_report.py).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kvm_network_report
short_description: Draw each host's realised network and write one HTML fleet report, on the controller
version_added: 0.1.0
description:
  - Writes, in O(dest) on the controller, a Graphviz DOT diagram per host (C(HOST.dot)) of its NICs,
    bonds, VLAN interfaces, bridges (Open vSwitch fake bridges included) and libvirt networks, with the
    addresses, MTU, link state and the active bond member; every difference from the model is drawn in
    red on the object it concerns, and an object the model wants but the host lacks is drawn dashed.
  - With Graphviz's C(dot) on the controller, also C(HOST.svg), and the page shows the diagrams inline.
  - Writes C(index.html), one page for the run - every host with its backend, renderer, whether it
    was reached, in sync or not, its differences, its last apply and last rollback (from its
    snapshots) and its diagram - with checkboxes to filter by state and sortable columns. The page
    loads nothing from elsewhere.
  - The role C(cloudstack_kvm.networking.kvm_network_verify) runs it once per play with
    C(kvm_network_verify_report_dir) set; run C(playbooks/verify.yml -e kvm_network_verify_report_dir=DIR).
  - Changes nothing on the hosts; always reports C(changed=false).
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
  check_mode:
    support: full
    details:
      - Writes the report in check mode too (a file on the controller; the hosts are not touched).
  diff_mode:
    support: none
options:
  dest:
    description:
      - The directory on the controller the report is written in (created if missing). Files of the
        same names are replaced, each atomically.
    type: path
    required: true
  hosts:
    description:
      - One entry per host, keyed by inventory name.
      - C(reached) (bool) - the host answered; a host that did not is listed as C(unreachable).
      - C(host_network) - its realised network (C(ansible_facts.host_network) of
        M(cloudstack_kvm.networking.host_network_facts), with the C(model) view).
      - C(differences) - the filter C(cloudstack_kvm.networking.kvm_network_differences)'s result.
      - C(model) - the normalised model (M(cloudstack_kvm.networking.kvm_network_model)'s RV(cloudstack_kvm.networking.kvm_network_model#module:model)),
        which places what the host lacks in the diagram.
      - C(snapshots) - M(cloudstack_kvm.networking.kvm_network_snapshot)'s RV(cloudstack_kvm.networking.kvm_network_snapshot#module:snapshots)
        (C(action=list)), for the last apply and rollback.
      - C(backend), C(renderer), C(libvirt_networks) (the host's C(kvm_libvirt_networks), drawn from the
        model since the facts do not read libvirt).
    type: dict
    required: true
  svg:
    description:
      - V(auto) draws SVG when C(dot) is on the controller's PATH, V(always) fails without it, V(never)
        writes DOT only.
    type: str
    choices: [auto, always, never]
    default: auto
  title:
    description: The page's title.
    type: str
    default: KVM host networks
notes:
  - The diagram is drawn from the facts' model view, the same reading C(kvm_network_verify) compares;
    no tool's human output is parsed.
seealso:
  - module: cloudstack_kvm.networking.host_network_facts
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
'''

EXAMPLES = r'''
- name: Write the fleet report of this play's hosts
  cloudstack_kvm.networking.kvm_network_report:
    dest: /var/tmp/kvm-report
    hosts: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all
             | map('extract', hostvars, '__report_entry') | map('default', {'reached': false}))) }}
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
dest:
  description: The report's directory.
  returned: success
  type: str
index:
  description: The HTML page's path.
  returned: success
  type: str
  sample: /var/tmp/kvm-report/index.html
files:
  description: The files written, relative to RV(dest).
  returned: success
  type: list
  elements: str
  sample: [kvm1.dot, kvm1.svg, index.html]
svg:
  description: Whether SVG diagrams were drawn.
  returned: success
  type: bool
states:
  description: The hosts by state (C(drift), C(unreachable), C(in sync)).
  returned: success
  type: dict
  sample: {"drift": ["kvm2"], "unreachable": [], "in sync": ["kvm1"]}
'''
