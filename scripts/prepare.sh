#!/usr/bin/env bash
# What both README commands do first: install what is needed, fetch the
# reference images and build bootsim into build/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
images/fetch-kernels.sh
images/build-initrd.sh
images/build-module-initrd.sh generic
images/build-module-initrd.sh cloud
images/build-root-disk.sh
scripts/build.sh build
