#!/usr/bin/env bash
# Runs every fuzz target with libFuzzer for a given time each, one after the
# other (not part of the default test run):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default 600, all)
# Builds build-fuzz/ with Debian's clang (installed if missing), libFuzzer,
# ASan and UBSan; seeds each corpus from the reference images under
# images/out/ when they are there (a window of each real vmlinuz, the
# initrds, real compressed streams, System.map) and from fuzz/regressions/.
# Corpora grow in fuzz-out/corpus/TARGET across runs; a crash, leak or
# timeout input lands in fuzz-out/artifacts/TARGET/ and makes the script
# exit 1 (copy it into fuzz/regressions/TARGET/ once fixed: the unit tests
# replay that folder). Prints, per target: executions, coverage, time.
# A log of every run is appended to fuzz-out/history.tsv, so the hours
# each target has run add up across sessions.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seconds=${1:-600}
shift || true
all=(bzimage payload initrd_catalog kernel_elf kallsyms system_map virtio_blk pci_config options run_report)
targets=("${@:-${all[@]}}")

if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "fuzz: installing clang-14 and libclang-rt-14-dev"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang-14 libclang-rt-14-dev
fi
scripts/setup.sh >/dev/null
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBOOTSIM_LIBFUZZER=ON -DBOOTSIM_SANITIZE=ON >/dev/null
fi
cmake --build build-fuzz --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

out=fuzz-out
mkdir -p "$out"
seeds=$out/seeds
rm -rf "$seeds" && mkdir -p "$seeds"
# Seeds from the real images, where they are.
mkdir -p "$seeds/bzimage" "$seeds/payload" "$seeds/initrd_catalog" "$seeds/system_map" "$seeds/options" \
    "$seeds/kernel_elf"
n=0
for k in images/out/*/*/vmlinuz; do
    [ -f "$k" ] || continue
    n=$((n + 1))
    head -c 65536 "$k" > "$seeds/bzimage/vmlinuz-$n"
done
for i in images/out/initrd-busybox.cpio.gz images/out/*/*/initrd-modules.cpio.gz; do
    [ -f "$i" ] || continue
    n=$((n + 1))
    head -c 1048576 "$i" > "$seeds/initrd_catalog/initrd-$n"
done
for m in images/out/*/*/System.map; do
    [ -f "$m" ] || continue
    n=$((n + 1))
    head -c 65536 "$m" > "$seeds/system_map/map-$n"
done
# Small real streams of every codec (what a payload or initrd holds).
sample=$(mktemp)
printf 'bootsim fuzz seed\n%.0s' $(seq 200) > "$sample"
gzip -9c "$sample" > "$seeds/payload/gz"
xz --check=crc32 -c "$sample" > "$seeds/payload/xz"
xz --format=lzma -c "$sample" > "$seeds/payload/lzma"
zstd -q -c "$sample" > "$seeds/payload/zst"
bzip2 -c "$sample" > "$seeds/payload/bz2" 2>/dev/null || true
for f in "$seeds"/payload/*; do
    # The payload target reads the last 4 bytes as the decompressed size,
    # as the build appends it (little-endian).
    python3 -c 'import os, struct, sys; sys.stdout.buffer.write(struct.pack("<I", os.path.getsize(sys.argv[1])))' \
        "$sample" >> "$f"
done
(cd "$(dirname "$sample")" && mkdir -p cpio-seed/bin && cp "$sample" cpio-seed/bin/init &&
    cd cpio-seed && find . | cpio -o -H newc --quiet) > "$seeds/initrd_catalog/newc"
gzip -c "$seeds/initrd_catalog/newc" > "$seeds/initrd_catalog/newc.gz"
rm -rf "$(dirname "$sample")/cpio-seed" "$sample"
cp /bin/true "$seeds/kernel_elf/elf64"  # a real ELF64 executable
printf 'bootsim\0--kernel\0vmlinuz\0--initrd\0initrd.img\0--headless\0--stop-at\0handoff\0--mem\0256M' \
    > "$seeds/options/typical"
printf 'bootsim\0--kernel\0k\0--disk\0d.img,snapshot\0--append\0console=ttyS0\0--timeout\00.5\0--expect\0a(b' \
    > "$seeds/options/disk"

status=0
printf '%-16s %10s %10s %8s %8s  %s\n' target runs exec/s cov ft result
for t in "${targets[@]}"; do
    corpus=$out/corpus/$t artifacts=$out/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    dirs=("$corpus")
    [ -d "$seeds/$t" ] && dirs+=("$seeds/$t")
    [ -d fuzz/regressions/$t ] && dirs+=("fuzz/regressions/$t")
    log=$out/$t.log
    started=$(date +%s)
    set +e
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        build-fuzz/fuzz/fuzz_$t "${dirs[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
        -max_len=1048576 -artifact_prefix="$artifacts/" -print_final_stats=1 > "$log" 2>&1
    rc=$?
    set -e
    took=$(( $(date +%s) - started ))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    result=ok
    if [ $rc -ne 0 ]; then result="FAILED (exit $rc; see $log and $artifacts)"; status=1; fi
    printf '%-16s %10s %10s %8s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$result"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$(git rev-parse --short HEAD)" "$t" "$took" \
        "${runs:-0}" "${cov:-0}" "${ft:-0}" "$rc" >> "$out/history.tsv"
done
echo "fuzz: hours run per target so far (fuzz-out/history.tsv):"
awk -F'\t' '{ s[$3] += $4 } END { for (t in s) printf "  %-16s %.2f h\n", t, s[t] / 3600 }' "$out/history.tsv" | sort
exit $status
