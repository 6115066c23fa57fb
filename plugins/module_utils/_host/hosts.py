# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""/etc/hosts for kvm_host_prepare: the 127.0.1.1 line for the host's names goes (``hostname
--fqdn`` must give the management address, which the CloudStack agent reports), and one line maps
the address to the names."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re


def hosts_text(text, address, names, remove_loopback=True):
    """The new /etc/hosts text. As ansible.builtin.lineinfile did for the role: the last line for
    ``address`` is replaced (or the line appended), every 127.0.1.1 line naming one of ``names``
    is removed, other lines are kept."""
    lines = (text or '').splitlines()
    if remove_loopback:
        loopback = re.compile(r'^127\.0\.1\.1\s+(.*\s)?(%s)(\s|$)' % '|'.join(re.escape(n) for n in names))
        lines = [line for line in lines if not loopback.match(line)]
    entry = '%s\t%s' % (address, ' '.join(names))
    mine = re.compile(r'^\s*%s\s' % re.escape(address))
    hits = [i for i, line in enumerate(lines) if mine.match(line)]
    if hits:
        lines[hits[-1]] = entry
    else:
        lines.append(entry)
    return '\n'.join(lines) + '\n'
