#!/usr/bin/env python3
"""bootsim against QEMU TCG on the same Debian kernels and initrd.

Runs the two one after the other, alternating, in the same sitting, and
prints the median wall time at which each console marker appeared, and the
ratio bootsim / QEMU. Usage:

    bench/boot_vs_qemu.py [--runs 3] [--kernels bookworm/generic,bookworm/cloud,trixie/generic,trixie-backports/cloud] [--two-stage]

--two-stage boots the module initrd and the ext4 root disk (as a snapshot,
so the image is not changed) and times the root's marker too.

Needs the reference images (images/fetch-kernels.sh, images/build-initrd.sh),
build/bootsim and qemu-system-x86_64.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(TOP, "images", "out")
MARKERS = [
    ("first kernel line", b"Linux version"),
    ("Run /init", b"Run /init"),
    ("/init marker", b"BOOTSIM-INIT-OK"),
    ("modules loaded", b"BOOTSIM-MODULES-LOADED"),
    ("root marker", b"BOOTSIM-ROOT-OK"),
]


def run(command, timeout, markers=MARKERS, on_line=None):
    """Returns {marker name: seconds} and the total, for one run. `on_line`,
    if given, sees every line of output (for measures of its own)."""
    start = time.monotonic()
    seen = {}
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buffer = b""
    try:
        while True:
            chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(1)
            now = time.monotonic() - start
            if not chunk:
                break
            buffer += chunk
            for name, marker in markers:
                if name not in seen and marker in buffer:
                    seen[name] = now
            if now > timeout:
                proc.kill()
                break
            if on_line:
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    on_line(line, seen)
            buffer = buffer[-4096:]
    finally:
        proc.wait()
    seen["exit"] = time.monotonic() - start
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kernels", default="bookworm/generic,bookworm/cloud,trixie/generic,trixie-backports/cloud")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--two-stage", action="store_true")
    args = parser.parse_args()

    initrd = os.path.join(IMAGES, "initrd-busybox.cpio.gz")
    bootsim = os.path.join(TOP, "build", "bootsim")
    for path in (initrd, bootsim):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing (run scripts/boot-reference.sh first)")

    print(f"host: {os.cpu_count()} cores; {args.runs} runs each, alternating; medians in seconds")
    for kernel in args.kernels.split(","):
        vmlinuz = os.path.join(IMAGES, kernel, "vmlinuz")
        boot_initrd = os.path.join(IMAGES, kernel, "initrd-modules.cpio.gz") if args.two_stage else initrd
        commands = {
            "bootsim": [bootsim, "--kernel", vmlinuz, "--initrd", boot_initrd, "--headless",
                        "--timeout", str(args.timeout)],
            "qemu": ["qemu-system-x86_64", "-accel", "tcg", "-m", "512M", "-kernel", vmlinuz, "-initrd", boot_initrd,
                     "-append", "console=ttyS0", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio"],
        }
        if args.two_stage:
            disk = os.path.join(IMAGES, "root.ext4")
            commands["bootsim"] += ["--disk", disk + ",snapshot"]
            commands["qemu"] += ["-drive", f"file={disk},if=virtio,format=raw,snapshot=on"]
        results = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                results[name].append(run(command, args.timeout))
        print(f"\n{kernel} kernel ({open(os.path.join(IMAGES, kernel, 'version')).read().strip()})")
        print(f"  {'marker':<18} {'bootsim':>8} {'qemu':>8} {'ratio':>6}")
        wanted = [m[0] for m in MARKERS if (m[0] != "/init marker") == args.two_stage or m[0] in
                  ("first kernel line", "Run /init")]
        for name in wanted + ["exit"]:
            values = {}
            for tool in commands:
                times = [r[name] for r in results[tool] if name in r]
                values[tool] = statistics.median(times) if len(times) == args.runs else None
            b, q = values["bootsim"], values["qemu"]
            ratio = f"{b / q:6.2f}" if b and q else "     -"
            fmt = lambda v: f"{v:8.2f}" if v is not None else "       -"
            print(f"  {name:<18} {fmt(b)} {fmt(q)} {ratio}")


if __name__ == "__main__":
    main()
