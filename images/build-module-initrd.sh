#!/usr/bin/env bash
# Builds images/out/SUITE/FLAVOUR/initrd-modules.cpio.gz (a kernel that
# images/fetch-kernels.sh SUITE FLAVOUR fetched), stage one of the two-stage
# boot: a static busybox whose /init insmods the modules that kernel needs
# to reach a
# virtio-blk disk on PCI and mount ext4 from it, mounts /dev/vda and
# switch_roots into its /sbin/init (images/build-root-disk.sh makes that
# disk). Every step prints a BOOTSIM-* marker on the console, and any failure
# prints BOOTSIM-STAGE1-FAILED: <what> and powers off, so a test can tell
# where a boot stopped.
#
# The module list is resolved from the kernel package itself, never by hand:
# Debian's package ships no modules.dep (depmod writes it in postinst), so
# the dependencies are read from each module's .modinfo section, which is
# where depmod gets them too (modpost records them there as "depends=").
# "softdep=pre:" entries are followed as well (ext4 and jbd2 ask for
# crypto-crc32c, which metadata_csum needs at mount time), and anything listed
# in modules.builtin is skipped, since the cloud kernel builds ext4 and crc32c
# in. Needs busybox-static, cpio, gzip and objcopy (binutils, part of
# build-essential); xz or zstd only if the tree holds compressed modules.
# The resolved list is also written next to the initrd as
# initrd-modules.txt. Cached: rebuilt only when this script, busybox or the
# kernel (its version file, rewritten by fetch-kernels.sh) changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 2 ]; then
    echo "usage: $0 SUITE FLAVOUR   (e.g. trixie cloud; see images/kernels.txt)" >&2
    exit 2
fi
flavour="$1 $2"
dir="$here/out/$1/$2"
mods="$dir/modules"
target="$dir/initrd-modules.cpio.gz"
listing="$dir/initrd-modules.txt"
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "images: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
[ -f "$dir/version" ] && [ -d "$mods" ] ||
    { echo "images: no $flavour kernel in $dir (run images/fetch-kernels.sh $flavour)" >&2; exit 1; }
command -v objcopy >/dev/null || { echo "images: objcopy missing (apt-get install binutils)" >&2; exit 1; }
version=$(cat "$dir/version")
if [ -f "$target" ] && [ -f "$listing" ] && [ "$target" -nt "$0" ] &&
   [ "$target" -nt "$busybox" ] && [ "$target" -nt "$dir/version" ]; then
    echo "images: $target up to date"
    sed 's/^/images:   /' "$listing"
    exit 0
fi

# What the device path needs. virtio_blk binds to any virtio transport, so
# nothing depends on virtio_pci and it has to be asked for by name; ext4's
# checksum module comes in through its softdep, and everything else through
# "depends=".
wanted=(virtio_pci virtio_blk ext4)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,newroot}

# Module names use '_' where file names and aliases may use '-' (kmod
# treats the two as the same character), hence the ${x//-/_} below.

