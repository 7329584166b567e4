#!/usr/bin/env python3
"""bootsim against QEMU TCG on the same Debian kernels, initrds and disk.

Boots each kernel with every tool in turn (bootsim, its variants, QEMU 7.2
from Debian 12, QEMU 10 from bookworm-backports), round after round in the
same sitting, and prints per console marker the median, min and max wall
time and the ratio of each bootsim variant to each QEMU. Also printed: the
decompressor's phase against QEMU's and against the host's own decompressor
(xz, lz4, zstd) on the same payload, guest instructions per second, and
peak RSS against guest RAM. Usage:

    bench/boot_vs_qemu.py [--runs 3] [--two-stage] [--kernels bookworm/generic,...]
                          [--variants default,no-idle-skip,deterministic] [--markdown FILE]

--two-stage boots the kernel's module initrd and the ext4 root disk (a
snapshot: the image does not change) and times the root's marker too;
without it, the busybox initrd and its /init marker.

Variants of bootsim: default; no-idle-skip (a halted guest waits in real
time, as under QEMU: tells a gain from skipping idle time apart from one in
running guest code); deterministic (guest time from instructions: what a CI
run with --deterministic costs); unicorn-sid (the same binary on Debian
unstable's Unicorn 2.1.4).

Needs the reference images and a build (scripts/prepare.sh) and the peers
(bench/peers.sh); bench/run.sh does all three and then this.
"""
import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(TOP, "images", "out")
DEPS = os.path.join(TOP, ".deps")
BOOTSIM = os.path.join(TOP, "build", "bootsim")
GUEST_RAM_MIB = 512

MARKERS = [
    ("first kernel line", b"Linux version"),
    ("Run /init", b"Run /init"),
    ("/init marker", b"BOOTSIM-INIT-OK"),
    ("modules loaded", b"BOOTSIM-MODULES-LOADED"),
    ("root marker", b"BOOTSIM-ROOT-OK"),
]
# bootsim's own progress lines (stderr): "bootsim: [   0.895s] phase handoff ..."
PHASE_LINE = re.compile(rb"bootsim: \[\s*([0-9.]+)s\] phase (\w+)")


# --- running one boot -------------------------------------------------------

def run(command, timeout, env=None, on_output=None):
    """Runs one boot. Returns {marker: seconds since start, "exit": ...,
    "rss_mib": peak RSS, "phases": {name: seconds}} (bootsim's phases from
    its own progress lines)."""
    start = time.monotonic()
    seen, phases = {}, {}
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env)
    if on_output:
        on_output(proc, start)
    tail = b""
    while True:
        chunk = proc.stdout.read1(65536)
        now = time.monotonic() - start
        if not chunk:
            break
        text = tail + chunk
        for name, marker in MARKERS:
            if name not in seen and marker in text:
                seen[name] = now
        for m in PHASE_LINE.finditer(text):
            phases.setdefault(m.group(2).decode(), float(m.group(1)))
        tail = text[-4096:]
        if now > timeout:
            proc.kill()
            break
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seen["exit"] = time.monotonic() - start
    seen["rss_mib"] = usage.ru_maxrss / 1024
    seen["phases"] = phases
    seen["returncode"] = proc.returncode
    return seen


