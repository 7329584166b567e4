#include "ui/boot_session.h"

#include <csignal>

#include <fmt/format.h>

#include "ui/console_input.h"
#include "run/prepared_boot.h"

namespace bootsim {

namespace {

// boot.rst, "kernel_version": a pointer (minus 0x200) to a NUL-terminated
// string in the setup code, "6.12.118+deb13-amd64 (debian-kernel@...) #1 ...".
std::string kernel_version_string(const BzImage& kernel)
{
    const auto& file = kernel.file;
    if (file.size() < 0x210)
        return "";
    size_t at = size_t(file[0x20e] | file[0x20f] << 8) + 0x200;
    std::string text;
    while (at < file.size() && at < kernel.setup_size() && file[at] && text.size() < 256)
        text += char(file[at++]);
    return text;
}

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

int exit_code_for(RunEnd end, bool expectations_met)
{
    switch (end) {
    case RunEnd::StopPhase:
    case RunEnd::ExpectMatched:
    case RunEnd::StopRequested:
    case RunEnd::Breakpoint:
    case RunEnd::Stepped:
        return exit_success;
    case RunEnd::Halted:
    case RunEnd::PowerOff:
        return expectations_met ? exit_success : exit_guest_failed;
    case RunEnd::Idle:
    case RunEnd::Reset:
    case RunEnd::Panic:
    case RunEnd::TripleFault:
        return exit_guest_failed;
    case RunEnd::Timeout:
        return exit_timeout;
    case RunEnd::Interrupted:
        return exit_interrupted;
    case RunEnd::EmulatorError:
    case RunEnd::CheckFailed:
        return exit_emulator_failure;
    }
    return exit_guest_failed;
}

int run_headless(const Options& options)
{
    auto prepared = PreparedBoot::create(options);
    if (!prepared)
        return fail(prepared.error());
    PreparedBoot& boot = **prepared;
    Machine& machine = boot.machine();
    ConsoleLog& console = boot.console();
    RunReport& report = boot.report();
    ExpectMatcher* matcher = &boot.matcher();
    HandoffVerifier& verifier = boot.verifier();
    ConsoleInput input(machine, [&boot](std::string bytes) { boot.board().type_on_console(bytes); });

    g_running_machine = &machine;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    RunOutcome outcome = machine.run({.stop_at = options.stop_at, .timeout_seconds = options.timeout_seconds});
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_running_machine = nullptr;

    int code = exit_code_for(outcome.end, matcher->all_matched());
    bool dump = outcome.end == RunEnd::TripleFault || outcome.end == RunEnd::EmulatorError;
    if ((outcome.end == RunEnd::Halted || outcome.end == RunEnd::PowerOff) && !matcher->all_matched())
        outcome.reason += fmt::format(" before the console showed \"{}\"", matcher->unmatched().front());
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

    const KernelLogWatch& kernel_log = boot.kernel_log();
    if (kernel_log.oopses() || kernel_log.warnings() || kernel_log.bugs())
        console.line(fmt::format("the kernel reported {} oops(es), {} WARN(s) and {} BUG line(s) on its console",
                                 kernel_log.oopses(), kernel_log.warnings(), kernel_log.bugs()));
    console.line(fmt::format("[{:8.3f}s] end: {} (exit {})", double(machine.wall_ns()) / 1e9, outcome.reason, code));
    if (dump)
        fmt::print(stderr, "{}\n", machine.cpu().state().dump());

    if (!options.report.empty()) {
        report.root()["outcome"] = {{"reason", outcome.reason}, {"exit_code", code}};
        const BzImage& k = boot.kernel();
        report.root()["kernel"] = {{"path", options.kernel},
                                   {"version", kernel_version_string(k)},
                                   {"boot_protocol", fmt::format("{}.{:02}", k.header.version >> 8, k.header.version & 0xff)},
                                   {"payload_codec", compression_name(k.compression)},
                                   {"payload_bytes", k.payload().size()},
                                   {"decompressed_bytes", k.decompressed_size}};
        report.root()["kernel_log"] = {{"oopses", kernel_log.oopses()},
                                       {"warnings", kernel_log.warnings()},
                                       {"bugs", kernel_log.bugs()},
                                       {"panic", kernel_log.panic() ? nlohmann::json(*kernel_log.panic()) : nullptr}};
        const HandoffVerifier::SymbolsUsed used = verifier.symbols_used();
        if (machine.reached(Phase::Handoff)) {
            auto reason = verifier.not_recognised_reason();
            report.root()["recognised"] = {{"ok", !reason}, {"reason", reason ? nlohmann::json(*reason) : nullptr}};
        }
        report.root()["kernel_symbols"] = {{"count", used.count},
                                           {"source", used.source},
                                           {"armed", used.armed},
                                           {"problem", used.problem}};
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
