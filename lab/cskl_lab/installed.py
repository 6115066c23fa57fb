"""A lab host as its installer leaves it: the address on eth0, by DHCP for netplan (cloud-init's
file) and NetworkManager (a DHCP profile), whose leases the in-band lab's dnsmasq hands out, and
static for ifupdown. What the in-band lab tests (tests/lab/inband.py) and the benchmarks that start
from an installed host (bench/disruption, bench/slices, bench/fleet_load) run in each host.
"""

from __future__ import annotations

# ADDRESS: eth0's static address (ifupdown only).
SCRIPTS = {
    "netplan": """set -e; mkdir -p /etc/cloud/cloud.cfg.d
cat > /etc/netplan/50-cloud-init.yaml <<EOF
# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.
network:
    version: 2
    ethernets:
        eth0:
            dhcp4: true
EOF
chmod 600 /etc/netplan/50-cloud-init.yaml; systemctl enable -q systemd-networkd; systemctl start systemd-networkd
netplan apply""",
    "ifupdown": """set -e; printf 'source /etc/network/interfaces.d/*\\nauto lo\\niface lo inet loopback\\n\\nauto eth0
iface eth0 inet static\\n    address ADDRESS/24\\n' > /etc/network/interfaces; ifup eth0""",
    "networkmanager": """set -e; systemctl enable -q NetworkManager; systemctl start NetworkManager
nmcli connection add type ethernet ifname eth0 con-name 'Wired connection 1' ipv4.method auto ipv6.method disabled
nmcli connection up 'Wired connection 1'""",
}


def installed(renderer: str, address: str) -> str:
    """The shell script that leaves a host as ``renderer``'s installer would (``address``: eth0's,
    where it is static)."""
    return SCRIPTS[renderer].replace("ADDRESS", address)
