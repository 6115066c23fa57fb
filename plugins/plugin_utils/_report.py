# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this plugin_utils file is for this collection's own plugins only; its API may change
# without notice.
"""Pictures of the realised network, for people who would rather look than read (controller only).

``diagram`` draws one host as Graphviz DOT: NICs -> bonds -> bridges (VLAN interfaces and Open
vSwitch fake bridges on the way) -> libvirt networks, with addresses, MTU, link state, the active
bond member, and every difference from the model in red, named on the object it concerns (an
object the model wants but the host lacks is drawn dashed). ``fleet_page`` is one HTML page for a
run: every host with its backend, renderer, reachability, sync state, differences, last apply and
rollback and its diagram, filterable and sortable by state, with no script or style from outside.
Both read only what verify already has: the host_network facts, the differences, the snapshots.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._common import natural_key

COLOURS = {'ok': '#2e7d32', 'bad': '#c62828', 'idle': '#757575', 'fill': '#ffffff', 'bad_fill': '#ffebee',
           'down_fill': '#fff3e0', 'libvirt': '#e3f2fd'}
STATES = ('drift', 'unreachable', 'in sync')


def _quote(text):
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


def _label(lines):
    """A DOT label of several lines (Graphviz's own line break, backslash-n, between them)."""
    return '"%s"' % '\\n'.join(str(line).replace('\\', '\\\\').replace('"', '\\"') for line in lines if line)


class _Drift(object):
    """The differences, by the object they concern (``bridge cloudbr0``)."""

    def __init__(self, differences):
        self.by_object = {}
        for diff in differences or []:
            self.by_object.setdefault(diff.get('object'), []).append(diff)

    def lines(self, kind, name):
        return ['! %s' % (d.get('message') or d.get('kind')).split(': ', 1)[-1]
                for d in self.by_object.get('%s %s' % (kind, name), [])]

    def missing(self, kind):
        """Names of ``kind`` objects the model wants and the host lacks."""
        return [obj.split(' ', 1)[1] for obj, diffs in self.by_object.items()
                if obj and obj.startswith(kind + ' ') and any(d.get('field') == 'present' for d in diffs)]


def _node(out, node_id, lines, drift_lines=(), fill=None, dashed=False):
    bad = bool(drift_lines) or dashed    # dashed: an object the model wants and the host lacks
    attrs = ['label=%s' % _label(list(lines) + list(drift_lines)),
             'color="%s"' % (COLOURS['bad'] if bad else '#424242'),
             'fillcolor="%s"' % (COLOURS['bad_fill'] if bad else (fill or COLOURS['fill']))]
    if bad:
        attrs.append('penwidth=2.5')
    if dashed:
        attrs.append('style="rounded,filled,dashed"')
    out.append('  %s [%s];' % (_quote(node_id), ', '.join(attrs)))


def _edge(out, src, dst, label=None, active=None):
    attrs = []
    if label:
        attrs.append('label=%s' % _quote(label))
    if active is True:
        attrs += ['color="%s"' % COLOURS['ok'], 'penwidth=2.5']
    elif active is False:
        attrs += ['style=dashed', 'color="%s"' % COLOURS['idle']]
    out.append('  %s -> %s%s;' % (_quote(src), _quote(dst), ' [%s]' % ', '.join(attrs) if attrs else ''))


def _addresses(host_network, name):
    return [a.get('cidr') for a in (host_network.get('addresses') or {}).get(name) or []
            if a.get('scope') == 'global' and a.get('cidr')]


def diagram(host, host_network, differences=None, libvirt_networks=None, title=None, wanted=None):
    """The host's network as Graphviz DOT (see the module's text). ``libvirt_networks`` is the
    host's kvm_libvirt_networks (drawn from the model: the facts do not read libvirt); ``wanted``
    the normalised model, which places what the host lacks."""
    facts = host_network or {}
    model = facts.get('model') or {}
    links = facts.get('links') or {}
    drift = _Drift(differences)
    out = ['digraph %s {' % _quote(host),
           '  graph [rankdir=LR, fontname="Helvetica", labelloc=t, label=%s];' % _quote(title or host),
           '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
           '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.6];']
    ethernets, bonds = model.get('ethernets') or {}, model.get('bonds') or {}
    bridges, vlans = model.get('bridges') or {}, model.get('vlans') or {}
    for name in sorted(ethernets, key=natural_key):
        link = links.get(name) or {}
        up = bool(link.get('carrier')) and link.get('admin_up', True)
        lines = [name, (ethernets[name].get('match') or {}).get('macaddress') or link.get('mac'),
                 'link %s' % ('up' if up else 'down')] + _addresses(facts, name)
        _node(out, 'nic:' + name, lines, drift.lines('ethernet', name), fill=None if up else COLOURS['down_fill'])
    for name in sorted(bonds, key=natural_key):
        bond = bonds[name]
        lines = [name, bond.get('mode'), 'active: %s' % bond['active'] if bond.get('active') else None,
                 'LACP %s' % bond['lacp'] if bond.get('lacp') not in (None, 'off') else None]
        _node(out, 'bond:' + name, lines, drift.lines('bond', name))
        for member in bond.get('interfaces') or []:
            if bond.get('mode') == 'active-backup' and bond.get('active'):
                _edge(out, 'nic:' + member, 'bond:' + name, 'active' if member == bond['active'] else 'backup',
                      active=member == bond['active'])
            else:
                _edge(out, 'nic:' + member, 'bond:' + name)
    for name in sorted(vlans, key=natural_key):
        vlan = vlans[name]
        _node(out, 'vlan:' + name, [name, 'VLAN %s' % vlan.get('id')], drift.lines('vlan', name))
        _edge(out, _kind_id(vlan.get('link'), ethernets, bonds, vlans, bridges), 'vlan:' + name)
    for name in sorted(bridges, key=natural_key):
        br = bridges[name]
        lines = [name, '%s bridge' % ('Open vSwitch' if br.get('type') == 'openvswitch' else 'Linux'),
                 'VLAN %s' % br['vlan'] if br.get('vlan') is not None else None,
                 'MTU %s' % br['mtu'] if br.get('mtu') else None] + list(br.get('addresses') or [])
        if br.get('dhcp4'):
            lines.append('DHCP')
        _node(out, 'br:' + name, lines, drift.lines('bridge', name))
        if br.get('parent'):            # Open vSwitch fake bridge: a tagged port of its parent
            _edge(out, 'br:' + br['parent'], 'br:' + name, 'tag %s' % br.get('vlan'))
        elif br.get('vlan_interface'):
            _edge(out, 'vlan:' + br['vlan_interface'], 'br:' + name)
        elif br.get('uplink'):
            _edge(out, _kind_id(br['uplink'], ethernets, bonds, vlans, bridges), 'br:' + name)
    wanted = wanted or {}
    for kind, prefix, group in (('ethernet', 'nic:', 'ethernets'), ('bond', 'bond:', 'bonds'), ('vlan', 'vlan:', 'vlans'),
                                ('bridge', 'br:', 'bridges')):
        for name in sorted(drift.missing(kind), key=natural_key):
            lines = [line for line in drift.lines(kind, name) if line != '! missing']
            _node(out, prefix + name, [name, 'missing on the host'], lines, dashed=True)
            want = (wanted.get(group) or {}).get(name) or {}
            source = want.get('vlan_interface') or want.get('parent') or want.get('uplink') or want.get('link')
            if source:     # where the model puts it
                _edge(out, _kind_id(source, ethernets, bonds, dict(vlans, **(wanted.get('vlans') or {})),
                                    dict(bridges, **(wanted.get('bridges') or {}))), prefix + name)
    for net in sorted(libvirt_networks or [], key=lambda n: natural_key(str(n.get('name')))):
        mode = (net.get('forward') or {}).get('mode') if isinstance(net.get('forward'), dict) else net.get('forward')
        node = 'net:%s' % net.get('name')
        lines = ['libvirt network %s' % net.get('name'), mode or 'isolated', '(from the model)']
        _node(out, node, lines, fill=COLOURS['libvirt'])
        bridge = net.get('bridge') if isinstance(net.get('bridge'), str) else (net.get('bridge') or {}).get('name')
        if bridge in bridges:
            _edge(out, 'br:' + bridge, node)
        elif bridge:           # a bridge libvirt makes for the network itself
            _node(out, 'bridge:' + bridge, [bridge, "libvirt's bridge"], fill=COLOURS['libvirt'])
            _edge(out, 'bridge:' + bridge, node)
    out.append('}')
    return '\n'.join(out) + '\n'


def _kind_id(name, ethernets, bonds, vlans, bridges):
    for prefix, group in (('bond:', bonds), ('vlan:', vlans), ('br:', bridges), ('nic:', ethernets)):
        if name in group:
            return prefix + name
    return 'nic:%s' % name


def _when(epoch):
    if epoch in (None, ''):
        return ''
    try:
        return datetime.datetime.fromtimestamp(float(epoch), tz=datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    except (TypeError, ValueError):
        return str(epoch)


def last_changes(snapshots):
    """``(last apply, last rollback)`` as text from kvm_network_snapshot's ``list``."""
    applied = rolled = ''
    for snap in snapshots or []:
        history = dict((h.get('status'), h) for h in snap.get('history') or [])
        rolled_back = history.get('rolled_back') or {}
        # Live: "applied" (it waited for its confirmation), or a rollback's live_at (the host's own
        # pings failed right after the change, before it ever waited).
        live = (history.get('applied') or {}).get('at') or rolled_back.get('live_at')
        if live:
            applied = '%s (%s, %s)' % (_when(live), snap.get('id'), snap.get('status'))
        if rolled_back:
            rolled = '%s (%s)' % (_when(rolled_back.get('at')), snap.get('id'))
    return applied, rolled


def host_state(entry):
    if not entry.get('reached'):
        return 'unreachable'
    return 'drift' if entry.get('differences') else 'in sync'


def _esc(text):
    return (str(text).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;'))


PAGE_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#212121}
h1{font-size:1.4em}
.bar{margin:.8em 0}
.bar label{margin-right:1em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e0e0e0;padding:.4em .6em;text-align:left;vertical-align:top}
th{cursor:pointer;background:#fafafa;user-select:none}
tr.drift td.state{color:#c62828;font-weight:bold}
tr.unreachable td.state{color:#e65100;font-weight:bold}
tr.in-sync td.state{color:#2e7d32}
td.diffs li{color:#c62828}
details{margin:.2em 0}
.diagram{max-width:70vw;overflow:auto;border:1px solid #e0e0e0;margin-top:.4em}
.diagram svg{max-width:100%;height:auto}
"""

# Filter by state and sort by a column; no library, nothing fetched.
PAGE_SCRIPT = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('tbody tr'));
  function apply() {
    var want = {};
    document.querySelectorAll('input[name=state]').forEach(function (box) { want[box.value] = box.checked; });
    rows.forEach(function (row) { row.hidden = !want[row.dataset.state]; });
    document.getElementById('shown').textContent = rows.filter(function (r) { return !r.hidden; }).length;
  }
  document.querySelectorAll('input[name=state]').forEach(function (box) { box.addEventListener('change', apply); });
  document.querySelectorAll('th[data-key]').forEach(function (th) {
    th.addEventListener('click', function () {
      var key = th.dataset.key, down = th.dataset.dir !== 'asc';
      th.dataset.dir = down ? 'asc' : 'desc';
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key];
        return (x < y ? -1 : x > y ? 1 : 0) * (down ? 1 : -1);
      });
      var body = document.querySelector('tbody');
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  apply();
})();
"""


def fleet_page(entries, generated=None, title='KVM host networks'):
    """One HTML page for the run. ``entries`` is {host: entry}, an entry holding ``reached``,
    ``backend``, ``renderer``, ``differences``, ``snapshots`` and ``svg`` (inline SVG text, or
    None) / ``dot_file`` (the diagram's file name)."""
    hosts = sorted(entries, key=natural_key)
    counts = dict((state, sum(1 for h in hosts if host_state(entries[h]) == state)) for state in STATES)
    rows = []
    for host in hosts:
        entry = entries[host]
        state = host_state(entry)
        applied, rolled = last_changes(entry.get('snapshots'))
        diffs = entry.get('differences') or []
        diff_html = '<ul>%s</ul>' % ''.join('<li>%s</li>' % _esc(d.get('message') or d.get('kind')) for d in diffs) \
            if diffs else ''
        if entry.get('svg'):
            picture = '<details%s><summary>diagram</summary><div class="diagram">%s</div></details>' % (
                ' open' if state == 'drift' else '', entry['svg'])
        elif entry.get('dot_file'):
            picture = '<a href="%s">diagram (DOT)</a>' % _esc(entry['dot_file'])
        else:
            picture = ''
        rows.append(
            '<tr class="%s" data-state="%s" data-host="%s" data-backend="%s" data-renderer="%s" data-applied="%s">'
            '<td class="host">%s</td><td class="state">%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="diffs">%s%s</td><td>%s</td><td>%s</td></tr>' % (
                state.replace(' ', '-'), state, _esc(host), _esc(entry.get('backend') or ''),
                _esc(entry.get('renderer') or ''), _esc(applied), _esc(host), state,
                _esc(entry.get('backend') or ''), _esc(entry.get('renderer') or ''),
                'yes' if entry.get('reached') else 'no', diff_html, picture, _esc(applied), _esc(rolled)))
    boxes = ''.join('<label><input type="checkbox" name="state" value="%s" checked> %s (%d)</label>'
                    % (state, state, counts[state]) for state in STATES)
    stamp = generated or datetime.datetime.now(tz=datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    summary = {'hosts': len(hosts), 'states': counts}
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s: %d hosts</title><style>%s</style></head><body>'
            '<h1>%s</h1><p>%d hosts, verified %s: %s.</p>'
            '<script type="application/json" id="summary">%s</script>'
            '<div class="bar">Show: %s <span id="shown-line"><span id="shown">%d</span> shown</span></div>'
            '<table><thead><tr><th data-key="host">host</th><th data-key="state">state</th>'
            '<th data-key="backend">backend</th><th data-key="renderer">renderer</th><th>reachable</th>'
            '<th>differences from the model</th><th data-key="applied">last apply</th><th>last rollback</th>'
            '</tr></thead><tbody>%s</tbody></table><script>%s</script></body></html>\n' % (
                _esc(title), len(hosts), PAGE_STYLE, _esc(title), len(hosts), _esc(stamp),
                ', '.join('%d %s' % (counts[s], s) for s in STATES), json.dumps(summary), boxes, len(hosts),
                ''.join(rows), PAGE_SCRIPT))
