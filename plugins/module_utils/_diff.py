# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Record wanted-vs-active values and derive ``changed`` and the list of differences from them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy


class DifferenceTracker(object):
    """Collects one record per managed parameter.

    ``add(name, active, wanted)`` stores both values; a parameter whose values differ is a
    difference, so modules report the same facts in ``changed`` and in the list of differences.
    """

    def __init__(self):
        self._records = []

    def add(self, name, active, wanted, differs=None):
        if differs is None:
            differs = active != wanted
        self._records.append({
            'name': name,
            'active': copy.deepcopy(active),
            'wanted': copy.deepcopy(wanted),
            'differs': bool(differs),
        })

    def merge(self, other, prefix=None):
        for rec in other._records:
            rec = dict(rec)
            if prefix:
                rec['name'] = '%s.%s' % (prefix, rec['name'])
            self._records.append(rec)

    @property
    def has_differences(self):
        return any(rec['differs'] for rec in self._records)

    @property
    def differences(self):
        """The changed parameters, as ``[{'name':..., 'active':..., 'wanted':...}]``."""
        return [dict((k, rec[k]) for k in ('name', 'active', 'wanted'))
                for rec in self._records if rec['differs']]

    def names(self):
        return [rec['name'] for rec in self._records if rec['differs']]
