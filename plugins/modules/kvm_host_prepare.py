#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kvm_host_prepare
short_description: Prepare a KVM hypervisor for its network in one call (packages, kernel, sysctls, hosts, services, GRUB)
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - The whole host preparation the role R(cloudstack_kvm.networking.kvm_host,ansible_collections.cloudstack_kvm.networking.kvm_host_role)
    does, as one reconcile - each part reads the host once, compares it with what is asked, and changes only what
    differs. A part whose option is left out is not touched. The parts run in this order
  - O(packages) and O(packages_absent) - one read of what is installed (C(dpkg-query) or C(rpm)); the package
    manager runs only when a package is missing (or, for O(packages_absent), still installed). With apt the
    package lists are refreshed only when a missing package is not found in them.
  - O(files) - whole files the role owns (the kernel module list, the C(br_netfilter) udev rule), written
    atomically or removed.
  - O(bridge_blacklist) - the Linux bridge module blacklist, present or absent, or only once the CloudStack agent
    is installed (its C(agent.properties) exists or its package is installed), because the agent's
    installation needs the bridge module.
  - O(kernel_modules) - loaded with C(modprobe) unless loaded or built into the running kernel.
  - O(sysctl) - the keys set (or removed) in their file, every other line of it kept, and set in the running
    kernel where the key exists there.
  - O(hostname) and O(hosts_entry) - the host name, and the line of C(/etc/hosts) that maps the management
    address to the host's names (the C(127.0.1.1) line for those names removed; C(/etc/hosts) is backed up, and
    written in place when a container engine bind-mounts it).
  - O(services) - started, stopped, enabled or disabled; never restarted (no interface is bounced), except
    those of O(restart_after_install) after this call installed packages.
  - O(grub) - the arguments put in C(GRUB_CMDLINE_LINUX) of C(/etc/default/grub) (backed up), and the boot
    configuration regenerated. It never reboots - RV(reboot_required) says when the running kernel lacks an
    argument.
extends_documentation_fragment:
  - cloudstack_kvm.networking._attributes
attributes:
  action:
    support: full
    description: Has an action plugin, which fails the task with O(problems) on the controller, before the host is contacted.
  check_mode:
    support: full
    details:
      - Everything is read and compared as in a real run; nothing is installed, written, loaded or started. A
        service whose package this run would install is reported as started or enabled.
  diff_mode:
    support: full
    details:
      - Each file before and after, and the packages.
