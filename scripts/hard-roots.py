#!/usr/bin/env python3
"""The hard roots, end to end: each scenario of images/build-hard-roots.sh
booted under bootsim and, with --qemu, under QEMU TCG on the same images, one
after the other, with the time each took to the real root's power-off.

    scripts/hard-roots.py [--only lvm,luks-keyfile,...] [--qemu] [--markdown FILE]
                          [--images images/out/hard-roots/bookworm-cloud] [--timeout 600]

A scenario passes when the run printed every marker it must print (the real
root's init: BOOTSIM-ROOT-OK and the device it is on, ...) and bootsim ended
with the exit code the scenario expects. The bad cases expect the guest's
own message and a nonzero exit code from bootsim's table (README, "bootsim
in CI"). The NFS root's server (scripts/nfs-server.sh, nfs-ganesha on the
host's loopback) runs only while its scenario boots. Disks are snapshots (the images do not change) except for
hibernation, which works on private copies: the first run writes the image
to swap and powers off, the second resumes from it.

Exit code 0 when every scenario passed. Needs the images
(images/build-hard-roots.sh) and a build (scripts/build.sh build).
"""
import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOTSIM = os.path.join(TOP, "build", "bootsim")
ROOT_UUID = "3f1e6a52-8c4d-4b7a-9e21-0c5d7b8a9f13"
PASSPHRASE = "bootsim-passphrase"
PROMPT = b"Please unlock disk root_crypt:"
CONSOLE = "console=ttyS0"
ROOT_INIT = "init=/usr/local/sbin/bootsim-root-init"


# The hibernation run each resume restores.
PREREQUISITES = {"resume": "hibernate", "resume-other-kernel": "hibernate-again",
                 "resume-other-memory": "hibernate-third"}


class Scenario:
    """One boot: disks (NAME or NAME,snapshot as bootsim's --disk takes
    them), the kernel command line, what must be seen, the exit code
    bootsim must end with, and what to type at the passphrase prompt."""

    def __init__(self, name, title, initrd, disks, append, markers, exit_code=0, typed=(), expect=None,
                 kernel="vmlinuz", timeout=None, memory="512M", network=None):
        self.name, self.title, self.initrd, self.disks, self.kernel = name, title, initrd, disks, kernel
        self.append, self.markers, self.exit_code, self.typed = append, markers, exit_code, list(typed)
        self.expect = expect if expect is not None else ["BOOTSIM-ROOT-POWEROFF"]
        self.timeout = timeout  # seconds, instead of --timeout's
        self.memory = memory
        # None: no network card; "up" or "down": a card on user-mode
        # networking, with the NFS server (scripts/nfs-server.sh) running or not.
        self.network = network


