#!/bin/sh
# Runs inside the flavour's root (no network, no services): libvirtd made to work in a lab
# container (../shared/TESTING.md, "libvirtd in a lab container") and the guest's initramfs built.
#   cskl-flavour-customize KERNEL_VERSION
set -eu
kver=$1
conf=/etc/libvirt/qemu.conf
# trusted.* xattrs need CAP_SYS_ADMIN; podman mounts cgroup v1 read-only; guests run as root so
# the lab's files (kernel, initramfs, serial logs) need no relabelling.
printf '\n# cskl lab flavour\nremember_owner = 0\ncgroup_controllers = [ ]\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\n' >> "$conf"
# A stop would wait for guests to shut down.
systemctl mask libvirt-guests.service
# libvirt's "default" network is never started by a lab test (its 192.168.122.0/24 is not ours).
rm -f /etc/libvirt/qemu/networks/autostart/default.xml

guest=/var/lib/cskl-guest
initrd=$(mktemp -d)
mkdir -p "$initrd/bin" "$initrd/proc" "$initrd/sys" "$initrd/dev" "$initrd/lib/modules"
cp /bin/busybox "$initrd/bin/busybox"
ln -s busybox "$initrd/bin/sh"   # /init and the udhcpc hook are #!/bin/sh scripts
cp "$guest/init" "$initrd/init"
cp "$guest/udhcpc.sh" "$initrd/udhcpc.sh"
# virtio_pci and virtio_net with every module they need, in load order (modules.dep; a module
# it does not list is built in), numbered so the guest's init loads them in that order.
python3 - "$guest/modules/$kver" "$initrd/lib/modules" <<'PY'
import lzma, os, sys
tree, dest = sys.argv[1:]
deps = {}
for line in open(os.path.join(tree, "modules.dep")):
    path, _, rest = line.partition(":")
    deps[os.path.basename(path).split(".ko")[0]] = (path, rest.split())
order = []
def load(name):
    if name in order or name not in deps:
        return
    for dep in reversed(deps[name][1]):
        load(os.path.basename(dep).split(".ko")[0])
    order.append(name)
for wanted in ("virtio_pci", "virtio_net"):
    load(wanted)
for number, name in enumerate(order):
    source = os.path.join(tree, deps[name][0])
    data = lzma.open(source).read() if source.endswith(".xz") else open(source, "rb").read()
    open(os.path.join(dest, "%02d-%s.ko" % (number, name)), "wb").write(data)
PY
(cd "$initrd" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9) > "$guest/initrd.img"
rm -rf "$initrd" "$guest/modules"
chmod 0644 "$guest/initrd.img" "$guest/vmlinuz"
