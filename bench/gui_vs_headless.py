#!/usr/bin/env python3
"""The guest's speed with the visualizer open against headless.

Boots the same kernel and busybox initrd both ways, alternating, in the same
sitting, and prints medians of two measures:
- when the machine entered the handoff and init phases, from bootsim's own
  log (host time the machine ran: the GUI's start-up before the first Run is
  left out), which is the guest's speed;
- when console markers appeared, from the start of the process (start-up
  included), which is what a user waits.
"speed" is headless time / GUI time; the target is 0.90 or more. The GUI
draws its whole window the whole time: off-screen through SDL's offscreen
driver on Mesa's llvmpipe by default, or in an X window under Xvfb with
--xvfb. Usage:

    bench/gui_vs_headless.py [--runs 3] [--kernels bookworm/generic,bookworm/cloud] [--xvfb]

Needs the reference images (images/fetch-kernels.sh, images/build-initrd.sh)
and build/bootsim; --xvfb needs xvfb-run.
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_vs_qemu import GUEST_RAM_MIB, IMAGES, TOP, run  # noqa: E402


def measure(result, name):
    """A console marker's time from the start, or (for "phase X") the
    machine's own time of entering phase X, from bootsim's progress lines."""
    if name.startswith("phase "):
        return result["phases"].get(name[len("phase "):])
    return result.get(name)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kernels", default="bookworm/generic,bookworm/cloud")
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
    measures = ["phase handoff", "phase init", "first kernel line", "/init marker"]
    for kernel in args.kernels.split(","):
        vmlinuz = os.path.join(IMAGES, kernel, "vmlinuz")
        common = ["--kernel", vmlinuz, "--initrd", initrd, "--timeout", str(args.timeout), "--mem", f"{GUEST_RAM_MIB}M"]
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
        print(f"  {'measure':<26} {'headless':>8} {'gui':>8} {'speed':>6}")
        for name in measures:
            values = {}
            for mode in commands:
                times = [t for t in (measure(r, name) for r in results[mode]) if t is not None]
                values[mode] = statistics.median(times) if len(times) == args.runs else None
            h, g = values["headless"], values["gui"]
            speed = f"{h / g:6.2f}" if h and g else "     -"
            fmt = lambda v: f"{v:8.2f}" if v is not None else "       -"
            label = name + (" (machine time)" if name.startswith("phase") else " (from start)")
            print(f"  {label:<26} {fmt(h)} {fmt(g)} {speed}")
        # Off-screen, the GUI is bootsim itself; under xvfb-run the figure is
        # the largest process of the tree (bootsim or Xvfb).
        rss = {mode: statistics.median(r["rss_mib"] for r in rs) for mode, rs in results.items()}
        print(f"  peak RSS, MiB: headless {rss['headless']:.0f} (guest RAM {rss['headless'] - GUEST_RAM_MIB:+.0f}), "
              f"gui {rss['gui']:.0f} (guest RAM {rss['gui'] - GUEST_RAM_MIB:+.0f})")


if __name__ == "__main__":
    main()
