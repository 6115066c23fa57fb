# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report in a real headless browser: Debian's chromium driven by Playwright (its own
browser download is unreachable here). The page that kvm_network_report writes for recorded hosts
(one drifting, one in sync, one unreachable) loads with no console error, shows each host with its
state, marks the drifting one, draws its SVG with the bridges' names visible, and filters and sorts.

Needs chromium and Graphviz (bindep.txt [test], installed by scripts/setup.sh) and playwright
(requirements-dev.txt): it fails, naming what is missing, when one is not there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil
from unittest import mock

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.cloudstack_kvm.networking.plugins.action import kvm_network_report as action_mod
from ansible_collections.cloudstack_kvm.networking.tests.unit.plugins.plugin_utils.test_report import entries

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
RED = 'rgb(198, 40, 40)'


@pytest.fixture(scope='module')
def page(tmp_path_factory):
    missing = [what for what, found in (('chromium', CHROMIUM), ('graphviz (dot)', shutil.which('dot'))) if not found]
    assert not missing, 'missing %s: run scripts/setup.sh (bindep.txt [test])' % ', '.join(missing)
    sync_api = pytest.importorskip('playwright.sync_api', reason='playwright is in requirements-dev.txt')
    dest = tmp_path_factory.mktemp('report')
    task = Task()
    task.args = {'dest': str(dest), 'hosts': entries(), 'svg': 'always'}
    result = action_mod.ActionModule(task, mock.MagicMock(), PlayContext(), DataLoader(), None, None).run(task_vars={})
    assert not result.get('failed'), result
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'])
        tab = browser.new_page(viewport={'width': 1600, 'height': 1200})
        problems = []
        tab.on('console', lambda msg: problems.append(msg.text) if msg.type in ('error', 'warning') else None)
        tab.on('pageerror', lambda exc: problems.append(str(exc)))
        tab.on('requestfailed', lambda request: problems.append('request failed: %s' % request.url))
        tab.goto((dest / 'index.html').as_uri())
        tab.wait_for_load_state('load')
        tab.problems = problems
        yield tab
        browser.close()


def test_the_page_loads_without_a_console_error(page):
    assert page.title() == 'KVM host networks: 3 hosts'
    assert page.problems == []


def test_every_host_is_shown_with_its_state_and_the_drifting_one_is_marked(page):
    rows = page.locator('tbody tr')
    assert rows.count() == 3
    states = dict((rows.nth(i).locator('td.host').inner_text(), rows.nth(i).locator('td.state').inner_text())
                  for i in range(3))
    assert states == {'kvm1': 'drift', 'kvm2': 'in sync', 'kvm10': 'unreachable'}
    drift = page.locator('tr[data-host="kvm1"] td.state')
    assert drift.evaluate('cell => getComputedStyle(cell).color') == RED
    assert page.locator('tr[data-host="kvm1"] td.diffs li').count() >= 4
    assert 'expected 9000' in page.locator('tr[data-host="kvm1"] td.diffs').inner_text()


def test_the_drifting_hosts_diagram_renders_with_the_bridges_names_visible(page):
    svg = page.locator('tr[data-host="kvm1"] svg')
    box = svg.bounding_box()
    assert box and box['width'] > 300 and box['height'] > 150, box
    for bridge in ('cloudbr0', 'cloudbr1', 'cloudbr100', 'cloudbr200'):
        label = svg.locator('text', has_text=bridge).first
        assert label.is_visible(), bridge
    red_shapes = svg.locator('g.node path[stroke="#c62828"], g.node polygon[stroke="#c62828"]')
    assert red_shapes.count() >= 5, 'the objects with differences are drawn in red'


def test_filtering_and_sorting(page):
    page.locator('input[name=state][value="in sync"]').uncheck()
    assert page.locator('tr[data-host="kvm2"]').is_hidden()
    assert page.locator('#shown').inner_text() == '2'
    page.locator('input[name=state][value="in sync"]').check()
    page.locator('th[data-key=host]').click()
    order = page.locator('tbody tr td.host').all_inner_texts()
    assert order == sorted(order), order
    page.locator('th[data-key=host]').click()
    assert page.locator('tbody tr td.host').all_inner_texts() == sorted(order, reverse=True)
