# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The kernel side of kvm_host_prepare: which modules are loaded or built in, and the sysctl keys,
in their file (other lines kept) and in the running kernel."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re


def module_name(name):
    """The kernel treats - and _ in module names alike."""
    return name.replace('-', '_')


def loaded_modules(root):
    """Names of the modules in /proc/modules and those built into the running kernel."""
    names = set()
    for line in (root.read('/proc/modules') or '').splitlines():
        if line.split():
            names.add(module_name(line.split()[0]))
    release = (root.read('/proc/sys/kernel/osrelease') or '').strip()
    if release:
        for line in (root.read('/lib/modules/%s/modules.builtin' % release) or '').splitlines():
            base = os.path.basename(line.strip())
            if base.endswith('.ko'):
                names.add(module_name(base[:-3]))
    return names


_SYSCTL_LINE = re.compile(r'^\s*([A-Za-z0-9_.\-/*]+)\s*=\s*(.*?)\s*$')


def sysctl_file_text(text, keys):
    """``text`` (the file, or its header when it is new) with each key of ``keys`` [{name, value}]
    set (value None: its lines removed), as ansible.posix.sysctl writes it (``key=value``): the
    first line of a key is replaced and its repeats dropped, new keys are appended, every other
    line is left as it is."""
    lines = text.splitlines()
    wanted = dict((k['name'], k['value']) for k in keys)
    seen = set()
    out = []
    for line in lines:
        match = _SYSCTL_LINE.match(line) if not line.lstrip().startswith(('#', ';')) else None
        name = match.group(1).replace('/', '.') if match else None
        if name not in wanted:
            out.append(line)
            continue
        if wanted[name] is None or name in seen:
            continue
        seen.add(name)
        out.append('%s=%s' % (name, wanted[name]))
    for key in keys:
        if key['value'] is not None and key['name'] not in seen:
            out.append('%s=%s' % (key['name'], key['value']))
            seen.add(key['name'])
    return '\n'.join(out) + '\n' if out else ''


def proc_sys_path(name):
    return '/proc/sys/' + name.replace('.', '/')


def sysctl_live(root, name):
    """The running kernel's value (blanks folded), or None where the key does not exist (the
    net.bridge tree before br_netfilter is loaded, net.ipv6 with ipv6.disable=1)."""
    text = root.read(proc_sys_path(name))
    return None if text is None else ' '.join(text.split())
