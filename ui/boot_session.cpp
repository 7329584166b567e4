#include "ui/boot_session.h"

#include <csignal>

#include <fmt/format.h>

#include "board/pc_board.h"
#include "core/machine.h"
#include "loader/boot_plan.h"
#include "loader/bzimage.h"
#include "ui/console_input.h"
#include "ui/console_log.h"
#include "ui/expect_matcher.h"
#include "ui/handoff_verifier.h"
#include "ui/run_report.h"

namespace bootsim {

namespace {

int fail(const Error& error)
{
    fmt::print(stderr, "bootsim: error: {}\n", error.message);
    switch (error.kind) {
    case ErrorKind::Emulator:
        return exit_emulator_failure;
    default:
        return exit_bad_input;
    }
}

Machine* g_running_machine = nullptr;

// SIGINT/SIGTERM end the run cleanly at the next block boundary, so that
// reports are written and (later) disk images flushed.
void on_signal(int signo)
{
    if (g_running_machine)
        g_running_machine->interrupt_from_signal();
    (void)signo;
}

}  // namespace

int run_headless(const Options& options)
{
    auto kernel = load_bzimage(options.kernel);
    if (!kernel)
        return fail(kernel.error());

    std::optional<std::vector<uint8_t>> initrd;
    if (!options.initrd.empty()) {
        auto bytes = read_file(options.initrd, "initrd");
        if (!bytes)
            return fail(bytes.error());
        initrd = std::move(*bytes);
    }

    auto mem = parse_mem_size(options.mem);
    if (!mem)
        return fail(mem.error());

    // Disks are opened (and checked) before anything runs.
    std::vector<std::unique_ptr<DiskImage>> disks;
    for (const std::string& spec : options.disks) {
        std::string path = spec;
        DiskMode mode = DiskMode::ReadWrite;
        if (auto comma = spec.rfind(','); comma != std::string::npos) {
            std::string flag = spec.substr(comma + 1);
            path = spec.substr(0, comma);
            if (flag == "ro")
                mode = DiskMode::ReadOnly;
            else if (flag == "snapshot")
                mode = DiskMode::Snapshot;
            else
                return fail(make_error(ErrorKind::BadUsage,
                                       "--disk {}: unknown option \"{}\" (expected FILE, FILE,ro or FILE,snapshot)",
                                       spec, flag));
        }
        auto disk = DiskImage::open(path, mode);
        if (!disk)
            return fail(disk.error());
        disks.push_back(std::make_unique<DiskImage>(std::move(*disk)));
    }

    BootConfig config;
    config.kernel_path = options.kernel;
    config.initrd_path = options.initrd;
    if (options.append)
        config.cmdline = *options.append;
    config.mem_size = *mem;
    auto plan = make_boot_plan(*kernel, initrd ? &*initrd : nullptr, config);
    if (!plan)
        return fail(plan.error());

    ConsoleLog console;
    RunReport report;
    EventFanout events;
    events.add(console);
    if (!options.report.empty())
        events.add(report);

    auto machine_result = Machine::create(plan->mem_size, events);
    if (!machine_result)
        return fail(machine_result.error());
    Machine& machine = **machine_result;

    auto matcher_result = ExpectMatcher::create(machine, options.expect);
    if (!matcher_result)
        return fail(matcher_result.error());
    std::unique_ptr<ExpectMatcher> matcher(*matcher_result);
    events.add(*matcher);

    HandoffVerifier verifier(machine, *kernel, options.corrupt_output_offset, options.system_map,
                             options.strict_code_tracking);
    events.add(verifier);

    BoardConfig board_config{plan->mem_size, options.rtc_epoch, {}};
    for (auto& disk : disks)
        board_config.disks.push_back(disk.get());
    PcBoard board(machine, board_config);
    ConsoleInput input(machine, [&board](std::string bytes) { board.type_on_console(bytes); });

    console.line(fmt::format("kernel {}: boot protocol {}.{:02}, {} payload ({:.1f} MiB -> {:.1f} MiB), {}",
                             options.kernel, kernel->header.version >> 8, kernel->header.version & 0xff,
                             compression_name(kernel->compression), double(kernel->payload().size()) / (1 << 20),
                             double(kernel->decompressed_size) / (1 << 20), Cpu::version_string()));
    console.line(fmt::format("command line: \"{}\", RAM {} MiB", plan->cmdline, plan->mem_size >> 20));
    if (auto status = machine.load(*plan); !status)
        return fail(status.error());

    g_running_machine = &machine;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    RunOutcome outcome = machine.run({options.stop_at, options.timeout_seconds});
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_running_machine = nullptr;

    int code = exit_guest_failed;
    bool dump = false;
    switch (outcome.end) {
    case RunEnd::StopPhase:
    case RunEnd::ExpectMatched:
    case RunEnd::StopRequested:
        code = exit_success;
        break;
    case RunEnd::Halted:
    case RunEnd::PowerOff:
        code = matcher->all_matched() ? exit_success : exit_guest_failed;
        if (!matcher->all_matched())
            outcome.reason += fmt::format(" before the console showed \"{}\"", matcher->unmatched().front());
        break;
    case RunEnd::Idle:
    case RunEnd::Reset:
    case RunEnd::Panic:
        code = exit_guest_failed;
        break;
    case RunEnd::TripleFault:
        code = exit_guest_failed;
        dump = true;
        break;
    case RunEnd::Timeout:
        code = exit_timeout;
        break;
    case RunEnd::Interrupted:
        code = exit_interrupted;
        break;
    case RunEnd::EmulatorError:
        code = exit_emulator_failure;
        dump = true;
        break;
    case RunEnd::CheckFailed:
        code = exit_emulator_failure;
        break;
    }
    // --stop-at names a phase the run must reach; ending anywhere else
    // without an error of its own is a failure too.
    if (options.stop_at && !machine.reached(*options.stop_at) && code == exit_success &&
        outcome.end != RunEnd::ExpectMatched) {
        code = exit_guest_failed;
        outcome.reason += fmt::format(" before phase {}", phase_name(*options.stop_at));
    }
    if (options.stop_at && *options.stop_at == Phase::Handoff && outcome.end == RunEnd::StopPhase &&
        !verifier.result() && !verifier.unavailable())
        code = exit_emulator_failure;

    console.line(fmt::format("[{:8.3f}s] end: {} (exit {})", double(machine.wall_ns()) / 1e9, outcome.reason, code));
    if (dump)
        fmt::print(stderr, "{}\n", machine.cpu().state().dump());

    if (!options.report.empty()) {
        report.root()["outcome"] = {{"reason", outcome.reason}, {"exit_code", code}};
        if (verifier.result()) {
            const HandoffCheck& c = *verifier.result();
            report.root()["handoff_check"] = {{"matched", c.matched},
                                              {"output_address", fmt::format("{:#x}", c.output_address)},
                                              {"virtual_offset", fmt::format("{:#x}", c.virtual_offset)},
                                              {"bytes_compared", c.bytes_compared},
                                              {"mismatched_bytes", c.mismatched_bytes},
                                              {"summary", c.summary}};
        }
        if (!report.write(options.report))
            fmt::print(stderr, "bootsim: error: {}: cannot write the report: {}\n", options.report, strerror(errno));
    }
    return code;
}

}  // namespace bootsim
