#!/usr/bin/env bash
# What both README commands do first: install what is needed, fetch the
# reference images and build bootsim into build/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
images/fetch-kernels.sh
images/build-initrd.sh
scripts/build.sh build
