#!/usr/bin/env bash
# Builds images/out/root.ext4, stage two of the two-stage boot: a 64 MiB ext4
# image for a virtio-blk disk, holding a static busybox and a /sbin/init
# script that the initrd from images/build-module-initrd.sh switch_roots
# into. That init proves the real root is mounted and writable: it prints
# BOOTSIM-ROOT-* markers, writes /bootsim-wrote.txt, syncs and powers off.
# Kernel command line switches:
#   bootsim.ro    the initrd mounts the root read-only, and the write is
#                 expected to fail (BOOTSIM-ROOT-WRITE-FAILED, not a crash)
#   bootsim.dd    read 32 MiB of /dev/vda first and print dd's summary line
#                 (throughput as the guest sees it)
#   bootsim.hold  after the sync, keep reading the disk's last MiB once a
#                 second (BOOTSIM-ROOT-IO-ERROR when that fails) instead of
#                 powering off, for tests that stop the emulator themselves
# No root privileges or loop mounts: mke2fs -d fills the file system from a
# staging directory. Needs busybox-static and e2fsprogs. Cached: rebuilt only
# when this script or busybox changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
target="$out/root.ext4"
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "images: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
command -v mke2fs >/dev/null && command -v debugfs >/dev/null ||
    { echo "images: mke2fs/debugfs missing (apt-get install e2fsprogs)" >&2; exit 1; }
if [ -f "$target" ] && [ "$target" -nt "$0" ] && [ "$target" -nt "$busybox" ]; then
    echo "images: $target up to date"
    exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,mnt,root,newroot}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"

cat > "$root/sbin/init" <<'INIT'
#!/bin/busybox sh
# PID 1 on the real root, started by the initrd's switch_root. It must never
# exit (the kernel panics when PID 1 does), so nothing here uses `set -e`.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# The initrd normally moves its /proc, /sys and /dev here.
[ -r /proc/cmdline ] || mount -t proc proc /proc
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
has_opt() {
    for word in $(cat /proc/cmdline); do
        [ "$word" = "$1" ] && return 0
    done
    return 1
}

echo "BOOTSIM-ROOT-OK: /sbin/init on the real root"
echo "BOOTSIM-ROOT-CMDLINE: $(cat /proc/cmdline)"

# Debian's busybox dd prints only record counts, so the guest clock
# (/proc/uptime, 10 ms steps) times it.
if has_opt bootsim.dd; then
    t0=$(cut -d' ' -f1 /proc/uptime)
    records=$(dd if=/dev/vda of=/dev/null bs=1M count=32 2>&1 | tail -n 1)
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "BOOTSIM-ROOT-DD: $records, $(echo "$records $t0 $t1" | awk '{
        split($1, r, "+"); bytes = r[1] * 1048576; s = $5 - $4
        printf "%d bytes in %.2f s", bytes, s
        if (s > 0) printf ", %.1f MiB/s", bytes / 1048576 / s
    }')"
fi

# Under bootsim.ro the root is mounted read-only and this must fail (the
# shell's own "Read-only file system" message comes first).
if { echo "written by the guest at boot"
     echo "kernel: $(uname -r)"
     echo "cmdline: $(cat /proc/cmdline)"; } > /bootsim-wrote.txt; then
    echo "BOOTSIM-ROOT-WROTE: /bootsim-wrote.txt"
else
    echo "BOOTSIM-ROOT-WRITE-FAILED"
fi
sync
# sync writes the file and its metadata home, but leaves the journal marked
# for recovery and the superblock's free counts stale (e2fsck -n complains).
# Remounting read-only checkpoints the journal and marks the file system
# clean, so the image checks clean after the run even when it is cut off
# (bootsim.hold) or powered off hard.
mount -o remount,ro / 2>/dev/null
echo "BOOTSIM-ROOT-SYNCED"
# Read the file back from the disk, not from the page cache.
echo 3 > /proc/sys/vm/drop_caches
echo "BOOTSIM-ROOT-READBACK: $(head -n 1 /bootsim-wrote.txt 2>/dev/null)"

# Held: keep reading the disk's last MiB, uncached, so that a disk taken
# away under the guest (an image truncated by another program) shows up as
# I/O errors.
if has_opt bootsim.hold; then
    while :; do
        echo 3 > /proc/sys/vm/drop_caches
        dd if=/dev/vda of=/dev/null bs=1M skip=63 count=1 2>/dev/null || echo "BOOTSIM-ROOT-IO-ERROR"
        sleep 1
    done
fi
poweroff -f
# Only reached if poweroff itself failed.
while :; do sleep 3600; done
INIT
chmod 755 "$root/sbin/init"

# Applet links are made here: the root may be mounted read-only, so
# `busybox --install` at boot is no option. /sbin/init is ours, and linuxrc
# is only for initrds.
"$busybox" --list-full | while IFS= read -r applet; do
    [ "$applet" != linuxrc ] || continue
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# mke2fs -d copies owners from the staging files, so when not run as root
# the owners are set afterwards. 4 KiB blocks: mke2fs would give a file
# system this small its "small" profile with 1 KiB blocks, and real root file
# systems (and the page size) use 4 KiB. The ext4 defaults include
# metadata_csum, which is why the initrd loads crc32c.
rm -f "$target.tmp"
truncate -s 64M "$target.tmp"
mke2fs -q -F -t ext4 -b 4096 -L bootsim-root -E root_owner=0:0 -d "$root" "$target.tmp"
if [ "$(id -u)" != 0 ]; then
    (cd "$root" && find . -mindepth 1 | sed 's|^\.||' |
        while IFS= read -r path; do
            echo "set_inode_field $path uid 0"
            echo "set_inode_field $path gid 0"
        done) > "$work/owners"
    debugfs -w -f "$work/owners" "$target.tmp" >/dev/null 2>&1
fi
mv "$target.tmp" "$target"
echo "images: built $target ($(stat -c %s "$target") bytes)"
