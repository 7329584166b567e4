#!/usr/bin/env bash
# The benchmark's peers, fetched from Debian and unpacked privately, never
# installed over the system's own:
#   .deps/qemu-backports   QEMU 10.x from bookworm-backports (Debian 12's own
#                          QEMU 7.2 is the other peer, installed by setup.sh),
#                          with whatever libraries and firmware it needs that
#                          the machine lacks
#   .deps/unicorn-sid      Unicorn 2.1.4 from Debian unstable, to measure
#                          against the pinned 2.1.1 (--variants unicorn-sid)
# and the host decompressors the decompressor's phase is compared with
# (xz, lz4, zstd: system packages). Idempotent; run as root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/.deps"
mkdir -p "$deps"

need=()
for tool in xz:xz-utils lz4:lz4 zstd:zstd qemu-system-x86_64:qemu-system-x86; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "peers: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# A private apt state for one suite (plus Debian 12 itself, so that
# dependencies resolve), leaving the system's sources and lists alone.
private_apt() {
    local dir=$1; shift
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
    : > "$dir/sources.list"
    for suite in "$@"; do
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
            >> "$dir/sources.list"
    done
    apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "APT::Sandbox::User=root")
    apt-get "${apt_opts[@]}" update -q >/dev/null
}

# Downloads what installing PACKAGE from SUITE would bring that this machine
# does not have (apt works that out against the system's dpkg status), and
# unpacks it all into PREFIX.
unpack_with_missing_dependencies() {
    local dir=$1 prefix=$2 suite=$3 package=$4
    rm -f "$dir"/cache/archives/*.deb
    apt-get "${apt_opts[@]}" install --download-only -y -q --no-install-recommends -t "$suite" "$package" >/dev/null
    rm -rf "$prefix" && mkdir -p "$prefix"
    for deb in "$dir"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
}

qemu_prefix="$deps/qemu-backports"
if [ ! -x "$qemu_prefix/usr/bin/qemu-system-x86_64" ]; then
    echo "peers: fetching QEMU from bookworm-backports into $qemu_prefix"
    private_apt "$deps/apt-bookworm-backports" bookworm bookworm-backports
    unpack_with_missing_dependencies "$deps/apt-bookworm-backports" "$qemu_prefix" bookworm-backports qemu-system-x86
fi
# Runs it with its own libraries and firmware (-L), not the system's.
cat > "$deps/qemu-backports.sh" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$qemu_prefix/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" \\
    exec "$qemu_prefix/usr/bin/qemu-system-x86_64" -L "$qemu_prefix/usr/share/qemu" -L "$qemu_prefix/usr/share/seabios" "\$@"
EOF
chmod +x "$deps/qemu-backports.sh"

unicorn_prefix="$deps/unicorn-sid"
if [ ! -e "$unicorn_prefix/usr/lib/x86_64-linux-gnu/libunicorn.so.2" ]; then
    echo "peers: fetching Unicorn from Debian unstable into $unicorn_prefix"
    private_apt "$deps/apt-sid" sid
    (cd "$deps/apt-sid/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download libunicorn2t64)
    rm -rf "$unicorn_prefix" && mkdir -p "$unicorn_prefix"
    for deb in "$deps/apt-sid/debs"/*.deb; do dpkg-deb -x "$deb" "$unicorn_prefix"; done
fi

echo "peers: $("$deps/qemu-backports.sh" --version | head -1)"
echo "peers: Unicorn from unstable: $(ls "$deps/apt-sid/debs")"
