#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_network_facts
short_description: Gather the realised network of a KVM host in the shape of the kvm_network model
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Reads what is actually configured on the host right now, links, addresses, default routes,
    Linux bridges and their ports, Linux bonds and their active member, VLAN devices,
    Open vSwitch bridges (fake bridges included), ports, bonds, internal ports and tags,
    CloudStack's C(cloud0) bridge, and the network stack that owns each interface.
  - Returns it twice in RV(ansible_facts.host_network). Once as raw normalised sections, and once
    as RV(ansible_facts.host_network.model), which has the shape of the C(kvm_network) host model
    (C(backend), C(ethernets), C(bonds), C(bridges)). A verify step can then compare the wanted
    model with the realised one key by key.
  - Only machine-readable sources are used. These are C(ip -j -d link show), C(ip -j addr show),
    C(ip -j -4/-6 route show default), C(ovs-vsctl --format=json --data=json list),
    C(nmcli --terse), C(/sys/class/net), C(/proc/net/vlan/config) and the state files of
    systemd-networkd and ifupdown. The text of C(/proc/net/bonding/BOND) is read only for what
    the JSON of the running C(ip) does not contain (the active member and member order on old
    iproute2).
  - The active member of an Open vSwitch bond comes from the Port column C(bond_active_slave), a
    MAC address, which is mapped to the member whose C(mac_in_use) it is. C(ovs-appctl bond/show)
    has no machine-readable output and is not used.
  - Missing pieces are not errors. A host without Open vSwitch, without bonds, or without the
    8021q module (no C(/proc/net/vlan)) gives empty sections.
requirements:
  - iproute2 4.14 or later on the managed host (JSON output of C(ip -j))
  - ovs-vsctl on the managed host to read Open vSwitch (optional)
  - nmcli on the managed host to tell which interfaces NetworkManager owns (optional)
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._attributes.facts
  - cloudstack_kvm.networking._attributes.info_module
options:
  gather:
    description:
      - The sections to return. V(all) returns every section.
      - V(model) needs the link, address, route, bridge, bond, VLAN and OVS readings and gathers
        them, but returns only the sections asked for.
      - V(owners) runs C(nmcli) when it is installed and reads the stack state files.
      - V(gathered) is the realised network as a C(kvm_network) the user could have written (what
        C(playbooks/adopt.yml) writes); V(all) does not include it. Its C(renderer) is the system
        that configures the bridges now (read as for V(owners)), so that a takeover keeps them there.
    type: list
    elements: str
    choices: [all, links, addresses, routes, bridges, bonds, vlans, ovs, cloud0, owners, model, gathered]
    default: [all]
  ovs:
    description:
      - Whether to read the Open vSwitch database.
      - V(auto) reads it when C(ovs-vsctl) is installed. If the database does not answer
        (Open vSwitch installed but not running) the module warns and reports
        RV(ansible_facts.host_network.ovs) with C(available=false).
      - V(true) reads it and fails when it cannot.
      - V(false) does not read it. The OVS section is then reported as not available.
    type: str
    choices: [auto, 'true', 'false']
    default: auto
  ovs_timeout:
    description:
      - Seconds C(ovs-vsctl) waits for the database (C(--timeout)).
    type: int
    default: 5
  connection_address:
    description:
      - The address the host is reached at (its C(ansible_host)). With V(gathered), the bridge that
        holds it is the model's C(traffic_labels.management) (C(playbooks/adopt.yml) passes it).
    type: str
  traffic:
    description:
      - Addresses to ping from the host, each through a bridge, after reading the network. The
        results are in RV(traffic). This is the same probe the apply's read-back and safe apply's
        confirmation use (C(ping -n -c 1 -w COUNT -I BRIDGE TARGET)).
      - A target that does not answer is not a failure of the module; RV(traffic) says what happened
        in plain words (C(reason)).
    type: list
    elements: dict
    default: []
    suboptions:
      target:
        description: The address to ping.
        type: str
        required: true
      bridge:
        description: The interface to ping through (C(ping -I)).
        type: str
        required: true
      count:
        description:
          - How many pings at most, one a second; the first answer ends the probe (a target that
            answers costs a round trip, a silent one C(count) seconds).
        type: int
        default: 3
