# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The CloudStack KVM agent's rules for agent.properties, as its own source has them: which keys it
reads and how (bridge type, VIF driver, DPDK, the management server list), so the
cloudstack_agent_props module and the cloudstack_agent role check values exactly as the agent will
read them. Pure Python, no I/O.

Sources (apache/cloudstack): AgentProperties (the keys), LibvirtComputingResource.configure
(network.bridge.type through BridgeType.valueOf(value.toUpperCase()); DPDK only on openvswitch),
OvsVifDriver.plugDPDKInterface (fails without openvswitch.dpdk.ovs.path), Agent.
processManagementServerList and IAgentShell.hostLbAlgorithmSeparator (host=<list>@<algorithm>).
Values are never trimmed by java.util.Properties; an empty value means the key's default.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import ipaddress
import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import IFNAME_MAX

HOST_KEY = 'host'
HOST_SEPARATOR = '@'    # IAgentShell.hostLbAlgorithmSeparator
LB_ALGORITHMS = ('static', 'roundrobin', 'shuffle')
BRIDGE_TYPES = ('native', 'openvswitch', 'tungsten')    # LibvirtComputingResource.BridgeType
BRIDGE_DEVICE_KEYS = ('guest.network.device', 'public.network.device', 'private.network.device')
VIF_DRIVER_FOR = {
    'native': 'com.cloud.hypervisor.kvm.resource.BridgeVifDriver',
    'openvswitch': 'com.cloud.hypervisor.kvm.resource.OvsVifDriver',
}
DPDK_ENABLED = 'openvswitch.dpdk.enabled'
DPDK_OVS_PATH = 'openvswitch.dpdk.ovs.path'

# Keys the agent or cloudstack-setup-agent read (AgentProperties, AgentShell, cloudAgentConfig):
# a key given to the module that is not one of these but close to one is most likely a misspelling
# the agent silently ignores (the DPDK docs' openvswitch.dpdk.enable, for example).
AGENT_KEYS = frozenset((
    'guid', 'resource', 'workers', HOST_KEY, 'host.lb.check.interval', 'port', 'cluster', 'pod', 'zone',
    'public.network.device', 'private.network.device', 'guest.network.device', 'local.storage.path',
    'local.storage.uuid', 'qemu.sockets.path', 'domr.scripts.dir', 'cmds.timeout', 'vm.migrate.speed',
    'vm.migrate.downtime', 'vm.migrate.pauseafter', 'vm.migrate.wait', 'agent.hooks.basedir',
    'network.bridge.type', 'libvirt.vif.driver', 'network.direct.source.mode', 'network.direct.device',
    DPDK_ENABLED, DPDK_OVS_PATH, 'agent.health.check.script.path', 'hypervisor.type', 'hypervisor.uri',
    'direct.download.temporary.download.location', 'host.cache.location', 'rolling.maintenance.hooks.dir',
    'rolling.maintenance.service.executor.disabled', 'guest.cpu.mode', 'guest.cpu.model', 'guest.cpu.arch',
    'guest.cpu.features', 'vm.memballoon.disable', 'vm.diskactivity.checkenabled', 'kvmclock.disable',
    'vm.rng.enable', 'vm.rng.model', 'vm.rng.path', 'vm.rng.rate.bytes', 'vm.rng.rate.period',
    'host.overcommit.mem.mb', 'host.reserved.mem.mb', 'vm.watchdog.model', 'vm.watchdog.action',
    'iscsi.session.cleanup.enabled', 'heartbeat.update.timeout', 'host.cpu.manual.speed.mhz',
    'hypervisor.scripts.dir', 'kvm.scripts.dir', 'network.scripts.dir', 'storage.scripts.dir',
    'private.macaddr.start', 'private.ipaddr.start', 'private.bridge.name', 'private.network.name',
    'stop.script.timeout', 'vm.video.hardware', 'vm.video.ram', 'systemvm.iso.path', 'developer',
    'instance', 'mount.path', 'ping.retries', 'iothreads', 'keystore.passphrase',
))

JAVA_FQCN_RE = re.compile(r'^(?:[A-Za-z_$][A-Za-z0-9_$]*\.)+[A-Za-z_$][A-Za-z0-9_$]*$')
HOSTNAME_RE = re.compile(r'^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*'
                         r'[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$')
IFNAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,%d}$' % (IFNAME_MAX - 1))


# --- how the agent reads a value ---------------------------------------------------------------

def bridge_type(value):
    """network.bridge.type as the agent reads it ('native' when unset or empty), or None when the
    agent would refuse it."""
    if not value:
        return 'native'
    lowered = value.lower()
    return lowered if lowered in BRIDGE_TYPES else None


def java_true(value):
    """Boolean.parseBoolean: only 'true' in any case is true."""
    return value is not None and value.lower() == 'true'


def effective(key, wanted, current):
    """The value the agent will read for ``key`` once ``wanted`` is written over ``current``."""
    if key in wanted:
        return wanted[key]
    return current.get(key)


def misspelt_key(key):
    """The agent key ``key`` is most likely a misspelling of, or None."""
    if key in AGENT_KEYS:
        return None
    close = difflib.get_close_matches(key, sorted(AGENT_KEYS), n=1, cutoff=0.9)
    return close[0] if close else None


# --- the management server list ----------------------------------------------------------------

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


# --- checks --------------------------------------------------------------------------------------

def _is_ip(text):
    try:
        ipaddress.ip_address(u'%s' % text)
        return True
    except ValueError:
        return False


def _host_problems(value, bad):
    hosts, algorithm = split_host(value)
    if not hosts:
        bad(HOST_KEY, value, 'list at least one management server, e.g. ms1.example.org,ms2.example.org')
    for h in hosts:
        if not (_is_ip(h) or HOSTNAME_RE.match(h)):
            bad(HOST_KEY, value, 'entry %r is neither an IP address nor a host name; separate servers '
                'with commas and put the algorithm after @' % h)
    if algorithm is not None and algorithm not in LB_ALGORITHMS:
        bad(HOST_KEY, value, 'the algorithm after @ must be one of %s' % ', '.join(LB_ALGORITHMS))


def _number(value, low, high=None):
    return bool(re.match(r'^[0-9]+$', value)) and int(value) >= low and (high is None or int(value) <= high)


def value_problems(wanted):
    """Problems with the values of keys the agent is known to read (list of messages)."""
    problems = []

    def bad(key, value, fix):
        problems.append('key %s: %r is not valid. Fix: %s' % (key, value, fix))

    for key, value in wanted.items():
        if value is None:
            continue
        if key == 'network.bridge.type' and bridge_type(value) is None:
            bad(key, value, 'use native (Linux bridge), openvswitch or tungsten, in any case and without '
                'spaces (the agent does not trim values)')
        elif key == 'libvirt.vif.driver' and not JAVA_FQCN_RE.match(value):
            bad(key, value, 'give a Java class name such as %s or %s'
                % (VIF_DRIVER_FOR['native'], VIF_DRIVER_FOR['openvswitch']))
        elif key == 'host.lb.check.interval' and not _number(value, 0):
            bad(key, value, 'give a number of seconds, 0 or more (0 disables the preferred host check)')
        elif key == 'port' and not _number(value, 1, 65535):
            bad(key, value, 'give a TCP port, 1-65535 (the management server listens on 8250)')
        elif key == 'workers' and not _number(value, 1):
            bad(key, value, 'give a number of threads, 1 or more')
        elif key == DPDK_ENABLED and value.lower() not in ('true', 'false'):
            bad(key, value, 'use true or false (Java reads anything else as false)')
        elif key in BRIDGE_DEVICE_KEYS and not IFNAME_RE.match(value):
            bad(key, value, 'give a device name of at most %d characters (letters, digits, . _ - :)' % IFNAME_MAX)
        elif key == HOST_KEY:
            _host_problems(value, bad)
    return problems


