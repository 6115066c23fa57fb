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
    The file is written atomically.
  - The agent owns the C(host) key. Once connected it rewrites it as the management server list,
    ordered for the load balancing algorithm, followed by C(@algorithm), for example
    C(ms2,ms3,ms1@roundrobin). It also persists C(host.lb.check.interval). The module compares
    C(host) so that this rewrite does not make the next run report a change (see O(host_compare)
    and O(host_order)).
  - Values of the keys the module knows are checked before anything is written. These are
    C(network.bridge.type), C(libvirt.vif.driver), C(host), C(host.lb.check.interval), C(port),
    C(workers), C(openvswitch.dpdk.enabled) and the C(guest.network.device),
    C(public.network.device) and C(private.network.device) bridges, which must exist on the host
    (see O(validate_bridges)).
requirements:
  - ovs-vsctl on the managed host when a traffic label device is checked against
    C(network.bridge.type=openvswitch)
extends_documentation_fragment:
  - ansible.builtin.files
  - cloudstack_kvm.networking._attributes
  - cloudstack_kvm.networking._attributes.actiongroup
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
        C(private.network.device), when given, name bridges that exist on the host. With
        C(network.bridge.type=native) (the agent's default) they must be Linux bridges. With
        C(openvswitch) they must be Open vSwitch bridges (fake bridges count), as
        C(ovs-vsctl) reports them.
      - The bridge type is the one given in O(properties), else the one in the file.
      - Set to V(false) when the file is written before the bridges are created.
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
    type: bool
    default: true
notes:
  - The agent reads the file at start. Restart C(cloudstack-agent) after a change, for example
    from a handler notified by this task.
  - The management server sends the list (global setting C(host)), the algorithm
    (C(indirect.agent.lb.algorithm)) and C(indirect.agent.lb.check.interval) to every agent when
    it connects. Manage C(host) here only to bootstrap the agent or with the same servers as that
    setting, or the two will keep rewriting each other. The same holds for
    C(host.lb.check.interval).
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
    would hold), as the agent reads them.
  returned: always
  type: dict
  sample: {"network.bridge.type": "openvswitch", "host": "ms1,ms2@roundrobin", "port": "8250"}
differences:
  description: The keys that changed or would change, with the C(active) and C(wanted) values
    (null for an absent key).
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
  description: The file before and after, with headers naming the file.
  returned: when diff mode is on
  type: dict
  sample: {"before": "port=8250\n", "after": "port=8250\nnetwork.bridge.type=openvswitch\n",
           "before_header": "/etc/cloudstack/agent/agent.properties",
           "after_header": "/etc/cloudstack/agent/agent.properties"}
