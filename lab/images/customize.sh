#!/bin/sh
# Runs INSIDE the image root (chroot, private mount/network/pid namespaces; see build.sh).
#   customize.sh common      identity, network stacks installed but off, timers masked
#   customize.sh container   udev off, udevadm wrapper, no gettys, no sshd (podman exec is used)
#   customize.sh vm          sshd + management NIC units on
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
flavour=$1

quiet_systemctl() { systemctl "$@" >/dev/null 2>&1 || systemctl "$@"; }

case "$flavour" in
common)
  # Every host gets its own identity at boot: an empty machine-id makes systemd generate one
  # (podman) or take systemd.machine_id= from the kernel command line (VMs). Bridges, bonds and
  # VLAN devices derive their MAC from it, so clones must not share one.
  : > /etc/machine-id
  rm -f /var/lib/dbus/machine-id
  ln -s /etc/machine-id /var/lib/dbus/machine-id
  rm -f /etc/hostname
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
  rm -f /etc/ssh/ssh_host_*
  # Every network stack is installed and off; a test enables the one it exercises.
  quiet_systemctl disable NetworkManager.service systemd-networkd.service
  quiet_systemctl mask systemd-networkd-wait-online.service NetworkManager-wait-online.service
  for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
      e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer; do
    quiet_systemctl mask "$unit"
  done
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/log/apt/* \
    /usr/share/doc/* /usr/share/man/* /usr/share/info/*
  ;;
container)
  # No udevd in a container (read-only /sys); udevadm trigger/settle become no-ops there.
  for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
      systemd-udev-trigger.service systemd-udev-settle.service getty@tty1.service \
      console-getty.service serial-getty@console.service; do
    quiet_systemctl mask "$unit"
  done
  quiet_systemctl disable ssh.service
  udevadm=$(dpkg -L udev | grep -E '/s?bin/udevadm$' | head -n1)
  dpkg-divert --local --rename --divert "$(dirname "$udevadm")/udevadm.distrib" --add "$udevadm"
  install -m 0755 /usr/local/lib/cskl-lab/udevadm "$udevadm"
  [ -x /usr/bin/udevadm.distrib ]
  ;;
vm)
  quiet_systemctl enable ssh.service cskl-ssh-keys.service cskl-mgmt0.service
  ;;
*)
  echo "customize.sh: unknown flavour $flavour" >&2
  exit 2
  ;;
esac
