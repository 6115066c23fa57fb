# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The one reader of a host's realised network.

``read_host_network`` is what the host_network_facts module returns, what kvm_network_apply's
drift detection compares with the model, and so what verify compares: the same facts by
construction. It runs only the reads the requested sections need (``NEEDS``) and returns::

    links, addresses, routes, linux_bridges, bonds, vlans, ovs, cloud0, owners, model

each present when asked for (``sections``). ``model`` is the realised network in the shape of
the normalised kvm_network model (``view.build_model``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.linux import (
    IpTool,
    NetFactsError,
    SysReader,
    linux_bonds,
    linux_bridges,
    linux_vlans,
    parse_addresses,
    parse_default_routes,
    parse_links,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.ovs import ovs_fact_queries, parse_ovs
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.owners import NmcliTool, decide_owners
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.gathered import gathered
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._facts.view import build_model, cloud0_facts
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.client import OvsVsctl
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._ovs.db import OvsError

SECTIONS = ('links', 'addresses', 'routes', 'bridges', 'bonds', 'vlans', 'ovs', 'cloud0', 'owners', 'model')
# A view of its own, asked for by name (not part of every reading): the model as the user would write it.
GATHERED = 'gathered'
# What each returned section needs read.
NEEDS = {
    'links': ('links',),
    'addresses': ('links', 'addresses'),
    'routes': ('routes',),
    'bridges': ('links',),
    'bonds': ('links',),
    'vlans': ('links',),
    'ovs': ('ovs',),
    'cloud0': ('links', 'addresses', 'ovs'),
    'owners': ('links',),
    'model': ('links', 'addresses', 'routes', 'ovs'),
    'gathered': ('links', 'addresses', 'routes', 'ovs'),     # and the owners section (below)
}
# What drift detection compares: the model view and the raw sections that classify ports and bonds.
COMPARE_SECTIONS = ('links', 'addresses', 'routes', 'bridges', 'bonds', 'vlans', 'ovs', 'model')
OVS_TABLES = ('Open_vSwitch', 'Bridge', 'Port', 'Interface')


def read_ovs(module, mode='auto', timeout=5, client=None):
    """The OVS section: parsed facts, or ``{'available': False, 'reason': ...}``.

    With a ``client`` (the caller's, e.g. kvm_network_apply's with its database and timeout), the
    database is read through it and an OvsError is the caller's to report. Otherwise ``mode``
    ``auto`` reads it when ovs-vsctl is installed and warns when the database cannot be read,
    ``true`` fails then, ``false`` never reads it.
    """
    if client is not None:
        facts = parse_ovs(dict(zip(OVS_TABLES, client.query(ovs_fact_queries()))))
        facts['available'] = True
        return facts
    if mode == 'false':
        return {'available': False, 'reason': 'not read (ovs: false)'}
    if mode == 'auto' and not module.get_bin_path('ovs-vsctl', required=False):
        return {'available': False, 'reason': 'ovs-vsctl is not installed'}
    try:
        client = OvsVsctl(module, timeout=timeout)
        tables = client.query(ovs_fact_queries())
    except OvsError as e:
        if mode == 'true':
            raise NetFactsError('cannot read the Open vSwitch database: %s. Start Open vSwitch '
                                '(systemctl start openvswitch-switch or openvswitch), or set ovs: auto'
                                % e, cmd=e.cmd, rc=e.rc, stderr=e.stderr)
        module.warn('Open vSwitch is installed but its database could not be read (%s); OVS '
                    'bridges are missing from the facts' % e)
        return {'available': False, 'reason': str(e)}
    facts = parse_ovs(dict(zip(OVS_TABLES, tables)))
    facts['available'] = True
    return facts


def read_host_network(module, sections=SECTIONS, ovs='auto', ovs_timeout=5, root='/', ovs_client=None,
                      connection_address=None):
    """The realised network: the requested ``sections`` (see the module docstring).

    ``root`` is where /proc, /sys, /run and /etc are read (a recorded tree in tests); ``ovs``,
    ``ovs_timeout`` and ``ovs_client`` as for :func:`read_ovs`; ``connection_address``: the address
    the host is reached at, whose bridge ``gathered`` labels management.
    """
    wanted = set(sections)
    reads = set()
    for section in wanted:
        reads.update(NEEDS[section])
    sysr = SysReader(root)
    ip = IpTool(module)

    links = parse_links(ip.links()) if 'links' in reads else {}
    for name, link in links.items():
        link['physical'] = sysr.is_physical(name)
        link['sriov'] = sysr.sriov(name) if link['physical'] else None
    addresses = parse_addresses(ip.addresses()) if 'addresses' in reads else {}
    routes = (parse_default_routes(ip.default_routes(4), ip.default_routes(6)) if 'routes' in reads
              else {'ipv4': [], 'ipv6': []})
    ovs_facts = read_ovs(module, ovs, ovs_timeout, ovs_client) if 'ovs' in reads else {'available': False}

    facts = {}
    lbr = linux_bridges(links, sysr)
    bonds = linux_bonds(links, sysr.proc_bonding())
    vlans = linux_vlans(links, sysr.proc_vlans())
    if 'links' in wanted:
        facts['links'] = dict((n, dict((k, v) for k, v in l.items() if k not in ('info_data', 'slave_data')))
                              for n, l in links.items())
    # section asked for -> (fact name, value)
    for section, key, value in (('addresses', 'addresses', addresses), ('routes', 'routes', routes),
                                ('bridges', 'linux_bridges', lbr), ('bonds', 'bonds', bonds),
                                ('vlans', 'vlans', vlans), ('ovs', 'ovs', ovs_facts)):
        if section in wanted:
            facts[key] = value
    if 'cloud0' in wanted:
        facts['cloud0'] = cloud0_facts(links, addresses, lbr, ovs_facts)
    owners = None
    if 'owners' in wanted or 'gathered' in wanted:
        networkd = {}
        for name, link in links.items():
            state = sysr.networkd_link(link['ifindex'])
            if state is not None:
                networkd[name] = state
        owners = decide_owners(links, NmcliTool(module).active_connections(), networkd,
                               sysr.ifupdown_up(), sysr.ifcfg_files())
        if 'owners' in wanted:
            facts['owners'] = owners
    if 'model' in wanted or 'gathered' in wanted:
        model = build_model({'links': links, 'addresses': addresses, 'routes': routes,
                             'linux_bridges': lbr, 'bonds': bonds, 'vlans': vlans, 'ovs': ovs_facts})
        if 'model' in wanted:
            facts['model'] = model
        if 'gathered' in wanted:
            facts['gathered'] = gathered({'model': model, 'owners': owners}, connection_address)
    return facts
