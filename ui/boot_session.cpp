#include "ui/boot_session.h"

#include <csignal>

#include <fmt/format.h>

#include "run/prepared_boot.h"
#include "run/run_finish.h"
#include "ui/console_input.h"

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

// SIGINT/SIGTERM end the run cleanly at the next block boundary, so that
// reports are written and disk images flushed.
void on_signal(int signo)
{
    if (g_running_machine)
        g_running_machine->interrupt_from_signal();
    (void)signo;
}

}  // namespace

int run_headless(const Options& options)
{
    auto prepared = PreparedBoot::create(options);
    if (!prepared)
        return fail(prepared.error());
    PreparedBoot& boot = **prepared;
    Machine& machine = boot.machine();
    ConsoleInput input(machine, [&boot](std::string bytes) { boot.board().type_on_console(bytes); });

    g_running_machine = &machine;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    RunOutcome outcome = machine.run({.stop_at = options.stop_at,
                                      .timeout_seconds = options.timeout_seconds,
                                      .max_instructions = options.max_instructions});
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_running_machine = nullptr;

    return finish_run(boot, std::move(outcome), true).exit_code;
}

}  // namespace bootsim
