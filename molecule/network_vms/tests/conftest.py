"""Load the shared lab fixtures and hooks (molecule/_shared/lab_pytest.py) as a pytest plugin."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_shared"))

import lab_pytest  # noqa: E402  pylint: disable=wrong-import-position


def pytest_configure(config):
    config.pluginmanager.register(lab_pytest, "lab_pytest")
