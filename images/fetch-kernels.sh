#!/usr/bin/env bash
# Fetches Debian kernels with `apt-get download` and extracts each one's
# vmlinuz, config and modules into images/out/SUITE/FLAVOUR/.
#
#   images/fetch-kernels.sh                     the kernels tagged "default" in images/kernels.txt
#   images/fetch-kernels.sh --all               every kernel in images/kernels.txt
#   images/fetch-kernels.sh SUITE FLAVOUR ...   e.g. trixie cloud sid generic
#
# SUITE: bookworm, bookworm-backports, trixie, trixie-backports, sid.
# FLAVOUR: generic, cloud, rt (amd64); 686-pae (i386: a 32-bit kernel, with
# the same suite's busybox-static:i386 extracted beside it as
# images/out/SUITE/686-pae/busybox for its initrd, images/build-initrd.sh).
#
# Each suite has its own private apt sources list and package lists under
# images/out/apt/SUITE/: the machine's own sources and installed packages
# are never touched. The flavour's metapackage (linux-image-amd64,
# linux-image-cloud-amd64, linux-image-rt-amd64) is resolved to the
# versioned packages it depends on, whatever their split: up to 6.12 one
# linux-image-VERSION holds everything; from 7.x linux-image-VERSION is a
# metapackage over linux-binary-VERSION (vmlinuz in /usr/lib/modules/V/),
# linux-modules-VERSION and linux-base-VERSION (config, System.map). The
# .debs are kept in images/out/SUITE/FLAVOUR/debs/.
#
# Cached: a kernel already extracted for the version apt resolves is not
# fetched again; package lists are refreshed once a day. Exit status 3 when
# some kernel could not be resolved or fetched (the others are still done),
# so callers can tell "unavailable today" (unstable churns) from a bug.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
list="$here/kernels.txt"
mkdir -p "$out"

# "SUITE FLAVOUR" pairs from the list, optionally only those with a tag.
from_list() {
    local tag=${1:-}
    awk -v tag="$tag" '!/^[[:space:]]*(#|$)/ { if (tag == "" || index(" " $3 " ", " " tag " ")) print $1, $2 }' "$list"
}

sources_for() {
    local suite=$1 key=/usr/share/keyrings/debian-archive-keyring.gpg
    case "$suite" in
        bookworm|trixie)
            echo "deb [signed-by=$key] http://deb.debian.org/debian $suite main"
            echo "deb [signed-by=$key] http://deb.debian.org/debian $suite-updates main"
            echo "deb [signed-by=$key] http://deb.debian.org/debian-security $suite-security main" ;;
        bookworm-backports|trixie-backports|sid)
            echo "deb [signed-by=$key] http://deb.debian.org/debian $suite main" ;;
        *) return 1 ;;
    esac
}

metapackage_for() {
    case "$1" in
        generic) echo linux-image-amd64 ;;
        cloud) echo linux-image-cloud-amd64 ;;
        rt) echo linux-image-rt-amd64 ;;
        686-pae) echo linux-image-686-pae ;;
        *) return 1 ;;
    esac
}

# The Debian architecture of a flavour's kernel.
arch_for() {
    case "$1" in
        686-pae) echo i386 ;;
        *) echo amd64 ;;
    esac
}

# Sets apt_opts for a suite's private apt state (one per architecture),
# refreshing its lists when they are missing or older than a day.
prepare_apt() {
    local suite=$1 arch=$2 dir="$out/apt/$1"
    [ "$arch" = amd64 ] || dir="$out/apt/$1-$arch"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    sources_for "$suite" > "$dir/sources.list.new"
    apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
              -o "Dir::State::Status=/dev/null" -o "APT::Sandbox::User=root"
              -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch")
    local stale=1
    if cmp -s "$dir/sources.list.new" "$dir/sources.list" 2>/dev/null &&
       [ -n "$(find "$dir/updated" -mmin -1440 2>/dev/null)" ]; then
        stale=0
    fi
    mv "$dir/sources.list.new" "$dir/sources.list"
    if [ "$stale" = 1 ]; then
        echo "images: updating the package lists of $suite"
        if apt-get "${apt_opts[@]}" update -q >"$dir/update.log" 2>&1; then
            touch "$dir/updated"
        else
            echo "images: apt-get update for $suite failed (see $dir/update.log)" >&2
        fi
    fi
}

