# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""systemd ``.link`` files that give NICs their model names by MAC address.

netplan names NICs itself (``match``/``set-name``); ifupdown and NetworkManager rely on udev, which
reads these files when it first sees a NIC (so a change takes effect at the next boot).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._render.common import (
    FILE_PREFIX,
    comment_header,
    file_entry,
)

LINK_DIR = '/etc/systemd/network'
LINK_PATTERN = LINK_DIR + '/10-%s-%%s.link' % FILE_PREFIX


def systemd_link_files(model, header=None):
    """systemd .link files naming each NIC that has match.macaddress: [file_entry, ...].

    ``Type=ether`` keeps bonds, VLANs and bridges that inherit the NIC's MAC from matching.
    """
    files = []
    for name, eth in model['ethernets'].items():
        mac = eth['match'].get('macaddress')
        if not mac:
            continue
        text = comment_header(header)
        text += '[Match]\nMACAddress=%s\nType=ether\n\n[Link]\nName=%s\n' % (mac, name)
        files.append(file_entry(LINK_PATTERN % name, text))
    return files
