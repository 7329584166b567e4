#!/usr/bin/env python3
"""The guest's speed with the visualizer open against headless.

Boots the same kernel and busybox initrd both ways, alternating, in the same
sitting, and prints the median wall time at which each console marker
appeared and the guest's speed with the GUI relative to headless
(headless time / GUI time; the target is 0.90 or more). The GUI draws its
full window at ~60 frames a second the whole time: off-screen through SDL's
offscreen driver on Mesa's llvmpipe by default, or in an X window under Xvfb
with --xvfb. Usage:

    bench/gui_vs_headless.py [--runs 3] [--kernels generic,cloud] [--xvfb]

Needs the reference images (images/fetch-kernels.sh, images/build-initrd.sh)
and build/bootsim; --xvfb needs xvfb-run.
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_vs_qemu import IMAGES, TOP, run  # noqa: E402

MARKERS = ["first kernel line", "Run /init", "/init marker"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kernels", default="generic,cloud")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--xvfb", action="store_true", help="draw in an X window under Xvfb instead of off-screen")
    args = parser.parse_args()

    initrd = os.path.join(IMAGES, "initrd-busybox.cpio.gz")
    bootsim = os.path.join(TOP, "build", "bootsim")
    for path in (initrd, bootsim):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing (run scripts/prepare.sh first)")
    shot = os.path.join(tempfile.gettempdir(), "bootsim-bench.png")

    where = "an X window under Xvfb" if args.xvfb else "off-screen (SDL offscreen driver)"
    print(f"host: {os.cpu_count()} cores; GUI drawn {where}; {args.runs} runs each, alternating; medians in seconds")
    for kernel in args.kernels.split(","):
        vmlinuz = os.path.join(IMAGES, kernel, "vmlinuz")
        common = ["--kernel", vmlinuz, "--initrd", initrd, "--timeout", str(args.timeout)]
        # The GUI runs the whole boot (to the power-off: phase halt), then
        # writes its picture; the headless run ends at the same power-off.
        gui = [bootsim] + common + ["--screenshot", shot, "--screenshot-at", "halt"]
        gui = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"] + gui if args.xvfb else ["env", "-u", "DISPLAY"] + gui
        commands = {"headless": [bootsim, "--headless"] + common, "gui": gui}
        results = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                results[name].append(run(command, args.timeout))
        print(f"\n{kernel} kernel ({open(os.path.join(IMAGES, kernel, 'version')).read().strip()})")
        print(f"  {'marker':<18} {'headless':>8} {'gui':>8} {'speed':>6}")
        for name in MARKERS:
            values = {}
            for mode in commands:
                times = [r[name] for r in results[mode] if name in r]
                values[mode] = statistics.median(times) if len(times) == args.runs else None
            h, g = values["headless"], values["gui"]
            speed = f"{h / g:6.2f}" if h and g else "     -"
            fmt = lambda v: f"{v:8.2f}" if v is not None else "       -"
            print(f"  {name:<18} {fmt(h)} {fmt(g)} {speed}")


if __name__ == "__main__":
    main()
