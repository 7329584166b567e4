#include "ui/options.h"

#include <ctime>

#include <CLI/CLI.hpp>

namespace bootsim {

namespace {

// The error for a phase name no option knows, listing the names that are.
Error unknown_phase(const char* option, const std::string& name)
{
    std::string names;
    for (Phase p : all_phases)
        names += (names.empty() ? "" : ", ") + std::string(phase_name(p));
    return make_error(ErrorKind::BadUsage, "{}: unknown phase \"{}\" (expected one of {})", option, name, names);
}

}  // namespace

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
    app.add_flag("--headless", o.headless, "no window: console on stdout, progress on stderr");
    app.add_option("--stop-at", stop_at,
                   "end the run when this phase is reached: loaded, decompress, handoff, kernel, initramfs, init, "
                   "halt");
    app.add_option("--timeout", o.timeout_seconds, "end the run (exit 3) after this many seconds");
    app.add_option("--expect", o.expect, "end the run with success once the console matched every REGEX (repeatable)");
    app.add_option("--report", o.report, "write a JSON report of the run to FILE");
    app.add_option("--disk", o.disks,
                   "a raw disk image as a virtio block device (repeatable): FILE, FILE,ro (the guest cannot write) or "
                   "FILE,snapshot (the guest's writes are kept in memory, the file never changes)");
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return ParsedOptions{std::nullopt, app.help()};
    } catch (const CLI::CallForVersion&) {
        return ParsedOptions{std::nullopt, std::string("bootsim 0.1\n")};
    } catch (const CLI::ParseError& e) {
        return make_error(ErrorKind::BadUsage, "{} (see bootsim --help)", e.what());
    }

    if (*append_opt)
        o.append = append;
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
    if (o.timeout_seconds < 0)
        return make_error(ErrorKind::BadUsage, "--timeout: expected a positive number of seconds, found {}",
                          o.timeout_seconds);
    if (!rtc.empty()) {
        struct tm tm = {};
        char* end = strptime(rtc.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        if (end && *end == 0) {
            o.rtc_epoch = int64_t(timegm(&tm));
        } else {
            char* num_end = nullptr;
            long long v = strtoll(rtc.c_str(), &num_end, 10);
            if (!num_end || *num_end != 0 || v < 0)
                return make_error(ErrorKind::BadUsage,
                                  "--rtc: expected seconds since 1970 or YYYY-MM-DDTHH:MM:SS, found \"{}\"", rtc);
            o.rtc_epoch = v;
        }
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