'''

import ipaddress
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.properties import (
    PropertiesError, PropertiesFile,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import SysReader
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsError

# Where /sys is read from (tests point it at a recorded tree).
SYS_ROOT = '/'

HOST_KEY = 'host'
HOST_SEPARATOR = '@'    # IAgentShell.hostLbAlgorithmSeparator
LB_ALGORITHMS = ('static', 'roundrobin', 'shuffle')
BRIDGE_TYPES = ('native', 'openvswitch')
BRIDGE_DEVICE_KEYS = ('guest.network.device', 'public.network.device', 'private.network.device')
VIF_DRIVER_FOR = {
    'native': 'com.cloud.hypervisor.kvm.resource.BridgeVifDriver',
    'openvswitch': 'com.cloud.hypervisor.kvm.resource.OvsVifDriver',
}
JAVA_FQCN_RE = re.compile(r'^(?:[A-Za-z_$][A-Za-z0-9_$]*\.)+[A-Za-z_$][A-Za-z0-9_$]*$')
HOSTNAME_RE = re.compile(r'^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*'
                         r'[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$')
IFNAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$')


class AgentPropsError(Exception):
    """Invalid input or a file that cannot be handled; the message names the key and the fix."""


# --- values ----------------------------------------------------------------------------------

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


def split_host(value):
    """``ms1, ms2@roundrobin`` -> (['ms1', 'ms2'], 'roundrobin'); the algorithm may be None."""
    if value is None:
        return [], None
    hosts, sep, algorithm = value.partition(HOST_SEPARATOR)
    return [h.strip() for h in hosts.split(',') if h.strip()], (algorithm.strip() if sep else None)


def join_host(hosts, algorithm):
    text = ','.join(hosts)
    return '%s%s%s' % (text, HOST_SEPARATOR, algorithm) if algorithm else text


def host_value(active, wanted, compare, order):
    """Decide the ``host`` key: (differs, value to write)."""
    a_hosts, a_alg = split_host(active)
    w_hosts, w_alg = split_host(wanted)
    if order == 'ignore' or (order == 'auto' and a_alg):
        same_hosts = sorted(a_hosts) == sorted(w_hosts) and len(a_hosts) == len(w_hosts)
    else:
        same_hosts = a_hosts == w_hosts
    if compare == 'with_algorithm' or w_alg is not None:
        same_alg = a_alg == w_alg
        alg = w_alg
    else:
        same_alg = True
        alg = a_alg
    if active is not None and same_hosts and same_alg:
        return False, active
    return True, join_host(w_hosts, alg)


# --- validation --------------------------------------------------------------------------------

def _is_ip(text):
    try:
        ipaddress.ip_address(to_text(text))
        return True
    except ValueError:
        return False


def validate_values(wanted):
    """Problems with the values of keys the agent is known to read (list of messages)."""
    problems = []

    def bad(key, value, fix):
        problems.append('key %s: %r is not valid. Fix: %s' % (key, value, fix))

    for key, value in wanted.items():
        if value is None:
            continue
        if key == 'network.bridge.type' and value not in BRIDGE_TYPES:
            bad(key, value, 'use native (Linux bridge) or openvswitch')
        elif key == 'libvirt.vif.driver' and not JAVA_FQCN_RE.match(value):
            bad(key, value, 'give a Java class name such as %s or %s'
                % (VIF_DRIVER_FOR['native'], VIF_DRIVER_FOR['openvswitch']))
        elif key == 'host.lb.check.interval' and not re.match(r'^[0-9]+$', value):
            bad(key, value, 'give a number of seconds, 0 or more (0 disables the preferred host check)')
        elif key == 'port' and not (re.match(r'^[0-9]+$', value) and 1 <= int(value) <= 65535):
            bad(key, value, 'give a TCP port, 1-65535 (the management server listens on 8250)')
        elif key == 'workers' and not (re.match(r'^[0-9]+$', value) and int(value) >= 1):
            bad(key, value, 'give a number of threads, 1 or more')
        elif key in ('openvswitch.dpdk.enabled', 'openvswitch.dpdk.enable') and value not in ('true', 'false'):
            bad(key, value, 'use true or false (Java reads anything else as false)')
        elif key in BRIDGE_DEVICE_KEYS and not IFNAME_RE.match(value):
            bad(key, value, 'give a bridge name of at most 15 characters (letters, digits, . _ - :)')
        elif key == HOST_KEY:
            hosts, algorithm = split_host(value)
            if not hosts:
                bad(key, value, 'list at least one management server, e.g. ms1.example.org,ms2.example.org')
            for h in hosts:
                if not (_is_ip(h) or HOSTNAME_RE.match(h)):
                    bad(key, value, 'entry %r is neither an IP address nor a host name; separate servers '
                        'with commas and put the algorithm after @' % h)
            if algorithm is not None and algorithm not in LB_ALGORITHMS:
                bad(key, value, 'the algorithm after @ must be one of %s' % ', '.join(LB_ALGORITHMS))
    return problems


def effective(key, wanted, current):
    if key in wanted:
        return wanted[key]
    return current.get(key)


def vif_driver_warning(wanted, current):
    btype = effective('network.bridge.type', wanted, current) or 'native'
    driver = effective('libvirt.vif.driver', wanted, current)
    if btype not in VIF_DRIVER_FOR or not driver:
        return None
    other = [t for t, d in VIF_DRIVER_FOR.items() if d == driver and t != btype]
    if other:
        return ('libvirt.vif.driver %s is the driver for network.bridge.type %s, but the type is %s: '
                'the agent will plug guests into the wrong kind of bridge' % (driver, other[0], btype))
    return None


class BridgeChecker(object):
    """Whether a traffic label device is a bridge of the kind the agent will use."""

    def __init__(self, module):
        self.module = module
        self.sysr = SysReader(SYS_ROOT)
        self._ovs = None
        self._ovs_error = None

    def ovs_bridges(self):
        if self._ovs is None and self._ovs_error is None:
            if not self.module.get_bin_path('ovs-vsctl', required=False):
                self._ovs_error = 'ovs-vsctl is not installed'
            else:
                try:
                    self._ovs = set(OvsVsctl(self.module, timeout=5).snapshot().bridges)
                except OvsError as e:
                    self._ovs_error = 'the Open vSwitch database cannot be read (%s)' % e
        return self._ovs or set()

    def problems(self, devices, bridge_type):
        out = []
        for key, dev in devices:
            linux = self.sysr.is_linux_bridge(dev)
            if bridge_type == 'openvswitch':
                ovs = dev in self.ovs_bridges()
                if ovs:
                    continue
                if linux:
                    what = '%s is a Linux bridge, but network.bridge.type is openvswitch' % dev
                elif self._ovs_error:
                    what = 'cannot tell whether Open vSwitch bridge %s exists: %s' % (dev, self._ovs_error)
                else:
                    what = 'there is no Open vSwitch bridge %s on this host' % dev
                fix = 'create the Open vSwitch bridge %s first, or set validate_bridges: false' % dev
            else:
                if linux:
                    continue
                if dev in self.ovs_bridges():
                    what = '%s is an Open vSwitch bridge, but network.bridge.type is %s' % (dev, bridge_type)
                    fix = 'set network.bridge.type: openvswitch, or use a Linux bridge'
                elif self.sysr.exists('/sys/class/net', dev):
                    what = '%s exists but is not a Linux bridge' % dev
                    fix = 'name a Linux bridge (the agent plugs guests into it), or set validate_bridges: false'
                else:
                    what = 'there is no Linux bridge %s on this host' % dev
                    fix = 'create bridge %s first, or set validate_bridges: false' % dev
            out.append('key %s: %s. Fix: %s' % (key, what, fix))
        return out


# --- file ----------------------------------------------------------------------------------

def read_file(path):
    """(text, exists): the file decoded as ISO-8859-1, the agent's encoding."""
    if not os.path.exists(path):
        return '', False
    if os.path.isdir(path):
        raise AgentPropsError('%s is a directory. Fix: give the path of the properties file' % path)
    with open(path, 'rb') as f:
        return f.read().decode('latin-1'), True


def write_file(module, path, text):
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        raise AgentPropsError('directory %s does not exist. Fix: install the CloudStack agent (it '
                              'creates %s) or create the directory first' % (directory, directory))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode('latin-1'))
        module.atomic_move(tmp, path, unsafe_writes=module.params['unsafe_writes'])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
            raise AgentPropsError('key %s is both set (to %r) and listed in unset. Fix: keep one of them'
                                  % (key, wanted[key]))
        wanted[key] = None

    problems = validate_values(wanted)
    text, exists = read_file(path)
    try:
        pf = PropertiesFile.parse(text)
    except PropertiesError as e:
        raise AgentPropsError('%s: %s. Fix: correct the escape in the file (java.util.Properties '
                              'refuses it too)' % (path, e))
    current = pf.as_dict()

    if p['validate_bridges']:
        devices = [(k, wanted[k]) for k in BRIDGE_DEVICE_KEYS if wanted.get(k) is not None]
        if devices and not problems:
            btype = effective('network.bridge.type', wanted, current) or 'native'
            problems.extend(BridgeChecker(module).problems(devices, btype))
    if problems:
        raise AgentPropsError('%s: %s' % (path, '; '.join(problems)))
    warning = vif_driver_warning(wanted, current)
    if warning:
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

    result = {'path': path, 'properties': pf.as_dict(), 'differences': tracker.differences, 'changed': changed}
    if module._diff:
        result['diff'] = {'before': text, 'after': new_text, 'before_header': path, 'after_header': path}

    if changed and not module.check_mode:
        if exists and p['backup']:
            result['backup_file'] = module.backup_local(path)
        write_file(module, path, new_text)
        exists = True
    if exists:
        file_args = module.load_file_common_arguments(module.params, path=path)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/cloudstack/agent/agent.properties', aliases=['dest']),
            properties=dict(type='dict', default={}),
            unset=dict(type='list', elements='str', default=[]),
            host_compare=dict(type='str', default='without_algorithm', choices=['without_algorithm', 'with_algorithm']),
            host_order=dict(type='str', default='auto', choices=['auto', 'strict', 'ignore']),
            validate_bridges=dict(type='bool', default=True),
            create=dict(type='bool', default=True),
            backup=dict(type='bool', default=True),
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
