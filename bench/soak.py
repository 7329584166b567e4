#!/usr/bin/env python3
"""Soak: many consecutive headless boots of the same images, to show that
bootsim neither fails nor drifts. Not part of the default test run.

    bench/soak.py [--runs 100] [--only NAME ...] [--no-deterministic]

Boots, each --runs times in a row (the defaults are issue 13's):
  6.1-generic-init     Debian 12's 6.1 generic (XZ), busybox initrd, to /init
  6.1-cloud-init       Debian 12's 6.1 cloud (LZ4), busybox initrd, to /init
  6.1-cloud-two-stage  6.1 cloud, its module initrd, the ext4 root disk
  6.12-two-stage       Debian 13's 6.12 generic, the same two-stage boot

Every run must exit 0 with the marker on the console and the same phase
sequence as the first run; with --deterministic (the default) the console
must be byte-identical to the first run's, without it identical once the
kernel's time stamps and timing lines are taken out. A two-stage boot gets
a fresh copy of images/out/root.ext4 (read-write, so the guest's writes land
in the file) and must leave /bootsim-wrote.txt in it (read back with
debugfs). Prints, per boot: passes, and the spread of wall time and peak
RSS; exits 1 if any run failed. Each run's output of a failure is kept in
bench/soak-out/.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(TOP, "images", "out")
BOOTSIM = os.path.join(TOP, "build", "bootsim")

BOOTS = {
    "6.1-generic-init": ("bookworm/generic", "busybox", "BOOTSIM-INIT-OK"),
    "6.1-cloud-init": ("bookworm/cloud", "busybox", "BOOTSIM-INIT-OK"),
    "6.1-cloud-two-stage": ("bookworm/cloud", "modules", "BOOTSIM-ROOT-OK"),
    "6.12-two-stage": ("trixie/generic", "modules", "BOOTSIM-ROOT-OK"),
}

# Lines whose content depends on host timing when runs are not deterministic.
TIMING = re.compile(r"MHz|BogoMIPS|tsc|TSC|calibrat|clocksource|Freeing|took|ms$|usecs|random|entropy|crng|KASLR")
STAMP = re.compile(rb"^\[ *\d+\.\d+\] ?", re.M)


def comparable(console, deterministic):
    if deterministic:
        return console
    lines = STAMP.sub(b"", console).decode("utf-8", "replace").splitlines()
    return "\n".join(l for l in lines if not TIMING.search(l)).encode()


def wrote_file(disk):
    r = subprocess.run(["debugfs", "-R", "cat /bootsim-wrote.txt", disk], capture_output=True)
    return r.returncode == 0 and b"written by the guest" in r.stdout


def run_once(bootsim, name, scratch, deterministic, timeout):
    kernel_dir, initrd_kind, marker = BOOTS[name]
    kernel = os.path.join(IMAGES, kernel_dir, "vmlinuz")
    initrd = (os.path.join(IMAGES, "initrd-busybox.cpio.gz") if initrd_kind == "busybox"
              else os.path.join(IMAGES, kernel_dir, "initrd-modules.cpio.gz"))
    report = os.path.join(scratch, "report.json")
    args = [bootsim, "--kernel", kernel, "--initrd", initrd, "--headless", "--timeout", str(timeout),
            "--report", report]
    disk = None
    if initrd_kind == "modules":
        disk = os.path.join(scratch, "root.ext4")
        shutil.copyfile(os.path.join(IMAGES, "root.ext4"), disk)
        args += ["--disk", disk]
    if deterministic:
        args.append("--deterministic")
    started = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Both pipes drained at once (no deadlock), then the child reaped here,
    # for its own peak RSS.
    chunks = {}
    readers = [threading.Thread(target=lambda k=k, f=f: chunks.__setitem__(k, f.read()))
               for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    out, err = chunks["out"], chunks["err"]
    wall = time.monotonic() - started
    problems = []
    if code != 0:
        problems.append(f"exit {code}")
    if marker.encode() not in out:
        problems.append(f"no {marker} on the console")
    phases = []
    try:
        with open(report) as f:
            phases = [p["phase"] for p in json.load(f)["phases"]]
    except (OSError, ValueError, KeyError) as e:
        problems.append(f"no report ({e})")
    if disk and not wrote_file(disk):
        problems.append("/bootsim-wrote.txt is not in the disk image")
    return {"wall": wall, "rss_mib": usage.ru_maxrss / 1024, "console": out, "log": err, "phases": phases,
            "problems": problems}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--only", nargs="*", choices=sorted(BOOTS), default=None)
    ap.add_argument("--no-deterministic", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    deterministic = not a.no_deterministic
    names = a.only or list(BOOTS)
    if not os.access(BOOTSIM, os.X_OK):
        sys.exit(f"soak: {BOOTSIM} is not built (run scripts/prepare.sh)")
    pristine = os.path.join(IMAGES, "root.ext4")
    if any(BOOTS[n][1] == "modules" for n in names) and wrote_file(pristine):
        sys.exit(f"soak: {pristine} already holds /bootsim-wrote.txt: rebuild it (images/build-root-disk.sh)")
    outdir = os.path.join(TOP, "bench", "soak-out")
    os.makedirs(outdir, exist_ok=True)
    commit = subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"soak: {a.runs} runs of each of {', '.join(names)}; commit {commit}; "
          f"{'deterministic' if deterministic else 'host clock'}", flush=True)
    # The binary under test is copied once, so a rebuild meanwhile does not
    # change (or break) what the soak runs.
    keep = tempfile.TemporaryDirectory(prefix="bootsim-soak-bin-")
    bootsim = os.path.join(keep.name, "bootsim")
    shutil.copy2(BOOTSIM, bootsim)
    failed = 0
    rows = []
    for name in names:
        first = None
        passes, walls, rss = 0, [], []
        with tempfile.TemporaryDirectory(prefix="bootsim-soak-") as scratch:
            for i in range(a.runs):
                r = run_once(bootsim, name, scratch, deterministic, a.timeout)
                if first is None and not r["problems"]:
                    first = r
                elif first is not None:
                    if r["phases"] != first["phases"]:
                        r["problems"].append(f"phases {r['phases']} differ from the first run's {first['phases']}")
                    if comparable(r["console"], deterministic) != comparable(first["console"], deterministic):
                        r["problems"].append("the console differs from the first run's")
                walls.append(r["wall"])
                rss.append(r["rss_mib"])
                if r["problems"]:
                    failed += 1
                    keep = os.path.join(outdir, f"{name}-{i + 1}")
                    with open(keep + ".console", "wb") as f:
                        f.write(r["console"])
                    with open(keep + ".log", "wb") as f:
                        f.write(r["log"])
                    print(f"  {name} run {i + 1}: FAILED: {'; '.join(r['problems'])} (kept in {keep}.*)", flush=True)
                else:
                    passes += 1
                if (i + 1) % 10 == 0:
                    print(f"  {name}: {i + 1} runs, {passes} passed, median {statistics.median(walls):.2f} s",
                          flush=True)
        rows.append((name, passes, walls, rss, first["phases"] if first else []))
    print()
    print("| boot | passed | wall s min / median / max | peak RSS MiB min / median / max | phases |")
    print("|---|---|---|---|---|")
    for name, passes, walls, rss, phases in rows:
        print(f"| {name} | {passes}/{len(walls)} | {min(walls):.2f} / {statistics.median(walls):.2f} / "
              f"{max(walls):.2f} | {min(rss):.0f} / {statistics.median(rss):.0f} / {max(rss):.0f} | "
              f"{' '.join(phases)} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
