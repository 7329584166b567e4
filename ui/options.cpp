#include "ui/options.h"

#include "run/net_option.h"

#include <cerrno>
#include <ctime>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/cpu.h"

namespace bootsim {

namespace {

constexpr uint64_t max_guest_mips = 100'000;
constexpr int64_t max_rtc_epoch = 7258118399;  // 2199-12-31T23:59:59Z

// The error for a phase name no option knows, listing the names that are.
Error unknown_phase(const char* option, const std::string& name)
{
    std::string names;
    for (Phase p : all_phases)
        names += (names.empty() ? "" : ", ") + std::string(phase_name(p));
    return make_error(ErrorKind::BadUsage, "{}: unknown phase \"{}\" (expected one of {})", option, name, names);
}

}  // namespace

void add_tolerance_options(CLI::App& app, double& percent, double& min_seconds, uint64_t& min_instructions)
{
    app.add_option("--tolerance", percent,
                   "--compare: how much (percent) a phase or initcall may grow before it counts as slower "
                   "(default 10)");
    app.add_option("--tolerance-seconds", min_seconds,
                   "--compare: the least growth in guest time that counts as slower (default 0.005)");
    app.add_option("--tolerance-instructions", min_instructions,
                   "--compare: the least growth in instructions that counts as slower, deterministic runs "
                   "(default 1000000)");
}

std::string exit_code_help()
{
    std::string text = "Exit codes:\n";
    for (const ExitCodeRow& row : exit_code_table)
        text += fmt::format("  {:>3}  {:<20} {}\n", row.code, row.name, row.meaning);
    text += fmt::format("When several apply: {}.\n", exit_code_precedence);
    text += "\nOther commands:\n"
            "  bootsim compare BASELINE.json REPORT.json   compare two reports (exit 0, 10 or 11)\n"
            "  bootsim matrix FILE.toml                    run a boot matrix in parallel, JUnit XML\n"
            "  bootsim merge-reports REPORT.json...        the matrix table from reports\n";
    return text;
}

Result<ParsedOptions> parse_options(int argc, const char* const* argv)
{
    CLI::App app{"bootsim: boots a real Linux bzImage on an emulated PC and shows how it boots"};
    app.set_version_flag("--version", "bootsim 0.1");
    Options o;
    std::string stop_at, append;
    std::string corrupt;
    app.add_option("--kernel", o.kernel, "the kernel: a bzImage (vmlinuz)")->required();
    app.add_option("--initrd", o.initrd, "the initial ramdisk (cpio archive, compressed or not)");
    auto* append_opt = app.add_option("--append", append, "the kernel command line (default: console=ttyS0)");
    app.add_option("--mem", o.mem, "guest RAM, e.g. 512M or 1G (default 512M)");
    std::string entry = "real";
    app.add_option("--entry", entry,
                   "the boot protocol's way into the kernel: real (the kernel's 16-bit setup code in real mode, the "
                   "BIOS's services answered by bootsim; the default, as under QEMU's -kernel), 32 (startup_32 in "
                   "protected mode with paging off; the decompressor enters long mode itself) or 64 (startup_64 in "
                   "long mode)");
    app.add_flag("--headless", o.headless, "no window: console on stdout, progress on stderr");
    app.add_option("--gdb", o.gdb,
                   "serve the GDB remote protocol on [HOST:]PORT (host 127.0.0.1 unless given): `target remote "
                   ":PORT` in gdb; breakpoints, watchpoints, steps, registers, memory, `monitor help`");
    app.add_flag("--gdb-wait", o.gdb_wait, "with --gdb: start the guest paused, until gdb continues it");
    app.add_option("--stop-at", stop_at,
                   "end the run when this phase is reached: loaded, decompress, handoff, kernel, initramfs, init, "
                   "halt");
    app.add_option("--timeout", o.timeout_seconds,
                   fmt::format("end the run (exit {}) after this many seconds; 0: never (headless default {:g})",
                               exit_timeout, headless_default_timeout));
    app.add_option("--expect", o.expect, "end the run with success once the console matched every REGEX (repeatable)");
    app.add_option("--report", o.report, "write a JSON report of the run to FILE (docs/report.schema.json)");
    app.add_option("--trace", o.trace, "write the run as a Chrome/Perfetto trace (ui.perfetto.dev) to FILE.json");
    app.add_option("--serial-log", o.serial_log, "write the console to FILE, each line stamped with guest time");
    app.add_option("--compare", o.compare,
                   "compare this run with an earlier --report (exit 10: slower beyond the tolerance, 11: "
                   "structurally different)");
    double tolerance_percent = 10;
    add_tolerance_options(app, tolerance_percent, o.compare_min_seconds, o.compare_min_instructions);
    app.add_flag("--deterministic", o.deterministic,
                 "guest time from the instructions retired, not the host clock: the same inputs give the same "
                 "console and instruction counts on any host");
    app.add_flag("--no-idle-skip", o.no_idle_skip,
                 "a halted guest waits for its next timer in real time, as under QEMU (by default the clock jumps "
                 "ahead to it)");
    app.add_option("--guest-mips", o.guest_ips,
                   fmt::format("--deterministic: the guest's speed in million instructions per second of guest "
                               "time (default {})", default_guest_ips / 1'000'000));
    app.add_option("--max-instructions", o.max_instructions,
                   "end the run (exit 7) after this many guest instructions: the deterministic twin of --timeout");
    app.add_option("--expected-exit", o.expected_exit,
                   "the exit code this run is expected to end with, recorded in the report for merge-reports "
                   "(bootsim matrix passes each entry's exit_code); the run's own exit code is unchanged");
    app.add_option("--top-initcalls", o.top_initcalls,
                   "the slowest initcalls the headless summary lists (default 10, 0 for none)");
    app.add_option("--disk", o.disks,
                   "a raw disk image as a virtio block device (repeatable): FILE, FILE,ro (the guest cannot write) or "
                   "FILE,snapshot (the guest's writes are kept in memory, the file never changes)");
    app.add_option("--net", o.net,
                   "a virtio network card on user-mode networking (libslirp, as QEMU's -nic user): "
                   "user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,mac=52:54:00:12:34:56]; "
                   "DHCP gives the guest 10.0.2.15, and 10.0.2.2 is the host's loopback");
    app.add_option("--system-map", o.system_map,
                   "the kernel's System.map (e.g. from Debian's -dbg package) instead of its own kallsyms");
    app.add_flag("--no-kernel-symbols", o.no_kernel_symbols,
                 "use no kernel symbols: phases, panics and code patching from the weaker evidence a kernel without "
                 "kallsyms leaves (what bootsim falls back to on a kernel it does not recognise)");
    app.add_flag("--strict-code-tracking", o.strict_code_tracking,
                 "check every guest store for changed code (slower); by default the kernel's own code patching "
                 "functions are watched");
    std::string screenshot_at;
    app.add_option("--screenshot", o.screenshot,
                   "render the visualizer off-screen (no display needed) at --screenshot-at and write it to FILE.png");
    app.add_option("--screenshot-at", screenshot_at, "the phase to take the --screenshot at (default: handoff)");
    std::string rtc;
    app.add_option("--rtc", rtc,
                   "the RTC's time at start, as seconds since 1970 (UTC) or YYYY-MM-DDTHH:MM:SS; default: the host's");
    app.add_option("--debug-corrupt-output", corrupt,
                   "testing: flip the byte at this offset of the guest's decompressed kernel before the handoff "
                   "check")
        ->group("");

    app.footer(exit_code_help());
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return ParsedOptions{std::nullopt, app.help()};
    } catch (const CLI::CallForVersion&) {
        // The CPU emulator is a shared library picked at run time: say which.
        return ParsedOptions{std::nullopt, fmt::format("bootsim 0.1 ({})\n", Cpu::version_string())};
    } catch (const CLI::ParseError& e) {
        return make_error(ErrorKind::BadUsage, "{} (see bootsim --help)", e.what());
    }