def dpdk_problems(wanted, current):
    """DPDK switched on where the agent cannot use it: without openvswitch.dpdk.ovs.path (every
    DPDK guest NIC fails to plug) or on a bridge type other than openvswitch (the agent ignores
    it). Checked when the call touches DPDK or the bridge type."""
    if not any(k in wanted for k in (DPDK_ENABLED, DPDK_OVS_PATH, 'network.bridge.type')):
        return []
    if not java_true(effective(DPDK_ENABLED, wanted, current)):
        return []
    problems = []
    btype = bridge_type(effective('network.bridge.type', wanted, current))
    if btype != 'openvswitch':
        problems.append('key %s: DPDK is on but network.bridge.type is %s; the agent uses DPDK only with Open '
                        'vSwitch (a Linux bridge host cannot give guests DPDK ports). Fix: set '
                        'network.bridge.type: openvswitch on an Open vSwitch host, or %s: false'
                        % (DPDK_ENABLED, btype or 'invalid', DPDK_ENABLED))
    if not (effective(DPDK_OVS_PATH, wanted, current) or '').strip():
        problems.append('key %s: DPDK is on but %s is not set; the agent then fails to plug every DPDK guest NIC '
                        '(OvsVifDriver). Fix: set %s to the Open vSwitch run directory, e.g. /var/run/openvswitch'
                        % (DPDK_ENABLED, DPDK_OVS_PATH, DPDK_OVS_PATH))
    return problems


def key_warnings(wanted):
    """Warnings for keys the agent never reads that are close to one it does."""
    out = []
    for key in sorted(wanted):
        meant = misspelt_key(key)
        if meant:
            out.append('key %s is not read by the CloudStack agent; did you mean %s? (the agent silently '
                       'ignores keys it does not know)' % (key, meant))
    return out


def vif_driver_warning(wanted, current):
    btype = bridge_type(effective('network.bridge.type', wanted, current))
    driver = effective('libvirt.vif.driver', wanted, current)
    if btype not in VIF_DRIVER_FOR or not driver:
        return None
    other = [t for t, d in VIF_DRIVER_FOR.items() if d == driver and t != btype]
    if other:
        return ('libvirt.vif.driver %s is the driver for network.bridge.type %s, but the type is %s: '
                'the agent will plug guests into the wrong kind of bridge' % (driver, other[0], btype))
    return None


# --- what a host's model makes of agent.properties ---------------------------------------------

# The model's backend -> network.bridge.type.
BRIDGE_TYPE_FOR = {'linux_bridge': 'native', 'openvswitch': 'openvswitch'}
# Traffic labels -> the keys cloudstack-setup-agent writes for them (management is "private").
LABEL_KEYS = (('guest', 'guest.network.device'), ('public', 'public.network.device'),
              ('management', 'private.network.device'))


class AgentModelError(ValueError):
    """Settings the agent cannot use on this host; the message names the host and the fix."""


def properties_for(model, host=None, servers=None, algorithm=None, check_interval=None, dpdk=False,
                   dpdk_ovs_path=None, extra=None):
    """The agent.properties keys a host gets from its normalised model and the agent settings:
    bridge type and VIF driver from the backend, the traffic-label devices, the management server
    list, DPDK; ``extra`` (the user's own keys) last, so it may override any of them."""
    where = 'host %s: ' % host if host else ''
    backend = model['backend']
    props = {'network.bridge.type': BRIDGE_TYPE_FOR[backend], 'libvirt.vif.driver': VIF_DRIVER_FOR[BRIDGE_TYPE_FOR[backend]]}
    for label, key in LABEL_KEYS:
        if model['traffic_labels'].get(label):
            props[key] = model['traffic_labels'][label]
    if servers:
        if algorithm and algorithm not in LB_ALGORITHMS:
            raise AgentModelError('%smanagement server algorithm %r is not one the agent knows. Fix: use one of %s'
                                  % (where, algorithm, ', '.join(LB_ALGORITHMS)))
        props[HOST_KEY] = join_host([u'%s' % s for s in servers], algorithm)
    elif algorithm:
        raise AgentModelError('%sa management server algorithm (%s) without management servers. Fix: list the '
                              'servers too' % (where, algorithm))
    if check_interval is not None:
        props['host.lb.check.interval'] = str(int(check_interval))
    if dpdk:
        if backend != 'openvswitch':
            raise AgentModelError('%sDPDK was asked for, but kvm_network.backend is %s: the agent uses DPDK only with '
                                  'Open vSwitch. Fix: backend: openvswitch, or turn DPDK off for this host'
                                  % (where, backend))
        if not dpdk_ovs_path:
            raise AgentModelError('%sDPDK needs the Open vSwitch run directory (openvswitch.dpdk.ovs.path). Fix: '
                                  'give it, e.g. /var/run/openvswitch' % where)
        props[DPDK_ENABLED] = 'true'
        props[DPDK_OVS_PATH] = dpdk_ovs_path
    props.update(extra or {})
    return props
