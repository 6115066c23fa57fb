# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""The whole-host preparation of kvm_host_prepare, in one module call: packages, the role's files,
the Linux bridge module blacklist, kernel modules, sysctls, host name and /etc/hosts, services,
bridged traffic accepted on FORWARD (firewall.py), SR-IOV,
GRUB. Each part reads the host once, compares with what is wanted, and changes only what differs
(nothing in check mode); every change is reported, with a diff for each file."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import files as host_files
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import grub
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.firewall import AcceptBridged
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host import sriov as sriov_host
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.hosts import hosts_text
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.kernel import (
    loaded_modules,
    module_name,
    proc_sys_path,
    sysctl_file_text,
    sysctl_live,
)
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.packages import Packages
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._host.services import unit_name, unit_states


class Preparation(object):
    """One run over the parts the parameters name (a part left out, or None, is not touched)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.root = host_files.Root(self.params['root_dir'])
        self.changes = []
        self.diff = []
        self.backups = []
        self.result = {}
        self.changes_ran = []
        self._installed = None

    # --- helpers ---------------------------------------------------------------------------------

    def _bin(self, name):
        path = self.module.get_bin_path(name, opt_dirs=['/sbin', '/usr/sbin'])
        if path is None:
            raise ModuleFailure('%s was not found on the host. Fix: install it, or leave out the part of '
                                'kvm_host that needs it.' % name)
        return path

    def _run(self, argv, what):
        self.changes_ran.append(list(argv))
        if self.check:
            return ''
        return command.output(self.module, argv, what=what)

    def _file(self, path, new, mode='0644', backup=False, unsafe_writes=False, what=None):
        """Make ``path`` hold ``new`` (None: removed). Returns True when it differs."""
        old = self.root.read(path)
        old_mode = self.root.mode(path)
        if old == new and (new is None or old_mode == int(mode, 8)):
            return False
        self.diff.append({'before_header': path, 'after_header': path,
                          'before': old or '', 'after': new or ''})
        action = 'remove' if new is None else ('create' if old is None else ('write' if old != new else 'mode'))
        self.changes.append('%s %s%s' % (action, path, ' (%s)' % what if what else ''))
        if self.check:
            return True
        real = self.root.real(path)
        if backup and old is not None:
            self.backups.append({'path': path, 'backup': self.root.host(host_files.backup(real))})
        if new is None:
            os.unlink(real)
        else:
            host_files.write_atomic(self.module, real, new, mode, unsafe_writes=unsafe_writes)
        return True

    # --- the parts, in the order they run --------------------------------------------------------

    def run(self):
        found = self.sriov_check()      # before anything changes
        self.packages()
        self.files()
        self.blacklist()
        self.kernel_modules()
        self.sysctl()
        self.hostname()
        self.hosts_entry()
        self.services()
        self.accept_bridged()
        self.sriov(found)
        self.grub()
        self.restart_after_install()
        self.result.update(changed=bool(self.changes), changes=self.changes, commands=self.changes_ran,
                           backups=self.backups)
        if self.module._diff:
            self.result['diff'] = self.diff
        return self.result

    def packages(self):
        present = self.params['packages'] or []
        absent = self.params['packages_absent'] or []
        detect = [n for n in [self._agent_package()] if n]
        if not (present or absent or detect):
            return
        manager = Packages(self.module, self.params['package_manager'])
        installed = manager.installed(present + absent + detect)
        self._installed = installed
        missing = [n for n in present if n not in installed]
        to_remove = [n for n in absent if n in installed]
        self.result['packages'] = {'manager': manager.manager, 'missing': missing, 'removed': to_remove}
        if missing:
            self.changes.append('install %s' % ' '.join(missing))
            if not self.check:
                self.changes_ran.extend(manager.install(missing))
        if to_remove:
            self.changes.append('remove %s' % ' '.join(to_remove))
            if not self.check:
                self.changes_ran.extend(manager.remove(to_remove))
        if missing or to_remove:
            self.diff.append({'before_header': 'packages', 'after_header': 'packages',
                              'before': ''.join('%s\n' % n for n in sorted(installed & set(present + absent))),
                              'after': ''.join('%s\n' % n for n in sorted(set(present)))})

    def files(self):
        for spec in self.params['files'] or []:
            new = spec['content'] if spec['state'] == 'present' else None
            self._file(spec['path'], new, spec['mode'])

    def _agent_package(self):
        spec = self.params['bridge_blacklist']
        return spec['agent_package'] if spec and spec['state'] == 'agent' else None

    def blacklist(self):
        spec = self.params['bridge_blacklist']
        if not spec:
            return
        state = spec['state']
        if state == 'agent':
            agent = self.root.exists(spec['agent_properties']) or spec['agent_package'] in (self._installed or set())
            self.result['cloudstack_agent_installed'] = bool(agent)
            state = 'present' if agent else 'absent'
        self.result['bridge_blacklist'] = state
        self._file(spec['path'], spec['content'] if state == 'present' else None, '0644',
                   what='Linux bridge module blacklist')

    def kernel_modules(self):
        wanted = self.params['kernel_modules'] or []
        if not wanted or not self.params['load_kernel_modules']:
            return
        have = loaded_modules(self.root)
        load = [n for n in wanted if module_name(n) not in have]
        self.result['kernel_modules_loaded'] = load
        if load:
            modprobe = self._bin('modprobe')
            for name in load:
                self.changes.append('load kernel module %s' % name)
                self._run([modprobe, name], 'loading the kernel module %s' % name)

    def sysctl(self):
        spec = self.params['sysctl']
        if not spec:
            return
        old = self.root.read(spec['file'])
        new = sysctl_file_text(old if old is not None else spec['header'], spec['keys'])
        self._file(spec['file'], new, '0644', what='sysctl')
        live = {}
        for key in spec['keys']:
            if key['value'] is None or not key['live']:
                continue
            current = sysctl_live(self.root, key['name'])
            if current is None or current == ' '.join(str(key['value']).split()):
                continue
            live[key['name']] = {'before': current, 'after': key['value']}
            self.changes.append('sysctl %s: %s -> %s' % (key['name'], current, key['value']))
            self.changes_ran.append(['write', proc_sys_path(key['name']), key['value']])
            if not self.check:
                try:
                    with open(self.root.real(proc_sys_path(key['name'])), 'w') as fh:
                        fh.write('%s\n' % key['value'])
                except (IOError, OSError) as err:
                    raise ModuleFailure('setting the sysctl %s to %s failed: %s. Fix: check that the kernel allows it '
                                        '(a container may not).' % (key['name'], key['value'], err))
        if live:
            self.result['sysctl_live'] = live

    def accept_bridged(self):
        spec = self.params['accept_bridged']
        if spec:
            self.result['accept_bridged'] = AcceptBridged(self, spec).run()

    def hostname(self):
        name = self.params['hostname']
        if not name:
            return
        current = (self.root.read('/proc/sys/kernel/hostname') or '').strip()
        static = (self.root.read('/etc/hostname') or '').strip()
        if current == name and static == name:
            return
        self.changes.append('host name %s -> %s' % (current or static, name))
        hostnamectl = self.module.get_bin_path('hostnamectl')
        if hostnamectl and self.root.exists('/run/systemd/system'):
            self._run([hostnamectl, 'set-hostname', name], 'setting the host name to %s' % name)
        else:
            self._file('/etc/hostname', name + '\n', '0644', unsafe_writes=True)
            self._run([self._bin('hostname'), name], 'setting the host name to %s' % name)

    def hosts_entry(self):
        spec = self.params['hosts_entry']
        if not spec:
            return
        old = self.root.read('/etc/hosts')
        new = hosts_text(old, spec['address'], spec['names'], spec['remove_loopback'])
        # Container engines bind-mount /etc/hosts: renaming over it fails (EBUSY), so it is
        # written in place when it must be.
        self._file('/etc/hosts', new, '%04o' % (self.root.mode('/etc/hosts') or 0o644), backup=True,
                   unsafe_writes=True, what='host entry')

    def services(self):
        specs = self.params['services'] or []
        if not specs:
            return
        states = unit_states(self.module, self._bin('systemctl'), [s['name'] for s in specs])
        pending = bool(self.result.get('packages', {}).get('missing'))
        systemctl = self._bin('systemctl')
        for spec in specs:
            unit = unit_name(spec['name'])
            state = states[unit]
            if not state['exists']:
                if spec['if_missing'] == 'skip':
                    continue
                if not (self.check and pending):
                    raise ModuleFailure('the service %s does not exist on the host. Fix: install its package '
                                        '(kvm_host_install_packages: true, or kvm_host_packages_extra).' % unit)
                # Check mode: the package this run would install brings it; it would be started.
                state = {'active': False, 'enabled': False}
            if spec['state'] == 'started' and not state['active']:
                self.changes.append('start %s' % unit)
                self._run([systemctl, 'start', unit], 'starting %s' % unit)
            elif spec['state'] == 'stopped' and state['active']:
                self.changes.append('stop %s' % unit)
                self._run([systemctl, 'stop', unit], 'stopping %s' % unit)
            if spec['enabled'] is True and not state['enabled']:
                self.changes.append('enable %s' % unit)
                self._run([systemctl, 'enable', unit], 'enabling %s' % unit)
            elif spec['enabled'] is False and state['enabled']:
                self.changes.append('disable %s' % unit)
                self._run([systemctl, 'disable', unit], 'disabling %s' % unit)

    def sriov_check(self):
        """{PF: what sysfs says} for the SR-IOV PFs; every PF that cannot have what is asked fails the
        module before anything changes."""
        spec = self.params['sriov']
        if not spec or not spec['pfs']:
            return {}
        found = dict((p['pf'], sriov_host.read_pf(self.root, p['pf'])) for p in spec['pfs'])
        broken = sriov_host.problems(spec['pfs'], found)
        if broken:
            raise ModuleFailure('SR-IOV cannot be set up as kvm_network asks, nothing was changed: %s' % ' '.join(broken))
        return found

    def sriov(self, found):
        """The VF counts (live, and kept across reboots) and the VFs' settings."""
        spec = self.params['sriov']
        if not spec:
            return
        pfs = spec['pfs'] or []
        ip = self._bin('ip') if pfs else 'ip'
        self._file(spec['rules_file'], sriov_host.rules_text(pfs, found, ip, spec['header']), '0644',
                   what='SR-IOV VF counts at boot')
        self._file(spec['modprobe_file'], sriov_host.modprobe_text(pfs, spec['header']), '0644',
                   what='SR-IOV max_vfs driver option')
        report = {}
        for pf_spec in pfs:
            pf, have = pf_spec['pf'], found[pf_spec['pf']]
            entry = report[pf] = {'pci': have['pci'], 'driver': have['driver'], 'totalvfs': have['totalvfs'],
                                  'numvfs_before': have['numvfs'], 'numvfs': pf_spec['vfs'], 'vf_changes': []}
            if have['numvfs'] != pf_spec['vfs']:
                self._set_numvfs(pf, have['numvfs'] or 0, pf_spec['vfs'], spec['allow_reset'])
            live = {} if self.check and have['numvfs'] != pf_spec['vfs'] else sriov_host.current_vfs(
                command.output(self.module, [ip, '-j', 'link', 'show', 'dev', pf], what='reading the VFs of %s' % pf))
            for index, args in sriov_host.vf_changes(pf_spec, live):
                argv = [ip, 'link', 'set', 'dev', pf, 'vf', str(index)] + args
                entry['vf_changes'].append(argv)
                self.changes.append('%s vf %d: %s' % (pf, index, ' '.join(args)))
                self._run(argv, 'setting VF %d of %s' % (index, pf))
        self.result['sriov'] = report

    def _set_numvfs(self, pf, have, want, allow_reset):
        path = '/sys/class/net/%s/device/sriov_numvfs' % pf
        if have and not allow_reset:
            raise ModuleFailure('%s has %d VFs and %d are asked for: the kernel changes the count only through 0, '
                                'which removes every VF (and takes them from the guests using them). Fix: stop the '
                                'guests that use VFs of %s, then set kvm_host_sriov_allow_reset: true.'
                                % (pf, have, want, pf))
        self.changes.append('%s: %d VFs -> %d' % (pf, have, want))
        for count in ([0] if have else []) + [want]:
            self.changes_ran.append(['write', path, str(count)])
            if self.check:
                continue
            try:
                with open(self.root.real(path), 'w') as fh:
                    fh.write('%d\n' % count)
            except (IOError, OSError) as err:
                raise ModuleFailure('setting %d VFs on %s failed: %s. Fix: check the NIC\'s firmware and the kernel log '
                                    '(dmesg) for the reason.' % (count, pf, err))

    def grub(self):
        spec = self.params['grub']
        wanted = list((spec or {}).get('args') or [])
        sriov = self.params['sriov']
        if spec is not None and sriov and sriov['pfs'] and sriov['iommu']:
            args, vendor = sriov_host.iommu_args(self.root.read('/proc/cpuinfo'))
            if vendor not in sriov_host.IOMMU_BY_VENDOR:
                self.module.warn('SR-IOV: the CPU vendor (%s) is neither Intel nor AMD; only %s is added to the kernel '
                                 'arguments. Add what turns the IOMMU on for this CPU to kvm_host_grub_cmdline_args.'
                                 % (vendor, sriov_host.IOMMU_PASSTHROUGH))
            wanted += [a for a in args if grub.arg_key(a) not in [grub.arg_key(w) for w in wanted]]
        if not wanted:
            self.result['reboot_required'] = False
            return
        text = self.root.read(grub.GRUB_DEFAULTS)
        if text is None:
            raise ModuleFailure('kvm_host_grub_cmdline_args is set, but %s does not exist (the host does not boot with '
                                'GRUB, or it is a container). Fix: set kvm_host_grub_cmdline_args: [] for this host and '
                                'set the kernel arguments another way.' % grub.GRUB_DEFAULTS)
        current = grub.current_cmdline(text)
        merged = grub.merged_cmdline(current, wanted)
        missing = grub.missing_from_running(wanted, self.root.read('/proc/cmdline'))
        self.result['grub'] = {'cmdline_before': current, 'cmdline': merged, 'missing_from_running_kernel': missing}
        self.result['reboot_required'] = bool(missing)
        if merged.split() == current.split():
            return
        mode = '%04o' % (self.root.mode(grub.GRUB_DEFAULTS) or 0o644)
        self._file(grub.GRUB_DEFAULTS, grub.defaults_text(text, merged), mode, backup=True, what='GRUB_CMDLINE_LINUX')
        argv = grub.update_argv(spec['update'], wanted, self.root, self._bin)
        self.result['grub']['update_command'] = argv
        self.changes.append('regenerate the boot configuration (%s)' % os.path.basename(argv[0]))
        self._run(argv, 'regenerating the boot configuration')

    def restart_after_install(self):
        names = self.params['restart_after_install'] or []
        if not names or not self.result.get('packages', {}).get('missing'):
            return
        systemctl = self._bin('systemctl')
        for name in names:
            unit = unit_name(name)
            self.changes.append('restart %s (packages installed)' % unit)
            self._run([systemctl, 'restart', unit], 'restarting %s' % unit)
