#!/usr/bin/env bash
# Builds the "hard roots" (the cases early user space exists for) for one
# fetched kernel, by default Debian 12's cloud kernel, into
# images/out/hard-roots/SUITE-FLAVOUR/:
#
#   tree/                 a Debian root file system made with mmdebstrap, with
#                         the kernel package that images/fetch-kernels.sh
#                         fetched installed into it (its postinst runs Debian's
#                         own mkinitramfs), plus lvm2, mdadm,
#                         cryptsetup-initramfs and busybox. Its init for every
#                         scenario is /usr/local/sbin/bootsim-root-init
#                         (images/hard-roots/root-init).
#   vmlinuz               the kernel, as installed in tree/boot
#   initrd.img            Debian's initrd, as the kernel's postinst made it:
#                         LVM, md RAID and resume are in it by their packages'
#                         hooks
#   initrd-luks-passphrase.img  mkinitramfs again with /etc/crypttab naming
#                         the LUKS disk: asks for the passphrase on the console
#   initrd-luks-keyfile.img     the same with the keyfile inside the initrd
#                         (KEYFILE_PATTERN, UMASK=0077), as cryptsetup's
#                         README.initramfs describes
#   root.ext4             the tree as an ext4 file system (mke2fs -d; UUID
#                         $root_uuid), the plain root
#   lvm.img               root on LVM: VG vg0, LV root
#   raid1-a.img raid1-b.img  root on an md RAID1 across the two
#   luks.img              root on LUKS2 (UUID $luks_uuid), passphrase
#                         "bootsim-passphrase" in slot 0, the keyfile in slot 1
#   swap.img              a swap partition for hibernation (mkswap on the host)
#   vmlinuz-other-kernel initrd-other-kernel.img  the same release's other
#                         flavour (generic, or cloud for generic) with its own
#                         Debian initrd: resuming with another kernel
#
# The LVM, RAID and LUKS disks are made inside a guest, because containers
# and CI machines have no loop devices or device-mapper: a preparation boot
# of this kernel and initrd with root.ext4 as /dev/vda (read-only) and blank
# disks as /dev/vdb and on, init=/usr/local/sbin/bootsim-prepare
# (images/hard-roots/prepare), which runs pvcreate/lvcreate, mdadm --create or
# cryptsetup luksFormat and copies /dev/vda onto the new volume. The
# preparation runs under bootsim (build/bootsim, or --bootsim FILE); with
# --prepare-with qemu it runs under qemu-system-x86_64 instead, as a
# cross-check. A disk whose preparation did not print BOOTSIM-PREPARED is not
# kept.
#
#   images/build-hard-roots.sh [--bootsim FILE] [--prepare-with bootsim|qemu] [SUITE FLAVOUR]
#
# Needs root (mmdebstrap --mode=root, chroot), mmdebstrap, e2fsprogs and
# util-linux (mkswap). Cached: the tree is rebuilt when the kernel package or
# the package list changed, root.ext4 when the guest scripts changed, each
# disk when root.ext4 is newer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bootsim="$top/build/bootsim"
prepare_with=bootsim
while [ $# -gt 0 ]; do
    case "$1" in
        --bootsim) bootsim=$(realpath "$2"); shift 2 ;;
        --prepare-with) prepare_with=$2; shift 2 ;;
        -*) echo "usage: $0 [--bootsim FILE] [--prepare-with bootsim|qemu] [SUITE FLAVOUR]" >&2; exit 2 ;;
        *) break ;;
    esac
done
suite=${1:-bookworm}
flavour=${2:-cloud}
kernel_dir="$here/out/$suite/$flavour"
out="$here/out/hard-roots/$suite-$flavour"
tree="$out/tree"
root_uuid=3f1e6a52-8c4d-4b7a-9e21-0c5d7b8a9f13
luks_uuid=6a1d5e2c-3b7f-4c8e-9d0a-1b2c3d4e5f60
root_size_mib=400

