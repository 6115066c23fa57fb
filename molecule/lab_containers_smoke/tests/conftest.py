"""Shared lab fixtures (molecule/_shared/lab_pytest.py) and helpers (verify_helpers.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_shared"))
from lab_pytest import *  # noqa: E402,F401,F403  (fixtures and hooks)
