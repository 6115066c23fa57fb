# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the kvm_network model: validate/normalise it and render it for a system.

Thin wrappers over the controller's one front door (plugins/plugin_utils/_front_door.py), which
the kvm_network_model action the roles use calls too: one code path, one error format.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible.module_utils.common.collections import is_sequence

# The collection's modules are imported in the filters that use them, not here: to find one filter,
# Ansible loads every filter file of the collection, in every forked worker, from source. A task
# that uses any filter of this collection then pays only for what its own filter needs.


def _through_the_front_door(name, *args, **kwargs):
    from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _front_door as front_door

    try:
        return getattr(front_door, name)(*args, **kwargs)
    except front_door.FrontDoorError as err:
        raise AnsibleFilterError(str(err))


def kvm_network_validate(data, host=None):
    """Validate and normalise a kvm_network mapping; fail with every problem at once."""
    return _through_the_front_door('validate', data, host)


def kvm_network_renderer(data, facts=None, override=None, host=None):
    """The renderer a host gets: override, the model's renderer, or by OS facts."""
    model = kvm_network_validate(data, host)
    return _through_the_front_door('choose_renderer', model, facts, override, host)


def kvm_network_render(data, renderer=None, facts=None, host=None, header=None, hostname=None,
                       ovs_database_only=False):
    """Render kvm_network for one host: {renderer, files, owned, marker, ovs_state, ovs_commands, ovs_script}.

    ``data`` is kvm_network as written or already normalised (kvm_network_validate's output).
    ``ovs_database_only``: Open vSwitch settings a renderer cannot write (netplan: datapath_type
    netdev, STP, bond delays) are left to the database reconcile instead of failing.
    """
    model = kvm_network_validate(data, host)
    name = kvm_network_renderer(model, facts, renderer, host)
    return _through_the_front_door('render_for_host', model, name, host, hostname, header, ovs_database_only)


def kvm_network_parsed(files, fmt='netplan'):
    """Configuration files turned into kvm_network offline: {kvm_network, left_out}."""
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import parsed as config_parser
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import parsed_ifcfg as ifcfg_parser
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import parsed_nm as nm_parser

    parsers = {'netplan': config_parser.parse_netplan, 'ifupdown': config_parser.parse_ifupdown,
               'ifcfg': ifcfg_parser.parse_ifcfg, 'networkmanager': nm_parser.parse_networkmanager}
    if fmt not in parsers:
        raise AnsibleFilterError('kvm_network_parsed: format %r is not one it reads yet (%s)' % (fmt, ', '.join(parsers)))
    if isinstance(files, dict):
        pairs = sorted(files.items())
    elif isinstance(files, str):
        pairs = [(fmt, files)]
    elif is_sequence(files):
        pairs = [('file %d' % (n + 1), text) for n, text in enumerate(files)]
    else:
        raise AnsibleFilterError('kvm_network_parsed: give the files\' text, as {path: text}, a list of texts or one '
                                 'text, not %r' % (files,))
    try:
        return parsers[fmt](pairs)
    except config_parser.ParseError as err:
        raise AnsibleFilterError('kvm_network_parsed: %s' % err)


# What each system's configuration files are, by path (as adopt.yml reads them).
CONFIGURED = (
    ('netplan', lambda path: path.startswith('/etc/netplan/') and path.endswith('.yaml')),
    ('ifupdown', lambda path: path == '/etc/network/interfaces' or path.startswith('/etc/network/interfaces.d/')),
)
DNS_LEFT_OUT = 'DNS servers and search domains'
AGENT_PROPERTIES = '/etc/cloudstack/agent/agent.properties'
LABELS_LEFT_OUT = 'traffic_labels'