def scenarios():
    root_ok = lambda device: [f"BOOTSIM-ROOT-OK: / is {device}", "BOOTSIM-ROOT-WROTE", "BOOTSIM-ROOT-POWEROFF"]
    return [
        Scenario("plain", "plain ext4 (Debian's initrd, root=UUID=)", "initrd.img", ["root.ext4"],
                 f"root=UUID={ROOT_UUID}", root_ok("/dev/vda")),
        Scenario("lvm", "LVM (root=/dev/mapper/vg0-root)", "initrd.img", ["lvm.img"],
                 "root=/dev/mapper/vg0-root", root_ok("/dev/mapper/vg0-root")),
        Scenario("raid1", "md RAID1, two disks (root=UUID=)", "initrd.img", ["raid1-a.img", "raid1-b.img"],
                 f"root=UUID={ROOT_UUID}", root_ok("/dev/md") + [r"BOOTSIM-ROOT-MDSTAT: .*\[2/2\] \[UU\]"]),
        Scenario("raid1-degraded", "md RAID1, one disk left out", "initrd.img", ["raid1-a.img"],
                 f"root=UUID={ROOT_UUID}",
                 root_ok("/dev/md") + [r"BOOTSIM-ROOT-MDSTAT: .*\[2/1\] \[U_\]", "active with 1 out of 2 mirrors"]),
        Scenario("luks-keyfile", "LUKS2, keyfile in the initrd", "initrd-luks-keyfile.img", ["luks.img"],
                 "root=/dev/mapper/root_crypt", root_ok("/dev/mapper/root_crypt")),
        Scenario("luks-passphrase", "LUKS2, passphrase typed on the serial console", "initrd-luks-passphrase.img",
                 ["luks.img"], "root=/dev/mapper/root_crypt",
                 ["Please unlock disk root_crypt", "root_crypt: set up successfully"] +
                 root_ok("/dev/mapper/root_crypt"), typed=[PASSPHRASE]),
        # Diskless: DHCP from user-mode networking, the root from the host's
        # NFS server (10.0.2.2 is the host's loopback), by Debian's BOOT=nfs
        # initrd (klibc ipconfig and nfsmount).
        Scenario("nfs", "diskless NFS root (root=/dev/nfs nfsroot=10.0.2.2:... ip=dhcp)", "initrd-nfs.img", [],
                 "root=/dev/nfs nfsroot=10.0.2.2:{export} ip=dhcp ro",
                 [r"IP-Config: \S+ complete", "bootsim|DHCP lease 10.0.2.15"] + root_ok("10.0.2.2:"),
                 network="up"),
        Scenario("hibernate", "hibernation: suspend to swap, power off", "initrd.img", ["@root", "@swap"],
                 f"root=UUID={ROOT_UUID} resume=/dev/vdb bootsim.hibernate",
                 [r"BOOTSIM-HIBERNATE: (\S+) to /dev/vdb", "PM: Image saving done", r"PM: (hibernation: )?Wrote \d+ kbytes"],
                 expect=["reboot: (System halted|Power down)"]),
        Scenario("resume", "resume from the image (the run after hibernate)", "initrd.img", ["@root", "@swap"],
                 f"root=UUID={ROOT_UUID} resume=/dev/vdb",
                 ["PM: (hibernation: )?Image successfully loaded|PM: Image loading done|PM: hibernation: Read",
                  "BOOTSIM-RESUMED: {token}", "BOOTSIM-ROOT-POWEROFF"]),
        # x86-64 lets another kernel restore an image: the boot kernel only
        # copies the pages back and jumps to the image kernel's own restore
        # code (CONFIG_ARCH_HIBERNATION_HEADER: the check is the jump
        # address and the e820 map's checksum, not the kernel's release).
        Scenario("hibernate-again", "hibernation again, for another kernel", "initrd.img", ["@root", "@swap"],
                 f"root=UUID={ROOT_UUID} resume=/dev/vdb bootsim.hibernate",
                 [r"BOOTSIM-HIBERNATE: (\S+) to /dev/vdb"], expect=["reboot: (System halted|Power down)"]),
        Scenario("resume-other-kernel", "resume with another kernel (the generic flavour) and its initrd",
                 "initrd-other-kernel.img", ["@root", "@swap"], f"root=UUID={ROOT_UUID} resume=/dev/vdb",
                 ["PM: Image loading done", "BOOTSIM-RESUMED: {token}", "BOOTSIM-ROOT-POWEROFF"],
                 kernel="vmlinuz-other-kernel"),
        # Bad cases: the guest's own message, and bootsim's exit code for
        # how the run ended. After three wrong answers cryptsetup gives up;
        # Debian's initrd then asks again from its wait for the root
        # (local-block), nobody answers, and --timeout ends the run.
        Scenario("luks-wrong-passphrase", "bad: wrong passphrase three times", "initrd-luks-passphrase.img",
                 ["luks.img"], "root=/dev/mapper/root_crypt",
                 ["No key available with this passphrase", "maximum number of tries exceeded",
                  r"bootsim|end: timed out after \d+ s"],
                 exit_code=6, typed=["wrong-1", "wrong-2", "wrong-3"], timeout=120),
        # No NFS server: klibc's nfsmount finds no portmapper ("NFS over TCP
        # not available"), Debian's initrd retries rootdelay= times (each try
        # waits out nfsmount's portmapper timeouts over UDP, about a minute),
        # goes on without a root, finds no init and panics; with panic= on
        # the command line it reboots, so the run ends without the marker.
        Scenario("nfs-server-down", "bad: the NFS server is not running", "initrd-nfs.img", [],
                 "root=/dev/nfs nfsroot=10.0.2.2:{export} ip=dhcp ro rootdelay=1 panic=5",
                 ["NFS over TCP not available from 10.0.2.2", "Retrying nfs mount", "No init found",
                  "Rebooting automatically", r"bootsim|end: the guest reset the machine"],
                 exit_code=1, network="down", timeout=300),
        Scenario("hibernate-third", "hibernation a third time, for more RAM", "initrd.img", ["@root", "@swap"],
                 f"root=UUID={ROOT_UUID} resume=/dev/vdb bootsim.hibernate",
                 [r"BOOTSIM-HIBERNATE: (\S+) to /dev/vdb"], expect=["reboot: (System halted|Power down)"]),
        # The same image with twice the RAM: the e820 map differs, the guest
        # refuses the image, wipes its signature and boots afresh, so the
        # resumed marker never comes and --expect is not met.
        Scenario("resume-other-memory", "bad: resume with a different RAM size (1 GiB)", "initrd.img",
                 ["@root", "@swap"], f"root=UUID={ROOT_UUID} resume=/dev/vdb",
                 ["Image mismatch", "BOOTSIM-ROOT-OK", "BOOTSIM-ROOT-POWEROFF"], exit_code=1,
                 expect=["BOOTSIM-RESUMED"], memory="1G"),
    ]