notes:
  - Which stack owns an interface is decided in this order. A NetworkManager active connection
    (V(netplan) when its file was generated by netplan, else V(networkmanager)) comes first. Then
    a systemd-networkd link state with a C(.network) file (V(netplan) for netplan's generated
    files, else V(networkd)). Then ifupdown's state (V(ifupdown)). Then an EL network-scripts
    C(ifcfg-NAME) file when NetworkManager does not own the interface (V(ifcfg)). Otherwise the
    owner is V(unknown).
  - In the model, C(cloud0) (CloudStack's link-local bridge) and libvirt's C(virbrN) bridges
    are not listed under C(bridges). C(cloud0) has its own section.
  - Interfaces of kind C(veth) count as Ethernet NICs in the model, so the lab's containers (veth
    NICs) are described like hardware hosts.
seealso:
  - module: cloudstack_kvm.networking.cloudstack_agent_props
  - module: cloudstack_kvm.networking.ovs_bond
'''

EXAMPLES = r'''
- name: Read the realised network
  cloudstack_kvm.networking.host_network_facts:

- name: Compare the realised bridges with the model
  ansible.builtin.assert:
    that:
      - ansible_facts.host_network.model.bridges[item.key].uplink == item.value.uplink
      - ansible_facts.host_network.model.bridges[item.key].vlan == item.value.vlan | default(none)
    fail_msg: "bridge {{ item.key }} is not as modelled"
  loop: "{{ kvm_network.bridges | dict2items }}"

- name: Only bonds and their active members, never reading Open vSwitch
  cloudstack_kvm.networking.host_network_facts:
    gather: [bonds]
    ovs: false

- name: Fail when the Open vSwitch database cannot be read
  cloudstack_kvm.networking.host_network_facts:
    ovs: true
    gather: [ovs, model]

- name: Show which stack owns cloudbr0
  ansible.builtin.debug:
    msg: "{{ ansible_facts.host_network.owners.cloudbr0.owner }}"
