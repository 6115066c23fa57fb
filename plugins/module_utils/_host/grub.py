# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""GRUB_CMDLINE_LINUX for kvm_host_prepare: the wanted kernel arguments put in (an argument with
the same KEY replaced, every other one kept), the command that regenerates the boot configuration,
and whether the running kernel lacks an argument (a reboot is needed; nothing here reboots)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

GRUB_DEFAULTS = '/etc/default/grub'
_LINE = re.compile(r'^GRUB_CMDLINE_LINUX=(.*)$', re.M)
_QUOTES = re.compile(r'^\s*["\']|["\']\s*$')


def arg_key(arg):
    return arg.split('=', 1)[0]


def current_cmdline(text):
    """The value of the last GRUB_CMDLINE_LINUX assignment, without its quotes."""
    found = _LINE.findall(text or '')
    return _QUOTES.sub('', found[-1]) if found else ''


def merged_cmdline(current, wanted):
    """``current``'s arguments with each of ``wanted`` replacing the one of the same KEY (in its
    place; repeats of that KEY dropped), the others appended."""
    keys = [arg_key(a) for a in wanted]
    out = []
    for token in current.split():
        key = arg_key(token)
        arg = wanted[keys.index(key)] if key in keys else token
        if key not in keys or arg not in out:
            out.append(arg)
    out.extend(a for a in wanted if a not in out)
    return ' '.join(out)


def defaults_text(text, cmdline):
    """/etc/default/grub with its (last) GRUB_CMDLINE_LINUX line set to ``cmdline``, or the line
    appended."""
    line = 'GRUB_CMDLINE_LINUX="%s"' % cmdline
    matches = list(re.finditer(r'(?m)^GRUB_CMDLINE_LINUX=.*$', text))
    if not matches:
        return text.rstrip('\n') + '\n' + line + '\n'
    last = matches[-1]
    return text[:last.start()] + line + text[last.end():]


def missing_from_running(wanted, proc_cmdline):
    return [a for a in wanted if a not in (proc_cmdline or '').split()]


def update_argv(update, wanted, root, bin_path):
    """The command that regenerates the boot configuration: update-grub (Debian, Ubuntu), grubby
    (EL 8+: the arguments of every installed kernel), grub2-mkconfig (EL 7: into the file
    /etc/grub2.cfg or /etc/grub2-efi.cfg links to)."""
    if update == 'update-grub':
        return [bin_path('update-grub')]
    if update == 'grubby':
        return [bin_path('grubby'), '--update-kernel=ALL', '--args=' + ' '.join(wanted)]
    link = '/etc/grub2-efi.cfg' if root.exists('/sys/firmware/efi') else '/etc/grub2.cfg'
    target = root.readlink(link) or '/boot/grub2/grub.cfg'
    return [bin_path('grub2-mkconfig'), '-o', target]
