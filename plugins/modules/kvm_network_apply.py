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
    no longer has are removed (backed up), and only files matching an O(owned) glob (with ifcfg, any
    C(ifcfg-*), C(route-*) or C(route6-*) file in C(/etc/sysconfig/network-scripts)) B(and) carrying the
    O(marker) line, never anything else. So a bridge dropped from the inventory goes away on the host.
  - B(Configuration the collection does not own.) ifupdown - stanzas in C(/etc/network/interfaces) and
    other C(/etc/network/interfaces.d) files for interfaces the model manages are commented out in place
    (backed up), and C(/etc/network/interfaces) gets a C(source) line for the collection's file when
    nothing sources it. NetworkManager - other profiles bound to a managed interface (for example
    C(Wired connection 1)) get C(connection.autoconnect no); they are never deleted. netplan - entries for a
    managed interface in other netplan files are removed from those files (backed up, with a comment saying
    so) and listed in RV(conflicts) (netplan merges all its files, so a definition left there would fight
    ours); when the file is cloud-init's, cloud-init's network configuration is turned off in
    C(/etc/cloud/cloud.cfg.d/99-cloudstack-kvm-network.cfg) so it is not written again at boot. ifcfg -
    other C(ifcfg-*) files for a managed device are reported.
  - B(Activation) (O(activate=true)) touches only what changed, found by comparing the old and new
    definition of every interface. netplan - C(netplan generate), then C(netplan apply); systemd-networkd
    then reconfigures what changed and does not take unchanged links down. Then C(ip link set up) for bond
    members (systemd-networkd 252 can leave them down), and for interfaces the model no longer has,
    C(ip link set nomaster) (NICs) and C(ip link delete) (bridges, bonds, VLAN devices), which
    C(netplan apply) leaves behind. If C(netplan generate) fails, the previous files are put back and
    nothing is applied. ifupdown - C(ifdown --force IFACE) with the
    old definition before the files change, C(ifup IFACE) after, in dependency order (NICs, bonds, VLAN
    devices, bridges; Open vSwitch bridges, then fake bridges, then ports); a bond or VLAN device that is
    re-created takes the bridge or VLAN built on it along. NetworkManager - C(nmcli connection load) for
    changed keyfiles, C(nmcli connection reload) when one was removed, C(nmcli connection up uuid UUID)
    for the changed profiles, controllers first and the ports of a re-activated controller after it.
    ifcfg (EL7) - C(ifdown)/C(ifup) per changed device as for ifupdown. The networking service is never
    restarted. A second run with the same input runs no activation command.
  - B(Guests.) With ifupdown and ifcfg, C(ifdown) of a bridge deletes it, and the ports CloudStack and
    libvirt plugged into it (C(vnet*)) with it; with netplan and NetworkManager only a bridge the model no
    longer has is deleted. A bridge that would be deleted while it carries ports the model does not
    describe is therefore not restarted (nor what would be re-added to it); its files are written, the
    result lists it in RV(activated.deferred) with a warning, and the change takes effect at its next
    restart, unless O(restart_bridges_with_guests=true).
  - B(Open vSwitch) (backend C(openvswitch)), after activation - one snapshot of the database, then one
    C(ovs-vsctl) transaction that brings it to O(ovs_state) - bridges and their C(datapath_type), fake
    bridges (parent and VLAN, and C(fake_bridge=true) on the port NetworkManager creates without it, so
    C(ovs-vsctl br-exists) and the CloudStack agent find the bridge), bond ports with their members and
    options, the MTU of the bridges' internal interfaces. It uses the planners of the C(ovs_bridge),
    C(ovs_bond) and C(ovs_port) modules; STP and C(stp-forward-delay) too. A port named after a model NIC
    or bond that holds an interface the model's own port needs is removed. The database is read again
    after the transaction, and the module fails if it still differs. Bridges the model does not name, and ports on a managed bridge
    that are not the model's (guests' C(vnet*)/C(vif*) ports, anything added by hand), are left alone and
    listed in RV(ovs.foreign_ports). A bridge removed from the model is removed by the network
    configuration (C(ifdown), C(netplan apply), NetworkManager), not by this reconcile.
  - B(Live drift) (O(drift=true)) - the live network (C(ip -j), C(/sys), the Open vSwitch database), read
    by the same reader as M(cloudstack_kvm.networking.host_network_facts), is compared with the model the
    way the verify role compares it. An interface that differs (a bridge that lost its port, an address
    removed by hand, a bond member moved) although its files did not change is re-activated with the
    renderer's tool and listed in RV(drift); in diff mode each one gets a diff entry with the realised and
    the wanted values. With ifupdown and ifcfg, a bridge whose only drift is a missing address or default
    route gets them back in place (C(ip address add), C(ip route replace)), since C(ifdown)/C(ifup) would delete
    and re-create it without the guests' ports. An Open vSwitch bridge that C(ifdown) deletes (a changed
    definition) is created again with the MAC it had just before its C(ifup), so ARP caches stay right
    (C(other_config:hwaddr); C(mac) of a fake bridge's interface). On Open vSwitch hosts
    only a bridge's addresses and default route (and a bridge that is gone) are drift for this step;
    bridges, bonds and ports are repaired in place by the database reconcile.
    A difference re-activation cannot repair (a missing NIC, an extra address or port added by hand, a
    DHCP lease not obtained) is only reported as a warning, so a rerun still converges.
  - B(Safe apply) (O(safe_apply=true)) - commit-confirm. A run with nothing to change stops after the plan.
    Otherwise every file the change writes or removes (content, mode, owner) and the managed Open vSwitch
    rows are saved in a snapshot below O(state_dir), a transient systemd timer is armed to roll the change
    back, and the change is handed to a transient systemd service that starts two seconds later, detached
    from the SSH session; the module returns at once, before the change can cut its connection, with the
    plan as its result (what a real run does - RV(files), RV(activated), the diff). When the apply is done the
    host waits O(confirm_timeout) seconds for the confirmation - O(confirm) in this task, or
    M(cloudstack_kvm.networking.kvm_network_snapshot) with
    O(cloudstack_kvm.networking.kvm_network_snapshot#module:action=confirm) later - which reports what the apply
    did; without it the host rolls the change back by itself. An apply that fails is rolled back at once, and the
    confirmation says why. RV(safe_apply) says what to confirm. See docs/safe-apply.md.
  - B(Consent.) A change that re-activates or reconciles (Open vSwitch, a drift repair in place) the
    interface holding the address Ansible connects through (the server side of C(SSH_CONNECTION), or
    O(connection_address)), anything the model builds under it (its port, uplink, VLAN device, parent,
    bond members), or the bridge the model moves that address to is refused without O(safe_apply) unless
    O(allow_disruptive=true), in check mode too. When the host cannot tell Ansible's address, no check is
    made.
  - B(One read, one plan.) The call plans once and reads the host's network once (for the drift check, the
    consent check and, when nothing changed, the read-back); a real run after the plan executes that plan.
  - Check mode computes all of it and runs only read-only commands (C(ip -j), C(nmcli connection show),
    C(ovs-vsctl list)); RV(activated.commands) and RV(ovs.commands) then hold what a real run would run.
    Open vSwitch commands predicted in check mode assume the database as it is now; a real run reads it
    again after activation, so it may have less to do.
  - "RV(files.backups) and RV(files.created) say how to restore the previous files, and O(activate=false)
    writes files, turns off conflicting NetworkManager profiles and reconciles the database without
    re-activating links."
requirements:
  - The renderer's tool on the managed host - netplan (netplan.io), ifupdown (with ifenslave, vlan and
    bridge-utils for Linux bridges), NetworkManager (nmcli; NetworkManager-ovs for Open vSwitch) or EL7
    initscripts; iproute2 4.14 or later (C(ip -j)); ovs-vsctl for the Open vSwitch backend.
  - PyYAML on the host for the netplan renderer (netplan itself needs it).
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
attributes:
  action:
    support: full
    description: Has an action plugin, which confirms an armed change over a new connection (O(confirm)).
  check_mode:
    support: full
    details:
      - Reads files, the live network and the Open vSwitch database; writes nothing and runs no command
        that changes the host. The result lists the commands a real run would run.
  diff_mode:
    support: full
    details:
      - One unified diff per file written, removed or edited, one per interface re-activated for live drift
        (realised and wanted values), plus one for the Open vSwitch objects that change.
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
        description:
          - The whole file. It must carry O(marker) in a comment line, or the module fails before touching
            the host (so do a relative O(files[].path) and a O(files[].mode) that is not octal).
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
      - The model - the names and kinds of the interfaces, their dependencies, and what the live state is
        compared with. Normalised (C(kvm_network | cloudstack_kvm.networking.kvm_network_validate(host)),
        as the role passes it) it is taken as it is; as written in the inventory it is validated and
        normalised on the host, and a bad one fails before anything is touched.
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
      - Bring what changed live (see the description). C(false) writes the files, turns off conflicting
        NetworkManager profiles and reconciles the Open vSwitch database only, and skips the live drift
        check.
    type: bool
    default: true
  prune:
    description:
      - Remove stale files the collection owns (matching O(owned) and carrying O(marker)).
    type: bool
    default: true
  drift:
    description:
      - With O(activate=true), compare the live network with the model and re-activate interfaces that
        drifted (see the description).
    type: bool
    default: true
  restart_bridges_with_guests:
    description:
      - Restart a bridge even when it carries ports the model does not describe (guests' ports, which the
        restart removes) - with ifupdown and ifcfg any bridge re-activated, with netplan and NetworkManager a
        bridge the model no longer has.
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
  safe_apply:
    description:
      - Apply the change under commit-confirm (see the description); the controller must confirm it within
        O(confirm_timeout), with O(confirm) in this task or with M(cloudstack_kvm.networking.kvm_network_snapshot)
        in a later one. Needs systemd on the host.
    type: bool
    default: false
  confirm:
    description:
      - With O(safe_apply), confirm an armed change in this same task - the action plugin drops the connection,
        gets a new one and runs M(cloudstack_kvm.networking.kvm_network_snapshot)'s O(cloudstack_kvm.networking.kvm_network_snapshot#module:action=confirm)
        as soon as this host's change is live - and return its result as RV(confirmed). Omitted - no confirmation
        here; the host rolls back unless a later task confirms.
      - This is how to confirm a fleet. A confirmation in a task of its own starts only when every host of the
        play has finished the apply task (the linear strategy), so the hosts applied first wait for the slowest
        one, or for every batch of forks, while their confirmation timers run.
      - A failed confirmation does not fail the task; RV(confirmed.failed) says so, with RV(confirmed.reason), and the
        host rolls back by itself when its timer fires. The role C(cloudstack_kvm.networking.kvm_network) then
        waits for that and fails the host saying what happened.
      - Not in check mode.
    type: dict
    suboptions:
      targets:
        description:
          - What the host must reach for the change to be kept, as kvm_network_snapshot's
            O(cloudstack_kvm.networking.kvm_network_snapshot#module:targets). Empty - the new connection is the only proof.
          - The host also pings them itself right after the change, one ping a second until the first answer or
            10 seconds each (through a bridge with STP, twice its forward delay more; with DHCP, 20 s more); when one
            stays silent, it rolls the change back at once instead of waiting for its timer, and the confirmation
            fails with RV(confirmed.reason=targets).
        type: list
        elements: dict
        default: []
        suboptions:
          target:
            description: Address or host name.
            type: str
            required: true
          bridge:
            description: The interface to ping through.
            type: str
          count:
            description:
              - How many pings at most, one a second; the first answer ends the probe (a target that
                answers costs a round trip, a silent one C(count) seconds).
            type: int
            default: 3
      keep_snapshots:
        description: How many finished snapshots the host keeps after the confirmation (default O(keep_snapshots)).
        type: int
      reconnect_timeout:
        description:
          - How long to keep trying to get a new connection (default O(confirm_timeout) - 10, at least 5), as
            kvm_network_snapshot's O(cloudstack_kvm.networking.kvm_network_snapshot#module:reconnect_timeout); while
            the host is still applying, the window starts again, up to O(apply_timeout) more.
        type: int
  confirm_timeout:
    description: With O(safe_apply), seconds the host waits for the confirmation once the change is live (at least 1).
    type: int
    default: 120
  apply_timeout:
    description:
      - With O(safe_apply), seconds the detached apply may take (at least 1). A watchdog timer rolls the
        change back O(apply_timeout) + O(confirm_timeout) seconds after the module returns unless the apply
        has finished by then (it then waits O(confirm_timeout) for the confirmation).
    type: int
    default: 300
  keep_snapshots:
    description:
      - With O(safe_apply), how many finished snapshots the host keeps when it rolls this change back by
        itself (oldest removed first, armed ones never; at least 1). A confirmation prunes by
        M(cloudstack_kvm.networking.kvm_network_snapshot)'s O(cloudstack_kvm.networking.kvm_network_snapshot#module:keep_snapshots).
    type: int
    default: 5
  state_dir:
    description:
      - Where snapshots are kept. Snapshots hold copies of the files a change replaces (which may hold
        secrets) and the code a rollback runs as root, so their directories are created with mode
        C(0700) and their files C(0600).
      - A directory that another user can write to, or that does not belong to root, is refused, and so
        is one below such a directory (a sticky directory such as C(/tmp) above a directory of root's is
        allowed).
    type: path
    default: /var/lib/cloudstack-kvm/safe-apply
  lock_timeout:
    description:
      - One apply at a time per host. Seconds to wait for another C(kvm_network_apply) that is changing the
        host (a lock below O(state_dir) that a process holds until it ends, even when it is killed), and for
        a change that is still being applied or waits for its confirmation (its rollback would undo this
        change, or this change its rollback). Then the module fails, naming the other one, its start time
        and the controller it came from.
      - Check mode takes no lock; it warns when another change is pending.
    type: int
    default: 60
  connection_address:
    description:
      - The address (or name) the controller reaches the host on (C(ansible_host)); with C(SSH_CONNECTION) it
        tells which interfaces carry Ansible's connection.
    type: str
  allow_disruptive:
    description:
      - Without O(safe_apply), apply a change on the path Ansible connects through instead of refusing it.
    type: bool
    default: false
  read_back:
    description:
      - Read the realised network back at the end of this call, with the facts reader
        M(cloudstack_kvm.networking.host_network_facts) uses, and ping O(read_back.traffic) - so that a verification
        (the role C(cloudstack_kvm.networking.kvm_network_verify)) needs no round trip of its own. Not in check
        mode, and not when a change waits for its confirmation (O(safe_apply)); RV(read_back) is then absent.
    type: dict
    suboptions:
      ovs:
        description:
          - Whether the Open vSwitch tables are read, as M(cloudstack_kvm.networking.host_network_facts)'s C(ovs).
          - When O(ovs_state) names bridges, the tables are read through the reconcile's own client
            (O(ovs_database), O(ovs_timeout)); otherwise from ovs-vsctl's default database.
        type: str
        choices: [auto, 'true', 'false']
        default: auto
      ovs_timeout:
        description: Seconds for the Open vSwitch read.
        type: int
        default: 5
      traffic:
        description: Targets pinged through a bridge (C(ping -n -c 1 -w COUNT -I BRIDGE TARGET)).
        type: list
        elements: dict
        default: []
        suboptions:
          bridge:
            description: The bridge to ping through.
            type: str
            required: true
          target:
            description: Address or host name.
            type: str
            required: true
          count:
            description: Echo requests (at least 1).
            type: int
            default: 3
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
  - A NIC the model matches by MAC (C(match.macaddress)) and names otherwise than it is named now is renamed live
    (RV(activated.renamed)); netplan's C(set-name) and the systemd C(.link) files keep the name from the next boot
    on. A C(.link) file that changes without such a rename (a MAC changed under the same name) takes effect at the
    next boot, and the module says so in a warning.
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

# Commit-confirmed, and confirmed in the same task as soon as this host's change is live: the host
# rolls back by itself unless the controller reaches it over a new connection and it pings its gateway.
- name: Apply it safely
  cloudstack_kvm.networking.kvm_network_apply:
    renderer: "{{ kvm_network_rendered.renderer }}"
    files: "{{ kvm_network_rendered.files }}"
    owned: "{{ kvm_network_rendered.owned }}"
    marker: "{{ kvm_network_rendered.marker }}"
    ovs_state: "{{ kvm_network_rendered.ovs_state }}"
    model: "{{ kvm_network | cloudstack_kvm.networking.kvm_network_validate(inventory_hostname) }}"
    safe_apply: true
    confirm_timeout: 120
    confirm:
      targets:
        - {target: 198.51.100.1, bridge: cloudbr0}
  register: kvm_network_applied
  failed_when: kvm_network_applied.failed or kvm_network_applied.confirmed.failed | default(false)

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
confirmed:
  description:
    - The confirmation of an armed change (O(confirm)), as M(cloudstack_kvm.networking.kvm_network_snapshot)'s
      O(cloudstack_kvm.networking.kvm_network_snapshot#module:action=confirm) returns it - RV(confirmed.snapshot),
      RV(confirmed.applied), RV(confirmed.attempts), and when it failed RV(confirmed.failed), RV(confirmed.reason)
      and RV(confirmed.msg).
  returned: with O(confirm), when the change was armed (not in check mode)
  type: dict
  contains:
    failed:
      description: Whether the change could not be confirmed (the host rolls it back by itself).
      type: bool
    reason:
      description: Why it failed, as kvm_network_snapshot's RV(cloudstack_kvm.networking.kvm_network_snapshot#module:reason).
      type: str
    msg:
      description: What happened.
      type: str
    snapshot:
      description: The snapshot, with its status (C(confirmed) when kept).
      type: dict
    applied:
      description: What the detached apply did.
      type: dict
    attempts:
      description: How many new connections the confirmation took.
      type: int
  sample:
    changed: true
    attempts: 2
    snapshot: {id: 20261202T101500123456-4242, status: confirmed}
read_back:
  description:
    - The pings of O(read_back.traffic) at the end of the call - C(traffic), one result per target (C(item),
      C(rc), C(stdout_lines), C(stderr_lines), C(answered), and C(reason), which says what did not answer and why, in
      plain words). The network itself is in RV(ansible_facts.host_network).
    - C(taken) - when it was read (seconds since the epoch, as text); a verification uses one read-back once.
  returned: when O(read_back) is given, outside check mode, and no change waits for its confirmation
  type: dict
  sample: {"traffic": [{"item": {"bridge": "cloudbr0", "target": "198.51.100.1", "count": 3}, "rc": 0,
           "stdout_lines": ["1 packets transmitted, 1 received, 0% packet loss, time 0ms"], "stderr_lines": [],
           "answered": true, "reason": ""}], "taken": "1796000000.123456"}
ansible_facts:
  description: With O(read_back), the host's network as it is at the end of the call.
  returned: when RV(read_back) is
  type: dict
  contains:
    host_network:
      description: What M(cloudstack_kvm.networking.host_network_facts) returns (the same reader).
      type: dict
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
      (C(commented_out), C(source_added), C(autoconnect_off), C(reported), C(taken_over),
      C(cloud_init_network_disabled)). netplan entries name the C(interface), its C(netplan_id) and
      C(section), and whether the removed entry had DHCP on (C(dhcp)).
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
    renamed:
      description: "C({from, to, mac}) - NICs the model matches by MAC (C(match.macaddress)) and names otherwise,
        renamed live (taken down, renamed, brought up by the activation under their new name): netplan's
        C(set-name) and the systemd C(.link) files name a NIC only at the next boot. A rollback renames them
        back."
      type: list
      elements: dict
    adopted:
      description: "Interfaces taken over without being re-activated: their definition moves into the
        collection's files (from a file it does not own, or from none - a bridge made by hand with
        ovs-vsctl or ip) and the live network already is as the model says (no difference for them,
        for what is built on them, and no address on a NIC, bond or VLAN device). Moving a definition
        is never by itself a reason to take a link down: netplan runs only C(netplan generate), ifupdown
        no ifdown/ifup. Needs O(drift) (the live read); never with NetworkManager, whose active profile
        stays in charge until its own is brought up."
      type: list
      elements: str
    announced:
      description: "C({interface, address}) - the IPv4 addresses announced by gratuitous ARP after the change
        (from the re-activated interfaces, and the model's bridges when Open vSwitch changed), so that
        neighbours stop sending to the MAC an address had before it moved (an Open vSwitch bridge has a MAC
        of its own). Empty in check mode, when a safe apply is armed, and below a O(root_dir)."
      type: list
      elements: dict
  sample:
    interfaces: [cloudbr1]
    reasons: {cloudbr1: changed}
    commands: [[/usr/sbin/ifdown, --force, cloudbr1], [/usr/sbin/ifup, cloudbr1]]
    deferred: []
    adopted: []
    announced: [{interface: cloudbr1, address: 198.51.100.21}]
drift:
  description: Interfaces whose live state differed from the model although their files did not change,
    with the differences; they were (in check mode, would be) re-activated or repaired in place, unless
    listed in RV(activated.deferred).
  returned: always
  type: list
  elements: dict
  sample:
    - {interface: cloudbr0, differences: ["bridge cloudbr0: address 198.51.100.11/24 missing"]}
safe_apply:
  description: Commit-confirm - whether the change is waiting for its confirmation, and what to confirm.
  returned: always
  type: dict
  contains:
    armed:
      description: The host rolls the change back unless it is confirmed (a snapshot was taken, a timer runs).
      type: bool
    starts_in:
      description: Seconds after the module's answer at which the host starts applying the change (when armed).
      type: int
    would_arm:
      description: In check mode, whether a real run would be commit-confirmed (false in a real run that is not armed).
      type: bool
    id:
      description: The snapshot to confirm (O(cloudstack_kvm.networking.kvm_network_snapshot#module:id)), when armed.
      type: str
    path:
      description: The snapshot's directory on the host, when armed.
      type: str
    units:
      description: The transient systemd timers armed (the watchdog and the detached apply), when armed.
      type: list
      elements: str
    confirm_timeout:
      description: Seconds the host waits for the confirmation (when armed, and in check mode with a change).
      type: int
    disruption:
      description:
        - "Whether the change touches the path Ansible connects through: C(address), C(interface) (which holds
          it now), C(path) (what is under it, and the bridge the model puts it on), C(touched) (what the change
          re-activates of that), C(disruptive). Null when the host cannot tell which address Ansible uses, or
          that address is neither on the host nor in the model; absent when nothing changes."
      type: dict
  sample:
    armed: true
    id: 20261202T101500123456-4242
    path: /var/lib/cloudstack-kvm/safe-apply/20261202T101500123456-4242
    confirm_timeout: 120
    disruption: {address: 198.51.100.11, interface: eth0, path: [cloudbr0, eth0], touched: [cloudbr0, eth0],
                 disruptive: true}
ovs:
  description: The Open vSwitch reconcile (only with a non-empty O(ovs_state) and O(reconcile_ovs)).
  returned: when O(reconcile_ovs) and O(ovs_state) names any bridge
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

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import probe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply import whole_host
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import safe
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.disruption import connection_addresses, refusal
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._apply.read_back import read_back
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import Root
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm import snapshot as snapshots
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._confirm.snapshot import STATE_DIR
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import RENDERERS, ModuleFailure


def argument_spec():
    return dict(
        renderer=dict(type='str', required=True, choices=list(RENDERERS)),
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
        safe_apply=dict(type='bool', default=False),
        confirm_timeout=dict(type='int', default=120),
        apply_timeout=dict(type='int', default=safe.APPLY_TIMEOUT),
        keep_snapshots=dict(type='int', default=5),
        state_dir=dict(type='path', default=STATE_DIR),
        lock_timeout=dict(type='int', default=60),
        connection_address=dict(type='str'),
        allow_disruptive=dict(type='bool', default=False),
        confirm=dict(type='dict', options=dict(
            targets=probe.targets_argument_spec(bridge_required=False),
            keep_snapshots=dict(type='int'),
            reconnect_timeout=dict(type='int'),
        )),
        read_back=dict(type='dict', options=dict(
            ovs=dict(type='str', default='auto', choices=['auto', 'true', 'false']),
            ovs_timeout=dict(type='int', default=5),
            traffic=probe.targets_argument_spec(),
        )),
    )


# A ping target: an address or a host name, never an option (no leading dash).

def check_read_back(params):
    """The read-back's ping targets, before the host is touched (the host layer's one check)."""
    bridges = (params['model'] or {}).get('bridges') or {}
    problems = probe.target_problems((params['read_back'] or {}).get('traffic'), 'read_back.traffic', bridges)
    if problems:
        raise ModuleFailure('; '.join(problems))


def apply(module):
    """``plan_and_apply`` under the host's apply lock (not in check mode, which changes nothing: it
    warns instead when another change is pending)."""
    params = module.params
    root = Root(params['root_dir'])
    if module.check_mode:
        result, warnings, plan = plan_and_apply(module)
        for snap in snapshots.pending(root, params['state_dir']):
            warnings.append('%s: a real run now waits for it (lock_timeout)' % snapshots.describe_pending(snap))
        return result, warnings, plan
    with snapshots.HostLock(root, params['state_dir']).acquire(params['lock_timeout']) as lock:
        return plan_and_apply(module, lock)


def plan_and_apply(module, lock=None):
    """Plan once; nothing to do ends there. Otherwise refuse a disruptive change made without safe
    apply, or apply it: the same plan executed, or (safe_apply) handed to commit-confirm. The host's
    network is read once for all of it. Returns ``(result, warnings, plan)``.

    Without safe apply and with no way to tell Ansible's address on the host (no SSH_CONNECTION,
    no connection_address), there is nothing to decide before the change: plan and apply are one
    pass."""
    params = module.params
    for key in ('confirm_timeout', 'apply_timeout', 'keep_snapshots'):
        if params[key] < 1:
            raise ModuleFailure('%s must be at least 1, not %d' % (key, params[key]))
    if params['lock_timeout'] < 0:
        raise ModuleFailure('lock_timeout must be 0 or more, not %d' % params['lock_timeout'])
    check_read_back(params)
    addresses = connection_addresses(params['connection_address'])
    plan = None
    if not (module.check_mode or params['safe_apply'] or addresses):
        if lock is not None:
            lock.wait_for_pending()     # planned and applied in one pass: wait before planning
        plan = whole_host.Plan(module)
        result, warnings = whole_host.run(module, plan)
        result['safe_apply'] = {'armed': False, 'would_arm': False, 'disruption': None}
        return result, warnings, plan
    plan = whole_host.Plan(module)      # planning changes nothing, whatever the mode
    planned, warnings = whole_host.run(whole_host.Planning(module), plan)
    if planned['changed'] and lock is not None and lock.wait_for_pending():
        # Another change was pending while this one was planned: plan again on what it left.
        plan = whole_host.Plan(module)
        planned, warnings = whole_host.run(whole_host.Planning(module), plan)
    if not planned['changed']:
        planned['safe_apply'] = {'armed': False, 'would_arm': False}
        return planned, warnings, plan
    disruption = safe.disruption_of(module, planned, addresses, plan.readings, plan.client)
    if disruption and disruption['disruptive'] and not params['safe_apply'] and not params['allow_disruptive']:
        raise ModuleFailure(refusal(disruption), disruption=disruption)
    if module.check_mode:
        planned['safe_apply'] = {'armed': False, 'would_arm': params['safe_apply'],
                                 'confirm_timeout': params['confirm_timeout'], 'disruption': disruption}
        return planned, warnings, plan
    if params['safe_apply']:
        return safe.commit_confirm(module, planned, disruption), warnings, plan
    result, warnings = whole_host.run(module, plan)
    result['safe_apply'] = {'armed': False, 'would_arm': False, 'disruption': disruption}
    return result, warnings, plan


def with_read_back(module, result, plan):
    """The realised network and the pings, when asked for and when the host has nothing left to
    confirm (a change under commit-confirm is read back after its confirmation instead). A call
    that changed nothing hands back the network its plan read."""
    spec = module.params['read_back']
    if spec is None or module.check_mode or result.get('safe_apply', {}).get('armed'):
        return result
    back = read_back(module, spec, plan.readings, plan.client)
    # 'taken' tells one read-back from the next: kvm_network_verify uses each once.
    result['read_back'] = {'traffic': back['traffic'], 'taken': '%.6f' % time.time()}
    result['ansible_facts'] = {'host_network': back['host_network']}
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result, warnings, plan = apply(module)
        result = with_read_back(module, result, plan)
    except Exception as exc:  # pylint: disable=broad-except  # the known ones become fail_json
        kwargs = whole_host.failure(exc)
        if kwargs is None:
            raise
        module.fail_json(**kwargs)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