def _agent_labels(model, bridges, files, left_out):
    """Traffic labels from the agent's own agent.properties, when the host has one: the devices
    CloudStack's agent puts guests and its own traffic on (LibvirtComputingResource.configure reads
    private.network.device, public.network.device and guest.network.device; management is
    "private"), where they are bridges of the model."""
    text = (files or {}).get(AGENT_PROPERTIES)
    if text is None:
        return
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.agent import LABEL_KEYS
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack import properties as agent_properties

    try:
        props = agent_properties.loads(text)
    except ValueError as err:
        left_out.append('%s could not be read for traffic labels: %s' % (AGENT_PROPERTIES, err))
        return
    labels = dict(model.get('traffic_labels') or {})
    taken = []
    for label, key in LABEL_KEYS:
        device = props.get(key)
        if not device:
            continue
        if device in bridges:
            labels[label] = device
            taken.append(label)
        else:
            left_out.append('%s: %s names %s for %s traffic, which is not a bridge of this model; check the agent\'s '
                            'settings' % (LABELS_LEFT_OUT, AGENT_PROPERTIES, device, label))
    if taken:
        model['traffic_labels'] = dict((label, labels[label]) for label in sorted(labels))
        left_out[:] = [line for line in left_out if not line.startswith(LABELS_LEFT_OUT + ' (') and
                       not line.startswith(LABELS_LEFT_OUT + ': management is')]
        left_out.append('%s: %s taken from %s; storage traffic is the zone\'s: add it where it has a bridge of its '
                        'own' % (LABELS_LEFT_OUT, ', '.join(sorted(taken)), AGENT_PROPERTIES))


def kvm_network_adopted(gathered, files=None):
    """The gathered model with what the host's own files say and its network does not: each
    bridge's DNS servers and search domains, read from its netplan or ifupdown files
    (``kvm_network_parsed``), and the traffic labels of the agent's agent.properties.
    {kvm_network, left_out}."""
    if not isinstance(gathered, dict) or 'kvm_network' not in gathered:
        raise AnsibleFilterError('kvm_network_adopted: give host_network_facts\' gathered result '
                                 '({kvm_network, left_out}), not %r' % (gathered,))
    from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model import parsed as config_parser

    model = dict(gathered['kvm_network'])
    bridges = dict((name, dict(entry)) for name, entry in (model.get('bridges') or {}).items())
    left_out = [line for line in gathered.get('left_out') or [] if not line.startswith(DNS_LEFT_OUT)]
    found, read, unreadable = [], [], []
    for fmt, wanted in CONFIGURED:
        texts = dict((path, text) for path, text in (files or {}).items() if wanted(path))
        if not texts:
            continue
        try:
            configured = config_parser.parse_ifupdown(sorted(texts.items())) if fmt == 'ifupdown' else \
                config_parser.parse_netplan(sorted(texts.items()))
        except (config_parser.ParseError, ValueError, TypeError, AttributeError) as err:
            unreadable.append('%s (%s)' % (', '.join(sorted(texts)), str(err).splitlines()[0]))
            continue
        for name, entry in sorted((configured['kvm_network'].get('bridges') or {}).items()):
            if name in bridges and entry.get('nameservers') and name not in found:
                bridges[name]['nameservers'] = entry['nameservers']
                found.append(name)
                read.extend(p for p in sorted(texts) if p not in read)
    model['bridges'] = bridges
    _agent_labels(model, bridges, files, left_out)
    if found:
        left_out.append('%s: taken from %s for %s; servers the host gets otherwise (DHCP, a resolv.conf written by '
                        'hand) are not in its files: add them to the bridge that has them'
                        % (DNS_LEFT_OUT, ', '.join(read), ', '.join(found)))
    else:
        left_out.append('%s: neither the network nor the host\'s netplan or ifupdown files name any; add '
                        'nameservers to the bridge that has them' % DNS_LEFT_OUT)
    for what in unreadable:
        left_out.append('files that could not be read for DNS servers: %s' % what)
    return {'kvm_network': model, 'left_out': left_out}


class FilterModule(object):

    def filters(self):
        return {
            'kvm_network_parsed': kvm_network_parsed,
            'kvm_network_adopted': kvm_network_adopted,
            'kvm_network_validate': kvm_network_validate,
            'kvm_network_renderer': kvm_network_renderer,
            'kvm_network_render': kvm_network_render,
        }
