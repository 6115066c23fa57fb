"""Offline tests of the lab's own helpers (no root, no namespaces)."""

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cskl_lab import images, lab, util  # noqa: E402  pylint: disable=wrong-import-position


def test_yaml_dump_round_trips():
    data = {"all": {"vars": {"lab_id": "ct", "n": 2, "ok": True, "none": None, "s": "a: b # c"},
                    "hosts": {"ct1": {"ports": {"eth0": "h1e0"}, "list": ["x", {"k": 1}]}},
                    "children": {"lab_containers": {"hosts": {"ct1": None}}}, "empty": {}}}
    assert yaml.safe_load(util.yaml_dump(data)) == data


@pytest.mark.parametrize("good", ["ct", "vm", "lab_containers_smoke", "a1"])
def test_lab_ids_accepted(good):
    assert util.check_lab_id(good) == good


@pytest.mark.parametrize("bad", ["", "a-b", "UPPER", "x" * 33, "_x", "a b"])
def test_lab_ids_rejected(bad):
    with pytest.raises(util.LabError):
        util.check_lab_id(bad)


def test_host_names():
    assert util.check_host_name("smoke-ct1") == "smoke-ct1"
    for bad in ("1ab", "a_b", "-a", "a-", "A"):
        with pytest.raises(util.LabError):
            util.check_host_name(bad)


def test_names_fit_the_kernel_limits():
    lab_obj = lab.Lab("lab_containers_smoke")
    assert len(f"{lab_obj.tap_prefix}{lab.MAX_HOSTS['vms']}t3") <= 15
    assert lab_obj.sw == "cskl-lab_containers_smoke-sw"
    assert lab.host_plan(1)["untagged_ipv4"] == "198.51.100.11"
    assert lab.host_plan(2)["vlan_ipv4"] == "203.0.113.12"


@pytest.mark.parametrize("tier, flavour, message", [
    ("vms", "libvirt", "is for container hosts"),
    ("containers", "nosuch", "use one of libvirt"),
])
def test_a_flavour_is_checked_before_anything_is_made(tmp_path, monkeypatch, tier, flavour, message):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    with pytest.raises(util.LabError, match=message):
        lab.Lab("flavourcheck").up(tier, ["h1"], flavour=flavour)
    assert list(tmp_path.iterdir()) == []


def test_every_flavour_has_a_recipe():
    for name in images.FLAVOURS:
        assert (images.FLAVOUR_BUILD.parent / name / "packages.txt").is_file()
    assert set(lab.FLAVOUR_RUN_ARGS) <= set(images.FLAVOURS)


def ping_log(answered, sent):
    lines = [f"[{1000 + seq * 0.1:.6f}] 64 bytes from 198.51.100.11: icmp_seq={seq} ttl=64 time=0.05 ms"
             for seq in answered]
    return "\n".join(lines + [f"{sent} packets transmitted, {len(answered)} received, 0% packet loss"])


def test_ping_stats_count_the_losses_and_the_longest_gap():
    from cskl_lab.traffic import stats   # pylint: disable=import-outside-toplevel
    assert stats(ping_log([1, 2, 3, 4, 5], 5)) == {"sent": 5, "lost": 0, "gap": 0.1}
    # The last packet, still in flight when ping was stopped, is not a loss.
    assert stats(ping_log([1, 2, 3, 4], 5)) == {"sent": 5, "lost": 0, "gap": 0.1}
    # Losses before it are, and so is a silence at the end longer than one packet.
    assert stats(ping_log([1, 2, 5, 6], 7)) == {"sent": 7, "lost": 2, "gap": 0.3}
    assert stats(ping_log([1, 2, 3], 6)) == {"sent": 6, "lost": 3, "gap": 0.1}
    assert stats("") == {"sent": 0, "lost": 0, "gap": 0.0}


def _proxy_command(ssh_args):
    """The ProxyCommand of ssh arguments, split as Ansible's ssh plugin splits them (shlex)."""
    import shlex  # noqa: PLC0415
    words = shlex.split(ssh_args)
    options = [words[i + 1] for i, word in enumerate(words) if word == "-o"]
    return [o.split("=", 1)[1] for o in options if o.startswith("ProxyCommand=")]


def test_containers_are_reached_by_ssh_through_podman_exec():
    proxy = _proxy_command(lab.container_ssh_args())
    assert proxy == [f"env CONTAINERS_CONF={util.CONTAINERS_CONF} podman exec -i %h /usr/sbin/sshd -i -o UsePAM=no"]


@pytest.mark.parametrize("scenario", ["network_containers", "modules_containers", "lab_containers_smoke"])
def test_container_scenarios_reach_their_hosts_as_the_lab_inventory_does(scenario):
    driver = yaml.safe_load((util.REPO_ROOT / "molecule" / scenario / "molecule.yml").read_text())["driver"]
    assert driver["name"] == "default" and driver["tier"] == "containers"
    proxy = _proxy_command(" ".join(driver["ssh_connection_options"]).replace(
        "${MOLECULE_PROJECT_DIRECTORY}", str(util.REPO_ROOT)))
    assert proxy == _proxy_command(lab.container_ssh_args())
