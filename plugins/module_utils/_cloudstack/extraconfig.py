# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The ``extraconfig`` parameter of CloudStack's deployVirtualMachine for KVM, built and read the
way CloudStack reads it (apache/cloudstack, UserVmManagerImpl):

* ``decodeExtraConfig``: ``URLDecoder.decode(value, "UTF-8")`` (``+`` is a space, ``%XX`` bytes);
* ``persistExtraConfigKvm``: the decoded text is split on ``"\\n\\n"``; a block whose first line
  matches ``\\S+:$`` (a name, a colon, nothing after it) is stored as ``extraconfig-<name>`` with
  that line removed; any other block is stored whole as ``extraconfig-1`` (the counter is reset
  for every block, so unnamed blocks overwrite each other).

The agent's DPDK support then looks for ``extraconfig-dpdk-hugepages`` and
``extraconfig-dpdk-numa`` (DpdkHelper.DPDK_HUGE_PAGES, DPDK_NUMA). Pure Python, no I/O.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re


try:
    from urllib.parse import quote, unquote_plus
except ImportError:  # pragma: no cover - Python 2
    from urllib import quote, unquote_plus

UNNAMED = '1'
BLOCK_SEPARATOR = '\n\n'
NAME_LINE_RE = re.compile(r'^\S+:$')    # String.matches: the whole first line


class ExtraConfigError(ValueError):
    """A configuration CloudStack would not read as given; the message names it and the fix."""


def _block(name, text):
    name = u'%s' % name
    if not re.match(r'^\S+$', name) or name.endswith(':'):
        raise ExtraConfigError('extra configuration %r: CloudStack names a block by a first line "<name>:" '
                               'without spaces. Fix: use a name such as dpdk-hugepages' % name)
    if not isinstance(text, str):
        raise ExtraConfigError('extra configuration %s: give its XML as a string, not %s'
                               % (name, type(text).__name__))
    body = '\n'.join(line.rstrip() for line in text.strip('\n').replace('\r\n', '\n').split('\n'))
    if not body.strip():
        raise ExtraConfigError('extra configuration %s is empty. Fix: give its XML' % name)
    if BLOCK_SEPARATOR in body:
        raise ExtraConfigError('extra configuration %s has a blank line: CloudStack splits the configurations on '
                               'blank lines, so the rest would become an unnamed configuration. Fix: remove the '
                               'blank lines' % name)
    return '%s:\n%s' % (name, body)


def encode(configs):
    """``{name: xml}`` (in order) -> the URL-encoded ``extraconfig`` string."""
    if not isinstance(configs, dict) or not configs:
        raise ExtraConfigError('give the extra configurations as a mapping of name to XML, e.g. '
                               '{dpdk-hugepages: "<memoryBacking><hugePages/></memoryBacking>"}')
    text = BLOCK_SEPARATOR.join(_block(name, xml) for name, xml in configs.items())
    return quote(text.encode('utf-8'), safe='')


def decode(value):
    """The ``extraconfig`` string -> ``{name: xml}`` as CloudStack stores it (the detail key without
    its ``extraconfig-`` prefix; unnamed blocks under ``1``, the last one winning)."""
    if not isinstance(value, str):
        raise ExtraConfigError('give the extraconfig string, not %s' % type(value).__name__)
    text = unquote_plus(value)
    stored = {}
    for block in text.split(BLOCK_SEPARATOR):
        first = block.split('\n')[0]
        if NAME_LINE_RE.match(first):
            stored[first[:-1]] = block.replace(first + '\n', '')
        else:
            stored[UNNAMED] = block
    return stored
