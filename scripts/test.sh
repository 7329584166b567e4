#!/usr/bin/env bash
# The test command: installs what is needed, builds, fetches the reference
# images and runs every test: unit, command-line and end-to-end tests on the
# normal build (with the hard roots' images), then the unit tests again under AddressSanitizer + UBSan.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/prepare.sh
# The hard roots (LVM, LUKS, NFS, ...): Debian's own initrd and disks
# prepared in a guest under the bootsim just built; the default run boots
# three of them.
images/build-hard-roots.sh
images/build-nfs-root.sh
scripts/build.sh build-asan -DBOOTSIM_SANITIZE=ON
echo "== tests (unit, cli, end-to-end)"
ctest --test-dir build --output-on-failure -j2
echo "== unit tests under ASan/UBSan"
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$top/tests/lsan.supp \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -L unit -j2