class QemuRegisterPoller:
    """Watches a QEMU's RIP through QMP ("info registers" every few ms) to
    time the decompressor: from the first instruction of the loaded kernel
    (at or above 1 MiB, where the boot protocol loads it; the firmware runs
    below) to the first one at a kernel virtual address (the decompressed
    kernel, a few instructions after the decompressor's jump). Each poll
    stops QEMU's CPU for a moment, so these runs are separate from the timed
    ones, and a poll every 20 ms (the resolution) keeps that cost small."""

    def __init__(self, socket_path, period=0.02):
        self.socket_path, self.period = socket_path, period
        self.kernel_start = self.kernel_virtual = None

    def start(self, proc, start):
        self.proc, self.t0 = proc, start
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self):
        for _ in range(500):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.socket_path)
                break
            except OSError:
                time.sleep(0.002)
        else:
            return
        f = s.makefile("rwb")
        f.readline()  # greeting
        self._ask(f, {"execute": "qmp_capabilities"})
        while self.proc.poll() is None and self.kernel_virtual is None:
            reply = self._ask(f, {"execute": "human-monitor-command", "arguments": {"command-line": "info registers"}})
            now = time.monotonic() - self.t0
            m = re.search(r"RIP=([0-9a-f]+)", reply.get("return", "")) if reply else None
            if m:
                rip = int(m.group(1), 16)
                if self.kernel_start is None and 0x100000 <= rip < 0x100000000:
                    self.kernel_start = now
                if rip >= 0xffff800000000000:
                    self.kernel_virtual = now
            time.sleep(self.period)
        s.close()

    @staticmethod
    def _ask(f, message):
        try:
            f.write(json.dumps(message).encode() + b"\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    return None
                reply = json.loads(line)
                if "return" in reply or "error" in reply:
                    return reply
        except (OSError, ValueError):
            return None


# --- the tools --------------------------------------------------------------

def qemu_peers():
    peers = {"qemu 7.2": ["qemu-system-x86_64"]}
    backports = os.path.join(DEPS, "qemu-backports.sh")
    if os.access(backports, os.X_OK):
        peers["qemu 10"] = [backports]
    return peers


def version_of(command):
    try:
        return subprocess.run(command + ["--version"], capture_output=True, text=True,
                              timeout=30).stdout.splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def bootsim_variants(names):
    variants = {}
    for name in names:
        if name == "default":
            variants["bootsim"] = ([], None)
        elif name == "no-idle-skip":
            variants["bootsim no-idle-skip"] = (["--no-idle-skip"], None)
        elif name == "deterministic":
            variants["bootsim deterministic"] = (["--deterministic"], None)
        elif name == "unicorn-sid":
            lib = os.path.join(DEPS, "unicorn-sid", "usr", "lib", "x86_64-linux-gnu")
            variants["bootsim unicorn-sid"] = ([], dict(os.environ, LD_LIBRARY_PATH=lib))
        else:
            sys.exit(f"bench: unknown variant {name}")
    return variants


def host_cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


# --- the decompressor's floor: the host decompressing the same payload -----

def payload_of(vmlinuz):
    """The bzImage's compressed payload (boot protocol: setup_sects,
    payload_offset, payload_length) without the 4-byte size after it."""
    data = open(vmlinuz, "rb").read()
    setup_sects = data[0x1f1] or 4
    offset = int.from_bytes(data[0x248:0x24c], "little")
    length = int.from_bytes(data[0x24c:0x250], "little")
    start = (setup_sects + 1) * 512 + offset
    return data[start:start + length - 4]


def host_decompression(vmlinuz, runs=3):
    payload = payload_of(vmlinuz)
    tools = [(b"\xfd7zXZ", "xz", ["xz", "-dc", "--single-stream"]),
             (b"\x02\x21\x4c\x18", "lz4", ["lz4", "-dc"]),
             (b"\x28\xb5\x2f\xfd", "zstd", ["zstd", "-dc"]),
             (b"\x1f\x8b", "gzip", ["gzip", "-dc"])]
    for magic, name, command in tools:
        if payload.startswith(magic):
            with tempfile.NamedTemporaryFile() as f:
                f.write(payload)
                f.flush()
                best = None
                for _ in range(runs):
                    t = time.monotonic()
                    with open(f.name, "rb") as inp:
                        r = subprocess.run(command, stdin=inp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    elapsed = time.monotonic() - t
                    if r.returncode == 0:
                        best = elapsed if best is None else min(best, elapsed)
                return name, best
    return "?", None


# --- measuring ---------------------------------------------------------------

def boot_commands(kernel, two_stage, timeout, peers, variants):
    vmlinuz = os.path.join(IMAGES, kernel, "vmlinuz")
    initrd = (os.path.join(IMAGES, kernel, "initrd-modules.cpio.gz") if two_stage
              else os.path.join(IMAGES, "initrd-busybox.cpio.gz"))
    disk = os.path.join(IMAGES, "root.ext4")
    commands = {}
    for name, (extra, env) in variants.items():
        command = [BOOTSIM, "--kernel", vmlinuz, "--initrd", initrd, "--headless", "--mem", f"{GUEST_RAM_MIB}M",
                   "--timeout", str(timeout)] + extra
        if two_stage:
            command += ["--disk", disk + ",snapshot"]
        commands[name] = (command, env)
    for name, qemu in peers.items():
        command = qemu + ["-accel", "tcg", "-m", f"{GUEST_RAM_MIB}M", "-kernel", vmlinuz, "-initrd", initrd,
                          "-append", "console=ttyS0", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio"]
        if two_stage:
            command += ["-drive", f"file={disk},if=virtio,format=raw,snapshot=on"]
        commands[name] = (command, None)
    return commands


def decompressor_runs(commands, peers, runs, timeout):
    """Seconds from the first instruction of the loaded kernel to the
    decompressed kernel, per tool (median): bootsim from its own phases,
    QEMU by polling its registers."""
    out = {}
    for name in ("bootsim",) + tuple(peers):
        if name not in commands:
            continue
        command, env = commands[name]
        times = []
        for _ in range(runs):
            if name.startswith("qemu"):
                with tempfile.TemporaryDirectory() as d:
                    path = os.path.join(d, "qmp.sock")
                    poller = QemuRegisterPoller(path)
                    run(command + ["-qmp", f"unix:{path},server=on,wait=off"], timeout, env, poller.start)
                    if poller.kernel_start is not None and poller.kernel_virtual is not None:
                        times.append(poller.kernel_virtual - poller.kernel_start)
            else:
                r = run(command + ["--stop-at", "handoff"], timeout, env)
                p = r["phases"]
                if "decompress" in p and "handoff" in p:
                    times.append(p["handoff"] - p["decompress"])
        out[name] = statistics.median(times) if times else None
    return out


def instructions_per_second(commands, timeout):
    """Guest instructions per wall second after the handoff, from one
    bootsim run with a report (counting costs a little, so this is a floor)."""
    command, env = commands["bootsim"]
    with tempfile.TemporaryDirectory() as d:
        report_path = os.path.join(d, "r.json")
        run(command + ["--report", report_path], timeout, env)
        try:
            report = json.load(open(report_path))
        except (OSError, ValueError):
            return None
    phases = {p["phase"]: p for p in report.get("phases", [])}
    totals = report.get("totals", {})
    if "handoff" not in phases or not totals.get("wall_seconds"):
        return None
    seconds = totals["wall_seconds"] - phases["handoff"]["wall_seconds"]
    return (totals.get("instructions", 0) - phases["handoff"]["instructions"]) / seconds if seconds > 0 else None


def fmt_seconds(values):
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kernels", default="bookworm/generic,bookworm/cloud,trixie/generic,trixie-backports/cloud")
    parser.add_argument("--variants", default="default,no-idle-skip,deterministic")
    parser.add_argument("--peers", default="qemu 7.2,qemu 10", help="which QEMUs, of: qemu 7.2, qemu 10")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--two-stage", action="store_true")
    parser.add_argument("--markdown", help="also write the tables as Markdown to FILE")
    args = parser.parse_args()

    if not os.access(BOOTSIM, os.X_OK):
        sys.exit(f"bench: {BOOTSIM} is missing (run scripts/prepare.sh, or bench/run.sh)")
    peers = {k: v for k, v in qemu_peers().items() if k in args.peers.split(",")}
    variants = bootsim_variants(args.variants.split(","))
    md = []

    def out(line=""):
        print(line, flush=True)
        md.append(line)

    out(f"# bootsim vs QEMU TCG, {time.strftime('%Y-%m-%d %H:%M')}")
    out()
    commit = subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    out(f"- host: {host_cpu()}, {os.cpu_count()} cores, Linux {platform.release()}")
    out(f"- bootsim: commit {commit}, {version_of([BOOTSIM])}")
    for name, command in peers.items():
        out(f"- {name}: {version_of(command)}")
    out(f"- {args.runs} runs of each, round after round; guest RAM {GUEST_RAM_MIB} MiB; "
        f"{'two-stage boot (module initrd, ext4 root disk)' if args.two_stage else 'busybox initrd'}")
    out("- times: seconds from the start of the process, median (min-max)")

    for kernel in args.kernels.split(","):
        vmlinuz = os.path.join(IMAGES, kernel, "vmlinuz")
        if not os.path.exists(vmlinuz):
            out(f"\n{kernel}: no image (images/fetch-kernels.sh)")
            continue
        version = open(os.path.join(IMAGES, kernel, "version")).read().strip()
        commands = boot_commands(kernel, args.two_stage, args.timeout, peers, variants)
        results = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (command, env) in commands.items():
                results[name].append(run(command, args.timeout, env))

        out(f"\n## {kernel} ({version})\n")
        markers = [m[0] for m in MARKERS
                   if m[0] in ("first kernel line", "Run /init") or (m[0] == "/init marker") != args.two_stage]
        # Every variant against the harder peer (QEMU 7.2 booted these
        # kernels faster than 10.0), the default against each.
        first_peer = next(iter(peers), None)
        ratios = [(b, first_peer) for b in variants_names(results) if first_peer]
        ratios += [("bootsim", q) for q in peers if q != first_peer and "bootsim" in results]
        header = "| marker | " + " | ".join(results) + " | " + " | ".join(f"{b} / {q}" for b, q in ratios) + " |"
        out(header)
        out("|" + " --- |" * (1 + len(results) + len(ratios)))
        for marker in markers + ["exit"]:
            cells, medians = [], {}
            for name, rs in results.items():
                values = [r[marker] for r in rs if marker in r]
                cells.append(fmt_seconds(values) if len(values) == len(rs) else "-")
                medians[name] = statistics.median(values) if len(values) == len(rs) else None
            ratio_cells = [f"{medians[b] / medians[q]:.2f}" if medians[b] and medians[q] else "-" for b, q in ratios]
            label = "power-off (exit)" if marker == "exit" else marker
            out(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratio_cells) + " |")
        failed = [f"{name} exit {r['returncode']}" for name, rs in results.items() for r in rs if r["returncode"]]
        if failed:
            out(f"\nruns that failed: {', '.join(failed)}")

        out()
        rss = {name: statistics.median(r["rss_mib"] for r in rs) for name, rs in results.items()}
        out(f"peak RSS, MiB (and against guest RAM, {GUEST_RAM_MIB} MiB): " +
            ", ".join(f"{name} {v:.0f} ({v - GUEST_RAM_MIB:+.0f})" for name, v in rss.items()))

        decompress = decompressor_runs(commands, peers, args.runs, args.timeout)
        codec, host = host_decompression(vmlinuz)
        parts = [f"{name} {v:.3f} s" for name, v in decompress.items() if v is not None]
        line = "decompressor (first instruction of the loaded kernel to the decompressed kernel): " + ", ".join(parts)
        if decompress.get("bootsim"):
            for q in peers:
                if decompress.get(q):
                    line += f"; bootsim / {q} {decompress['bootsim'] / decompress[q]:.2f}"
            if host:
                line += f"; host `{codec} -d` of the same payload {host:.3f} s, bootsim / host {decompress['bootsim'] / host:.1f}"
        out(line)

        ips = instructions_per_second(commands, args.timeout)
        if ips:
            out(f"guest instructions per second after the handoff (bootsim, counted): {ips / 1e6:.0f} million")

    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(md) + "\n")


def variants_names(results):
    return [name for name in results if name.startswith("bootsim")]


if __name__ == "__main__":
    main()
