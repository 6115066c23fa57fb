"""One in-band container lab for every lab test of a pytest run (tests/lab/inband.py): brought up
once, torn down at the end, whatever fails. INBAND_LAB_KEEP=1 (for working on a test) keeps it up
at the end and reuses one that is up."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inband import LAB_ID, HOSTS, TIER, Scenario, prepare  # noqa: E402  pylint: disable=wrong-import-position
from cskl_lab.lab import Lab  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def scenario():
    lab = Lab(LAB_ID)
    reuse = os.environ.get("INBAND_LAB_KEEP") and lab.state_file.exists()
    if reuse:
        lab.load()
    else:
        lab.up(TIER, list(HOSTS), replace=True, inband=True, dhcp=True)
    sc = Scenario(lab)
    try:
        if not reuse:
            prepare(sc)
        yield sc
    finally:
        if not os.environ.get("INBAND_LAB_KEEP"):
            lab.down()