options:
  packages:
    description: Packages that must be installed.
    type: list
    elements: str
    default: []
  packages_absent:
    description: Packages that must not be installed (apt purges them, with their configuration).
    type: list
    elements: str
    default: []
  package_manager:
    description: The package manager; C(auto) finds it (apt, then dnf, then yum).
    type: str
    choices: [auto, apt, dnf, yum]
    default: auto
  restart_after_install:
    description:
      - Services restarted when this call installed packages (NetworkManager, to load the Open vSwitch plugin it
        just got).
    type: list
    elements: str
    default: []
  files:
    description: Whole files to write (O(files[].state=present)) or remove.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path on the host.
        type: path
        required: true
      content:
        description: The file's text (O(files[].state=present)).
        type: str
      mode:
        description: Octal mode.
        type: str
        default: '0644'
      state:
        description: Whether the file exists.
        type: str
        choices: [present, absent]
        default: present
  bridge_blacklist:
    description: The Linux bridge module blacklist file (Open vSwitch hosts).
    type: dict
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      content:
        description: Its text when present.
        type: str
        required: true
      state:
        description:
          - C(agent) - present once the CloudStack agent is installed (O(bridge_blacklist.agent_properties) exists,
            or O(bridge_blacklist.agent_package) is installed), absent before.
        type: str
        choices: [present, absent, agent]
        required: true
      agent_properties:
        description: The agent's configuration file.
        type: path
        default: /etc/cloudstack/agent/agent.properties
      agent_package:
        description: The agent's package.
        type: str
        default: cloudstack-agent
  kernel_modules:
    description: Kernel modules to load now (persist them at boot with a file of O(files)).
    type: list
    elements: str
    default: []
  load_kernel_modules:
    description: Whether O(kernel_modules) are loaded now.
    type: bool
    default: true
  sysctl:
    description: Kernel settings kept in a file of C(/etc/sysctl.d).
    type: dict
    suboptions:
      file:
        description: The file.
        type: path
        required: true
      header:
        description: The text a new file starts with.
        type: str
        default: ''
      keys:
        description: The keys.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: The key, with dots (C(net.bridge.bridge-nf-call-iptables)).
            type: str
            required: true
          value:
            description: Its value; null removes the key from the file (the running kernel keeps its value).
            type: str
          live:
            description: Whether the running kernel gets the value too (where the key exists there).
            type: bool
            default: true
  hostname:
    description: The host name (C(hostnamectl set-hostname), or C(/etc/hostname) and C(hostname) without systemd).
    type: str
  hosts_entry:
    description: The line of C(/etc/hosts) for the host's management address.
    type: dict
    suboptions:
      address:
        description: The address.
        type: str
        required: true
      names:
        description: The names, the fully qualified one first.
        type: list
        elements: str
        required: true
      with_host_name:
        description:
          - Whether the host's short name is added to O(hosts_entry.names) - from O(hostname) when given, else the
            name the host has now (what setup reports as C(ansible_hostname)).
        type: bool
        default: false
      remove_loopback:
        description: Whether C(127.0.1.1) lines naming one of O(hosts_entry.names) are removed.
        type: bool
        default: true
  services:
    description: systemd services and their wanted state.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The unit (C(.service) is added when the name has no suffix).
        type: str
        required: true
      state:
        description: Running or not; null leaves it.
        type: str
        choices: [started, stopped]
      enabled:
        description: Started at boot or not; null leaves it.
        type: bool
      if_missing:
        description: A unit that does not exist fails the call (C(fail)) or is left alone (C(skip)).
        type: str
        choices: [fail, skip]
        default: fail
  grub:
    description: Kernel arguments for GRUB_CMDLINE_LINUX.
    type: dict
    suboptions:
      args:
        description:
          - The arguments, one per item (C(net.ifnames=0)); an argument with the same KEY is replaced. Empty - GRUB is
            not read.
        type: list
        elements: str
        default: []
      update:
        description:
          - How the boot configuration is regenerated - C(update-grub) (Debian, Ubuntu), C(grubby) (EL 8 and later,
            every installed kernel), C(grub2-mkconfig) (EL 7, into the file C(/etc/grub2.cfg) or
            C(/etc/grub2-efi.cfg) points to).
        type: str
        choices: [update-grub, grubby, grub2-mkconfig]
        default: update-grub
  os:
    description:
      - What the preparation depends on the host's OS for, decided on the host, so that no fact gathering comes
        before this call. The host's OS facts (read as C(setup) reads them) pick one of O(os.variants) the way
        C(first_found) picks a role's vars file - C(DISTRIBUTION_MAJOR), C(DISTRIBUTION), C(OSFAMILY_MAJOR),
        C(OSFAMILY), C(default) - and the packages, services and GRUB tool are derived from it and added to
        O(packages), O(packages_absent), O(restart_after_install), O(services) and O(grub.update).
      - A choice the host's OS cannot take (no package list, a renderer it does not have, netplan without Open
        vSwitch support) fails the call before anything is touched, each problem with its fix.
      - The facts go back to the controller as C(ansible_facts), so the roles that follow need no C(setup) either.
    type: dict
    suboptions:
      variants:
        description:
          - The role's OS variables, by vars file name (C(Ubuntu_18), C(Ubuntu), C(Debian), C(RedHat_7), C(RedHat),
            C(default)); the keys as in the role's files (C(__kvm_host_packages_common) and the like, the prefix
            optional).
        type: dict
        required: true
      renderer:
        description: The host's renderer; C(auto) chooses it by the OS as the C(kvm_network_model) action does.
        type: str
        default: auto
        choices: [auto, netplan, ifupdown, networkmanager, ifcfg]
      backend:
        description: The model's backend.
        type: str
        required: true
        choices: [linux_bridge, openvswitch]
      needs:
        description: What the model needs (C(linux_bonds), C(vlans), C(nameservers)), for the helper packages.
        type: dict
        default: {}
      packages:
        description: The packages instead of the variant's list (the role's C(kvm_host_packages)); null - the list.
        type: list
        elements: str
      packages_extra:
        description: Packages added to the list.
        type: list
        elements: str
        default: []
      install_packages:
        description: Whether packages are installed (and netplan purged for O(os.ubuntu_ovs_ifupdown)).
        type: bool
        default: true
      services:
        description: Whether NetworkManager, network-scripts and Open vSwitch services are set as the renderer needs.
        type: bool
        default: true
      ubuntu_ovs_ifupdown:
        description: On Ubuntu with Open vSwitch, netplan purged for ifupdown (seed 000's way).
        type: bool
        default: false
      networkmanager:
        description: NetworkManager on, off, or left; C(auto) - off for ifcfg, on for networkmanager, else left.
        type: str
        default: auto
        choices: [auto, enabled, disabled, ignore]
  accept_bridged:
    description:
      - Bridged guest traffic accepted on the FORWARD chain, the rule C(-m physdev --physdev-is-bridged -j ACCEPT)
        (seed 003; what the C(kvm_network) model's C(forwarding.accept_bridged) asks for). With br_netfilter and
        C(net.bridge.bridge-nf-call-iptables=1), frames a Linux bridge forwards go through FORWARD, and a firewall
        whose FORWARD policy drops cuts the guests off.
      - The rule goes into the host's own framework, and nothing else of it is touched. With firewalld running, a
        permanent and a runtime direct rule (C(firewall-cmd --direct)), and a marker file recording that the module
        added them. Otherwise with iptables (on Debian 12 and EL 8+ it drives nftables), the rule inserted first in
        FORWARD now, and the systemd unit O(accept_bridged.unit_file) inserting it at every boot after the firewall
        loaded its ruleset. Neither available fails before any change, naming the fix.
      - O(accept_bridged.state=absent) removes only what the module added (its unit and rule, its firewalld rules);
        a host that has none of it runs no command.
    type: dict
    suboptions:
      state:
        description: Whether the rule should be there.
        type: str
        choices: [present, absent]
        default: present
      unit_file:
        description: The systemd unit that inserts the rule at boot (iptables hosts).
        type: path
        default: /etc/systemd/system/cloudstack-kvm-accept-bridged.service
      header:
        description: Comment lines at the top of the unit file (the role's C(ansible_managed) header).
        type: str
        default: ''
  problems:
    description:
      - What the caller found wrong on the controller, one sentence each (the C(kvm_host) role's checks of its
        variables against each other and against the model). When any is given the task fails with them all
        (after the host's inventory name), on the controller, before the host is contacted.
    type: list
    elements: str
    default: []
  sriov:
    description:
      - SR-IOV physical functions (what the C(kvm_network) model's C(ethernets.NAME.sriov) asks for). Every PF is
        checked first - it exists, has SR-IOV (C(sriov_totalvfs) in sysfs) and offers enough VFs - and the module
        fails naming each one that cannot, before anything on the host changes.
      - The VF count is set live (C(device/sriov_numvfs)) and kept across reboots by a udev rule in O(sriov.rules_file)
        (matched by the PF's PCI address) or the driver's C(max_vfs) option in O(sriov.modprobe_file)
        (O(sriov.pfs[].persist=driver)). The VFs' MAC, VLAN, trust and spoof checking are set with
        C(ip link set dev PF vf N) (and by the udev rule at boot).
      - With O(grub) given and O(sriov.iommu), the IOMMU kernel arguments for the CPU (C(intel_iommu=on) or
        C(amd_iommu=on), from C(/proc/cpuinfo)) and C(iommu=pt) are added to O(grub.args).
    type: dict
    suboptions:
      pfs:
        description: One entry per PF.
        type: list
        elements: dict
        default: []
        suboptions:
          pf:
            description: The PF's network device.
            type: str
            required: true
          vfs:
            description: How many VFs it gets.
            type: int
            required: true
          persist:
            description: How the count is kept across reboots - a udev rule, or the driver's C(max_vfs) option.
            type: str
            choices: [udev, driver]
            default: udev
          driver:
            description: With O(sriov.pfs[].persist=driver), the kernel module whose C(max_vfs) is set.
            type: str
          vf:
            description: Settings per VF.
            type: list
            elements: dict
            default: []
            suboptions:
              index:
                description: The VF's number, from 0.
                type: int
                required: true
              mac:
                description: Its MAC address.
                type: str
              vlan:
                description: Its VLAN (0 for none).
                type: int
              trust:
                description: Whether the VF is trusted (may change its MAC, set promiscuous mode).
                type: bool
              spoofchk:
                description: Whether the PF drops frames from the VF with another source MAC.
                type: bool
      allow_reset:
        description:
          - Consent to change a VF count that is not 0; the kernel changes it only through 0, which removes every VF
            (guests using one lose it). Without it such a change fails, naming the PF.
        type: bool
        default: false
      iommu:
        description: Add the IOMMU kernel arguments to O(grub.args).
        type: bool
        default: true
      header:
        description: The comment put at the top of the files written.
        type: str
        default: ''
      rules_file:
        description: The udev rule file.
        type: path
        default: /etc/udev/rules.d/70-cloudstack-kvm-sriov.rules
      modprobe_file:
        description: The modprobe.d file for C(max_vfs).
        type: path
        default: /etc/modprobe.d/cloudstack-kvm-sriov.conf
  root_dir:
    description: Where the host's files are (C(/)); another directory for tests. Commands still run on the host.
    type: path
    default: /
notes:
  - The role R(cloudstack_kvm.networking.kvm_host,ansible_collections.cloudstack_kvm.networking.kvm_host_role) builds
    the options from its variables (validated on the controller) and renders the files there.
seealso:
  - module: cloudstack_kvm.networking.kvm_network_apply
'''

EXAMPLES = r'''
- name: Prepare an Open vSwitch host (Debian)
  cloudstack_kvm.networking.kvm_host_prepare:
    packages: [iproute2, kmod, procps, openvswitch-switch, ifupdown]
    kernel_modules: [openvswitch]
    files:
      - path: /etc/modules-load.d/cloudstack-kvm.conf
        content: "openvswitch\n"
    bridge_blacklist:
      path: /etc/modprobe.d/cloudstack-kvm-bridge-blacklist.conf
      content: "blacklist bridge\ninstall bridge /bin/false\n"
      state: agent
    sysctl:
      file: /etc/sysctl.d/60-cloudstack-kvm.conf
      keys:
        - {name: net.bridge.bridge-nf-call-iptables, value: "0"}
    hosts_entry:
      address: 198.51.100.11
      names: [kvm1.example.org, kvm1]
    services:
      - {name: openvswitch-switch, state: started, enabled: true}
  register: prepared

- name: Say when a reboot is needed for the kernel arguments
  ansible.builtin.debug:
    msg: "{{ prepared.grub.missing_from_running_kernel }}"
  when: prepared.reboot_required
'''

RETURN = r'''
changes:
  description: What changed (or, in check mode, would change), one line each.
  returned: always
  type: list
  elements: str
  sample: ["install openvswitch-switch", "load kernel module openvswitch", "start openvswitch-switch.service"]
commands:
  description: The commands run (or, in check mode, that would run), as argv lists; sysctls as C([write, path, value]).
  returned: always
  type: list
  elements: list
backups:
  description: Backups of the files replaced (C(/etc/hosts), C(/etc/default/grub)).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/hosts", "backup": "/etc/hosts.1234.2026-12-04@10:00:00~"}]
packages:
  description: The package manager, the packages that were missing (installed by this call), and those removed.
  returned: when packages were asked for
  type: dict
  sample: {"manager": "apt", "missing": ["openvswitch-switch"], "removed": []}
cloudstack_agent_installed:
  description: Whether the CloudStack agent was found (O(bridge_blacklist.state=agent)).
  returned: when O(bridge_blacklist.state=agent)
  type: bool
bridge_blacklist:
  description: Whether the blacklist is (or would be) C(present) or C(absent).
  returned: when O(bridge_blacklist) is given
  type: str
kernel_modules_loaded:
  description: The modules that were not loaded (loaded by this call).
  returned: when O(kernel_modules) is given and O(load_kernel_modules=true)
  type: list
  elements: str
sysctl_live:
  description: The running kernel's values that were changed.
  returned: when one was
  type: dict
  sample: {"net.bridge.bridge-nf-call-iptables": {"before": "1", "after": "0"}}
grub:
  description: GRUB_CMDLINE_LINUX before and after, the arguments the running kernel lacks, and the command that
    regenerated the boot configuration.
  returned: when O(grub.args) is not empty
  type: dict
  sample: {"cmdline_before": "quiet", "cmdline": "quiet net.ifnames=0", "missing_from_running_kernel": ["net.ifnames=0"],
           "update_command": ["/usr/sbin/update-grub"]}
accept_bridged:
  description: The framework the FORWARD rule was put in (C(firewalld), C(iptables), or null when absent) and its state.
  type: dict
  returned: when O(accept_bridged) is given
  sample: {"framework": "iptables", "state": "present"}
sriov:
  description: Per PF - its C(pci) address, C(driver), C(totalvfs), C(numvfs_before), C(numvfs) and C(vf_changes)
    (the C(ip link set) commands run).
  returned: when O(sriov.pfs) is not empty
  type: dict
  sample: {"eth4": {"pci": "0000:03:00.0", "driver": "ixgbe", "totalvfs": 63, "numvfs_before": 0, "numvfs": 8,
           "vf_changes": [["/usr/sbin/ip", "link", "set", "dev", "eth4", "vf", "0", "vlan", "100"]]}}
reboot_required:
  description: Whether the running kernel lacks one of O(grub.args) (the module never reboots).
  returned: always
  type: bool
os:
  description: The variant O(os) chose, the renderer, and what it derived.
  returned: when O(os) is given
  type: dict
  sample: {"variant": "Debian", "renderer": "ifupdown", "packages": ["iproute2", "kmod", "procps", "python3-yaml",
           "bridge-utils", "ifupdown"], "packages_absent": [], "services": [], "grub_update": "update-grub"}
ansible_facts:
  description: The OS facts the call read (C(distribution), C(distribution_version), C(distribution_major_version),
    C(os_family)) and the short C(hostname), as setup names them.
  returned: when O(os) or O(hosts_entry.with_host_name) is given
  type: dict
  sample: {"distribution": "Debian", "distribution_major_version": "12", "os_family": "Debian", "hostname": "kvm1"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import RENDERERS, ModuleFailure
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import by_os
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import firewall
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import sriov as sriov_host
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.prepare import Preparation

ARGUMENT_SPEC = dict(
    packages=dict(type='list', elements='str', default=[]),
    packages_absent=dict(type='list', elements='str', default=[]),
    package_manager=dict(type='str', default='auto', choices=['auto', 'apt', 'dnf', 'yum']),
    restart_after_install=dict(type='list', elements='str', default=[]),
    files=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True),
        content=dict(type='str'),
        mode=dict(type='str', default='0644'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ), required_if=[('state', 'present', ['content'])]),
    bridge_blacklist=dict(type='dict', options=dict(
        path=dict(type='path', required=True),
        content=dict(type='str', required=True),
        state=dict(type='str', required=True, choices=['present', 'absent', 'agent']),
        agent_properties=dict(type='path', default='/etc/cloudstack/agent/agent.properties'),
        agent_package=dict(type='str', default='cloudstack-agent'),
    )),
    kernel_modules=dict(type='list', elements='str', default=[]),
    load_kernel_modules=dict(type='bool', default=True),
    sysctl=dict(type='dict', options=dict(
        file=dict(type='path', required=True),
        header=dict(type='str', default=''),
        keys=dict(type='list', elements='dict', required=True, no_log=False, options=dict(
            name=dict(type='str', required=True),
            value=dict(type='str'),
            live=dict(type='bool', default=True),
        )),
    )),
    hostname=dict(type='str'),
    hosts_entry=dict(type='dict', options=dict(
        address=dict(type='str', required=True),
        names=dict(type='list', elements='str', required=True),
        with_host_name=dict(type='bool', default=False),
        remove_loopback=dict(type='bool', default=True),
    )),
    services=dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['started', 'stopped']),
        enabled=dict(type='bool'),
        if_missing=dict(type='str', default='fail', choices=['fail', 'skip']),
    )),
    accept_bridged=dict(type='dict', options=dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        unit_file=dict(type='path', default=firewall.UNIT_FILE),
        header=dict(type='str', default=''),
    )),
    grub=dict(type='dict', options=dict(
        args=dict(type='list', elements='str', default=[]),
        update=dict(type='str', default='update-grub', choices=['update-grub', 'grubby', 'grub2-mkconfig']),
    )),
    os=dict(type='dict', options=dict(
        variants=dict(type='dict', required=True),
        renderer=dict(type='str', default='auto', choices=['auto'] + list(RENDERERS)),
        backend=dict(type='str', required=True, choices=['linux_bridge', 'openvswitch']),
        needs=dict(type='dict', default={}),
        packages=dict(type='list', elements='str'),
        packages_extra=dict(type='list', elements='str', default=[]),
        install_packages=dict(type='bool', default=True),
        services=dict(type='bool', default=True),
        ubuntu_ovs_ifupdown=dict(type='bool', default=False),
        networkmanager=dict(type='str', default='auto', choices=['auto', 'enabled', 'disabled', 'ignore']),
    )),
    sriov=dict(type='dict', options=dict(
        pfs=dict(type='list', elements='dict', default=[], options=dict(
            pf=dict(type='str', required=True),
            vfs=dict(type='int', required=True),
            persist=dict(type='str', default='udev', choices=['udev', 'driver']),
            driver=dict(type='str'),
            vf=dict(type='list', elements='dict', default=[], options=dict(
                index=dict(type='int', required=True),
                mac=dict(type='str'),
                vlan=dict(type='int'),
                trust=dict(type='bool'),
                spoofchk=dict(type='bool'),
            )),
        ), required_if=[('persist', 'driver', ['driver'])]),
        allow_reset=dict(type='bool', default=False),
        iommu=dict(type='bool', default=True),
        header=dict(type='str', default=''),
        rules_file=dict(type='path', default=sriov_host.RULES_FILE),
        modprobe_file=dict(type='path', default=sriov_host.MODPROBE_FILE),
    )),
    root_dir=dict(type='path', default='/'),
    problems=dict(type='list', elements='str', default=[]),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if module.params['problems']:    # the action plugin refuses them on the controller already
        module.fail_json(msg=' '.join(module.params['problems']))
    facts, derived = by_os.apply(module)
    try:
        result = Preparation(module).run()
    except ModuleFailure as failure:
        module.fail_json(msg=failure.msg, **failure.kwargs)
    if result.get('reboot_required'):
        module.warn('the running kernel lacks %s; reboot the host to use them (this module never reboots).'
                    % ' '.join(result['grub']['missing_from_running_kernel']))
    if facts is not None:
        result['ansible_facts'] = facts
    if derived is not None:
        result['os'] = derived.report()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
