#!/bin/sh
# shellcheck shell=dash  # busybox ash
# shellcheck disable=SC2154  # udhcpc sets interface, ip, mask and router
# udhcpc's hook: put the lease on the NIC, the router as the default route, and say so.
case "$1" in
  bound|renew)
    ip address flush dev "$interface"
    ip address add "$ip/${mask:-24}" dev "$interface"
    for gw in $router; do ip route replace default via "$gw" dev "$interface"; break; done
    echo "CSKL-LEASE $interface $ip/${mask:-24} router ${router:-none} dns ${dns:-none} domain ${domain:-none}"
    ;;
esac
exit 0
