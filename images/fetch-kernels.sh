#!/usr/bin/env bash
# Fetches Debian 12's current stock kernels (generic: XZ payload, cloud: LZ4
# payload) with `apt-get download` and extracts their vmlinuz and modules
# into images/out/<flavour>/. Cached: a kernel already extracted for the
# version apt resolves today is not fetched again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
mkdir -p "$out"

# The metapackage depends on exactly one versioned image package; resolve it
# so that an old ABI that vanished from the archive is never asked for.
resolve() {
    apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

fetch() {
    local flavour=$1 meta=$2 pkg version dir
    pkg=$(resolve "$meta")
    if [ -z "$pkg" ]; then
        echo "images: cannot resolve $meta (run 'apt-get update' first)" >&2
        exit 1
    fi
    version=${pkg#linux-image-}
    version=${version%-unsigned}
    dir="$out/$flavour"
    if [ -f "$dir/vmlinuz" ] && [ "$(cat "$dir/version" 2>/dev/null)" = "$version" ]; then
        echo "images: $flavour kernel $version already here"
        return
    fi
    echo "images: fetching $pkg"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1 || apt-get download "$pkg")
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$tmp"/*.deb "$tmp/root"
    cp "$tmp/root/boot/vmlinuz-$version" "$dir/vmlinuz"
    cp "$tmp/root/boot/config-$version" "$dir/config"
    mv "$tmp/root/lib/modules/$version" "$dir/modules"
    echo "$version" > "$dir/version"
    rm -rf "$tmp"
    echo "images: $flavour kernel $version -> $dir/vmlinuz"
}

fetch generic linux-image-amd64
fetch cloud linux-image-cloud-amd64
