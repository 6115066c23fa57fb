# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything that runs on managed hosts (modules, module_utils) must run on Python 3.6, the
platform-python of EL8. ansible-test here can only run 3.8+, so vermin checks the syntax and
standard-library use against 3.6."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_target_code_runs_on_python_36():
    files = sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                   + glob.glob(os.path.join(ROOT, 'plugins', 'module_utils', '**', '*.py'), recursive=True))
    assert files
    vermin = os.path.join(os.path.dirname(sys.executable), 'vermin')
    proc = subprocess.run([vermin, '-t=3.6-', '--no-tips', '--violations', '--eval-annotations',
                           '--backport', 'typing'] + files,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
