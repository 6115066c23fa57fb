# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""What a host's preparation depends on its OS for, decided on the host (kvm_host_prepare's ``os``).

The kvm_host role keeps its OS data as first_found vars files (``roles/kvm_host/vars/<name>.yml``:
package names, service names, the GRUB tool) and hands them all to kvm_host_prepare, which picks
the file first_found would pick for this host (``Distribution_Major``, ``Distribution``,
``OsFamily_Major``, ``OsFamily``, ``default``) and derives from it the packages, services and
GRUB tool of the call. So the role gathers no facts of its own: one module round trip prepares the
host, and the facts it read go back to the controller (``ansible_facts``) for the roles after it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import platform

from ansible.module_utils.facts.system.distribution import Distribution

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import RENDERERS, renderer_for_os

# The role's OS variables carry the role's prefix.
PREFIX = '__kvm_host_'
FACT_KEYS = ('distribution', 'distribution_version', 'distribution_major_version', 'os_family')


def os_facts(module):
    """The OS facts Ansible's setup module would return for the role's dispatch (same collector),
    and ``hostname`` (the short host name, as setup's ``hostname``)."""
    found = Distribution(module).get_distribution_facts()
    facts = dict((k, found.get(k)) for k in FACT_KEYS)
    facts['hostname'] = platform.node().split('.')[0]
    return facts


def candidates(facts):
    """The vars file names first_found tries for these facts, in its order."""
    distro, family, major = facts.get('distribution'), facts.get('os_family'), facts.get('distribution_major_version')
    return ['%s_%s' % (distro, major), str(distro), '%s_%s' % (family, major), str(family), 'default']


def choose(variants, facts):
    """``(name, data)``: the variant first_found would pick, its keys without the role's prefix."""
    for name in candidates(facts):
        if name in variants:
            data = variants[name] or {}
            return name, dict((k[len(PREFIX):] if k.startswith(PREFIX) else k, v) for k, v in data.items())
    raise ValueError('none of the OS variants %s matches this host (%s) and there is no default'
                     % (', '.join(sorted(variants)), ', '.join(candidates(facts)[:4])))


def _unique(names):
    out = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


