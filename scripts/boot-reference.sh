#!/usr/bin/env bash
# The main job: installs what is needed, builds, fetches the reference images
# and boots each reference Debian kernel (those tagged "default" in
# images/kernels.txt: Debian 12's 6.1 generic (XZ) and cloud (LZ4), Debian
# 13's 6.12 generic and Debian 13 backports' 7.x cloud (zstd)) through the
# two-stage boot: the initrd loads the kernel's own virtio and ext4 modules,
# mounts the ext4 root disk and switch_roots to it; the root's /sbin/init
# writes a file, syncs and powers off. The disk is used as a snapshot, so
# images/out/root.ext4 stays as built. Extra arguments go to bootsim (e.g.
# --stop-at handoff).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/prepare.sh
status=0
while read -r suite flavour; do
    dir=images/out/$suite/$flavour
    echo "== booting Debian $suite's $flavour kernel ($(cat "$dir/version"))"
    build/bootsim --kernel "$dir/vmlinuz" --initrd "$dir/initrd-modules.cpio.gz" \
        --disk images/out/root.ext4,snapshot --timeout 300 "$@" </dev/null || status=$?
done < <(awk '!/^[[:space:]]*(#|$)/ && index(" " $3 " ", " default ") { print $1, $2 }' images/kernels.txt)
exit $status
