#!/usr/bin/env bash
# What both README commands do first: install what is needed, fetch the
# reference images (the kernels tagged "default" in images/kernels.txt, a
# busybox initrd, a module initrd per kernel, the ext4 root disk; the 32-bit
# kernel tagged "i386" with a busybox initrd of its own) and build bootsim
# into build/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
images/fetch-kernels.sh
images/build-initrd.sh
while read -r suite flavour; do
    images/build-module-initrd.sh "$suite" "$flavour"
done < <(awk '!/^[[:space:]]*(#|$)/ && index(" " $3 " ", " default ") { print $1, $2 }' images/kernels.txt)
while read -r suite flavour; do
    images/fetch-kernels.sh "$suite" "$flavour"
    images/build-initrd.sh "images/out/$suite/$flavour/busybox" "images/out/$suite/$flavour/initrd-busybox.cpio.gz"
done < <(awk '!/^[[:space:]]*(#|$)/ && index(" " $3 " ", " i386 ") { print $1, $2 }' images/kernels.txt)
images/build-root-disk.sh
scripts/build.sh build
