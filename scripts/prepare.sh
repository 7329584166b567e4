#!/usr/bin/env bash
# What both README commands do first: install what is needed, fetch the
# reference images (the kernels tagged "default" in images/kernels.txt, a
# busybox initrd, a module initrd per kernel, the ext4 root disk) and build
# bootsim into build/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
images/fetch-kernels.sh
images/build-initrd.sh
while read -r suite flavour; do
    images/build-module-initrd.sh "$suite" "$flavour"
done < <(awk '!/^[[:space:]]*(#|$)/ && index(" " $3 " ", " default ") { print $1, $2 }' images/kernels.txt)
images/build-root-disk.sh
scripts/build.sh build