def disk_paths(scenario, images, workdir, tool):
    """bootsim --disk specs and QEMU -drive options. "@root"/"@swap" are the
    private copies of root.ext4 and swap.img (kept across scenarios: the
    hibernation run and the resume run share them)."""
    specs, drives = [], []
    for disk in scenario.disks:
        if disk.startswith("@"):
            path = os.path.join(workdir, f"{tool}-{disk[1:]}.img")
            specs.append(path)
            drives += ["-drive", f"file={path},if=virtio,format=raw"]
        else:
            path = os.path.join(images, disk)
            specs.append(path + ",snapshot")
            drives += ["-drive", f"file={path},if=virtio,format=raw,snapshot=on"]
    return specs, drives


def boot(command, scenario, timeout):
    """Runs one boot, typing at the passphrase prompt. Returns (seconds, exit
    code, console text).

    The initrd's askpass prints its prompt and then sets up the terminal
    with a flush, which drops anything typed in between; so, like a user
    facing a prompt that did not take the keys, the answer is typed again
    when the console stays silent."""
    start = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.fileno()
    text, typed, prompts_answered = b"", list(scenario.typed), 0
    answer, answer_due, answer_tries, last_output = None, None, 0, time.monotonic()
    while True:
        ready, _, _ = select.select([out], [], [], 0.25)
        now = time.monotonic()
        if ready:
            chunk = os.read(out, 65536)
            if not chunk:
                break
            text += chunk
            last_output = now
            # One answer per prompt: cryptsetup asks again after a wrong one.
            if typed and text.count(PROMPT) > prompts_answered:
                prompts_answered = text.count(PROMPT)
                answer, answer_due, answer_tries = typed.pop(0), now + 1.5, 0
            elif answer and not text.endswith(PROMPT) and PROMPT not in text[-len(PROMPT) - 64:]:
                answer = None  # the console moved on: the answer was taken
        if answer and now >= answer_due and now - last_output >= 1.0 and answer_tries < 4:
            try:
                proc.stdin.write(answer.encode() + b"\n")
                proc.stdin.flush()
            except OSError:
                pass
            answer_tries += 1
            if os.environ.get("HARD_ROOTS_DEBUG"):
                print(f"hard-roots: typed {answer!r} at {now - start:.1f} s", file=sys.stderr, flush=True)
            answer_due = now + 20  # longer than an unlock takes (argon2id in the guest)
        if now - start > timeout + 60:
            proc.kill()
            break
    code = proc.wait()
    return time.monotonic() - start, code, text.decode("utf-8", "replace")