class Derived(object):
    """The options ``spec`` (kvm_host_prepare's ``os``) gives this host, and the problems that stop
    it before anything is touched (each says the fix)."""

    def __init__(self, spec, facts):
        self.variant, self.data = choose(spec['variants'], facts)
        self.problems = []
        self.backend = spec['backend']
        self.renderer = spec['renderer']
        if self.renderer == 'auto':
            try:
                self.renderer = renderer_for_os(facts)
            except ValueError as err:
                self.problems.append('kvm_network.renderer: %s. Fix: set kvm_network_renderer (or '
                                     'kvm_network.renderer) to one of %s' % (err, ', '.join(RENDERERS)))
                self.renderer = None
        self.system = '%s %s' % (facts.get('distribution'), facts.get('distribution_major_version'))
        self.ubuntu_ifupdown = bool(spec['ubuntu_ovs_ifupdown'] and facts.get('distribution') == 'Ubuntu'
                                    and self.backend == 'openvswitch')
        self.networkmanager = spec['networkmanager'] if spec['networkmanager'] != 'auto' else \
            {'ifcfg': 'disabled', 'networkmanager': 'enabled'}.get(self.renderer, 'ignore')
        self._check(spec)
        self.packages = self._packages(spec) if spec['install_packages'] else []
        self.packages_absent = ['netplan.io'] if spec['install_packages'] and self.ubuntu_ifupdown else []
        self.restart_after_install = [self.data['networkmanager_service']] \
            if self.renderer == 'networkmanager' and self.backend == 'openvswitch' else []
        self.services = self._services() if spec['services'] else []
        self.grub_update = self.data.get('grub_update') or 'update-grub'

    def _packages(self, spec):
        if spec['packages'] is not None:
            return _unique(list(spec['packages']) + list(spec['packages_extra']))
        d, renderer, needs = self.data, self.renderer, spec['needs']
        names = list(d.get('packages_common') or [])
        names += (d.get('packages_by_backend') or {}).get(self.backend, [])
        names += (d.get('packages_by_renderer') or {}).get(renderer, [])
        names += (d.get('packages_by_renderer_backend') or {}).get('%s_%s' % (renderer, self.backend), [])
        for need, key in (('linux_bonds', 'packages_linux_bonds'), ('vlans', 'packages_linux_vlans'),
                          ('nameservers', 'packages_nameservers')):
            if needs.get(need):
                names += (d.get(key) or {}).get(renderer, [])
        return _unique(names + list(spec['packages_extra']))

    def _services(self):
        """NetworkManager off for network-scripts (EL 7, seed 000) and on for its own renderer; the
        network service of network-scripts at boot; Open vSwitch running. None is restarted."""
        d, out = self.data, []
        if self.networkmanager == 'disabled':
            out.append({'name': d['networkmanager_service'], 'state': 'stopped', 'enabled': False, 'if_missing': 'skip'})
            if self.renderer == 'ifcfg' and d.get('network_scripts_service'):
                out.append({'name': d['network_scripts_service'], 'state': None, 'enabled': True, 'if_missing': 'fail'})
        if self.networkmanager == 'enabled':
            out.append({'name': d['networkmanager_service'], 'state': 'started', 'enabled': True, 'if_missing': 'fail'})
        if self.backend == 'openvswitch':
            out.append({'name': d['openvswitch_service'], 'state': 'started', 'enabled': True, 'if_missing': 'fail'})
        return out

    def _check(self, spec):
        d, renderer, supported = self.data, self.renderer, self.data.get('os_supported')
        if renderer is None:
            return
        if spec['install_packages'] and spec['packages'] is None and not supported:
            self.problems.append('the role has no package list for %s. Fix: list the packages in kvm_host_packages, '
                                 'or set kvm_host_install_packages: false and install them yourself' % self.system)
        by_renderer = d.get('packages_by_renderer') or {}
        if supported and renderer not in by_renderer:
            self.problems.append('renderer %s is not available on %s. Fix: set kvm_network_renderer (or '
                                 'kvm_network.renderer) to one of %s' % (renderer, self.system, ', '.join(by_renderer)))
        if self.backend == 'openvswitch' and renderer == 'netplan' and not d.get('netplan_supports_ovs'):
            self.problems.append('netplan on %s has no Open vSwitch support. Fix: set kvm_host_ubuntu_ovs_ifupdown: '
                                 'true and kvm_network_renderer: ifupdown (seed 000\'s way: netplan purged, '
                                 'ifupdown), or use backend linux_bridge' % self.system)
        if self.ubuntu_ifupdown and renderer != 'ifupdown':
            self.problems.append('kvm_host_ubuntu_ovs_ifupdown is true, which purges netplan, but the renderer is %s. '
                                 'Fix: set kvm_network_renderer: ifupdown, or kvm_host_ubuntu_ovs_ifupdown: false'
                                 % renderer)
        if self.networkmanager == 'disabled' and renderer == 'networkmanager':
            self.problems.append('kvm_host_networkmanager is disabled but the renderer is networkmanager: nothing '
                                 'would configure the network. Fix: use auto or enabled, or choose another renderer')

    def report(self):
        """What the result says about the choice."""
        return {'variant': self.variant, 'renderer': self.renderer, 'packages': self.packages,
                'packages_absent': self.packages_absent, 'services': [s['name'] for s in self.services],
                'grub_update': self.grub_update}


def apply(module):
    """Fill the module's parameters from ``os`` (and the host name for ``hosts_entry``); returns
    ``(facts, derived)`` (``None`` for what was not asked), or fails the module, before anything is
    touched, with every problem the host's OS raises."""
    params = module.params
    entry = params.get('hosts_entry') or {}
    if not params.get('os') and not entry.get('with_host_name'):
        return None, None
    facts = os_facts(module)
    derived = None
    if params.get('os'):
        try:
            derived = Derived(params['os'], facts)
        except ValueError as err:
            module.fail_json(msg='%s. Fix: add a default.yml variant' % err, ansible_facts=facts)
        if derived.problems:
            module.fail_json(msg='the host cannot be prepared as asked (nothing was changed): %s'
                             % '; '.join(derived.problems), problems=derived.problems, os=derived.report(),
                             ansible_facts=facts)
        params['packages'] = _unique(list(params['packages']) + derived.packages)
        params['packages_absent'] = _unique(list(params['packages_absent']) + derived.packages_absent)
        params['restart_after_install'] = _unique(list(params['restart_after_install']) + derived.restart_after_install)
        params['services'] = derived.services + list(params['services'])
        if params.get('grub'):
            params['grub']['update'] = derived.grub_update
    if entry.get('with_host_name'):
        name = (params.get('hostname') or facts['hostname']).split('.')[0]
        if name not in entry['names']:
            entry['names'] = list(entry['names']) + [name]
    return facts, derived