    if (*append_opt)
        o.append = append;
    // NaN fails every comparison: each check is written so that it fails too.
    if (!(tolerance_percent >= 0 && tolerance_percent <= 1e6))
        return make_error(ErrorKind::BadUsage, "--tolerance: expected a percentage, found {}", tolerance_percent);
    if (!(o.compare_min_seconds >= 0 && o.compare_min_seconds <= max_timeout_seconds))
        return make_error(ErrorKind::BadUsage, "--tolerance-seconds: expected seconds, found {}",
                          o.compare_min_seconds);
    o.compare_tolerance = tolerance_percent / 100;
    if (o.no_idle_skip && o.deterministic)
        return make_error(ErrorKind::BadUsage,
                          "--no-idle-skip and --deterministic: a deterministic guest's clock runs on instructions, "
                          "so a halted guest's wait can only be skipped");
    if (o.gdb_wait && o.gdb.empty())
        return make_error(ErrorKind::BadUsage, "--gdb-wait needs --gdb [HOST:]PORT: there is no debugger to wait for");
    if (entry == "64")
        o.entry = EntryMode::Long64;
    else if (entry == "32")
        o.entry = EntryMode::Protected32;
    else if (entry != "real")
        return make_error(ErrorKind::BadUsage, "--entry {}: the entries are real, 32 and 64", entry);
    if (!o.net.empty()) {
        if (o.deterministic)
            return make_error(ErrorKind::BadUsage,
                              "--net and --deterministic: the network answers in host time, so the run cannot be the "
                              "same on every host");
        if (auto net = parse_net_option(o.net); !net)
            return net.error();
    }
    if (o.guest_ips && !o.deterministic)
        return make_error(ErrorKind::BadUsage, "--guest-mips sets the speed of a --deterministic run");
    if (o.guest_ips > max_guest_mips)
        return make_error(ErrorKind::BadUsage, "--guest-mips: expected 1 to {} (million instructions per second), "
                          "found {}", max_guest_mips, o.guest_ips);
    o.guest_ips = o.guest_ips ? o.guest_ips * 1'000'000 : default_guest_ips;
    if (o.top_initcalls < 0)
        return make_error(ErrorKind::BadUsage, "--top-initcalls: expected a count, found {}", o.top_initcalls);
    if (o.no_kernel_symbols && !o.system_map.empty())
        return make_error(ErrorKind::BadUsage, "--no-kernel-symbols and --system-map exclude each other");
    if (!stop_at.empty()) {
        o.stop_at = parse_phase(stop_at);
        if (!o.stop_at)
            return unknown_phase("--stop-at", stop_at);
    }
    if (!screenshot_at.empty() && o.screenshot.empty())
        return make_error(ErrorKind::BadUsage, "--screenshot-at needs --screenshot FILE.png");
    if (!o.screenshot.empty()) {
        o.screenshot_at = parse_phase(screenshot_at.empty() ? "handoff" : screenshot_at);
        if (!o.screenshot_at)
            return unknown_phase("--screenshot-at", screenshot_at);
        if (o.headless)
            return make_error(ErrorKind::BadUsage, "--screenshot renders the visualizer: it cannot be combined with --headless");
    }
    if (o.timeout_seconds && !(*o.timeout_seconds >= 0 && *o.timeout_seconds <= max_timeout_seconds))
        return make_error(ErrorKind::BadUsage, "--timeout: expected seconds from 0 (none) to {:.0f}, found {}",
                          max_timeout_seconds, *o.timeout_seconds);
    if (!rtc.empty()) {
        struct tm tm = {};
        char* end = strptime(rtc.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        if (end && *end == 0) {
            o.rtc_epoch = int64_t(timegm(&tm));
        } else {
            char* num_end = nullptr;
            errno = 0;
            long long v = strtoll(rtc.c_str(), &num_end, 10);
            if (!num_end || *num_end != 0 || errno == ERANGE)
                return make_error(ErrorKind::BadUsage,
                                  "--rtc: expected seconds since 1970 or YYYY-MM-DDTHH:MM:SS, found \"{}\"", rtc);
            o.rtc_epoch = v;
        }
        // The RTC keeps time in nanoseconds since 1970 (int64: to 2262), and
        // its century register counts from 19.
        if (*o.rtc_epoch < 0 || *o.rtc_epoch > max_rtc_epoch)
            return make_error(ErrorKind::BadUsage,
                              "--rtc: \"{}\" is outside 1970-01-01T00:00:00 to 2199-12-31T23:59:59", rtc);
    }
    if (!corrupt.empty()) {
        try {
            o.corrupt_output_offset = std::stoull(corrupt, nullptr, 0);
        } catch (const std::exception&) {
            return make_error(ErrorKind::BadUsage, "--debug-corrupt-output: expected an offset, found \"{}\"", corrupt);
        }
    }
    return ParsedOptions{o, std::nullopt};
}

}  // namespace bootsim
