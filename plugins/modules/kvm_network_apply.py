#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kvm_network_apply
short_description: Apply a rendered kvm_network to a host in one call (files, Open vSwitch, links)
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Reconciles a whole hypervisor's networking with a C(kvm_network) model that the controller has
    already validated and rendered (the C(cloudstack_kvm.networking.kvm_network_render) filter) - the
    network configuration files, configuration the collection does not own that would fight them, the
    live links, and the Open vSwitch database, in one module call that returns the whole diff.
  - B(Files.) Each rendered file is compared with the host's and written only when it differs
    (content or mode), atomically, after a backup of the previous content. A file at a rendered path that
    lacks the collection's marker line (for example the installer's C(ifcfg-eth0)) is backed up and
    replaced, and listed in RV(replaced_foreign). With O(prune), files the collection owned and the model
    no longer has are removed (backed up), and only files matching an O(owned) glob B(and) carrying the
    O(marker) line, never anything else. So a bridge dropped from the inventory goes away on the host.
  - B(Configuration the collection does not own.) ifupdown - stanzas in C(/etc/network/interfaces) and
    other C(/etc/network/interfaces.d) files for interfaces the model manages are commented out in place
    (backed up), and C(/etc/network/interfaces) gets a C(source) line for the collection's file when
    nothing sources it. NetworkManager - other profiles bound to a managed interface (for example
    C(Wired connection 1)) get C(connection.autoconnect no); they are never deleted. netplan - other
    netplan files that configure a managed interface are reported with a warning (netplan merges all its
    files; the collection's C(60-) file wins where both set a key), and as a conflict in RV(conflicts)
    when netplan would keep DHCP on the interface. ifcfg - other C(ifcfg-*) files for a managed device
    are reported.
  - B(Activation) (O(activate=true)) touches only what changed, found by comparing the old and new
    definition of every interface. netplan - C(netplan generate), then C(netplan apply); systemd-networkd
    then reconfigures what changed and does not take unchanged links down. If C(netplan generate) fails,
    the previous files are put back and nothing is applied. ifupdown - C(ifdown --force IFACE) with the
    old definition before the files change, C(ifup IFACE) after, in dependency order (NICs, bonds, VLAN
    devices, bridges; Open vSwitch bridges, then fake bridges, then ports); a bond or VLAN device that is
    re-created takes the bridge or VLAN built on it along. NetworkManager - C(nmcli connection load) for
    changed keyfiles, C(nmcli connection reload) when one was removed, C(nmcli connection up uuid UUID)
    for the changed profiles, controllers first and the ports of a re-activated controller after it.
    ifcfg (EL7) - C(ifdown)/C(ifup) per changed device as for ifupdown. The networking service is never
    restarted. A second run with the same input runs no activation command.
  - B(Guests.) With ifupdown and ifcfg, C(ifdown) of a bridge deletes it, and the ports CloudStack and
    libvirt plugged into it (C(vnet*)) with it. A bridge that carries ports the model does not describe
    is therefore not restarted (nor what would be re-added to it); its files are written, the result lists
    it in RV(activated.deferred) with a warning, and the change takes effect at its next restart, unless
    O(restart_bridges_with_guests=true).
  - B(Open vSwitch) (backend C(openvswitch)), after activation - one snapshot of the database, then one
    C(ovs-vsctl) transaction that brings it to O(ovs_state) - bridges and their C(datapath_type), fake
    bridges (parent and VLAN, and C(fake_bridge=true) on the port NetworkManager creates without it, so
    C(ovs-vsctl br-exists) and the CloudStack agent find the bridge), bond ports with their members and
    options, the MTU of the bridges' internal interfaces. It uses the planners of the C(ovs_bridge),
    C(ovs_bond) and C(ovs_port) modules. Bridges the model does not name, and ports on a managed bridge
    that are not the model's (guests' C(vnet*)/C(vif*) ports, anything added by hand), are left alone and
    listed in RV(ovs.foreign_ports). A bridge removed from the model is removed by the network
    configuration (C(ifdown), C(netplan apply), NetworkManager), not by this reconcile.
  - B(Live drift) (backend C(linux_bridge), O(drift=true)) - the live network (C(ip -j), C(/sys)) is
    compared with the model the way the verify role compares it. An interface that differs (a bridge that
    lost its port, an address removed by hand, a bond member moved) although its files did not change is
    re-activated with the renderer's tool and listed in RV(drift). A difference re-activation cannot
    repair (a missing NIC, an extra address or port added by hand, a DHCP lease not obtained) is only
    reported as a warning, so a rerun still converges.
  - Check mode computes all of it and runs only read-only commands (C(ip -j), C(nmcli connection show),
    C(ovs-vsctl list)); RV(activated.commands) and RV(ovs.commands) then hold what a real run would run.
    Open vSwitch commands predicted in check mode assume the database as it is now; a real run reads it
    again after activation, so it may have less to do.
  - "Made to be wrapped by a commit-confirm: RV(files.backups) and RV(files.created) say how to restore
    the previous files, and O(activate=false) writes files and the database without touching links."