# The versioned linux-{image,binary,modules,base}-N... packages a
# metapackage pulls in, following Depends through versioned packages only
# (alternatives like dracut|initramfs-tools are not kernel packages).
resolve_packages() {
    local -a queue=("$1") found=()
    local -A seen=()
    while [ ${#queue[@]} -gt 0 ]; do
        local pkg=${queue[0]}
        queue=("${queue[@]:1}")
        while IFS= read -r dep; do
            [ -n "${seen[$dep]:-}" ] && continue
            seen[$dep]=1
            found+=("$dep")
            queue+=("$dep")
        done < <(apt-cache "${apt_opts[@]}" depends "$pkg" 2>/dev/null |
                 sed -nE 's/^[[:space:]|]*(Pre)?Depends: (linux-(image|binary|modules|base)-[0-9][^ ]*)$/\2/p')
    done
    printf '%s\n' "${found[@]}"
}

# Extracts what bootsim needs from the unpacked packages under $1 into $2.
install_kernel() {
    local root=$1 dir=$2 vmlinuz version config mods
    vmlinuz=$(find "$root/boot" "$root/usr/lib/modules" "$root/lib/modules" -maxdepth 2 \
                   \( -name 'vmlinuz-*' -o -name vmlinuz \) -type f 2>/dev/null | head -n1)
    [ -n "$vmlinuz" ] || { echo "images: no vmlinuz in the packages" >&2; return 1; }
    case "$vmlinuz" in
        */boot/vmlinuz-*) version=${vmlinuz##*/vmlinuz-} ;;
        *) version=$(basename "$(dirname "$vmlinuz")") ;;
    esac
    config=$(find "$root/boot/config-$version" "$root/usr/lib/modules/$version/config" \
                  "$root/lib/modules/$version/config" -type f 2>/dev/null | head -n1)
    mods=$(find "$root/usr/lib/modules/$version" "$root/lib/modules/$version" -maxdepth 0 -type d 2>/dev/null |
           while read -r d; do [ -d "$d/kernel" ] && echo "$d"; done | head -n1)
    [ -n "$mods" ] || { echo "images: no modules for $version in the packages" >&2; return 1; }
    rm -rf "$dir/vmlinuz" "$dir/config" "$dir/modules"
    cp "$vmlinuz" "$dir/vmlinuz"
    [ -z "$config" ] || cp "$config" "$dir/config"
    mv "$mods" "$dir/modules"
    echo "$version" > "$dir/version"
}

fetch() {
    local suite=$1 flavour=$2 meta dir
    if ! sources_for "$suite" >/dev/null; then
        echo "images: unknown suite '$suite' (expected bookworm, bookworm-backports, trixie, trixie-backports or sid)" >&2
        return 2
    fi
    meta=$(metapackage_for "$flavour") ||
        { echo "images: unknown flavour '$flavour' (expected generic, cloud, rt or 686-pae)" >&2; return 2; }
    dir="$out/$suite/$flavour"
    local arch
    arch=$(arch_for "$flavour")
    prepare_apt "$suite" "$arch"
    local -a pkgs
    mapfile -t pkgs < <(resolve_packages "$meta")
    if [ ${#pkgs[@]} -eq 0 ]; then
        if [ -f "$dir/vmlinuz" ]; then
            echo "images: $suite $flavour: cannot resolve $meta today; keeping $(cat "$dir/version")"
            return 0
        fi
        echo "images: $suite $flavour: cannot resolve $meta in $suite" >&2
        return 3
    fi
    local key
    key=$(printf '%s\n' "${pkgs[@]}" | sort | tr '\n' ' ')
    if [ -f "$dir/vmlinuz" ] && [ -d "$dir/modules" ] && [ "$(cat "$dir/packages" 2>/dev/null)" = "$key" ]; then
        echo "images: $suite $flavour kernel $(cat "$dir/version") already here"
        return 0
    fi
    echo "images: $suite $flavour: fetching ${pkgs[*]}"
    mkdir -p "$dir/debs"
    rm -f "$dir"/debs/*.deb
    if ! (cd "$dir/debs" && apt-get "${apt_opts[@]}" download -q "${pkgs[@]}" >/dev/null 2>"$dir/download.log"); then
        echo "images: $suite $flavour: apt-get download failed (see $dir/download.log)" >&2
        return 3
    fi
    local tmp
    tmp=$(mktemp -d)
    for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
    if ! install_kernel "$tmp/root" "$dir"; then
        rm -rf "$tmp"
        return 3
    fi
    rm -rf "$tmp"
    if [ "$arch" != amd64 ] && ! fetch_busybox "$dir"; then
        return 3
    fi
    echo "$key" > "$dir/packages"
    echo "images: $suite $flavour kernel $(cat "$dir/version") -> $dir/vmlinuz"
}

# A foreign-architecture kernel's user space: busybox-static of the same
# suite and architecture, as $1/busybox.
fetch_busybox() {
    local dir=$1 tmp
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download -q busybox-static >/dev/null 2>"$dir/download.log"); then
        echo "images: busybox-static for $dir: apt-get download failed (see $dir/download.log)" >&2
        rm -rf "$tmp"
        return 1
    fi
    dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/root"
    cp "$tmp/root/bin/busybox" "$dir/busybox"
    rm -rf "$tmp"
}

pairs=()
if [ $# -eq 0 ]; then
    mapfile -t pairs < <(from_list default)
elif [ "$1" = "--all" ]; then
    mapfile -t pairs < <(from_list)
else
    [ $(($# % 2)) -eq 0 ] || { echo "usage: $0 [--all | SUITE FLAVOUR ...]" >&2; exit 2; }
    while [ $# -gt 0 ]; do pairs+=("$1 $2"); shift 2; done
fi

status=0
for pair in "${pairs[@]}"; do
    # shellcheck disable=SC2086
    fetch $pair || { rc=$?; [ "$rc" -eq 2 ] && exit 2; status=3; }
done
exit $status
