# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this plugin_utils file is for this collection's own plugins only; its API may change
# without notice.
"""What the collection's filters share on the controller: the model through the front door
(_front_door.validate), normalised or refused with every problem at once, as one AnsibleFilterError."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudstack_kvm.networking.plugins.plugin_utils._front_door import FrontDoorError, validate


def model_or_fail(data, host=None):
    """``data`` normalised (a normalised model is taken as it is), or AnsibleFilterError listing
    every problem (the front door's own words)."""
    try:
        return validate(data, host)
    except FrontDoorError as err:
        raise AnsibleFilterError(str(err))