[ "$(id -u)" = 0 ] || { echo "images: $0 needs root (mmdebstrap --mode=root, chroot)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "images: mmdebstrap missing (apt-get install mmdebstrap)" >&2; exit 1; }
command -v mke2fs >/dev/null && command -v mkswap >/dev/null ||
    { echo "images: mke2fs or mkswap missing (apt-get install e2fsprogs util-linux)" >&2; exit 1; }
ls "$kernel_dir"/debs/*.deb >/dev/null 2>&1 ||
    { echo "images: no $suite $flavour kernel packages in $kernel_dir/debs (run images/fetch-kernels.sh $suite $flavour)" >&2; exit 1; }
case "$prepare_with" in
    bootsim) [ -x "$bootsim" ] || { echo "images: $bootsim not built (scripts/build.sh build)" >&2; exit 1; } ;;
    qemu) command -v qemu-system-x86_64 >/dev/null || { echo "images: qemu-system-x86_64 missing" >&2; exit 1; } ;;
    *) echo "images: --prepare-with bootsim or qemu" >&2; exit 2 ;;
esac
mkdir -p "$out"

# The Debian release the kernel comes from, and its archive lines.
case "$suite" in
    bookworm|bookworm-backports) release=bookworm ;;
    trixie|trixie-backports) release=trixie ;;
    sid) release=sid ;;
    *) echo "images: unknown suite $suite" >&2; exit 2 ;;
esac
mirrors=("deb http://deb.debian.org/debian $release main")
case "$release" in
    bookworm|trixie) mirrors+=("deb http://deb.debian.org/debian $release-updates main"
                               "deb http://deb.debian.org/debian-security $release-security main") ;;
esac
case "$suite" in
    *-backports) mirrors+=("deb http://deb.debian.org/debian $suite main") ;;
esac

packages=busybox,initramfs-tools,lvm2,mdadm,cryptsetup-initramfs,e2fsprogs,kmod,udev
debs=("$kernel_dir"/debs/*.deb)
tree_key="$packages ${debs[*]##*/} ${mirrors[*]}"

# 1. The root file system, with the kernel installed the way apt installs it.
if [ "$(cat "$out/tree.key" 2>/dev/null)" != "$tree_key" ] || [ ! -f "$tree/boot/vmlinuz-$(cat "$kernel_dir/version")" ]; then
    echo "images: mmdebstrap $release with $packages and ${debs[*]##*/} (a few minutes)"
    rm -rf "$tree" "$out/tree.key"
    include=$packages
    for deb in "${debs[@]}"; do include+=",$deb"; done
    mmdebstrap --mode=root --variant=minbase --include="$include" \
        --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$release" "$tree" "${mirrors[@]}" > "$out/mmdebstrap.log" 2>&1 ||
        { echo "images: mmdebstrap failed (see $out/mmdebstrap.log)" >&2; rm -rf "$tree"; exit 1; }
    echo "$tree_key" > "$out/tree.key"