def check(scenario, text, code, expected_code, token, tool):
    """The markers not seen, and the exit code if it is not the one
    expected. A marker "TOOL|PATTERN" is looked for under that tool only
    (bootsim's own "end:" line)."""
    missing = []
    for marker in scenario.markers:
        if "|" in marker and marker.split("|", 1)[0] in ("bootsim", "qemu"):
            only, marker = marker.split("|", 1)
            if only != tool:
                continue
        pattern = marker.replace("{token}", re.escape(token or "?"))
        if not re.search(pattern, text):
            missing.append(marker)
    if expected_code is not None and code != expected_code:
        missing.append(f"exit code {expected_code} (was {code})")
    return missing


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default=os.path.join(TOP, "images", "out", "hard-roots", "bookworm-cloud"))
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--qemu", action="store_true", help="boot each scenario under QEMU TCG too")
    parser.add_argument("--bootsim", default=BOOTSIM)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--markdown", help="write the table to FILE too")
    parser.add_argument("--keep-logs", help="a directory for each run's console log")
    args = parser.parse_args()

    chosen = scenarios()
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {s.name for s in chosen}
        if unknown:
            sys.exit(f"hard-roots: unknown scenario(s) {', '.join(sorted(unknown))}; known: "
                     f"{', '.join(s.name for s in chosen)}")
        # A resume needs its hibernation run before it.
        for resume, hibernation in PREREQUISITES.items():
            if resume in names and hibernation not in names:
                names.insert(names.index(resume), hibernation)
        chosen = [s for s in chosen if s.name in names]
    for needed in sorted({s.kernel for s in chosen}) + sorted({s.initrd for s in chosen}) + sorted(
            {d for s in chosen for d in s.disks if not d.startswith("@")}):
        if not os.path.isfile(os.path.join(args.images, needed)):
            sys.exit(f"hard-roots: {os.path.join(args.images, needed)} is missing (run images/build-hard-roots.sh "
                     "and images/build-nfs-root.sh)")
    if any(s.network for s in chosen) and not os.path.isdir(os.path.join(args.images, "nfs-root")):
        sys.exit(f"hard-roots: {os.path.join(args.images, 'nfs-root')} is missing (run images/build-nfs-root.sh)")
    if not os.access(args.bootsim, os.X_OK):
        sys.exit(f"hard-roots: {args.bootsim} is not built (scripts/build.sh build)")

    tools = ["bootsim"] + (["qemu"] if args.qemu else [])
    workdir = tempfile.mkdtemp(prefix="bootsim-hard-roots-")
    if args.keep_logs:
        os.makedirs(args.keep_logs, exist_ok=True)
    rows, failed, tokens = [], 0, {}
    try:
        for tool in tools:
            for private, source in (("root", "root.ext4"), ("swap", "swap.img")):
                subprocess.run(["cp", "--sparse=always", os.path.join(args.images, source),
                                os.path.join(workdir, f"{tool}-{private}.img")], check=True)
        for scenario in chosen:
            row = {"scenario": scenario}
            for tool in tools:
                specs, drives = disk_paths(scenario, args.images, workdir, tool)
                append = f"{CONSOLE} {scenario.append} {ROOT_INIT}".replace(
                    "{export}", os.path.join(args.images, "nfs-root"))
                nfs_state = os.path.join(workdir, "nfs-server")
                if scenario.network == "up":
                    subprocess.run([os.path.join(TOP, "scripts", "nfs-server.sh"), "start",
                                    os.path.join(args.images, "nfs-root"), nfs_state], check=True)
                kernel, initrd = os.path.join(args.images, scenario.kernel), os.path.join(args.images, scenario.initrd)
                timeout = scenario.timeout or args.timeout
                if tool == "bootsim":
                    command = [args.bootsim, "--headless", "--kernel", kernel, "--initrd", initrd, "--append", append,
                               "--timeout", str(timeout), "--mem", scenario.memory]
                    for spec in specs:
                        command += ["--disk", spec]
                    for pattern in scenario.expect:
                        command += ["--expect", pattern]
                    if scenario.network:
                        command += ["--net", "user"]
                    expected = scenario.exit_code
                else:
                    command = ["timeout", str(timeout), "qemu-system-x86_64", "-accel", "tcg", "-m", scenario.memory,
                               "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd, "-append", append,
                               *drives] + (["-nic", "user,model=virtio-net-pci"] if scenario.network else [])
                    # QEMU's exit code says nothing of a bad case's goal: only its markers count.
                    expected = 0 if scenario.exit_code == 0 else None
                try:
                    seconds, code, text = boot(command, scenario, timeout)
                finally:
                    if scenario.network == "up":
                        subprocess.run([os.path.join(TOP, "scripts", "nfs-server.sh"), "stop", nfs_state])
                if scenario.name.startswith("hibernate"):
                    m = re.search(r"BOOTSIM-HIBERNATE: (\S+)", text)
                    tokens[tool] = m.group(1) if m else None
                missing = check(scenario, text, code, expected, tokens.get(tool), tool)
                if args.keep_logs:
                    with open(os.path.join(args.keep_logs, f"{scenario.name}-{tool}.log"), "w") as log:
                        log.write(text)
                row[tool] = (seconds, code, missing)
                status = "ok" if not missing else "FAILED: missing " + "; ".join(missing)
                print(f"hard-roots: {scenario.name:22} {tool:8} {seconds:6.1f} s  exit {code}  {status}", flush=True)
                if missing:
                    failed += 1
                    tail = "\n".join(text.splitlines()[-15:])
                    print(f"--- last lines of {scenario.name} under {tool}:\n{tail}\n---", flush=True)
            rows.append(row)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    lines = ["| scenario | bootsim | " + ("QEMU TCG | ratio |" if args.qemu else ""),
             "|---|---|" + ("---|---|" if args.qemu else "")]
    for row in rows:
        s = row["scenario"]
        b = row["bootsim"]
        cell = f"{b[0]:.1f} s (exit {b[1]})" + ("" if not b[2] else " FAILED")
        line = f"| {s.title} | {cell} |"
        if args.qemu:
            q = row["qemu"]
            line += f" {q[0]:.1f} s" + ("" if not q[2] else " FAILED") + f" | {b[0] / q[0]:.2f} |"
        lines.append(line)
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(table + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
