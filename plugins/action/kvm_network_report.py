# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_report: per-host diagrams and one HTML fleet page, written on the controller; the
documentation is plugins/modules/kvm_network_report.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base import command
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._base.files import write_atomic
from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import ModuleFailure
from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils import _report as report

ARGUMENT_SPEC = {
    'dest': {'type': 'path', 'required': True},
    'hosts': {'type': 'dict', 'required': True},
    'svg': {'type': 'str', 'default': 'auto', 'choices': ['auto', 'always', 'never']},
    'title': {'type': 'str', 'default': 'KVM host networks'},
}
SAFE_NAME = re.compile(r'[^A-Za-z0-9_.-]')
DOT_TIMEOUT = 60


class _Controller(object):
    """What the host layer's ``command.run`` needs of an AnsibleModule, on the controller (an action
    plugin has none): the same argv, environment and time limit as on a host."""

    @staticmethod
    def run_command(argv, environ_update=None, cwd=None, **kwargs):
        return command.spawn(argv, environ_update, cwd, kwargs.get('before_communicate_callback'))


def svg_of(dot_binary, dot_file, host):
    """Graphviz's SVG of the diagram in ``dot_file`` (written beside it), without the XML prolog
    (the page inlines it)."""
    svg_file = dot_file[:-len('.dot')] + '.svg'
    try:
        command.run(_Controller, [dot_binary, '-Tsvg', '-o', svg_file, dot_file], timeout=DOT_TIMEOUT, check=True,
                    what='dot (drawing host %s)' % host)
    except ModuleFailure as exc:
        raise ValueError(str(exc))
    with open(svg_file) as handle:
        text = handle.read()
    return text[text.find('<svg'):]


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validated = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validated.error_messages:
            return dict(result, failed=True, msg='kvm_network_report: %s' % '; '.join(validated.error_messages))
        args = validated.validated_parameters
        dot_binary = shutil.which('dot') if args['svg'] != 'never' else None
        if args['svg'] == 'always' and not dot_binary:
            return dict(result, failed=True, msg='kvm_network_report: svg=always but Graphviz\'s dot is not on the '
                        'controller\'s PATH. Fix: install graphviz on the controller, or use svg=auto')
        dest = args['dest']
        try:
            os.makedirs(dest, exist_ok=True)
            files, entries = [], {}
            for host, entry in sorted(args['hosts'].items()):
                entry = dict(entry or {})
                name = SAFE_NAME.sub('_', host)
                if entry.get('reached') and entry.get('host_network'):
                    dot = report.diagram(host, entry['host_network'], entry.get('differences'),
                                         entry.get('libvirt_networks'), title='%s (%s)' % (host, report.host_state(entry)),
                                         wanted=entry.get('model'))
                    write_atomic(None, os.path.join(dest, name + '.dot'), dot, 0o644)
                    files.append(name + '.dot')
                    entry['dot_file'] = name + '.dot'
                    if dot_binary:
                        entry['svg'] = svg_of(dot_binary, os.path.join(dest, name + '.dot'), host)
                        files.append(name + '.svg')
                entry.pop('host_network', None)
                entry.pop('model', None)
                entries[host] = entry
            write_atomic(None, os.path.join(dest, 'index.html'), report.fleet_page(entries, title=args['title']), 0o644)
        except (OSError, ValueError) as exc:
            return dict(result, failed=True, msg='kvm_network_report: could not write the report in %s: %s. Fix: '
                        'choose a writable kvm_network_verify_report_dir' % (dest, to_text(exc)))
        files.append('index.html')
        states = dict((state, sorted(h for h in entries if report.host_state(entries[h]) == state))
                      for state in report.STATES)
        return dict(result, changed=False, dest=dest, index=os.path.join(dest, 'index.html'), files=files,
                    svg=bool(dot_binary), states=states,
                    msg='fleet report: %s (%s)' % (os.path.join(dest, 'index.html'),
                                                   ', '.join('%d %s' % (len(states[s]), s) for s in report.STATES)))
