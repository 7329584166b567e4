#include "ui/boot_session.h"

#include <atomic>
#include <csignal>

#include <fmt/format.h>

#include "run/forced_exit.h"
#include "run/prepared_boot.h"
#include "run/run_finish.h"
#include "ui/console_input.h"
#include "ui/gdb/gdb_server.h"

namespace bootsim {

namespace {

int fail(const Error& error)
{
    fmt::print(stderr, "bootsim: error: {}\n", error.message);
    switch (error.kind) {
    case ErrorKind::Emulator:
        return exit_bootsim_failed;
    case ErrorKind::BadUsage:
        return exit_usage;
    case ErrorKind::Output:
        return exit_output_not_written;
    default:
        return exit_bad_input;
    }
}

Machine* g_running_machine = nullptr;
std::atomic<int> g_signals{0};

// SIGINT/SIGTERM end the run cleanly at the next block boundary, so that
// reports are written and disk images flushed. A second one, while the
// first is still being acted on, ends the process at once.
void on_signal(int)
{
    if (g_signals.fetch_add(1) > 0)
        forced_exit::exit_now(exit_interrupted);
    gdb::GdbServer::signal_received();
    if (g_running_machine)
        g_running_machine->interrupt_from_signal();
}

// Keeps the report a forced exit would write up to date: composed when the
// run starts and again whenever the phase changes (on the CPU thread).
void keep_forced_exit_report(PreparedBoot& boot)
{
    if (boot.options().report.empty())
        return;
    forced_exit::arm(boot.options().report);
    auto compose = [&boot] {
        RunOutcome forced{RunEnd::Interrupted,
                          fmt::format("a second SIGINT or SIGTERM forced bootsim to exit at once, in phase {}; this "
                                      "report holds the run up to there",
                                      phase_name(boot.machine().phase()))};
        set_closing_sections(boot, forced, exit_interrupted);
        nlohmann::json report = boot.report().to_json();
        report["compare"] = nullptr;  // a forced exit compares nothing
        forced_exit::update(RunReport::text_of(report));
    };
    compose();
    boot.machine().add_service([compose, &boot, last = boot.machine().phase()]() mutable {
        if (boot.machine().phase() != last) {
            last = boot.machine().phase();
            compose();
        }
    });
}

}  // namespace

int run_headless(const Options& options)
{
    // The debugger's port first: a port in use is a usage error, before any input is read.
    std::unique_ptr<gdb::GdbServer> debugger;
    if (!options.gdb.empty()) {
        auto server = gdb::GdbServer::listen(options.gdb);
        if (!server)
            return fail(server.error());
        debugger = std::move(*server);
    }
    auto prepared = PreparedBoot::create(options);
    if (!prepared)
        return fail(prepared.error());
    if (debugger)
        fmt::print(stderr, "bootsim: gdb stub on {}: in gdb, `target remote {}`\n", debugger->address(),
                   debugger->address());
    PreparedBoot& boot = **prepared;
    Machine& machine = boot.machine();
    ConsoleInput input(machine, [&boot](std::string bytes) { boot.board().type_on_console(bytes); });

    keep_forced_exit_report(boot);
    g_running_machine = &machine;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    RunLimits limits{.stop_at = options.stop_at,
                     .timeout_seconds = options.timeout_seconds.value_or(0),
                     .max_instructions = options.max_instructions};
    RunOutcome outcome = debugger ? debugger->run(boot, limits, options.gdb_wait) : machine.run(limits);
    g_running_machine = nullptr;
    // The handlers stay until the outputs are written: a second signal while
    // they are being written still ends the run at once.
    int code = finish_run(boot, std::move(outcome), true).exit_code;
    if (debugger)
        debugger->report_exit(code);
    forced_exit::disarm();  // the report is whole now: a late signal must not replace it
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return code;
}

}  // namespace bootsim
