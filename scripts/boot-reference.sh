#!/usr/bin/env bash
# The main job: installs what is needed, builds, fetches the reference images
# and boots each Debian kernel (XZ generic, LZ4 cloud) with the busybox initrd.
# Extra arguments go to bootsim (e.g. --stop-at handoff).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/prepare.sh
status=0
for flavour in generic cloud; do
    echo "== booting the Debian $flavour kernel ($(cat images/out/$flavour/version))"
    build/bootsim --kernel "images/out/$flavour/vmlinuz" --initrd images/out/initrd-busybox.cpio.gz \
        --timeout 300 "$@" || status=$?
done
exit $status