requirements:
  - The renderer's tool on the managed host - netplan (netplan.io), ifupdown (with ifenslave, vlan and
    bridge-utils for Linux bridges), NetworkManager (nmcli; NetworkManager-ovs for Open vSwitch) or EL7
    initscripts; iproute2 4.14 or later (C(ip -j)); ovs-vsctl for the Open vSwitch backend.
  - PyYAML on the host for the netplan renderer (netplan itself needs it).
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reads files, the live network and the Open vSwitch database; writes nothing and runs no command
        that changes the host. The result lists the commands a real run would run.
  diff_mode:
    support: full
    details:
      - One unified diff per file written, removed or edited, plus one for the Open vSwitch objects that
        change.
options:
  renderer:
    description:
      - The system the files were rendered for (the C(renderer) of the C(kvm_network_render) filter's
        result).
    type: str
    required: true
    choices: [netplan, ifupdown, networkmanager, ifcfg]
  files:
    description:
      - The rendered files (the C(files) of the C(kvm_network_render) filter's result).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path on the host.
        type: str
        required: true
      content:
        description: The whole file.
        type: str
        required: true
      mode:
        description: Octal mode as a string.
        type: str
        default: '0644'
  owned:
    description:
      - Globs of the paths the collection owns for this renderer (the C(owned) of the filter's result).
        Only files matching one of them and carrying O(marker) are pruned.
    type: list
    elements: str
    default: []
  marker:
    description:
      - The text every file the collection writes carries in a comment line (the C(marker) of the
        filter's result). A file without it is not the collection's.
    type: str
    default: cloudstack_kvm.networking
  ovs_state:
    description:
      - The Open vSwitch state the model asks for (the C(ovs_state) of the filter's result). Empty for the
        Linux bridge backend.
    type: dict
    default: {}
  model:
    description:
      - The normalised model (C(kvm_network | cloudstack_kvm.networking.kvm_network_validate(host))) - the
        names and kinds of the interfaces, their dependencies, and what the live state is compared with.
    type: dict
    required: true
  backup:
    description:
      - Back up every file before it is replaced, edited or removed (C(FILE.PID.DATE~) beside it; for
        C(/etc/network/interfaces.d), whose files ifupdown reads by glob, in C(/var/backups/cloudstack-kvm)).
    type: bool
    default: true
  activate:
    description:
      - Bring what changed live (see the description). C(false) writes the files and reconciles the Open
        vSwitch database only, and skips the live drift check.
    type: bool
    default: true
  prune:
    description:
      - Remove stale files the collection owns (matching O(owned) and carrying O(marker)).
    type: bool
    default: true
  drift:
    description:
      - With the Linux bridge backend and O(activate=true), compare the live network with the model and
        re-activate interfaces that drifted.
    type: bool
    default: true
  restart_bridges_with_guests:
    description:
      - With ifupdown and ifcfg, restart a bridge even when it carries ports the model does not describe
        (guests' ports, which the restart removes).
    type: bool
    default: false
  reconcile_ovs:
    description:
      - Reconcile the Open vSwitch database with O(ovs_state) (when it names any bridge).
    type: bool
    default: true
  ovs_database:
    description:
      - The OVSDB server, as for C(ovs-vsctl --db), for example C(unix:/run/openvswitch/db.sock). The
        default is ovs-vsctl's own.
    type: str
  ovs_timeout:
    description:
      - Seconds ovs-vsctl waits for the database and for ovs-vswitchd (C(ovs-vsctl --timeout)).
    type: int
    default: 10
  root_dir:
    description:
      - For tests and staging. Every file path (rendered, owned, the other configuration read and edited,
        C(/sys)) is taken below this directory. Commands still run on the host, so staging into a
        directory wants O(activate=false) and O(reconcile_ovs=false).
    type: path
    default: /
notes:
  - The role C(cloudstack_kvm.networking.kvm_network) validates and renders the model on the controller and
    calls this module once per host; a run with nothing to do is one module call.
  - ifupdown needs C(/etc/network/interfaces) to read the collection's file; when no C(source) or
    C(source-directory) line reads it, the module adds C(source /etc/network/interfaces.d/cloudstack-kvm)
    (the file itself, so other files in that directory that were not read before stay unread).
  - systemd C(.link) files (NIC names by MAC) take effect at the next boot; the module says so in a warning
    when one changes.
seealso:
  - module: cloudstack_kvm.networking.ovs_bridge
  - module: cloudstack_kvm.networking.ovs_bond
  - module: cloudstack_kvm.networking.host_network_facts
'''

EXAMPLES = r'''
# What the role cloudstack_kvm.networking.kvm_network does: validate and render on the controller,
# then one call per host.
- name: Render kvm_network for this host
  ansible.builtin.set_fact:
    kvm_network_rendered: >-
      {{ kvm_network | cloudstack_kvm.networking.kvm_network_render(
           facts=ansible_facts, host=inventory_hostname,
           header=lookup('ansible.builtin.config', 'DEFAULT_MANAGED_STR'), ovs_database_only=true) }}

- name: Apply it
  cloudstack_kvm.networking.kvm_network_apply:
    renderer: "{{ kvm_network_rendered.renderer }}"
    files: "{{ kvm_network_rendered.files }}"
    owned: "{{ kvm_network_rendered.owned }}"
    marker: "{{ kvm_network_rendered.marker }}"
    ovs_state: "{{ kvm_network_rendered.ovs_state }}"
    model: "{{ kvm_network | cloudstack_kvm.networking.kvm_network_validate(inventory_hostname) }}"
  register: kvm_network_applied

- name: Show what was restarted
  ansible.builtin.debug:
    var: kvm_network_applied.activated

# Stage the files for a later maintenance window: write them, touch no link.
- name: Write the configuration only
  cloudstack_kvm.networking.kvm_network_apply:
    renderer: "{{ kvm_network_rendered.renderer }}"
    files: "{{ kvm_network_rendered.files }}"
    owned: "{{ kvm_network_rendered.owned }}"
    ovs_state: "{{ kvm_network_rendered.ovs_state }}"
    model: "{{ kvm_network | cloudstack_kvm.networking.kvm_network_validate(inventory_hostname) }}"
    activate: false
'''

RETURN = r'''
renderer:
  description: The renderer applied.
  returned: always
  type: str
  sample: ifupdown
files:
  description:
    - The files written (content or mode), created, removed, and the backups made (in check mode, what
      would be written; no backups).
    - To roll back, copy each backup over its path, remove the created files, and re-activate.
  returned: always
  type: dict
  contains:
    written:
      description: Existing files whose content or mode changed (the collection's, and others' edited).
      type: list
      elements: str
    created:
      description: Files that did not exist.
      type: list
      elements: str
    removed:
      description: Stale files of the collection that were removed.
      type: list
      elements: str
    backups:
      description: "C({path, backup}) for every file replaced, edited or removed."
      type: list
      elements: dict
  sample:
    written: [/etc/network/interfaces]
    created: [/etc/network/interfaces.d/cloudstack-kvm]
    removed: []
    backups: [{path: /etc/network/interfaces, backup: "/etc/network/interfaces.1234.2024-05-01@10:00:00~"}]
replaced_foreign:
  description: Rendered paths that held a file without the collection's marker, backed up and replaced.
  returned: always
  type: list
  elements: str
  sample: [/etc/sysconfig/network-scripts/ifcfg-eth0]
conflicts:
  description:
    - Configuration the collection does not own that configured a managed interface, and what was done
      (C(commented_out), C(source_added), C(autoconnect_off), C(reported)). netplan entries say whether
      netplan would keep DHCP on the interface (C(dhcp)).
  returned: always
  type: list
  elements: dict
  sample:
    - {file: /etc/network/interfaces, interfaces: [eth0], action: commented_out}
    - {profile: Wired connection 1, uuid: 1c4a1d2e-4a5b-4c6d-8e9f-0a1b2c3d4e5f, interfaces: [eth0],
       file: /run/NetworkManager/system-connections/Wired connection 1.nmconnection, action: autoconnect_off}
activated:
  description: What was brought live (in check mode, what would be).
  returned: always
  type: dict
  contains:
    interfaces:
      description: The interfaces re-activated or taken down.
      type: list
      elements: str
    reasons:
      description: "Why, per interface: C(added), C(changed), C(removed), C(depends) (built on a re-created
        interface), C(drift)."
      type: dict
    commands:
      description: The commands run, as argv lists, in order (in check mode, the commands a real run would run).
      type: list
      elements: list
    deferred:
      description: "C({interface, bridge, ports}) not restarted because the bridge carries ports the model
        does not describe (see O(restart_bridges_with_guests))."
      type: list
      elements: dict
  sample:
    interfaces: [cloudbr1]
    reasons: {cloudbr1: changed}
    commands: [[/usr/sbin/ifdown, --force, cloudbr1], [/usr/sbin/ifup, cloudbr1]]
    deferred: []
drift:
  description: Interfaces whose live state differed from the model although their files did not change,
    with the differences; they were (in check mode, would be) re-activated.
  returned: always
  type: list
  elements: dict
  sample:
    - {interface: cloudbr0, differences: ["bridge cloudbr0: address 198.51.100.11/24 missing"]}
ovs:
  description: The Open vSwitch reconcile (only with a non-empty O(ovs_state) and O(reconcile_ovs)).
  returned: when the model's backend is openvswitch
  type: dict
  contains:
    changed:
      description: Whether the database changed (or would).
      type: bool
    commands:
      description: The ovs-vsctl transaction run (one argv list), or planned in check mode.
      type: list
      elements: list
    differences:
      description: "Each managed value that differed: C({name, active, wanted})."
      type: list
      elements: dict
    recreated:
      description: Whether a port or bridge had to be deleted and created again (in the same transaction).
      type: bool
    recreate_reason:
      description: Why.
      type: str
    foreign_ports:
      description: "Ports on the managed bridges that are not the model's, left alone: C({bridge, port, guest})."
      type: list
      elements: dict
  sample:
    changed: true
    commands: [[/usr/bin/ovs-vsctl, --timeout=10, --, set, Port, cloudbr100, fake_bridge=true]]
    differences: [{name: bridge cloudbr100.fake_bridge, active: false, wanted: true}]
    recreated: false
    recreate_reason: null
    foreign_ports: [{bridge: cloudbr0, port: vnet0, guest: true}]
'''

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils import _apply
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._linux_net import NetFactsError
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs import OvsError, OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs_reconcile import reconcile

MODEL_KEYS = ('backend', 'ethernets', 'bonds', 'vlans', 'bridges')


def argument_spec():
    return dict(
        renderer=dict(type='str', required=True, choices=sorted(_apply.BACKENDS)),
        files=dict(type='list', elements='dict', required=True, options=dict(
            path=dict(type='str', required=True),
            content=dict(type='str', required=True),
            mode=dict(type='str', default='0644'),
        )),
        owned=dict(type='list', elements='str', default=[]),
        marker=dict(type='str', default='cloudstack_kvm.networking'),
        ovs_state=dict(type='dict', default={}),
        model=dict(type='dict', required=True),
        backup=dict(type='bool', default=True),
        activate=dict(type='bool', default=True),
        prune=dict(type='bool', default=True),
        drift=dict(type='bool', default=True),
        restart_bridges_with_guests=dict(type='bool', default=False),
        reconcile_ovs=dict(type='bool', default=True),
        ovs_database=dict(type='str'),
        ovs_timeout=dict(type='int', default=10),
        root_dir=dict(type='path', default='/'),
    )


def check_params(params):
    missing = [k for k in MODEL_KEYS if k not in params['model']]
    if missing:
        raise _apply.ApplyError('model is not a normalised kvm_network (no %s). Fix: pass kvm_network | '
                                'cloudstack_kvm.networking.kvm_network_validate(inventory_hostname)'
                                % ', '.join(missing))
    for item in params['files']:
        if not item['path'].startswith('/'):
            raise _apply.ApplyError('files: %s is not an absolute path. Fix: pass the files of the '
                                    'kvm_network_render filter unchanged' % item['path'])
        try:
            int(item['mode'], 8)
        except ValueError:
            raise _apply.ApplyError('files: %s: mode %r is not an octal mode such as "0644". Fix: pass the files '
                                    'of the kvm_network_render filter unchanged' % (item['path'], item['mode']))
        if not _apply.has_marker(item['content'], params['marker']):
            raise _apply.ApplyError('files: %s has no comment line with the marker %r, so a later run could not '
                                    'tell it is the collection\'s. Fix: render with the kvm_network_render filter '
                                    '(its header always names the collection)' % (item['path'], params['marker']))


def ovs_diff(result):
    """One diff entry for the Open vSwitch objects that change."""
    names = [d['name'] for d in result['differences']]
    before = result['diff']['before'] if isinstance(result['diff']['before'], dict) else {}
    after = result['diff']['after'] if isinstance(result['diff']['after'], dict) else {}
    labels = sorted(set(k for k in list(before) + list(after) if any(n.startswith(k + '.') for n in names)))
    labels += sorted(set(n.rsplit('.', 1)[0] for n in names) - set(labels) - set(before) - set(after))

    def text(side):
        return json.dumps(dict((k, side.get(k, {'state': 'absent'})) for k in labels), indent=2, sort_keys=True) + '\n'
    return {'before_header': 'Open vSwitch database', 'after_header': 'Open vSwitch database',
            'before': text(before), 'after': text(after)}


def run_module(module, ovs_client_factory=None):
    params = module.params
    check_params(params)
    state = params['ovs_state'] or {}
    use_ovs = bool(params['reconcile_ovs'] and state.get('bridges'))
    client = None
    if use_ovs:
        factory = ovs_client_factory or (lambda m: OvsVsctl(m, db=m.params['ovs_database'],
                                                            timeout=m.params['ovs_timeout']))
        client = factory(module)
    result, warnings = _apply.run(module, params, client)
    result['renderer'] = params['renderer']
    diff = result.pop('diff')
    if use_ovs:
        managed = list(params['model']['ethernets']) + list(params['model']['bonds'])
        ovs = reconcile(module, client, {'bridges': state.get('bridges') or {}, 'ports': state.get('ports') or {}},
                        managed)
        keys = ('changed', 'commands', 'differences', 'recreated', 'recreate_reason', 'foreign_ports')
        result['ovs'] = dict((k, ovs[k]) for k in keys)
        result['changed'] = result['changed'] or ovs['changed']
        if ovs['changed'] and module._diff:
            diff.append(ovs_diff(ovs))
    if module._diff:
        result['diff'] = diff
    for warning in warnings:
        module.warn(warning)
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run_module(module)
    except _apply.ApplyError as e:
        module.fail_json(msg=e.msg, **e.kwargs)
    except OvsError as e:
        kwargs = e.fail_kwargs()
        kwargs['msg'] = 'Open vSwitch: %s' % kwargs['msg']
        module.fail_json(**kwargs)
    except NetFactsError as e:
        module.fail_json(msg='reading the live network for the drift check failed: %s. Fix: install iproute2 '
                         '4.14 or later, or set drift: false' % e, cmd=e.cmd, rc=e.rc, stderr=e.stderr)
    except (IOError, OSError) as e:
        module.fail_json(msg='%s: %s. Fix: check that the path is writable by the connecting user (become: true)'
                         % (getattr(e, 'filename', None) or 'file operation', e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
