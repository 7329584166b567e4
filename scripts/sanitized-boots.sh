#!/usr/bin/env bash
# Boots real kernels with an AddressSanitizer + UBSan build of bootsim
# (build-asan/, the build the test command runs the unit tests with): Debian
# 12's 6.1 cloud kernel and Debian 13's 6.12 generic kernel, each to the
# busybox /init and through the two-stage boot (module initrd, ext4 root
# disk as a snapshot). A boot passes when it exits 0 with its marker and the
# sanitizers reported nothing (they halt on the first error, leaks
# included). Slow, so not part of the default test run:
#   scripts/sanitized-boots.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/prepare.sh >/dev/null
scripts/build.sh build-asan -DBOOTSIM_SANITIZE=ON >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
printf '%-34s %8s  %s\n' boot seconds result
for kernel in bookworm/cloud trixie/generic; do
    dir=images/out/$kernel
    for kind in init two-stage; do
        if [ $kind = init ]; then
            args=(--initrd images/out/initrd-busybox.cpio.gz) marker=BOOTSIM-INIT-OK
        else
            args=(--initrd "$dir/initrd-modules.cpio.gz" --disk images/out/root.ext4,snapshot) marker=BOOTSIM-ROOT-OK
        fi
        started=$(date +%s%N)
        set +e
        build-asan/bootsim --kernel "$dir/vmlinuz" "${args[@]}" --headless --timeout 3600 \
            </dev/null >"$out/console" 2>"$out/log"
        rc=$?
        set -e
        took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
        result=ok
        if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$out/log"; then
            result="FAILED: sanitizer report"
        elif [ $rc -ne 0 ]; then
            result="FAILED: exit $rc"
        elif ! grep -q "$marker" "$out/console"; then
            result="FAILED: no $marker"
        fi
        if [ "$result" != ok ]; then
            status=1
            keep=build-asan/sanitized-$(echo "$kernel" | tr / -)-$kind
            cp "$out/console" "$keep.console"
            cp "$out/log" "$keep.log"
            result="$result (see $keep.log)"
        fi
        printf '%-34s %5d.%01d  %s\n' "$kernel $kind" $((took_ms / 1000)) $((took_ms % 1000 / 100)) "$result"
    done
done
exit $status
