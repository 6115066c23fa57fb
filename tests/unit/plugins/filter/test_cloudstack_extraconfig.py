# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The extraconfig filters: what they build is read back with CloudStack's own rule
(UserVmManagerImpl.persistExtraConfigKvm, re-implemented here independently of the filter) and
gives the agent both named DPDK blocks with the seed's XML."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from urllib.parse import unquote_plus
except ImportError:  # pragma: no cover
    from urllib import unquote_plus

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudstack_kvm.networking.plugins.filter.cloudstack_extraconfig import (
    cloudstack_extraconfig,
    cloudstack_extraconfig_decode,
)

# Seed 001's two configurations, as the document shows them (trailing spaces included).
SEED_HUGEPAGES = "<memoryBacking> \n   <hugePages/> \n</memoryBacking> \n"
SEED_NUMA = ("<cpu mode='host-passthrough'>\n   <numa>\n      <cell id='0' cpus='0' memory='9437184' unit='KiB' "
             "memAccess='shared'/>\n   </numa> \n</cpu>\n")
# Seed 001's encoded string: newlines collapsed to spaces, a space after "dpdk-numa:".
SEED_STRING = ('dpdk-hugepages%3A%20%3CmemoryBacking%3E%20%3ChugePages%2F%3E%20%3C%2FmemoryBacking%3E%20dpdk-numa%3A'
               '%20%3Ccpu%20mode%3D%22host-passthrough%22%3E%20%3Cnuma%3E%20%3Ccell%20id%3D%220%22%20cpus%3D%220%22%20'
               'memory%3D%229437184%22%20unit%3D%22KiB%22%20memAccess%3D%22shared%22%2F%3E%20%3C%2Fnuma%3E%20%3C%2Fcpu%3E')


def cloudstack_details(extraconfig):
    """What CloudStack stores for a KVM VM: URLDecoder.decode, split("\\n\\n"), a first line matching
    \\S+:$ names the block (and is removed), otherwise the key is extraconfig-1."""
    details = {}
    for cfg in unquote_plus(extraconfig).split('\n\n'):
        parts = cfg.split('\n')
        if re.match(r'\S+:\Z', parts[0]):
            details['extraconfig-' + parts[0][:-1]] = cfg.replace(parts[0] + '\n', '')
        else:
            details['extraconfig-1'] = cfg
    return details


def xml_lines(text):
    return [line.strip() for line in text.strip().splitlines()]


def test_the_agent_finds_both_dpdk_blocks_with_the_seeds_xml():
    encoded = cloudstack_extraconfig({'dpdk-hugepages': SEED_HUGEPAGES, 'dpdk-numa': SEED_NUMA})
    details = cloudstack_details(encoded)
    assert sorted(details) == ['extraconfig-dpdk-hugepages', 'extraconfig-dpdk-numa']
    assert xml_lines(details['extraconfig-dpdk-hugepages']) == xml_lines(SEED_HUGEPAGES)
    assert xml_lines(details['extraconfig-dpdk-numa']) == xml_lines(SEED_NUMA)
    assert cloudstack_extraconfig_decode(encoded) == dict((k[len('extraconfig-'):], v) for k, v in details.items())


def test_the_seeds_string_is_one_unnamed_block():
    details = cloudstack_details(SEED_STRING)
    assert list(details) == ['extraconfig-1']
    assert list(cloudstack_extraconfig_decode(SEED_STRING)) == ['1']


def test_utf8_and_reserved_characters_survive():
    encoded = cloudstack_extraconfig({'note': '<description>café & co: 100%+</description>'})
    assert '+' not in encoded and ' ' not in encoded
    assert cloudstack_extraconfig_decode(encoded) == {'note': '<description>café & co: 100%+</description>'}


def test_order_is_kept():
    encoded = cloudstack_extraconfig({'b': '<b/>', 'a': '<a/>'})
    assert unquote_plus(encoded) == 'b:\n<b/>\n\na:\n<a/>'


@pytest.mark.parametrize('configs, fragment', [
    ({'dpdk numa': '<cpu/>'}, "'dpdk numa'"),
    ({'dpdk-numa:': '<cpu/>'}, "'dpdk-numa:'"),
    ({'dpdk-numa': '  \n'}, 'dpdk-numa is empty'),
    ({'dpdk-numa': '<cpu>\n\n</cpu>'}, 'dpdk-numa has a blank line'),
    ({'dpdk-numa': {'cpu': 1}}, 'give its XML as a string'),
    ({}, 'mapping of name to XML'),
    ('dpdk-numa', 'mapping of name to XML'),
])
def test_bad_input_is_refused_with_its_name(configs, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        cloudstack_extraconfig(configs)
    assert fragment in str(err.value)


def test_decode_refuses_a_non_string():
    with pytest.raises(AnsibleFilterError, match='give the extraconfig string'):
        cloudstack_extraconfig_decode(['x'])
