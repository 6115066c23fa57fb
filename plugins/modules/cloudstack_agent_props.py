#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: cloudstack_agent_props
short_description: Set and unset keys of the CloudStack KVM agent's agent.properties
version_added: 0.1.0
author:
  - cloudstack_kvm.networking contributors (!UNKNOWN)
description:
  - Manages keys of C(/etc/cloudstack/agent/agent.properties), the Java properties file of the
    Apache CloudStack KVM agent, such as C(network.bridge.type), C(libvirt.vif.driver), the
    traffic label devices, C(openvswitch.dpdk.*) and the management server list C(host).
  - The file is parsed as C(java.util.Properties) reads it. That covers backslash escapes,
    C(\uXXXX), continuation lines, the C(=), C(:) and white space separators, C(#) and C(!)
    comments, and duplicate keys, where the last one wins. Values are compared as Java sees them,
    so a value the agent rewrote with other escaping (C(2001\:db8\:\:10)) is equal to the plain
    one.
  - Untouched lines stay exactly as they were, with their comments, blank lines, order,
    separators and escapes. A changed key is rewritten on one line in its place, keeping its
    separator (continuation lines collapse into that one line). Earlier, shadowed definitions of
    the same key are removed when the key changes. New keys are appended at the end of the file.
    The file is written atomically, and the new file has its final mode and owner before it
    replaces the old one. A new file that holds a secret and has no O(mode) gets C(0600).
  - The agent rewrites the whole file with C(java.util.Properties.store) whenever it persists a
    value (C(host), its C(guid), the keystore passphrase). Comments and blank lines are dropped
    then, a date comment is put first, and C(:), C(=), C(#) and C(!) in values are escaped.
    Comments this module keeps therefore survive only until the agent's first rewrite; the values
    stay, and the module compares values as Java reads them, so that rewrite is not a change.
  - The agent owns the C(host) key. Once connected it rewrites it as the management server list,
    ordered for the load balancing algorithm, followed by C(@algorithm), for example
    C(ms2,ms3,ms1@roundrobin) (C(Agent.processManagementServerList)). It never writes
    C(host.lb.check.interval). The module compares C(host) so that this rewrite does not make the
    next run report a change (see O(host_compare) and O(host_order)). C(cloudstack-setup-agent)
    matches keys by prefix, so when it writes C(host) it also replaces a C(host.lb.check.interval)
    line, so run this module after it.
  - Values of the keys the module knows are checked, as the agent reads them, before anything is
    written. C(network.bridge.type) is C(native), C(openvswitch) or C(tungsten) in any case (the
    agent does not trim values; empty means C(native)); C(libvirt.vif.driver), C(host),
    C(host.lb.check.interval), C(port), C(workers) and C(openvswitch.dpdk.enabled) must have
    their formats. DPDK switched on needs C(openvswitch.dpdk.ovs.path) (without it the agent fails to
    plug every DPDK guest NIC) and C(network.bridge.type=openvswitch) (the agent ignores DPDK on
    other bridge types).
  - The C(guest.network.device), C(public.network.device) and C(private.network.device) devices
    must exist on the host as the agent will use them (see O(validate_bridges)).
  - A key the agent never reads that is close to one it does (the C(openvswitch.dpdk.enable)
    misspelling of some DPDK guides) gives a warning.
requirements:
  - ovs-vsctl on the managed host when a traffic label device is checked against
    C(network.bridge.type=openvswitch)
extends_documentation_fragment:
  - ansible.builtin.files
  - cloudstack_kvm.networking._attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reports the change and the diff without writing the file or a backup.
  diff_mode:
    support: full
    details:
      - The diff is the whole file before and after the change.
options:
  path:
    description:
      - The properties file.
    type: path
    default: /etc/cloudstack/agent/agent.properties
    aliases: [dest]
  properties:
    description:
      - Keys and the values they must have.
      - 'A null value (C(key:) or C(key: null)) removes the key, like O(unset).'
      - Booleans become C(true)/C(false) (what Java's C(Boolean.parseBoolean) reads), and numbers
        become their decimal text.
      - C(host) may be a comma-separated string or a list. A list is joined with commas, so its
        last item may carry the C(@algorithm) suffix, as in C(ms2@roundrobin).
    type: dict
    default: {}
  unset:
    description:
      - Keys to remove from the file. Every definition of each key is removed.
      - A key may not be both here and in O(properties) with a value.
    type: list
    elements: str
    default: []
  host_compare:
    description:
      - How the management server list C(host) is compared with the file.
      - V(without_algorithm) compares only the servers, not the C(@algorithm) suffix the agent
        appends, unless the wanted value has a suffix itself. When the list has to be written,
        the file's current suffix is kept.
      - V(with_algorithm) compares the whole value. A missing suffix is then different from any
        suffix.
    type: str
    choices: [without_algorithm, with_algorithm]
    default: without_algorithm
  host_order:
    description:
      - Whether the order of the servers in C(host) counts. The first one is the agent's
        preferred server.
      - V(auto) ignores the order when the file's value has an C(@algorithm) suffix. The
        management server has then sent the list, ordered for its algorithm (C(roundrobin) and
        C(shuffle) give each agent its own order). Otherwise the order counts.
      - V(strict) always compares the order. V(ignore) compares the servers as a set.
    type: str
    choices: [auto, strict, ignore]
    default: auto
  validate_bridges:
    description:
      - Check that C(guest.network.device), C(public.network.device) and
        C(private.network.device), when given, name devices the agent will use, as it looks at
        them (C(LibvirtComputingResource.getPif), C(BridgeVifDriver), C(OvsVifDriver)).
      - With C(network.bridge.type=native) (the agent's default) a device is a Linux bridge with a
        port whose name the agent accepts as the physical device (a case-sensitive prefix eth,
        bond, vlan, vx, em, ens, eno, enp, team, enx, dummy, lo, or p<n>p<n>), or a plain device,
        which the agent uses as it is. A guest or public device so long that the agent's VLAN
        bridges C(br<device>-<vlan>) cannot fit Linux's 15 characters for every VLAN gives a
        warning.
      - With C(openvswitch) they must be Open vSwitch bridges (fake bridges count), as
        C(ovs-vsctl) reports them, whatever their ports are named. With C(tungsten) they are not
        checked.
      - The bridge type is the one given in O(properties), else the one in the file.
      - Set to V(false) when the file is written before the bridges are created.
    type: bool
    default: true
  agent_keys:
    description:
      - Check values and key names as the CloudStack KVM agent reads them (the checks above).
      - Set to V(false) to edit another Java properties file of CloudStack with the same care, such
        as the management server's C(server.properties); only the file syntax is checked then.
    type: bool
    default: true
  create:
    description:
      - Create the file when it does not exist and there is a key to set. With V(false) a missing
        file is an error. The directory must exist either way.
    type: bool
    default: true
  backup:
    description:
      - Before changing the file, copy it to a backup file whose name includes a timestamp. The
        name is returned in RV(backup_file).
      - The backup is created with the file's mode and owner from its first byte, never wider.
    type: bool
    default: true
  backup_keep:
    description:
      - How many backups of the file stay beside it; older ones made the same way (C(FILE.PID.DATE~))
        are removed when a new one is made, so old passwords do not pile up in backups.
      - V(0) keeps every backup.
    type: int
    default: 3
  secret_keys:
    description:
      - Keys whose values are secret besides those whose name says C(password), C(passphrase),
        C(passwd) or C(secret) (such as the agent's C(keystore.passphrase) and the management
        server's C(https.keystore.password)), which always are.
      - The value of a secret key never appears in any output of the module. The diff, RV(properties),
        RV(differences), warnings, errors and the invocation the module logs on the host show
        C(********) instead (a changed secret shows as C(******** (changed)) in the diff's after
        text).
    type: list
    elements: str
    default: []
notes:
  - The agent reads the file at start. Restart C(cloudstack-agent) after a change, for example
    from a handler notified by this task.
  - The management server sends the list (global setting C(host)), the algorithm
    (C(indirect.agent.lb.algorithm)) and C(indirect.agent.lb.check.interval) to every agent when
    it connects. Manage C(host) here only to bootstrap the agent or with the same servers as that
    setting, or the two will keep rewriting each other. The agent keeps the check interval it
    receives in memory and never writes C(host.lb.check.interval), so the file's value is what
    it starts with.
  - The file is read and written as ISO-8859-1, as the agent does. New values with characters
    outside printable ASCII are written as C(\uXXXX) escapes.
seealso:
  - module: cloudstack_kvm.networking.host_network_facts
  - name: CloudStack KVM agent configuration
    description: The agent.properties keys for the KVM hypervisor.
    link: https://docs.cloudstack.apache.org/en/latest/installguide/hypervisor/kvm.html
'''

EXAMPLES = r'''
- name: Use Open vSwitch bridges for guest, public and management traffic
  cloudstack_kvm.networking.cloudstack_agent_props:
    properties:
      network.bridge.type: openvswitch
      libvirt.vif.driver: com.cloud.hypervisor.kvm.resource.OvsVifDriver
      guest.network.device: cloudbr0
      private.network.device: cloudbr0
      public.network.device: cloudbr1
  notify: Restart cloudstack-agent

- name: Bootstrap the management server list (the agent's @roundrobin rewrite is not a change)
  cloudstack_kvm.networking.cloudstack_agent_props:
    properties:
      host: [ms1.example.org, ms2.example.org]

- name: Pin list and algorithm exactly
  cloudstack_kvm.networking.cloudstack_agent_props:
    properties:
      host: ms1.example.org,ms2.example.org@static
    host_compare: with_algorithm
    host_order: strict

- name: Enable DPDK and drop an old key
  cloudstack_kvm.networking.cloudstack_agent_props:
    properties:
      openvswitch.dpdk.enabled: true
      openvswitch.dpdk.ovs.path: /var/run/openvswitch
      vm.migrate.speed: null
    unset:
      - libvirt.vif.driver.old

- name: Write the file before the bridges exist, without a backup
  cloudstack_kvm.networking.cloudstack_agent_props:
    path: /etc/cloudstack/agent/agent.properties
    properties:
      guest.network.device: cloudbr0
    validate_bridges: false
    backup: false
    owner: root
    group: root
    mode: '0644'
'''

RETURN = r'''
path:
  description: The properties file.
  returned: always
  type: str
  sample: /etc/cloudstack/agent/agent.properties
properties:
  description: Every key of the file and its value after the change (in check mode, what the file
    would hold), as the agent reads them. Secret values (see O(secret_keys)) are C(********).
  returned: always
  type: dict
  sample: {"network.bridge.type": "openvswitch", "host": "ms1,ms2@roundrobin", "port": "8250"}
differences:
  description: The keys that changed or would change, with the C(active) and C(wanted) values
    (null for an absent key; C(********) for a secret one).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "network.bridge.type", "active": "native", "wanted": "openvswitch"}]
backup_file:
  description: The backup copy of the file made before it was changed.
  returned: when a backup was made
  type: str
  sample: /etc/cloudstack/agent/agent.properties.12345.2026-01-01@10:00:00~
diff:
  description: The file before and after, with headers naming the file. Secret values are
    masked.
  returned: when diff mode is on
  type: dict
  sample: {"before": "port=8250\n", "after": "port=8250\nnetwork.bridge.type=openvswitch\n",
           "before_header": "/etc/cloudstack/agent/agent.properties",
           "after_header": "/etc/cloudstack/agent/agent.properties"}
'''

import os

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.agent import (
    BRIDGE_DEVICE_KEYS, HOST_KEY, bridge_type, dpdk_problems, effective, host_value, key_warnings, value_problems,
    vif_driver_warning,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.properties import (
    PropertiesError, PropertiesFile,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import backup, write_atomic
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.devices import BridgeChecker
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.secrets import SECRET_MASK, SecretsModule, is_secret_key, mask, secret_values
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._diff import DifferenceTracker

# Where /sys and /proc are read from (tests point them at a recorded tree).
SYS_ROOT = '/'


class AgentPropsError(Exception):
    """Invalid input or a file that cannot be handled; the message names the key and the fix."""


def to_property_value(key, value):
    """A module parameter value as the string the agent reads; None means unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        if key != HOST_KEY:
            raise AgentPropsError('key %s: a list is only accepted for host. Fix: give %s a string' % (key, key))
        return ','.join(to_text(v).strip() for v in value)
    if isinstance(value, dict):
        raise AgentPropsError('key %s: a dict is not a property value. Fix: give a string' % key)
    return to_text(value)


# --- file ----------------------------------------------------------------------------------

def read_file(path):
    """(text, exists): the file decoded as ISO-8859-1, the agent's encoding."""
    if not os.path.exists(path):
        return '', False
    if os.path.isdir(path):
        raise AgentPropsError('%s is a directory. Fix: give the path of the properties file' % path)
    with open(path, 'rb') as f:
        return f.read().decode('latin-1'), True


def write_file(module, path, text, holds_secret):
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        raise AgentPropsError('directory %s does not exist. Fix: install the CloudStack agent (it '
                              'creates %s) or create the directory first' % (directory, directory))
    write_atomic(module, path, text.encode('latin-1'), final_mode(module, path, holds_secret),
                 unsafe_writes=module.params['unsafe_writes'])


def final_mode(module, path, holds_secret):
    """The mode the written file ends with, given to it before it replaces the old one: O(mode)
    when it is octal, else the file's own, else 0600 for a file with a secret (0644 otherwise)."""
    wanted = module.params['mode']
    if isinstance(wanted, int) or (wanted and str(wanted).isdigit()):
        return wanted if isinstance(wanted, int) else int(str(wanted), 8)
    if os.path.exists(path):
        return os.stat(path).st_mode & 0o7777
    return 0o600 if holds_secret else 0o644   # a symbolic mode is applied after the write


def run(module):
    p = module.params
    path = p['path']
    wanted = {}
    for key, value in (p['properties'] or {}).items():
        key = to_text(key)
        if not key:
            raise AgentPropsError('an empty key was given in properties. Fix: remove it')
        wanted[key] = to_property_value(key, value)
    for key in p['unset']:
        if wanted.get(key) is not None:
            raise AgentPropsError('key %s is both set and listed in unset. Fix: keep one of them' % key)
        wanted[key] = None

    if p['backup_keep'] < 0:
        raise AgentPropsError('backup_keep is %d. Fix: 0 (keep every backup) or a positive count' % p['backup_keep'])
    problems = value_problems(wanted) if p['agent_keys'] else []
    text, exists = read_file(path)
    try:
        pf = PropertiesFile.parse(text)
    except PropertiesError as e:
        raise AgentPropsError('%s: %s. Fix: correct the escape in the file (java.util.Properties '
                              'refuses it too)' % (path, e))
    current = pf.as_dict()
    extra = p['secret_keys']
    module.hide(secret_values(current, extra))

    warnings = []
    if p['agent_keys']:
        problems.extend(dpdk_problems(wanted, current))
        warnings.extend(key_warnings(wanted))
        warnings.append(vif_driver_warning(wanted, current))
    if p['validate_bridges']:
        devices = [(k, wanted[k]) for k in BRIDGE_DEVICE_KEYS if wanted.get(k) is not None]
        if devices and not problems:
            checker = BridgeChecker(module, SYS_ROOT)
            problems.extend(checker.problems(devices, bridge_type(effective('network.bridge.type', wanted, current))))
            warnings.extend(checker.warnings)
    if problems:
        raise AgentPropsError('%s: %s' % (path, '; '.join(problems)))
    for warning in filter(None, warnings):
        module.warn(warning)

    if not exists and not p['create'] and any(v is not None for v in wanted.values()):
        raise AgentPropsError('%s does not exist. Fix: install the CloudStack agent first, or set '
                              'create: true' % path)

    tracker = DifferenceTracker()
    for key, value in wanted.items():
        active = current.get(key)
        if value is None:
            tracker.add(key, active, None)
            pf.unset(key)
        elif key == HOST_KEY:
            differs, new = host_value(active, value, p['host_compare'], p['host_order'])
            tracker.add(key, active, new, differs=differs)
            if differs:
                pf.set(key, new)
        else:
            tracker.add(key, active, value)
            pf.set(key, value)
    new_text = pf.dumps()
    changed = new_text != text

    final = pf.as_dict()

    def is_secret(key):
        return is_secret_key(key, extra)
    differences = [dict(d, active=SECRET_MASK if d['active'] is not None else None,
                        wanted=SECRET_MASK if d['wanted'] is not None else None) if is_secret(d['name']) else d
                   for d in tracker.differences]
    result = {'path': path, 'properties': mask(final, extra), 'differences': differences, 'changed': changed}
    if module._diff:
        changed_secrets = set(d['name'] for d in differences if is_secret(d['name']))
        result['diff'] = {
            'before': PropertiesFile.parse(text).masked(is_secret, lambda key: SECRET_MASK),
            'after': pf.masked(is_secret, lambda key: SECRET_MASK + (' (changed)' if key in changed_secrets else '')),
            'before_header': path, 'after_header': path}

    if changed and not module.check_mode:
        if exists and p['backup']:
            result['backup_file'] = backup(path, keep=p['backup_keep'])
        write_file(module, path, new_text, any(is_secret(k) for k in final))
        exists = True
    if exists:
        file_args = module.load_file_common_arguments(module.params, path=path)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    return result


def wanted_secrets(params):
    """The secret values among the wanted properties (each key on its own: one bad value does not
    hide the others from the mask)."""
    extra = params.get('secret_keys') or ()
    found = set()
    for key, value in (params.get('properties') or {}).items():
        if is_secret_key(key, extra) and value is not None:
            try:
                found.add(to_property_value(key, value))
            except AgentPropsError:
                found.add(to_text(value))
    return found


def main():
    module = SecretsModule(
        secrets_of=wanted_secrets,
        argument_spec=dict(
            path=dict(type='path', default='/etc/cloudstack/agent/agent.properties', aliases=['dest']),
            properties=dict(type='dict', default={}),
            unset=dict(type='list', elements='str', default=[]),
            host_compare=dict(type='str', default='without_algorithm', choices=['without_algorithm', 'with_algorithm']),
            host_order=dict(type='str', default='auto', choices=['auto', 'strict', 'ignore']),
            validate_bridges=dict(type='bool', default=True),
            agent_keys=dict(type='bool', default=True),
            create=dict(type='bool', default=True),
            backup=dict(type='bool', default=True),
            backup_keep=dict(type='int', default=3),
            secret_keys=dict(type='list', elements='str', default=[], no_log=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except AgentPropsError as e:
        module.fail_json(msg=to_native(e), path=module.params['path'])
    except (IOError, OSError) as e:
        module.fail_json(msg='%s: %s' % (module.params['path'], to_native(e)), path=module.params['path'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
