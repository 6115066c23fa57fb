"""cskl-lab: simulated KVM hypervisors (systemd containers and QEMU VMs) for cloudstack_kvm.networking."""
