# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No traceback on any input (hypothesis).

* Any inventory value given as kvm_network - plausible models built from the model's own words
  with wrong values mixed in, and arbitrary nested data - is either accepted (a normalised model)
  or refused with the model's own error, whose report names the host and the object. Never another
  exception.
* Every accepted model renders for every system, and the netplan and ifupdown files it renders are
  accepted by ``netplan generate`` and ``ifquery``.
* The controller front door fails the same way; cloudstack_agent_props takes any properties
  mapping and either writes or fails with its own message.

The number of examples is bounded for `make test` (the ``ci`` profile, derandomised so a CI run
is reproducible); ``make fuzz`` runs the ``long`` profile (HYPOTHESIS_PROFILE=long).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import tempfile

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import RENDERERS
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.normalise import (
    SCHEMA, ModelError, normalise,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.renderers import render
from ansible_collections.cloudstack_kvm.networking.plugins.modules import cloudstack_agent_props
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _front_door as front_door
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.modules.utils import run_module

settings.register_profile('ci', max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile('long', max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))

HOST = 'kvm-prop'
NETPLAN = shutil.which('netplan')
IFQUERY = shutil.which('ifquery')

# --- what an inventory may hold -------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 70000), st.floats(allow_nan=True),
                    st.text(max_size=12))
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                    max_leaves=12)
NICS = ('eth0', 'eth1', 'eth2', 'eth3')
BONDS = ('bond0', 'bond1')
BRIDGES = ('cloudbr0', 'cloudbr1', 'cloudbr100')
names = st.one_of(st.sampled_from(NICS + BONDS + BRIDGES), st.sampled_from(['', 'lo', 'x' * 16, 'eth 0', '-eth']))
addresses = st.one_of(st.sampled_from(['198.51.100.20/24', '203.0.113.5/24', '2001:db8::20/64', '198.51.100.21/24',
                                       '203.0.113.5/33', '198.51.100.20', 'fe80::1/64', '0.0.0.0/0']), junk)


def maybe(strategy):
    """The strategy's values, or None: the key is left out."""
    return st.one_of(st.just(None), strategy)


def _drop_none(mapping):
    return dict((k, v) for k, v in mapping.items() if v is not None)


ethernet = st.builds(lambda mtu, mac: _drop_none({'mtu': mtu, 'match': mac}),
                     maybe(st.one_of(st.integers(500, 9500), junk)),
                     maybe(st.one_of(st.just({'macaddress': '52:54:00:00:00:01'}), junk)))
bond = st.builds(lambda members, mode, miimon, primary, lacp: _drop_none(
    {'interfaces': members, 'mode': mode, 'miimon': miimon, 'primary': primary, 'lacp': lacp}),
    st.one_of(st.lists(st.sampled_from(NICS), max_size=3), junk),
    maybe(st.one_of(st.sampled_from(['active-backup', '802.3ad', 'balance-slb', 'balance-tcp', 'balance-rr', 'bogus']),
                    junk)),
    maybe(st.one_of(st.integers(0, 1000), junk)), maybe(names), maybe(st.sampled_from(['off', 'active', 'passive', 'on'])))
bridge = st.builds(lambda uplink, vlan, addrs, gw, mtu, stp, dns: _drop_none(
    {'uplink': uplink, 'vlan': vlan, 'addresses': addrs, 'gateway4': gw, 'mtu': mtu, 'stp': stp, 'nameservers': dns}),
    maybe(names), maybe(st.one_of(st.integers(-1, 5000), junk)), maybe(st.lists(addresses, max_size=2)),
    maybe(st.sampled_from(['198.51.100.1', '203.0.113.1', '192.168.7.1', 'nonsense'])),
    maybe(st.one_of(st.integers(500, 9500), junk)), maybe(st.one_of(st.booleans(), junk)),
    maybe(st.one_of(st.just({'addresses': ['198.51.100.53'], 'search': ['example.org']}), junk)))
models = st.builds(lambda backend, eths, bonds, bridges, labels, extra: dict(_drop_none(
    {'backend': backend, 'ethernets': eths, 'bonds': bonds, 'bridges': bridges, 'traffic_labels': labels}), **extra),
    st.one_of(st.sampled_from(['linux_bridge', 'openvswitch']), junk),
    st.dictionaries(st.sampled_from(NICS), ethernet, max_size=4),
    maybe(st.dictionaries(st.sampled_from(BONDS), bond, max_size=2)),
    st.one_of(st.dictionaries(st.sampled_from(BRIDGES), bridge, min_size=1, max_size=3), junk),
    maybe(st.one_of(st.dictionaries(st.sampled_from(['management', 'guest', 'public', 'storage', 'other']),
                                    st.sampled_from(BRIDGES + ('eth0',))), junk)),
    st.dictionaries(st.sampled_from(['renderer', 'ovs', 'unknown_key']), junk, max_size=1))
