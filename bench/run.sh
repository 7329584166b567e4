#!/usr/bin/env bash
# The benchmark in one command, on a fresh clone (as root): sets everything
# up (scripts/prepare.sh: packages, Unicorn, the reference images, the
# build), fetches the peers (bench/peers.sh: QEMU 10 from bookworm-backports,
# Unicorn 2.1.4 from unstable, the host decompressors), then boots each
# reference kernel through the two-stage boot with bootsim, its variants and
# both QEMUs, round after round (bench/boot_vs_qemu.py). The tables go to
# stdout and to bench/out/boot_vs_qemu-DATE.md; bench/RESULTS.md holds the
# ones the project quotes. Arguments go to boot_vs_qemu.py (e.g. --runs 5).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/prepare.sh
bench/peers.sh
mkdir -p bench/out
out="bench/out/boot_vs_qemu-$(date +%Y%m%d-%H%M).md"
python3 bench/boot_vs_qemu.py --runs 3 --two-stage --markdown "$out" "$@"
echo "bench: tables written to $out"
