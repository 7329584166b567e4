#!/usr/bin/env bash
# The main job: installs what is needed, builds, fetches the reference images
# and boots each Debian kernel (XZ generic, LZ4 cloud) through the two-stage
# boot: the initrd loads the kernel's own virtio and ext4 modules, mounts the
# ext4 root disk and switch_roots to it; the root's /sbin/init writes a file,
# syncs and powers off. The disk is used as a snapshot, so images/out/root.ext4
# stays as built. Extra arguments go to bootsim (e.g. --stop-at handoff).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/prepare.sh
status=0
for flavour in generic cloud; do
    echo "== booting the Debian $flavour kernel ($(cat images/out/$flavour/version))"
    build/bootsim --kernel "images/out/$flavour/vmlinuz" --initrd "images/out/$flavour/initrd-modules.cpio.gz" \
        --disk images/out/root.ext4,snapshot --timeout 300 "$@" || status=$?
done
exit $status