# name -> path relative to $mods, for every loadable module in the package.
declare -A path_of=()
while IFS= read -r rel; do
    base=${rel##*/}
    base=${base%%.ko*}
    path_of[${base//-/_}]=$rel
done < <(cd "$mods" && find . -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) | sed 's|^\./||' | sort)

# Built-in modules, by name, and the aliases they provide (a softdep on
# "crypto-crc32c" is met by a built-in crc32c_generic).
declare -A builtin=() builtin_alias=() builtin_softdep=()
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    base=${rel##*/}
    base=${base%%.ko*}
    builtin[${base//-/_}]=1
done < "$mods/modules.builtin"
if [ -f "$mods/modules.builtin.modinfo" ]; then
    while IFS= read -r line; do
        alias=${line#*.alias=}
        name=${line%%.alias=*}
        builtin_alias[${alias//-/_}]=${name//-/_}
    done < <(tr '\0' '\n' < "$mods/modules.builtin.modinfo" | grep -a '^[^.=]*\.alias=')
    # A built-in module can still softdep on a loadable one (built-in ext4
    # with a modular crc32c would need it loaded before the mount).
    while IFS= read -r line; do
        name=${line%%.softdep=*}
        builtin_softdep[${name//-/_}]="${builtin_softdep[${name//-/_}]:-} ${line#*.softdep=}"
    done < <(tr '\0' '\n' < "$mods/modules.builtin.modinfo" | grep -a '^[^.=]*\.softdep=')
fi


# Decompresses a module (if it needs it) into the initrd's
# /lib/modules/<version>/ under its path in the package, minus the
# compression suffix, since busybox's insmod takes plain ELF files. Sets
# $plain to the path inside the initrd (no leading slash).
materialize() {
    local rel=$1
    plain="lib/modules/$version/${rel%.xz}"
    plain=${plain%.zst}
    plain=${plain%.gz}
    [ ! -f "$root/$plain" ] || return 0
    mkdir -p "$(dirname "$root/$plain")"
    case "$rel" in
        *.ko.xz) xz -dc "$mods/$rel" > "$root/$plain" ;;
        *.ko.zst) zstd -qdc "$mods/$rel" > "$root/$plain" ;;
        *.ko.gz) gzip -dc "$mods/$rel" > "$root/$plain" ;;
        *) cp "$mods/$rel" "$root/$plain" ;;
    esac
}

# The values of one .modinfo field of an uncompressed module, one a line.
field() {
    objcopy -O binary --only-section=.modinfo "$1" "$work/modinfo"
    tr '\0' '\n' < "$work/modinfo" | sed -n "s/^$2=//p"
}

# Which loadable modules provide an alias, sorted, one a line. A cheap byte
# search narrows the candidates (one grep over all plain modules; compressed
# ones have to be unpacked one by one), then their .modinfo decides.
modules_with_alias() {
    local want=${1//-/_} pattern rel ko name alias
    pattern="alias=$(printf '%s' "$1" | sed 's/[][\.*^$]/\\&/g; s/[-_]/[-_]/g')"
    {
        (cd "$mods" && printf '%s\0' "${path_of[@]}" | grep -z '\.ko$' |
            xargs -0 -r grep -laE "$pattern" -- || true)
        printf '%s\n' "${path_of[@]}" | grep -v '\.ko$' || true
    } | while IFS= read -r rel; do
        ko=$work/candidate
        case "$rel" in
            *.ko) ko=$mods/$rel ;;
            *.ko.xz) xz -dc "$mods/$rel" > "$ko" ;;
            *.ko.zst) zstd -qdc "$mods/$rel" > "$ko" ;;
            *.ko.gz) gzip -dc "$mods/$rel" > "$ko" ;;
        esac
        grep -qaE "$pattern" "$ko" || continue
        name=${rel##*/}
        name=${name%%.ko*}
        while IFS= read -r alias; do
            if [ "${alias//-/_}" = "$want" ]; then
                printf '%s\n' "${name//-/_}"
                break
            fi
        done < <(field "$ko" alias)
    done | sort
}

# Resolves a name from "depends=" or "softdep=" and sets $res to the module
# to load, or to the empty string when the kernel has it built in (then
# $res_builtin names the built-in module, the first time only). Like
# modprobe, a module name wins over an alias. When several loadable modules
# provide an alias (for crypto-crc32c: crc32c_generic and crc32c_intel), the
# *_generic one is taken: it loads on any CPU, while the accelerated ones
# refuse CPUs without their instructions, and an emulated CPU may lack them.
declare -A resolved=()
declare -a notes=()
resolve() {
    local want=${1//-/_} providers
    res_builtin=""
    if [ -n "${resolved[$want]+set}" ]; then
        res=${resolved[$want]}
        return
    fi
    if [ -n "${builtin[$want]:-}" ]; then
        res=""
        res_builtin=$want
        notes+=("built in: $want")
    elif [ -n "${path_of[$want]:-}" ]; then
        res=$want
    elif [ -n "${builtin_alias[$want]:-}" ]; then
        res=""
        res_builtin=${builtin_alias[$want]}
        notes+=("built in: $1 (provided by ${builtin_alias[$want]})")
    else
        providers=$(modules_with_alias "$1")
        [ -n "$providers" ] || { echo "images: $flavour: nothing provides '$1'" >&2; exit 1; }
        res=$(grep -m1 '_generic$' <<<"$providers" || head -n1 <<<"$providers")
        notes+=("alias: $1 -> $res (providers: $(echo $providers))")
    fi
    resolved[$want]=$res
}

# Depth-first walk: a module goes into the load order after its softdep
# "pre:" modules and its dependencies, and before its "post:" modules.
# Built-in modules only contribute their softdeps.
declare -A state=()
declare -a order=() order_paths=()
follow() {
    resolve "$1"
    if [ -n "$res" ]; then
        visit "$res"
    elif [ -n "$res_builtin" ] && [ -n "${builtin_softdep[$res_builtin]:-}" ]; then
        local name=$res_builtin
        walk_softdeps pre ${builtin_softdep[$name]}
        walk_softdeps post ${builtin_softdep[$name]}
    fi
}
# walk_softdeps pre|post <words of a softdep value>...
walk_softdeps() {
    local which=$1 word phase=""
    shift
    for word in "$@"; do
        case "$word" in
            pre:|post:) phase=${word%:} ;;
            *) [ "$phase" != "$which" ] || follow "$word" ;;
        esac
    done
}
visit() {
    local name=$1 dep my_plain
    case "${state[$name]:-}" in
        done) return ;;
        active) echo "images: $flavour: dependency cycle through $name" >&2; exit 1 ;;
    esac
    state[$name]=active
    materialize "${path_of[$name]}"
    my_plain=$plain
    local -a softdep=() deps=()
    softdep=($(field "$root/$my_plain" softdep))
    deps=($(field "$root/$my_plain" depends | tr ',' ' '))
    walk_softdeps pre "${softdep[@]}"
    for dep in "${deps[@]}"; do
        follow "$dep"
    done
    order+=("$name")
    order_paths+=("/$my_plain")
    state[$name]=done
    walk_softdeps post "${softdep[@]}"
}

for name in "${wanted[@]}"; do
    follow "$name"
done

{
    echo "kernel $version ($flavour), wanted: ${wanted[*]}"
    for note in "${notes[@]}"; do echo "$note"; done
    echo "load order: ${order[*]:-(nothing, all built in)}"
} > "$work/listing"
sed 's/^/images:   /' "$work/listing"

# The load list /init walks: "<name> <path>" per line, in load order.
mkdir -p "$root/lib/modules/$version"
for i in "${!order[@]}"; do
    echo "${order[$i]} ${order_paths[$i]}"
done > "$root/lib/modules/$version/bootsim-load-order"

cp "$busybox" "$root/bin/busybox"
# Applet links are made here rather than by `busybox --install` at boot, so
# the initrd is complete as built and /init needs no writable step first.
"$busybox" --list-full | while IFS= read -r applet; do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

cat > "$root/init" <<INIT
#!/bin/busybox sh
# Stage one: load the modules for a virtio-blk root with ext4 on it, mount
# /dev/vda and switch_root into its /sbin/init. Generated by
# images/build-module-initrd.sh for kernel $version ($flavour).
INIT
cat >> "$root/init" <<'INIT'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
version=$(uname -r)
fail() {
    echo "BOOTSIM-STAGE1-FAILED: $*"
    poweroff -f
    # Only reached if poweroff itself failed; PID 1 must not exit.
    while :; do sleep 3600; done
}
has_opt() {
    for word in $(cat /proc/cmdline); do
        [ "$word" = "$1" ] && return 0
    done
    return 1
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
echo "BOOTSIM-STAGE1"

order=/lib/modules/$version/bootsim-load-order
[ -f "$order" ] || fail "no module list for kernel $version"
while read -r name path; do
    insmod "$path" || fail "insmod $name ($path)"
    echo "BOOTSIM-MODULE $name"
done < "$order"

# virtio-blk probes asynchronously after insmod; give the disk up to ~10 s.
tries=0
while [ ! -b /dev/vda ]; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || fail "no /dev/vda after 10 s"
    usleep 100000
done
echo "BOOTSIM-MODULES-LOADED"

mode=rw
has_opt bootsim.ro && mode=ro
mount -t ext4 -o "$mode" /dev/vda /newroot || fail "mount -t ext4 -o $mode /dev/vda /newroot"
echo "BOOTSIM-ROOT-MOUNTED"

# busybox's switch_root does not carry mounts over; move them by hand so the
# real init finds /proc, /sys and /dev already there.
for fs in dev proc sys; do
    [ -d "/newroot/$fs" ] || fail "no /$fs on the root disk"
    mount --move "/$fs" "/newroot/$fs" || fail "move /$fs to the root disk"
done
[ -x /newroot/sbin/init ] || fail "no /sbin/init on the root disk"
exec switch_root /newroot /sbin/init
fail "switch_root"
INIT
chmod +x "$root/init"

(cd "$root" && find . | sort | cpio -o -H newc --quiet --owner=0:0 | gzip -9) > "$target.tmp"
cp "$work/listing" "$listing"
mv "$target.tmp" "$target"
echo "images: built $target ($(stat -c %s "$target") bytes)"