fi
version=$(cd "$tree/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | head -n 1)
cp -p "$tree/boot/vmlinuz-$version" "$out/vmlinuz"
cp -p "$tree/boot/initrd.img-$version" "$out/initrd.img"

# 2. The guest's scripts and LUKS configuration, and the initrds that differ
# only in /etc/crypttab.
install -m 755 "$here/hard-roots/root-init" "$tree/usr/local/sbin/bootsim-root-init"
install -m 755 "$here/hard-roots/prepare" "$tree/usr/local/sbin/bootsim-prepare"
key="$tree/etc/cryptsetup-keys.d/root_crypt.key"
if [ ! -s "$key" ]; then
    install -d -m 700 "$(dirname "$key")"
    (umask 077 && head -c 64 /dev/urandom > "$key")
fi
grep -q '^KEYFILE_PATTERN=' "$tree/etc/cryptsetup-initramfs/conf-hook" ||
    echo 'KEYFILE_PATTERN="/etc/cryptsetup-keys.d/*.key"' >> "$tree/etc/cryptsetup-initramfs/conf-hook"
echo "UMASK=0077" > "$tree/etc/initramfs-tools/conf.d/umask"
echo "bootsim" > "$tree/etc/hostname"

make_initrd() {   # NAME CRYPTTAB-LINE
    local target="$out/$1"
    if [ -f "$target" ] && [ "$target" -nt "$out/tree.key" ] && [ "$target" -nt "$0" ]; then
        return
    fi
    echo "images: mkinitramfs $1"
    echo "$2" > "$tree/etc/crypttab"
    chroot "$tree" mkinitramfs -o "/tmp/$1" "$version" > "$out/$1.log" 2>&1 ||
        { echo "images: mkinitramfs failed (see $out/$1.log)" >&2; exit 1; }
    mv "$tree/tmp/$1" "$target"
}
make_initrd initrd-luks-passphrase.img "root_crypt UUID=$luks_uuid none luks,initramfs"
make_initrd initrd-luks-keyfile.img "root_crypt UUID=$luks_uuid /etc/cryptsetup-keys.d/root_crypt.key luks,initramfs"
# The root that users boot has its crypttab too.
echo "root_crypt UUID=$luks_uuid none luks,initramfs" > "$tree/etc/crypttab"

# Another kernel of the same release (the generic flavour, or cloud when this
# is generic), with a Debian initrd of its own, to resume a hibernation image
# this kernel wrote (x86-64 allows it). Its modules are in the tree only
# while mkinitramfs runs.
other_flavour=generic
[ "$flavour" = generic ] && other_flavour=cloud
other_dir="$here/out/$suite/$other_flavour"
if [ -f "$other_dir/version" ] && [ -d "$other_dir/modules/kernel" ]; then
    other_version=$(cat "$other_dir/version")
    if [ ! -f "$out/initrd-other-kernel.img" ] || [ "$out/initrd-other-kernel.img" -ot "$out/tree.key" ] ||
       [ "$out/initrd-other-kernel.img" -ot "$0" ]; then
        echo "images: mkinitramfs for the other kernel, $other_version"
        modules="$tree/usr/lib/modules/$other_version"
        rm -rf "$modules" && cp -a "$other_dir/modules" "$modules"
        cp "$other_dir/config" "$tree/boot/config-$other_version"
        chroot "$tree" depmod "$other_version"
        chroot "$tree" mkinitramfs -o /tmp/initrd-other-kernel.img "$other_version" > "$out/initrd-other-kernel.img.log" 2>&1 ||
            { echo "images: mkinitramfs for $other_version failed (see $out/initrd-other-kernel.img.log)" >&2; exit 1; }
        mv "$tree/tmp/initrd-other-kernel.img" "$out/initrd-other-kernel.img"
        rm -rf "$modules" "$tree/boot/config-$other_version"
    fi
    cp -p "$other_dir/vmlinuz" "$out/vmlinuz-other-kernel"
else
    echo "images: no $suite $other_flavour kernel (images/fetch-kernels.sh $suite $other_flavour): no resume-with-another-kernel case"
fi

# 3. The plain root file system, rebuilt when anything in the tree changed.
scripts_key=$(cat "$here/hard-roots/root-init" "$here/hard-roots/prepare" "$out/tree.key" "$0" | sha256sum | cut -c1-16)
if [ "$(cat "$out/root.key" 2>/dev/null)" != "$scripts_key" ] || [ ! -f "$out/root.ext4" ]; then
    echo "images: root.ext4 ($root_size_mib MiB, mke2fs -d)"
    rm -f "$out/root.ext4.new"
    mke2fs -q -t ext4 -d "$tree" -U "$root_uuid" -L root "$out/root.ext4.new" "${root_size_mib}M" \
        > "$out/mke2fs.log" 2>&1 || { cat "$out/mke2fs.log" >&2; exit 1; }
    mv "$out/root.ext4.new" "$out/root.ext4"
    echo "$scripts_key" > "$out/root.key"
fi

# 4. The disks made inside a guest. Sparse files; the volumes need room for
# their metadata next to the root (LVM 1 MiB, md 1.2 up to 128 MiB of data
# offset on larger disks, LUKS2 16 MiB).
prepare() {   # SCENARIO DISK...
    local scenario=$1; shift
    local newest=1 disk
    for disk in "$@"; do [ "$out/$disk" -nt "$out/root.ext4" ] || newest=0; done
    [ "$newest" = 1 ] && return
    echo "images: preparing $* ($scenario, under $prepare_with)"
    local args=() qemu_args=() log="$out/prepare-$scenario.log"
    for disk in "$@"; do
        rm -f "$out/$disk.new"
        truncate -s "$((root_size_mib + 40))M" "$out/$disk.new"
        args+=(--disk "$out/$disk.new")
        qemu_args+=(-drive "file=$out/$disk.new,if=virtio,format=raw")
    done
    local append="console=ttyS0 root=/dev/vda ro init=/usr/local/sbin/bootsim-prepare bootsim.prepare=$scenario"
    if [ "$prepare_with" = qemu ]; then
        timeout 900 qemu-system-x86_64 -accel tcg -m 512M -nographic -no-reboot -kernel "$out/vmlinuz" \
            -initrd "$out/initrd.img" -drive "file=$out/root.ext4,if=virtio,format=raw,readonly=on" \
            "${qemu_args[@]}" -append "$append" > "$log" 2>&1 </dev/null || true
    else
        "$bootsim" --headless --kernel "$out/vmlinuz" --initrd "$out/initrd.img" --disk "$out/root.ext4,ro" \
            "${args[@]}" --append "$append" --timeout 900 > "$log" 2>&1 </dev/null || true
    fi
    if ! grep -q "^BOOTSIM-PREPARED: $scenario" "$log"; then
        echo "images: preparing $scenario failed: $(grep -a -m1 'BOOTSIM-PREPARE-FAILED' "$log" || tail -n 1 "$log") (see $log)" >&2
        for disk in "$@"; do rm -f "$out/$disk.new"; done
        exit 1
    fi
    for disk in "$@"; do mv "$out/$disk.new" "$out/$disk"; done
}
prepare lvm lvm.img
prepare raid1 raid1-a.img raid1-b.img
prepare luks luks.img

if [ ! -f "$out/swap.img" ] || [ "$out/swap.img" -ot "$0" ]; then
    rm -f "$out/swap.img"
    truncate -s 384M "$out/swap.img.new"
    mkswap -q -L swap "$out/swap.img.new"
    mv "$out/swap.img.new" "$out/swap.img"
fi
echo "images: hard roots ready in $out"
