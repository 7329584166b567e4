#!/usr/bin/env bash
# A user-space NFS server on the host's loopback for the diskless root:
# Debian's nfs-ganesha with its VFS backend, NFSv3 on unprivileged ports
# (NFS 20490, MOUNT 20048), bound to 127.0.0.1 only. A guest on bootsim's
# (or QEMU's) user-mode network reaches it as 10.0.2.2. No kernel NFS server
# and no network set-up: ganesha only needs a portmapper to register with,
# because klibc's nfsmount (Debian's initramfs) asks the portmapper on the
# server for the ports; when none answers on 127.0.0.1 this script starts
# rpcbind for the while, and stops it again.
#
#   scripts/nfs-server.sh start EXPORT_DIR STATE_DIR   # exports EXPORT_DIR read-write, no root squash
#   scripts/nfs-server.sh stop STATE_DIR
#
# Needs root (ganesha's VFS backend opens files by handle; rpcbind binds
# port 111) and the packages nfs-ganesha, nfs-ganesha-vfs and rpcbind.
set -euo pipefail
nfs_port=20490
mount_port=20048

registered() {   # PROGRAM: whether the portmapper on 127.0.0.1 knows it
    rpcinfo -p 127.0.0.1 2>/dev/null | awk -v p="$1" '$1 == p { found = 1 } END { exit !found }'
}

case "${1:-}" in
start)
    [ $# = 3 ] || { echo "usage: $0 start EXPORT_DIR STATE_DIR" >&2; exit 2; }
    export_dir=$(realpath "$2")
    state=$(mkdir -p "$3" && realpath "$3")
    [ -d "$export_dir" ] || { echo "nfs-server: $export_dir is not a directory" >&2; exit 1; }
    command -v ganesha.nfsd >/dev/null && command -v rpcbind >/dev/null ||
        { echo "nfs-server: ganesha.nfsd or rpcbind missing (apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind)" >&2; exit 1; }
    if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
        rpcbind -w -f > "$state/rpcbind.log" 2>&1 &
        echo $! > "$state/rpcbind.pid"
        for _ in $(seq 50); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
        rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || { echo "nfs-server: rpcbind did not start (see $state/rpcbind.log)" >&2; exit 1; }
    fi
    if registered 100003; then
        echo "nfs-server: another NFS server is registered with the portmapper on 127.0.0.1 (rpcinfo -p 127.0.0.1); stop it first" >&2
        exit 1
    fi
    cat > "$state/ganesha.conf" <<CONF
NFS_CORE_PARAM {
    Protocols = 3;
    NFS_Port = $nfs_port;
    MNT_Port = $mount_port;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Bind_addr = 127.0.0.1;
}
NFSV4 { Graceless = true; }
EXPORT {
    Export_Id = 1;
    Path = $export_dir;
    Pseudo = $export_dir;
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = 3;
    Transports = TCP, UDP;
    SecType = sys;
    FSAL { Name = VFS; }
}
CONF
    (cd "$state" && exec ganesha.nfsd -F -f "$state/ganesha.conf" -L "$state/ganesha.log" -p "$state/ganesha.pid" \
        -N NIV_EVENT > /dev/null 2>&1) &
    echo $! > "$state/ganesha.daemon"
    for _ in $(seq 100); do registered 100005 && registered 100003 && break; sleep 0.1; done
    if ! registered 100003; then
        echo "nfs-server: ganesha did not register NFS (see $state/ganesha.log)" >&2
        "$0" stop "$state"
        exit 1
    fi
    echo "nfs-server: $export_dir on 127.0.0.1, NFS $nfs_port, MOUNT $mount_port (guest: nfsroot=10.0.2.2:$export_dir)"
    ;;
stop)
    [ $# = 2 ] || { echo "usage: $0 stop STATE_DIR" >&2; exit 2; }
    state=$2
    for f in ganesha.daemon rpcbind.pid; do
        if [ -f "$state/$f" ]; then
            pid=$(cat "$state/$f")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
            rm -f "$state/$f"
        fi
    done
    ;;
*)
    echo "usage: $0 start EXPORT_DIR STATE_DIR | stop STATE_DIR" >&2
    exit 2
    ;;
esac