'''

RETURN = r'''
traffic:
  description:
    - One result per O(traffic) target, in the shape of an C(ansible.builtin.command) loop item
      (C(item), C(rc), C(stdout_lines), C(stderr_lines)), with C(answered) and C(reason) (what did
      not answer and why, in plain words; empty when it answered).
  returned: always
  type: list
  elements: dict
  sample: [{"item": {"target": "198.51.100.254", "bridge": "cloudbr0", "count": 3}, "rc": 1, "answered": false,
            "reason": "none of 3 pings to 198.51.100.254 through cloudbr0 answered", "stdout_lines": [], "stderr_lines": []}]
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    host_network:
      description: The realised network. Only the sections asked for in O(gather) are present.
      returned: always
      type: dict
      contains:
        links:
          description:
            - Every link by name, with C(type) (ethernet, veth, bridge, bond, vlan, tun,
              openvswitch, loopback, ...), C(state) (operstate, lower case), C(admin_up),
              C(carrier), C(mac), C(permanent_mac) (the NIC's own MAC when a bond changed it),
              C(mtu), C(master), C(link) (parent of a VLAN or veth), C(slave_type), C(ifindex)
              and C(physical) (a hardware device in /sys), and C(sriov) for an SR-IOV physical function
              (C(totalvfs), C(numvfs) from sysfs; null otherwise).
          returned: when gathered
          type: dict
          sample: {"eth0": {"type": "ethernet", "state": "up", "mac": "52:54:00:aa:bb:02",
                   "permanent_mac": "52:54:00:aa:bb:01", "mtu": 1500, "master": "bond0",
                   "slave_type": "bond", "physical": true}}
        addresses:
          description: Addresses by link name, each with C(address), C(prefixlen), C(cidr), C(family)
            (4 or 6), C(scope) and C(dynamic) (DHCP or SLAAC).
          returned: when gathered
          type: dict
        routes:
          description: Default routes, C(ipv4) and C(ipv6) lists of C(gateway), C(dev), C(metric),
            C(protocol), lowest metric first.
          returned: when gathered
          type: dict
          sample: {"ipv4": [{"gateway": "198.51.100.1", "dev": "cloudbr0", "metric": 0, "protocol": "static"}],
                   "ipv6": []}
        linux_bridges:
          description: Linux bridges by name, with C(ports), C(stp), C(forward_delay) (seconds),
            C(mtu) and C(mac).
          returned: when O(gather) has V(bridges) or V(all)
          type: dict
          sample: {"cloudbr0": {"ports": ["bond0", "vnet0"], "stp": false, "forward_delay": 0, "mtu": 1500,
                   "mac": "52:54:00:aa:bb:02"}}
        bonds:
          description:
            - Linux bonds by name, with C(mode), C(miimon), C(updelay), C(downdelay),
              C(primary), C(members) (in enslavement order), C(active) (the active member),
              C(lacp_rate) (802.3ad only), C(xmit_hash_policy) (hashing modes only), C(mtu), C(mac)
              and C(member_permanent_macs).
          returned: when gathered
          type: dict
        vlans:
          description: Linux VLAN devices by name, with C(id), C(link) (the parent) and C(protocol).
          returned: when gathered
          type: dict
          sample: {"bond0.100": {"id": 100, "link": "bond0", "protocol": "802.1Q"}}
        ovs:
          description:
            - Open vSwitch. C(available) tells whether the database was read (C(reason) says why
              not). C(version) is the OVS version.
            - C(bridges) lists bridges by name, with C(datapath_type), C(fake), C(parent) and
              C(vlan) (fake bridges), C(stp), C(fail_mode), C(forward_delay) and C(ports). Each
              port has C(type) (bond, internal, system, vm, patch, ...), C(tag), C(trunks),
              C(vlan_mode), C(interfaces) and C(fake_bridge).
            - C(bonds) lists bond ports by name, with C(bridge), C(mode), C(lacp), C(lacp_rate),
              C(miimon) (0 means carrier detection), C(updelay), C(downdelay), C(primary),
              C(members), C(active) and C(active_mac).
            - C(internal_ports) maps each internal interface to its C(bridge), C(port) and C(tag).
            - C(interfaces) maps every interface to its C(type), C(mac_in_use), C(ofport),
              C(link_state), C(admin_state), C(mtu), C(port), C(bridge) and C(vm) (a guest's port).
          returned: when gathered
          type: dict
        cloud0:
          description: CloudStack's link-local bridge, with C(type) (linux_bridge or openvswitch),
            C(state), C(addresses) and C(ports), or null when there is none.
          returned: when gathered
          type: dict
        owners:
          description:
            - For each interface, C(owner) is V(netplan), V(networkmanager), V(networkd),
              V(ifupdown), V(ifcfg) or V(unknown). C(file) is the configuration file when known.
          returned: when gathered
          type: dict
          sample: {"cloudbr0": {"owner": "netplan", "file": "/run/systemd/network/10-netplan-cloudbr0.network"}}
        model:
          description:
            - The realised network in the shape of the normalised C(kvm_network) model.
            - C(backend) is V(linux_bridge), V(openvswitch), V(mixed) (both kinds of bridge, not
              counting C(cloud0) and C(virbrN)) or null (no bridge).
            - C(ethernets) lists NICs with C(match.macaddress) (the permanent MAC), C(mtu), C(bond)
              and C(bridge).
            - C(bonds) have C(interfaces), C(mode), C(miimon), C(updelay), C(downdelay),
              C(primary), C(lacp) (OVS), C(lacp_rate), C(xmit_hash_policy), C(mtu), C(bridge) and
              C(active).
            - C(bridges) have C(uplink) (the NIC or bond), C(uplink_kind), C(vlan), C(vlan_interface)
              (Linux VLAN device), C(parent) (OVS fake bridge), C(port) (what is plugged into the
              bridge), C(ports), C(addresses) (static, global, as CIDR), C(dhcp4), C(gateway4),
              C(gateway6), C(mtu), C(stp), C(forward_delay) (seconds) and C(type).
            - C(vlans) lists Linux VLAN devices with C(id), C(link) and C(bridge). C(ovs) holds the
              C(datapath_type) when Open vSwitch has bridges.
          returned: when gathered
          type: dict
          sample:
            backend: linux_bridge
            bonds:
              bond0: {interfaces: [eth1, eth0], mode: active-backup, miimon: 100, updelay: 0, downdelay: 0,
                      primary: null, lacp: null, lacp_rate: null, xmit_hash_policy: null, mtu: 1500,
                      bridge: cloudbr0, active: eth1}
            bridges:
              cloudbr100: {uplink: bond0, uplink_kind: bond, vlan: 100, vlan_interface: bond0.100,
                           port: bond0.100, addresses: [203.0.113.20/24], gateway4: null}
        gathered:
          description:
            - The realised network as a C(kvm_network) the user could have written (C(kvm_network)) - it validates,
              and verify finds no difference between it and the host - with only what differs from the model's
              defaults, and C(left_out) - what the model cannot express or the network cannot tell (unused NICs and
              bonds, bridges without an uplink, DNS, traffic labels, NIC names given by MAC), one sentence each.
          returned: when O(gather) has V(gathered)
          type: dict
          sample:
            kvm_network:
              backend: linux_bridge
              ethernets: {eth0: {}, eth1: {}}
              bonds: {bond0: {interfaces: [eth0, eth1], mode: active-backup}}
              bridges:
                cloudbr0: {uplink: bond0, addresses: [198.51.100.20/24], gateway4: 198.51.100.1}
                cloudbr100: {uplink: bond0, vlan: 100, addresses: [203.0.113.20/24]}
            left_out: ["ethernet mgmt0: no bridge or bond of the model uses it (the management NIC of a lab, a spare NIC): left out"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import probe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import NetFactsError
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.reader import GATHERED, SECTIONS, read_host_network
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsError

# Where /proc, /sys, /run and /etc are read from (tests point it at a recorded tree).
SYS_ROOT = '/'


def gather(module):
    params = module.params
    sections = set(params['gather'])
    if 'all' in sections:
        sections = (sections - {'all'}) | set(SECTIONS)
    return read_host_network(module, sections, ovs=params['ovs'], ovs_timeout=params['ovs_timeout'], root=SYS_ROOT,
                             connection_address=params['connection_address'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gather=dict(type='list', elements='str', default=['all'],
                        choices=['all'] + list(SECTIONS) + [GATHERED]),
            ovs=dict(type='str', default='auto', choices=['auto', 'true', 'false']),
            ovs_timeout=dict(type='int', default=5),
            traffic=probe.targets_argument_spec(),
            connection_address=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    problems = probe.target_problems(module.params['traffic'], 'traffic')
    if problems:
        module.fail_json(msg='; '.join(problems))
    try:
        facts = gather(module)
    except NetFactsError as e:
        module.fail_json(msg=str(e), cmd=e.cmd, rc=e.rc, stderr=e.stderr)
    except OvsError as e:
        module.fail_json(**e.fail_kwargs())
    module.exit_json(changed=False, ansible_facts={'host_network': facts},
                     traffic=probe.probes(module, module.params['traffic']))


if __name__ == '__main__':
    main()
