#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: netplan_bridge
short_description: Manage a bridge and its uplink in the collection's netplan file
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Adds, updates or removes one bridge and the uplink that feeds it (a NIC, a bond of NICs, or a
    VLAN of either) in the netplan file the collection owns, by default
    C(/etc/netplan/60-cloudstack-kvm.yaml). Other bridges in that file are kept; files the
    collection does not own (without the C(cloudstack_kvm.networking) marker line) are never changed.
  - The bridge is checked with the same model validation as C(kvm_network) (addresses in CIDR
    notation, gateways inside a subnet, bond options valid for the mode, interface names the
    CloudStack agent accepts), rendered with the collection's netplan renderer, merged into the file,
    and the whole netplan configuration (all files of C(/lib/netplan), C(/etc/netplan),
    C(/run/netplan)) is validated with C(netplan generate --root-dir) on a scratch copy before
    anything is written. The file is written atomically (mode C(0600)), with an optional backup.
  - O(state=absent) removes the bridge and whatever only it used (its VLAN device, its bond, the
    bond's NICs), and removes the file when nothing is left in it.
  - This module never applies the configuration (no C(netplan apply)); applying is a separate,
    explicit step (for example C(netplan apply) in a handler, or the role
    C(cloudstack_kvm.networking.kvm_network), whose M(cloudstack_kvm.networking.kvm_network_apply) call
    activates only what changed).
  - With O(backend=openvswitch) the bridge and bond are written with netplan's C(openvswitch) keys, and
    a bridge with O(vlan) is an Open vSwitch fake bridge on the untagged bridge of the same uplink,
    which must already be in the file.
requirements:
  - PyYAML (C(python3-yaml), a dependency of netplan.io) on the managed host
  - netplan (C(netplan.io)) on the managed host, for validation
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the file, validates the result with C(netplan generate) in a scratch
        directory and reports the change and diff a real run would make, without writing.
  diff_mode:
    support: full
    details:
      - The diff is the owned file's text before and after.
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
options:
  name:
    description:
      - Name of the bridge, for example C(cloudbr0).
    type: str
    required: true
  state:
    description:
      - C(present) adds or updates the bridge; C(absent) removes it and whatever only it used.
    type: str
    choices: [present, absent]
    default: present
  backend:
    description:
      - C(linux_bridge) for Linux bridges, bonds and VLAN devices; C(openvswitch) for netplan's
        Open vSwitch keys.
    type: str
    choices: [linux_bridge, openvswitch]
    default: linux_bridge
  uplink:
    description:
      - The NIC or bond that feeds the bridge. A bond is described by O(bond) or is already in the
        file. Omit it for a host-only bridge.
    type: str
  bond:
    description:
      - The bond named O(uplink), as in C(kvm_network.bonds). Given, it replaces the bond's
        definition in the file (other bridges on the same bond see the change); omitted, the bond
        already in the file is used unchanged.
    type: dict
    suboptions:
      interfaces:
        description: Member NICs.
        type: list
        elements: str
        required: true
      mode:
        description: Bond mode (Linux modes, or C(active-backup), C(balance-slb), C(balance-tcp) for Open vSwitch).
        type: str
        default: active-backup
      miimon:
        description: Link monitoring interval in milliseconds; C(0) turns MII monitoring off.
        type: int
        default: 100
      updelay:
        description: Milliseconds before an interface that came up is used (Linux bonds only in netplan).
        type: int
      downdelay:
        description: Milliseconds before an interface that went down is disabled (Linux bonds only in netplan).
        type: int
      primary:
        description: The preferred member.
        type: str
      lacp:
        description: Open vSwitch LACP (C(off), C(active), C(passive)).
        type: str
        choices: ['off', active, passive]
      lacp_rate:
        description: LACP rate (C(slow) or C(fast)).
        type: str
        choices: [slow, fast]
      xmit_hash_policy:
        description: Linux transmit hash policy.
        type: str
      mtu:
        description: MTU of the bond (Open vSwitch - of its members).
        type: int
  ethernets:
    description:
      - Options of the NICs the uplink uses, keyed by NIC name (C(match.macaddress) renames the NIC
        found by that MAC to the key; C(mtu)). NICs not given here keep their entry in the file, or
        get a plain one.
    type: dict
  vlan:
    description:
      - VLAN ID 1-4094. Linux bridge - the bridge's port is the VLAN device O(vlan_interface) on
        O(uplink). Open vSwitch - the bridge is a fake bridge on the untagged bridge of O(uplink).
    type: int
  vlan_interface:
    description:
      - Name of the Linux VLAN device; default C(<uplink>.<vlan>).
    type: str
  addresses:
    description: IPv4 and IPv6 addresses in CIDR notation.
    type: list
    elements: str
    default: []
  dhcp4:
    description: DHCP for IPv4.
    type: bool
    default: false
  dhcp6:
    description: DHCP for IPv6.
    type: bool
    default: false
  gateway4:
    description: IPv4 default gateway (written as a C(0.0.0.0/0) route).
    type: str
  gateway6:
    description: IPv6 default gateway (written as a C(::/0) route).
    type: str
  nameservers:
    description: DNS servers and search domains.
    type: dict
    suboptions:
      addresses:
        description: DNS server addresses.
        type: list
        elements: str
        default: []
      search:
        description: Search domains.
        type: list
        elements: str
        default: []
  routes:
    description: Static routes.
    type: list
    elements: dict
    default: []
    suboptions:
      to:
        description: Destination network in CIDR notation, or C(default).
        type: str
        required: true
      via:
        description: Next hop.
        type: str
        required: true
      metric:
        description: Route metric.
        type: int
  mtu:
    description: MTU of the bridge.
    type: int
  stp:
    description: Spanning Tree Protocol on a Linux bridge (netplan cannot set it on Open vSwitch bridges).
    type: bool
    default: false
  forward_delay:
    description: Forward delay in seconds (Linux bridge); default C(0), or C(15) with O(stp).
    type: int
  check_cloudstack_port_names:
    description:
      - Refuse a bridge port whose name the CloudStack agent does not recognise as a physical
        device (C(eth*), C(bond*), C(en*), ...). Set to C(false) for hosts not used by CloudStack.
    type: bool
    default: true
  path:
    description: The collection's netplan file, as a path on the host (below O(root_dir)).
    type: path
    default: /etc/netplan/60-cloudstack-kvm.yaml
  root_dir:
    description:
      - Root directory the netplan configuration lives under. For testing and staging only - the
        default C(/) is the host's own configuration.
    type: path
    default: /
  validate:
    description: Validate the resulting configuration with C(netplan generate --root-dir) on a scratch copy before writing.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the file before changing or removing it.
    type: bool
    default: false
notes:
  - Default routes are written as C(routes) with C(to 0.0.0.0/0) / C(::/0), which every netplan version
    accepts without the deprecation warning of C(gateway4)/C(gateway6).
  - The whole-host alternative is the C(kvm_network) model rendered by the roles; this module is a
    building block for playbooks that manage one bridge at a time.
seealso:
  - name: netplan reference
    description: The netplan YAML format.
    link: https://netplan.readthedocs.io/en/stable/netplan-yaml/
'''

EXAMPLES = r'''
- name: Management bridge on an active-backup bond, as in CloudStack's KVM guide
  cloudstack_kvm.networking.netplan_bridge:
    name: cloudbr0
    uplink: bond0
    bond:
      interfaces: [eth0, eth1]
      mode: active-backup
      miimon: 100
      primary: eth0
    addresses: [192.168.100.20/24]
    gateway4: 192.168.100.1
    nameservers:
      addresses: [192.168.100.5, 192.168.100.6]
      search: [mycloud.local]

- name: Storage bridge on VLAN 100 of the same bond (the bond in the file is reused)
  cloudstack_kvm.networking.netplan_bridge:
    name: cloudbr100
    uplink: bond0
    vlan: 100
    addresses: [10.0.100.20/24]

- name: Public bridge without an address on a second bond
  cloudstack_kvm.networking.netplan_bridge:
    name: cloudbr1
    uplink: bond1
    bond: {interfaces: [eth2, eth3], mode: active-backup, primary: eth2}

- name: Open vSwitch bridge and fake bridge
  cloudstack_kvm.networking.netplan_bridge:
    name: "{{ item.name }}"
    backend: openvswitch
    uplink: bond0
    bond: {interfaces: [eth0, eth1], mode: active-backup, lacp: "off", miimon: 100}
    vlan: "{{ item.vlan | default(omit) }}"
    addresses: "{{ item.addresses }}"
  loop:
    - {name: cloudbr0, addresses: [192.168.100.20/24]}
    - {name: cloudbr100, vlan: 100, addresses: [10.0.100.20/24]}

- name: Remove the storage bridge (and bond0.100, which only it used)
  cloudstack_kvm.networking.netplan_bridge:
    name: cloudbr100
    state: absent
'''

RETURN = r'''
path:
  description: The netplan file on the host (below O(root_dir)).
  returned: always
  type: str
  sample: /etc/netplan/60-cloudstack-kvm.yaml
content:
  description: The file's text after the change (what was or, in check mode, would be written); null when the file is (or would be) removed.
  returned: always
  type: str
differences:
  description: Every netplan entry that changes, as C(name) (C(section.object)), C(active) (null when new) and C(wanted) (null when removed).
  returned: always
  type: list
  elements: dict
  sample: [{name: bridges.cloudbr100, active: null, wanted: {interfaces: [bond0.100], addresses: [10.0.100.20/24]}}]
removed:
  description:
    - Entries removed - with O(state=absent) the bridge and what only it used; with O(state=present)
      what only the bridge's previous uplink used (for example the old bond when the uplink changes).
  returned: always
  type: list
  elements: str
  sample: [bridges.cloudbr100, vlans.bond0.100]
validated:
  description: Whether C(netplan generate) validated the new configuration in this run.
  returned: always
  type: bool
backup_file:
  description: The backup of the previous file.
  returned: when O(backup=true) and the file was changed
  type: str
'''

import copy
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root, backup, write_atomic
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.netplan import NetplanCli
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import LACP_MODES, ModuleFailure, plain_copy
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import ModelError, normalise
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render import netplan_file as _netplan
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.netplan import MODE
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.netplan import network as render_network

BRIDGE_KEYS = ('vlan', 'vlan_interface', 'addresses', 'dhcp4', 'dhcp6', 'gateway4', 'gateway6', 'nameservers',
               'routes', 'mtu', 'stp', 'forward_delay')


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        backend=dict(type='str', choices=['linux_bridge', 'openvswitch'], default='linux_bridge'),
        uplink=dict(type='str'),
        bond=dict(type='dict', options=dict(
            interfaces=dict(type='list', elements='str', required=True),
            mode=dict(type='str', default='active-backup'),
            miimon=dict(type='int', default=100),
            updelay=dict(type='int'),
            downdelay=dict(type='int'),
            primary=dict(type='str'),
            lacp=dict(type='str', choices=list(LACP_MODES)),
            lacp_rate=dict(type='str', choices=['slow', 'fast']),
            xmit_hash_policy=dict(type='str'),
            mtu=dict(type='int'),
        )),
        ethernets=dict(type='dict'),
        vlan=dict(type='int'),
        vlan_interface=dict(type='str'),
        addresses=dict(type='list', elements='str', default=[]),
        dhcp4=dict(type='bool', default=False),
        dhcp6=dict(type='bool', default=False),
        gateway4=dict(type='str'),
        gateway6=dict(type='str'),
        nameservers=dict(type='dict', options=dict(
            addresses=dict(type='list', elements='str', default=[]),
            search=dict(type='list', elements='str', default=[]),
        )),
        routes=dict(type='list', elements='dict', default=[], options=dict(
            to=dict(type='str', required=True),
            via=dict(type='str', required=True),
            metric=dict(type='int'),
        )),
        mtu=dict(type='int'),
        stp=dict(type='bool', default=False),
        forward_delay=dict(type='int'),
        check_cloudstack_port_names=dict(type='bool', default=True),
        path=dict(type='path', default=_netplan.DEFAULT_PATH),
        root_dir=dict(type='path', default='/'),
        validate=dict(type='bool', default=True),
        backup=dict(type='bool', default=False),
    )


def _clean(mapping):
    return dict((k, v) for k, v in mapping.items() if v is not None)


def desired_entries(params, network):
    """The netplan entries this bridge writes: {(section, name): entry}."""
    name = params['name']
    ovs = params['backend'] == 'openvswitch'
    uplink = params['uplink']
    given_eths = params['ethernets'] or {}
    for nic, opts in given_eths.items():
        if opts is not None and not isinstance(opts, dict):
            raise ModuleFailure('ethernets.%s must be a mapping (match, mtu), not %r. Fix: write %s: {} or '
                                '%s: {mtu: 9000}.' % (nic, opts, nic, nic))
    existing = dict((s, network.get(s) or {}) for s in _netplan.SECTIONS)

    bridge = dict((k, params[k]) for k in BRIDGE_KEYS if params[k] not in (None, []))
    if params['nameservers']:
        bridge['nameservers'] = params['nameservers']
    if uplink:
        bridge['uplink'] = uplink
    data = {'backend': params['backend'], 'ethernets': {}, 'bonds': {}, 'bridges': {name: bridge},
            'check_cloudstack_port_names': params['check_cloudstack_port_names']}

    bond_declared = params['bond'] is not None
    if uplink:
        if bond_declared:
            data['bonds'][uplink] = _clean(params['bond'])
        elif uplink in existing['bonds']:
            data['bonds'][uplink] = _netplan.bond_options(existing['bonds'][uplink], ovs)
        nics = data['bonds'][uplink]['interfaces'] if uplink in data['bonds'] else [uplink]
        for nic in nics:
            if nic in given_eths:
                data['ethernets'][nic] = dict(given_eths[nic] or {})
            elif nic in existing['ethernets']:
                data['ethernets'][nic] = _netplan.ethernet_options(existing['ethernets'][nic])
            else:
                data['ethernets'][nic] = {}
    extra = sorted(set(given_eths) - set(data['ethernets']))
    if extra:
        raise ModuleFailure('bridge %s: ethernets %s are not used by uplink %s. Fix: list only the uplink NIC '
                            'or the bond members.' % (name, ', '.join(extra), uplink or '(none)'))

    parent = None
    if ovs and params['vlan'] is not None:
        parents = [b for b, e in existing['bridges'].items()
                   if b != name and uplink and uplink in ((e or {}).get('interfaces') or [])]
        if not parents:
            raise ModuleFailure(
                'bridge %s: an Open vSwitch VLAN bridge is a fake bridge on the untagged bridge of its uplink %s, and '
                'no bridge in the file has %s as its port. Fix: add the untagged bridge first (netplan_bridge with '
                'uplink %s and no vlan).' % (name, uplink, uplink, uplink))
        parent = parents[0]
        data['bridges'][parent] = {'uplink': uplink}

    try:
        model = normalise(data)
    except ModelError as exc:
        # The model's problems name their object already ("bridge cloudbr0: ..."): prefix only when not.
        text = ' '.join(exc.problems)
        prefix = 'bridge %s: ' % name
        raise ModuleFailure(text if text.startswith(prefix) else prefix + text, problems=exc.problems)
    rendered, database_only = render_network(model)
    if database_only:
        raise ModuleFailure('bridge %s: %s. Fix: drop them; netplan has no key for these Open vSwitch settings '
                            '(the ovs_bridge / ovs_bond modules set them in the Open vSwitch database).'
                            % (name, '; '.join('%s %s (%s)' % d for d in database_only)))
    net = rendered['network']

    wanted = {}
    if ovs and parent:
        wanted[('vlans', name)] = net['vlans'][name]
    else:
        wanted[('bridges', name)] = net['bridges'][name]
        vif = model['bridges'][name]['vlan_interface']
        if vif:
            wanted[('vlans', vif)] = net['vlans'][vif]
    if uplink and uplink in model['bonds'] and (bond_declared or uplink not in existing['bonds']):
        wanted[('bonds', uplink)] = net['bonds'][uplink]
    for nic in model['ethernets']:
        if nic in given_eths or nic not in existing['ethernets']:
            wanted[('ethernets', nic)] = net['ethernets'][nic]
    return plain_copy(wanted)


def merge(network, wanted, name):
    merged = copy.deepcopy(network)
    # A bridge that changes kind (Linux bridge <-> fake bridge) leaves its old entry.
    if ('vlans', name) in wanted and name in (merged.get('bridges') or {}):
        merged['bridges'].pop(name)
    if ('bridges', name) in wanted and _netplan.bridge_kind(merged, name) == 'fake':
        merged['vlans'].pop(name)
    old_ports = _netplan.used_by_bridge(merged, name)
    for (section, obj), entry in wanted.items():
        merged.setdefault(section, {})[obj] = entry
    # What only the bridge's previous uplink used goes with it (e.g. uplink bond0 -> bond1).
    pruned = _netplan.prune(merged, old_ports)
    return merged, pruned


def track(before, after):
    tracker = DifferenceTracker()
    for section in _netplan.SECTIONS:
        old = before.get(section) or {}
        new = after.get(section) or {}
        for obj in sorted(set(old) | set(new)):
            tracker.add('%s.%s' % (section, obj), old.get(obj), new.get(obj))
    for key in ('version', 'renderer'):
        if before and before.get(key) != after.get(key):
            tracker.add(key, before.get(key), after.get(key))
    return tracker


def run(module, cli):
    params = module.params
    real_path = Root(params['root_dir']).real(params['path'])
    text, network = _netplan.read_owned(real_path)
    removed = []
    if params['state'] == 'present':
        wanted = desired_entries(params, network)
        merged, removed = merge(network, wanted, params['name'])
        after = _netplan.canonical(merged)
    else:
        pruned, removed = _netplan.remove_bridge(network, params['name'])
        after = _netplan.canonical(pruned) if not _netplan.is_empty(pruned) else {}
    before = _netplan.canonical(network) if network else {}
    tracker = track(before, after)
    changed = tracker.has_differences
    new_text = _netplan.emit(after) if after else None

    result = dict(changed=changed, path=real_path, content=new_text if after else None,
                  differences=tracker.differences, removed=removed, validated=False)
    if changed and params['validate']:
        rc, out, err = cli.validate(params['root_dir'], params['path'], new_text)
        if rc != 0:
            raise ModuleFailure('netplan rejects the configuration with bridge %s %s: %s. Fix: correct the '
                                'options named above; nothing was written.'
                                % (params['name'], 'removed' if params['state'] == 'absent' else 'merged',
                                   (err or out).strip()),
                                rc=rc, stdout=out, stderr=err, content=new_text)
        result['validated'] = True
    if module._diff:
        result['diff'] = dict(before=text or '', after=new_text or '',
                              before_header=real_path, after_header=real_path)
    if changed and not module.check_mode:
        backup_file = backup(real_path) if params['backup'] and os.path.exists(real_path) else None
        if new_text is None:
            if os.path.exists(real_path):
                os.unlink(real_path)
        else:
            write_atomic(module, real_path, new_text, MODE)
        if backup_file:
            result['backup_file'] = backup_file
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_by=dict(vlan=('uplink',), bond=('uplink',), vlan_interface=('vlan',)),
    )
    if not _netplan.HAS_YAML:
        module.fail_json(msg=missing_required_lib('PyYAML (python3-yaml)'), exception=_netplan.YAML_IMPORT_ERROR)
    if not os.path.isabs(module.params['path']):
        module.fail_json(msg='path %s is not absolute. Fix: give the path as on the host, e.g. %s.'
                         % (module.params['path'], _netplan.DEFAULT_PATH))
    try:
        result = run(module, NetplanCli(module))
    except ModuleFailure as exc:
        module.fail_json(msg=exc.msg, **exc.kwargs)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
