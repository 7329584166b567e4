#!/usr/bin/env bash
# Builds images/out/initrd-busybox.cpio.gz: a static busybox whose /init
# prints a marker and the kernel command line, then powers off. Needs the
# busybox-static package (scripts/setup.sh installs it). Cached: rebuilt only
# when this script or busybox changed.
#
#   images/build-initrd.sh                   the host's /bin/busybox
#   images/build-initrd.sh BUSYBOX TARGET    another busybox, e.g. the i386 one
#                                            images/fetch-kernels.sh puts beside
#                                            a 32-bit kernel
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
target="${2:-$out/initrd-busybox.cpio.gz}"
busybox="${1:-/bin/busybox}"
[ -x "$busybox" ] || { echo "images: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
if [ -f "$target" ] && [ "$target" -nt "$0" ] && [ "$target" -nt "$busybox" ]; then
    echo "images: $target up to date"
    exit 0
fi
mkdir -p "$(dirname "$target")"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp}
cp "$busybox" "$root/bin/busybox"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "BOOTSIM-INIT-OK: busybox /init is running"
echo "BOOTSIM-CMDLINE: $(cat /proc/cmdline)"
# bootsim.shell on the command line keeps a shell on the console (stdin);
# otherwise the run ends here.
if grep -q bootsim.shell /proc/cmdline; then
    setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'
fi
if grep -q bootsim.reboot /proc/cmdline; then
    echo "BOOTSIM-REBOOT"
    reboot -f
fi
echo "BOOTSIM-POWEROFF"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | sort | cpio -o -H newc --quiet --owner=0:0 | gzip -9) > "$target.tmp"
mv "$target.tmp" "$target"
echo "images: built $target ($(stat -c %s "$target") bytes)"
