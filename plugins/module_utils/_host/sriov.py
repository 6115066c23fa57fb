# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""SR-IOV for kvm_host_prepare: each physical function (PF) read from sysfs and checked before
anything changes, its VF count set live (``device/sriov_numvfs``: the kernel changes a count only
through 0) and kept across reboots (a udev rule, or the driver's ``max_vfs`` option), the VFs'
MAC, VLAN, trust and spoof checking set with ``ip link set PF vf N``, and the IOMMU kernel
arguments the CPU needs (``intel_iommu=on`` or ``amd_iommu=on``, and ``iommu=pt``).

sysfs, as the kernel lays it out for every SR-IOV driver (ixgbe, i40e, ice, mlx5_core, bnxt_en):
``/sys/class/net/PF/device`` links to the PCI function, whose ``sriov_totalvfs`` says what the
device offers (no such file: no SR-IOV capability), ``sriov_numvfs`` what it has, ``driver`` links
to the driver and ``virtfnN`` to each VF's PCI function.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

RULES_FILE = '/etc/udev/rules.d/70-cloudstack-kvm-sriov.rules'
MODPROBE_FILE = '/etc/modprobe.d/cloudstack-kvm-sriov.conf'
IOMMU_PASSTHROUGH = 'iommu=pt'
IOMMU_BY_VENDOR = {'GenuineIntel': 'intel_iommu=on', 'AuthenticAMD': 'amd_iommu=on'}


def _int(text):
    try:
        return int((text or '').strip())
    except ValueError:
        return None


def read_pf(root, pf):
    """What sysfs says about ``pf``: {exists, pci, driver, totalvfs, numvfs, vfs_present}."""
    base = '/sys/class/net/%s' % pf
    device = root.readlink(base + '/device')
    driver = root.readlink(base + '/device/driver')
    return {
        'exists': root.exists(base),
        'pci': os.path.basename(device) if device else None,
        'driver': os.path.basename(driver) if driver else None,
        'totalvfs': _int(root.read(base + '/device/sriov_totalvfs')),
        'numvfs': _int(root.read(base + '/device/sriov_numvfs')),
        'vfs_present': len([n for n in root.listdir(base + '/device') if n.startswith('virtfn')]),
    }


def problems(pfs, found):
    """Why the wanted ``pfs`` cannot be set up, one sentence each naming the PF and the fix."""
    out = []
    for spec in pfs:
        pf, have = spec['pf'], found[spec['pf']]
        if not have['exists']:
            out.append('%s: no such network device on the host. Fix: name the PF as the host names it.' % pf)
        elif have['totalvfs'] is None:
            out.append('%s (driver %s): has no SR-IOV capability (no sriov_totalvfs in sysfs: the NIC, its firmware '
                       'or its driver offers no VFs, or SR-IOV is off in the BIOS). Fix: enable SR-IOV in the BIOS and '
                       'the NIC firmware, or drop sriov from this NIC.' % (pf, have['driver'] or 'unknown'))
        elif have['totalvfs'] < spec['vfs']:
            out.append('%s (driver %s): offers %d VFs and %d are asked for. Fix: set vfs to %d or fewer.'
                       % (pf, have['driver'] or 'unknown', have['totalvfs'], spec['vfs'], have['totalvfs']))
        elif spec['persist'] == 'driver' and have['driver'] and spec['driver'] != have['driver']:
            out.append('%s: persist: driver names driver %s, but the NIC is driven by %s. Fix: set driver: %s.'
                       % (pf, spec['driver'], have['driver'], have['driver']))
    return out


def vf_args(vf):
    """The ``ip link set dev PF`` arguments that give VF ``vf`` its settings (what is None is left)."""
    args = []
    if vf['mac'] is not None:
        args += ['mac', vf['mac']]
    if vf['vlan'] is not None:
        args += ['vlan', str(vf['vlan'])]
    for key in ('trust', 'spoofchk'):
        if vf[key] is not None:
            args += [key, 'on' if vf[key] else 'off']
    return args


def rules_text(pfs, found, ip, header):
    """The udev rule file: for each PF kept by udev, the count written when its network device
    appears (matched by its PCI address, which survives renames) and its VFs' settings run after."""
    lines = [header.rstrip('\n')] if header else []
    for spec in pfs:
        if spec['persist'] != 'udev':
            continue
        # At boot the PF has no VFs yet: the count is written once (a count changes only through 0).
        rule = ('ACTION=="add", SUBSYSTEM=="net", KERNELS=="%s", ATTR{device/sriov_numvfs}=="0", '
                'ATTR{device/sriov_numvfs}="%d"' % (found[spec['pf']]['pci'], spec['vfs']))
        for vf in spec['vf']:
            args = vf_args(vf)
            if args:
                rule += ', RUN+="%s link set dev $name vf %d %s"' % (ip, vf['index'], ' '.join(args))
        lines.append('# %s: %d VFs' % (spec['pf'], spec['vfs']))
        lines.append(rule)
    return '\n'.join(lines) + '\n' if any(s['persist'] == 'udev' for s in pfs) else None


def modprobe_text(pfs, header):
    """The modprobe.d file for the PFs kept by their driver's max_vfs option (one line per driver:
    the option applies to every port that driver drives)."""
    drivers = {}
    for spec in pfs:
        if spec['persist'] == 'driver':
            drivers[spec['driver']] = max(drivers.get(spec['driver'], 0), spec['vfs'])
    if not drivers:
        return None
    lines = [header.rstrip('\n')] if header else []
    lines += ['options %s max_vfs=%d' % (d, n) for d, n in sorted(drivers.items())]
    return '\n'.join(lines) + '\n'


def current_vfs(ip_json):
    """{index: {mac, vlan, trust, spoofchk}} from ``ip -j link show dev PF`` (its vfinfo_list)."""
    out = {}
    for link in json.loads(ip_json or '[]'):
        for vf in link.get('vfinfo_list') or []:
            vlans = vf.get('vlan_list') or ([{'vlan': vf['vlan']}] if 'vlan' in vf else [])
            out[vf.get('vf')] = {'mac': (vf.get('address') or '').lower() or None,
                                 'vlan': (vlans[0].get('vlan') if vlans else 0) or 0,
                                 'trust': vf.get('trust'), 'spoofchk': vf.get('spoofchk')}
    return out


def vf_changes(spec, have):
    """(index, args) for each VF of ``spec`` whose live settings differ from the wanted ones."""
    changes = []
    for vf in spec['vf']:
        now = have.get(vf['index']) or {}
        differ = dict(vf)
        for key in ('mac', 'vlan', 'trust', 'spoofchk'):
            if vf[key] is None or now.get(key) == vf[key]:
                differ[key] = None
        args = vf_args(differ)
        if args:
            changes.append((vf['index'], args))
    return changes


def iommu_args(cpuinfo):
    """The kernel arguments that turn the IOMMU on for this CPU, and pass-through mode for the host's
    own devices; the CPU vendor from /proc/cpuinfo (None when it is neither Intel nor AMD)."""
    vendor = None
    for line in (cpuinfo or '').splitlines():
        if line.startswith('vendor_id'):
            vendor = line.split(':', 1)[1].strip()
            break
    arg = IOMMU_BY_VENDOR.get(vendor)
    return ([arg] if arg else []) + [IOMMU_PASSTHROUGH], vendor
