#!/usr/bin/env bash
# Installs everything bootsim needs on a fresh Debian 12 machine (as root):
# Debian 12 packages, plus Unicorn 2.1.1 from Debian 13 unpacked into
# .deps/unicorn. Debian 12's own libunicorn 2.0.1 cannot run a kernel (its
# x86 MMU uses virtual addresses as physical ones); Debian 13's 2.1.1 runs
# on Debian 12's libc. The machine's apt sources are not touched: Debian 13's
# package list lives in a private directory under .deps/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/.deps"

packages=(
    build-essential cmake pkg-config ninja-build
    zlib1g-dev liblzma-dev liblz4-dev libzstd-dev libslirp-dev
    libgtest-dev libcli11-dev nlohmann-json3-dev libfmt-dev libcapstone-dev libbz2-dev libpng-dev libssl-dev libtomlplusplus-dev libre2-dev
    linux-libc-dev
    busybox-static cpio gzip xz-utils zstd e2fsprogs binutils python3 python3-jsonschema gdb
    qemu-system-x86 mmdebstrap
    nfs-ganesha nfs-ganesha-vfs rpcbind
    libsdl2-dev libimgui-dev libgl-dev libegl-mesa0 libgl1-mesa-dri xvfb xauth
)

need_install=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_install+=("$p")
done
if [ ${#need_install[@]} -gt 0 ]; then
    echo "setup: installing ${need_install[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # Services the packages bring (nfs-ganesha, rpcbind) are not started:
    # the NFS-root tests start their own server on unprivileged ports
    # (scripts/nfs-server.sh), and a system ganesha would take the NFS
    # program's registration from it.
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
    fi
    apt-get install -y -q --no-install-recommends "${need_install[@]}" || { [ -z "$made_policy" ] || rm -f "$policy"; exit 1; }
    [ -z "$made_policy" ] || rm -f "$policy"
fi

unicorn_version=2.1.1-2+b2
prefix="$deps/unicorn"
if [ "$(cat "$prefix/.version" 2>/dev/null)" != "$unicorn_version" ]; then
    echo "setup: fetching Unicorn $unicorn_version from Debian 13 into $prefix"
    apt_dir="$deps/apt-trixie"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        > "$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
              -o "APT::Sandbox::User=root")
    apt-get "${apt_opts[@]}" update -q
    (cd "$apt_dir/debs" && rm -f ./*.deb &&
        apt-get "${apt_opts[@]}" download "libunicorn2t64=$unicorn_version" "libunicorn-dev=$unicorn_version")
    rm -rf "$prefix" && mkdir -p "$prefix"
    for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
    echo "$unicorn_version" > "$prefix/.version"
fi
echo "setup: dependencies ready"