# Models that are right more often: bridges on NICs or bonds the model declares.
valid_models = st.builds(lambda backend, vlan, addr, mtu: {
    'backend': backend,
    'ethernets': {'eth0': {}, 'eth1': {}, 'eth2': {'mtu': mtu} if mtu else {}},
    'bonds': {'bond0': {'interfaces': ['eth0', 'eth1'], 'mode': 'active-backup', 'miimon': 100}},
    'bridges': {'cloudbr0': {'uplink': 'bond0', 'addresses': [addr]},
                'cloudbr1': {'uplink': 'eth2'},
                'cloudbr100': {'uplink': 'bond0', 'vlan': vlan, 'addresses': ['203.0.113.20/24']}},
    'traffic_labels': {'management': 'cloudbr0', 'guest': 'cloudbr1', 'storage': 'cloudbr100'}},
    st.sampled_from(['linux_bridge', 'openvswitch']), st.integers(1, 4094),
    st.sampled_from(['198.51.100.20/24', '2001:db8::20/64', '198.51.100.99/25']), maybe(st.integers(1280, 9000)))


def accepted_or_refused(data):
    """The model normalised, or None when refused with the model's own error (which names the host)."""
    try:
        model = normalise(data, HOST)
    except ModelError as err:
        report = err.report(HOST)
        assert HOST in report and report.strip(), report
        return None
    assert model['normalised'] == SCHEMA
    return model


# --- the properties -------------------------------------------------------------------------------

@given(models)
def test_a_plausible_inventory_value_is_accepted_or_refused_by_the_model(data):
    accepted_or_refused(data)


@given(junk)
def test_any_inventory_value_is_accepted_or_refused_by_the_model(data):
    accepted_or_refused(data)


@given(st.one_of(models, valid_models))
def test_every_accepted_model_renders_for_every_system(data):
    model = accepted_or_refused(data)
    if model is None:
        return
    for system in RENDERERS:
        try:
            out = render(model, system, {'host': HOST, 'ovs_database_only': True})
        except ValueError as err:     # a renderer's refusal (what one system cannot express) names the host
            assert HOST in str(err), (system, str(err))
            continue
        assert out['files'] and all(f['path'].startswith('/') for f in out['files'])


@given(st.one_of(models, junk))
def test_the_front_door_fails_only_with_its_own_error(data):
    try:
        front_door.validate(data, HOST)
    except front_door.FrontDoorError as err:
        assert HOST in str(err)


@settings(max_examples=25 if os.environ.get('HYPOTHESIS_PROFILE', 'ci') == 'ci' else 300)
@given(valid_models)
def test_accepted_models_render_files_netplan_and_ifquery_accept(data):
    if NETPLAN is None or IFQUERY is None:
        pytest.skip('netplan and ifquery come with scripts/setup.sh (netplan.io, ifupdown)')
    model = accepted_or_refused(data)
    assert model is not None, 'the valid models are valid'
    work = tempfile.mkdtemp(prefix='prop-')
    try:
        out = render(model, 'ifupdown', {'host': HOST})
        path = os.path.join(work, 'interfaces')
        with open(path, 'w') as fh:
            fh.write(''.join(f['content'] for f in out['files'] if f['path'].startswith('/etc/network/interfaces.d/')))
        proc = subprocess.run([IFQUERY, '-i', path, '--list', '-a'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        assert proc.returncode == 0 and 'ifquery:' not in proc.stderr, proc.stderr
        if model['backend'] == 'linux_bridge':    # netplan's openvswitch keys need ovs-vsctl: render-check covers them
            out = render(model, 'netplan', {'host': HOST})
            root = os.path.join(work, 'root')
            for entry in out['files']:
                target = os.path.join(root, entry['path'].lstrip('/'))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, 'w') as fh:
                    fh.write(entry['content'])
                os.chmod(target, int(entry['mode'], 8))
            proc = subprocess.run([NETPLAN, 'generate', '--root-dir', root], cwd=work, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True, check=False)
            assert proc.returncode == 0, proc.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


AGENT_KEYS = st.sampled_from(['host', 'port', 'workers', 'network.bridge.type', 'keystore.passphrase',
                              'guest.network.device', 'openvswitch.dpdk.enabled', ''])


@given(st.dictionaries(st.one_of(AGENT_KEYS, st.text(max_size=10)), junk, max_size=4),
       st.one_of(st.just([]), st.lists(st.text(max_size=6), max_size=2)))
def test_cloudstack_agent_props_takes_any_properties_and_fails_only_with_its_own_message(properties, unset):
    work = tempfile.mkdtemp(prefix='prop-agent-')
    try:
        path = os.path.join(work, 'agent.properties')
        with open(path, 'w') as fh:
            fh.write('# shipped\nport=8250\n')
        result, dummy = run_module(cloudstack_agent_props.main, {'path': path, 'properties': properties, 'unset': unset,
                                                                 'validate_bridges': False})
        if result.get('failed'):
            assert result['msg'] and 'Traceback' not in result['msg']
        else:
            assert isinstance(result['changed'], bool)
    finally:
        shutil.rmtree(work, ignore_errors=True)
