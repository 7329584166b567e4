#!/usr/bin/env bash
# The diskless hard root, next to the others that images/build-hard-roots.sh
# made (run it first), in images/out/hard-roots/SUITE-FLAVOUR/:
#
#   initrd-nfs.img   Debian's mkinitramfs again with BOOT=nfs, so the
#                    initramfs-tools hook puts in the network drivers, the
#                    NFS modules and klibc's ipconfig and nfsmount: what a
#                    diskless Debian machine boots (root=/dev/nfs ip=dhcp)
#   nfs-root/        the tree, to be exported by scripts/nfs-server.sh (a
#                    copy, so the guest's writes never reach the tree the
#                    disk images are made from)
#
#   images/build-nfs-root.sh [SUITE FLAVOUR]
#
# Needs root (chroot). Cached: rebuilt when the tree or this script changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:-bookworm}
flavour=${2:-cloud}
out="$here/out/hard-roots/$suite-$flavour"
tree="$out/tree"

[ "$(id -u)" = 0 ] || { echo "images: $0 needs root (chroot)" >&2; exit 1; }
[ -f "$out/tree.key" ] && [ -d "$tree/boot" ] ||
    { echo "images: no hard-roots tree in $out (run images/build-hard-roots.sh $suite $flavour first)" >&2; exit 1; }
version=$(cd "$tree/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | head -n 1)

key=$(cat "$out/tree.key" "$out/root.key" "$0" 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat "$out/nfs.key" 2>/dev/null)" = "$key" ] && [ -f "$out/initrd-nfs.img" ] && [ -d "$out/nfs-root" ]; then
    echo "images: NFS root ready in $out"
    exit 0
fi

echo "images: mkinitramfs initrd-nfs.img (BOOT=nfs)"
conf="$tree/etc/initramfs-tools/conf.d/bootsim-nfs"
echo "BOOT=nfs" > "$conf"
chroot "$tree" mkinitramfs -o /tmp/initrd-nfs.img "$version" > "$out/initrd-nfs.img.log" 2>&1 ||
    { rm -f "$conf"; echo "images: mkinitramfs failed (see $out/initrd-nfs.img.log)" >&2; exit 1; }
rm -f "$conf"
mv "$tree/tmp/initrd-nfs.img" "$out/initrd-nfs.img"

echo "images: nfs-root/ (a copy of the tree)"
rm -rf "$out/nfs-root.new" "$out/nfs-root"
cp -a "$tree" "$out/nfs-root.new"
# The guest's writes are the test's evidence: start from none.
rm -f "$out/nfs-root.new/var/log/bootsim-boots"
mv "$out/nfs-root.new" "$out/nfs-root"
echo "$key" > "$out/nfs.key"
echo "images: NFS root ready in $out"
