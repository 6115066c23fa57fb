# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""SR-IOV on a NIC of the model (``ethernets.NAME.sriov``): how many virtual functions the
physical function (PF) gets, how the count is kept across reboots, and what each VF is given.

    sriov:
      vfs: 8                  # VFs to create (the PF's sriov_totalvfs is the limit, checked on the host)
      persist: udev           # udev: a rule writes sriov_numvfs when the PF appears (default);
                              # driver: the driver's max_vfs option (modprobe.d; the next boot or driver load)
      driver: ixgbe           # with persist: driver, the kernel module that has max_vfs
      vf:                     # per VF, by index: what `ip link set PF vf N ...` sets
        - {index: 0, mac: "52:54:00:12:34:56", vlan: 100, trust: true, spoofchk: false}
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import VLAN_MAX
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._model.values import (
    MAC_RE,
    as_bool,
    as_int,
    as_list,
    as_mapping,
)

SRIOV_KEYS = ('vfs', 'persist', 'driver', 'vf')
VF_KEYS = ('index', 'mac', 'vlan', 'trust', 'spoofchk')
PERSIST = ('udev', 'driver')
# PCIe allows more, but no NIC driver offers more VFs per PF than this.
MAX_VFS = 256
DRIVER_RE = re.compile(r'^[A-Za-z0-9_-]+$')


def parse(chk, where, value):
    """The normalised ``sriov`` of one ethernet, or None when it has none."""
    if value is None:
        return None
    where = where + ' sriov'
    opts = as_mapping(chk, where, value)
    chk.unknown_keys(where, opts, SRIOV_KEYS)
    vfs = as_int(chk, where, 'vfs', opts.get('vfs'), 1, MAX_VFS)
    if opts.get('vfs') is None:
        chk.add(where, 'vfs is not set', 'set vfs to the number of virtual functions, e.g. vfs: 8')
    persist = opts.get('persist', 'udev')
    if persist not in PERSIST:
        chk.add(where, 'persist %r is not udev or driver' % (persist,),
                'use udev (a rule sets the count when the NIC appears) or driver (the driver\'s max_vfs option)')
    driver = opts.get('driver')
    if persist == 'driver' and (not isinstance(driver, str) or not DRIVER_RE.match(driver)):
        chk.add(where, 'persist: driver needs the driver\'s module name (driver: %r)' % (driver,),
                'set driver to the kernel module that has max_vfs, e.g. driver: ixgbe')
    elif persist != 'driver' and driver is not None:
        chk.add(where, 'driver is set but persist is not driver', 'drop driver, or set persist: driver')
    out = {'vfs': vfs, 'persist': persist, 'driver': driver if persist == 'driver' else None, 'vf': []}
    seen = set()
    for n, item in enumerate(as_list(chk, where, 'vf', opts.get('vf'))):
        at = '%s vf[%d]' % (where, n)
        item = as_mapping(chk, at, item)
        chk.unknown_keys(at, item, VF_KEYS)
        index = as_int(chk, at, 'index', item.get('index'), 0, MAX_VFS - 1)
        if index is None:
            if item.get('index') is None:
                chk.add(at, 'index is not set', 'give the VF\'s number, from 0')
            continue
        at = '%s vf %d' % (where, index)
        if vfs is not None and index >= vfs:
            chk.add(at, 'is beyond the %d VFs asked for (they are numbered 0 to %d)' % (vfs, vfs - 1),
                    'raise vfs or use a lower index')
        if index in seen:
            chk.add(at, 'is listed twice', 'list each VF once')
            continue
        seen.add(index)
        vf = {'index': index, 'mac': None, 'vlan': None, 'trust': None, 'spoofchk': None}
        if item.get('mac') is not None:
            mac = str(item['mac']).strip().lower().replace('-', ':')
            if not MAC_RE.match(mac):
                chk.add(at, 'mac %r is not a MAC address' % (item['mac'],), 'write e.g. 52:54:00:12:34:56')
            elif int(mac[:2], 16) & 1:
                chk.add(at, 'mac %s is a multicast address' % mac, 'use a unicast MAC (an even first octet)')
            else:
                vf['mac'] = mac
        vf['vlan'] = as_int(chk, at, 'vlan', item.get('vlan'), 0, VLAN_MAX)
        for key in ('trust', 'spoofchk'):
            vf[key] = as_bool(chk, at, key, item.get(key), None)
        out['vf'].append(vf)
    out['vf'].sort(key=lambda v: v['index'])
    return out


def host_sriov(model):
    """What kvm_host_prepare sets up: one entry per PF with SR-IOV, {pf, vfs, persist, driver, vf}."""
    return [dict(eth['sriov'], pf=name) for name, eth in sorted(model['ethernets'].items()) if eth.get('sriov')]
