"""pytest fixtures and hooks for testinfra tests on lab hosts.

A scenario registers this module from its tests/conftest.py (copy one of the smoke scenarios):

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_shared"))
    import lab_pytest

    def pytest_configure(config):
        config.pluginmanager.register(lab_pytest, "lab_pytest")

Fixtures:
  lab_hosts   {name: LabHost} for every host of the scenario's lab (session scope); fails when
              the lab has no host or its hosts differ from the scenario's platforms.
  lab_host    one LabHost; tests that take it run once per host.
  lab_peer    the peer's addresses (198.51.100.254 untagged, 203.0.113.254 on VLAN 100, IPv6).
On a failed test, the last journal lines of every host (and a VM's serial console) are printed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from verify_helpers import diagnostics, journal_tail, lab_hosts as _lab_hosts, lab_state, switch_diagnostics


def _platforms() -> list[str] | None:
    path = os.environ.get("MOLECULE_FILE")
    if not path or not Path(path).is_file():
        return None
    import yaml  # noqa: PLC0415

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError:
        return None
    return sorted(p["name"] for p in data.get("platforms", []))


def pytest_generate_tests(metafunc):
    if "lab_host" in metafunc.fixturenames:
        names = sorted(lab_state()["hosts"], key=lambda n: lab_state()["hosts"][n]["index"])
        metafunc.parametrize("lab_host_name", names, ids=names, scope="session")


@pytest.fixture(scope="session")
def lab_hosts():
    hosts = _lab_hosts()
    assert hosts, "the lab has no host: nothing would be verified"
    platforms = _platforms()
    if platforms is not None:
        assert sorted(hosts) == platforms, f"lab hosts {sorted(hosts)} != molecule platforms {platforms}"
    return hosts


@pytest.fixture(scope="session")
def lab_host(lab_hosts, lab_host_name):
    return lab_hosts[lab_host_name]


@pytest.fixture(scope="session")
def lab_peer():
    return lab_state()["peer"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        try:
            hosts = _lab_hosts()
        except Exception as exc:  # noqa: BLE001 (diagnostics only)
            report.sections.append(("lab", f"no lab state: {exc}"))
            return report
        try:
            report.sections.append(("lab switch", switch_diagnostics()))
        except Exception as exc:  # noqa: BLE001
            report.sections.append(("lab switch", f"unavailable: {exc}"))
        for name, lh in hosts.items():
            for title, collect in (("network", diagnostics), ("journal", lambda x: journal_tail(x.host))):
                try:
                    report.sections.append((f"{title} {name}", collect(lh)))
                except Exception as exc:  # noqa: BLE001
                    report.sections.append((f"{title} {name}", f"unavailable: {exc}"))
            serial = lh.meta.get("serial_log")
            if serial and Path(serial).is_file():
                tail = Path(serial).read_text(errors="replace").splitlines()[-30:]
                report.sections.append((f"serial console {name}", "\n".join(tail)))
    return report
