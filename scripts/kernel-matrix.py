#!/usr/bin/env python3
"""Boots every Debian kernel of images/kernels.txt headless and prints a table.

    scripts/kernel-matrix.py [--busybox] [--jobs N] [--only SUITE/FLAVOUR,...] [--out DIR]

For each kernel: fetch it (images/fetch-kernels.sh SUITE FLAVOUR, through a
private apt sources list), build its module initrd, then boot it through the
two-stage boot (its own virtio and ext4 modules, the ext4 root disk as a
snapshot, switch_root, the root's marker, power-off), up to --jobs boots at a
time (default: the core count). --busybox boots the busybox initrd to its
/init marker instead. Each boot writes a JSON report into --out (default
images/out/matrix/); the table has the kernel, its version, the payload
codec, each phase's guest and wall time (guest/wall, in seconds), and how the
run ended. A row passes when the run exited 0 with the marker on the console,
every phase was detected, the handoff was verified and the kernel's own
symbols were used. A kernel whose package cannot be fetched today (unstable
churns) is a row marked "skipped", not a failure. Exit status: 0 when every
kernel that was fetched passed, 1 otherwise.

Needs a build (scripts/build.sh), images/build-initrd.sh and
images/build-root-disk.sh.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(TOP, "images")
OUT = os.path.join(IMAGES, "out")
PHASES = ["decompress", "handoff", "kernel", "initramfs", "init", "modules", "root", "halt"]


def expected_phases(busybox):
    """The phases a passing boot shows: no modules or root without a disk."""
    return [p for p in PHASES if not (busybox and p in ("modules", "root"))]


def read_list():
    kernels = []
    with open(os.path.join(IMAGES, "kernels.txt")) as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            kernels.append((words[0], words[1]))
    return kernels


def own_busybox_initrd(kdir):
    return os.path.join(kdir, "initrd-busybox.cpio.gz")


def prepare(suite, flavour, two_stage):
    """Fetches the kernel and builds its module initrd; None or why not."""
    r = subprocess.run([os.path.join(IMAGES, "fetch-kernels.sh"), suite, flavour],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        return "skipped: " + (r.stdout.strip().splitlines() or ["fetch failed"])[-1]
    kdir = os.path.join(OUT, suite, flavour)
    if os.path.exists(os.path.join(kdir, "busybox")):
        # A foreign-architecture (32-bit) kernel: its own busybox, no root disk of its kind.
        if two_stage:
            return "skipped: a 32-bit kernel (the two-stage boot's root disk is 64-bit; try --busybox)"
        r = subprocess.run([os.path.join(IMAGES, "build-initrd.sh"), os.path.join(kdir, "busybox"),
                            own_busybox_initrd(kdir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            return "busybox initrd failed: " + (r.stdout.strip().splitlines() or ["?"])[-1]
    if two_stage:
        r = subprocess.run([os.path.join(IMAGES, "build-module-initrd.sh"), suite, flavour],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            return "module initrd failed: " + (r.stdout.strip().splitlines() or ["?"])[-1]
    return None


def boot(suite, flavour, args):
    kdir = os.path.join(OUT, suite, flavour)
    name = f"{suite}-{flavour}"
    report = os.path.join(args.out, name + ".json")
    log = os.path.join(args.out, name + ".log")
    cmd = [os.path.join(TOP, "build", "bootsim"), "--kernel", os.path.join(kdir, "vmlinuz"), "--headless",
           "--timeout", str(args.timeout), "--report", report]
    if args.entry:
        cmd += ["--entry", args.entry]
    if args.busybox:
        own = own_busybox_initrd(kdir)
        cmd += ["--initrd", own if os.path.exists(own) else os.path.join(OUT, "initrd-busybox.cpio.gz")]
        marker = "BOOTSIM-INIT-OK"
    else:
        cmd += ["--initrd", os.path.join(kdir, "initrd-modules.cpio.gz"),
                "--disk", os.path.join(OUT, "root.ext4") + ",snapshot"]
        marker = "BOOTSIM-ROOT-OK"
    try:
        with open(log, "wb") as out:
            r = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as e:
        return {"outcome": {"reason": f"cannot run {cmd[0]}: {e}"}}, [f"bootsim did not start ({e})"], None
    with open(log, "rb") as f:
        console = f.read()
    try:
        with open(report) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        rep = {"outcome": {"reason": f"no report ({e})", "exit_code": r.returncode}}
    # Recognised, not just booted: every phase from machine evidence, the
    # handoff verified against the payload, the kernel's own symbols used.
    wanted = expected_phases(args.busybox)
    seen = {p["phase"] for p in rep.get("phases", [])}
    problems = []
    if r.returncode != 0:
        problems.append(f"exit {r.returncode}")
    if marker.encode() not in console:
        problems.append(f"no {marker}")
    missing = [p for p in wanted if p not in seen]
    if missing:
        problems.append("no phase " + ",".join(missing))
    if not rep.get("handoff_check", {}).get("matched"):
        problems.append("handoff not verified")
    if not rep.get("kernel_symbols", {}).get("armed"):
        problems.append("no kernel symbols")
    return rep, problems, r.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busybox", action="store_true", help="the busybox initrd to /init, no disk")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="comma-separated SUITE/FLAVOUR list")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--entry", choices=["real", "32", "64"], help="the boot protocol entry (bootsim's default if not given)")
    parser.add_argument("--out", default=os.path.join(OUT, "matrix"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    kernels = read_list()
    if args.only:
        wanted = set(args.only.split(","))
        kernels = [k for k in kernels if f"{k[0]}/{k[1]}" in wanted]
    # Fetching goes one at a time (apt); boots run in parallel.
    rows = {}
    runnable = []
    for suite, flavour in kernels:
        problem = prepare(suite, flavour, not args.busybox)
        if problem:
            rows[(suite, flavour)] = (None, problem)
            print(f"matrix: {suite} {flavour}: {problem}", file=sys.stderr)
        else:
            runnable.append((suite, flavour))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(boot, s, f, args): (s, f) for s, f in runnable}
        for fut in concurrent.futures.as_completed(futures):
            key = futures[fut]
            rep, problems, code = fut.result()
            rows[key] = (rep, problems)
            print(f"matrix: {key[0]} {key[1]}: {'; '.join(problems) or 'ok'} (exit {code})", file=sys.stderr)

    shown = expected_phases(args.busybox)
    header = ["kernel", "version", "codec"] + shown + ["end"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    failed = False
    for suite, flavour in kernels:
        rep, problems = rows[(suite, flavour)]
        name = f"{suite} {flavour}"
        if rep is None:
            print(f"| {name} | | | " + " | ".join("" for _ in shown) + f" | {problems} |")
            continue
        failed = failed or bool(problems)
        version = rep.get("inputs", {}).get("kernel", {}).get("version", "").split(" ")[0]
        codec = rep.get("inputs", {}).get("kernel", {}).get("payload_codec", "")
        times = {}
        for p in rep.get("phases", []):
            times.setdefault(p["phase"], f"{p['guest_seconds']:.1f}/{p['wall_seconds']:.1f}")
        end = rep.get("outcome", {}).get("reason", "?").split(" at rip")[0]
        if problems:
            end = "FAILED (" + "; ".join(problems) + "): " + end
        print(f"| {name} | {version} | {codec} | " + " | ".join(times.get(p, "-") for p in shown) + f" | {end} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
