// bootsim: boots a real Linux bzImage on an emulated PC.
#include <cstdlib>
#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "ui/boot_session.h"
#include "ui/commands.h"
#include "ui/gui/visualizer.h"
#include "ui/options.h"

namespace {

int run(int argc, char** argv)
{
    using namespace bootsim;
    if (argc > 1 && !strcmp(argv[1], "compare"))
        return compare_command(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "matrix"))
        return matrix_command(argc - 1, argv + 1, argv[0]);
    if (argc > 1 && !strcmp(argv[1], "merge-reports"))
        return merge_reports_command(argc - 1, argv + 1);
    auto parsed = parse_options(argc, argv);
    if (!parsed) {
        fmt::print(stderr, "bootsim: error: {}\n", parsed.error().message);
        return exit_usage;
    }
    if (parsed->help) {
        fmt::print("{}", *parsed->help);
        return exit_success;
    }
    Options options = *parsed->options;
    // A run nobody watches (headless, or an off-screen screenshot) ends by
    // itself; a window someone watches has no default timeout.
    bool unwatched = options.headless || !options.screenshot.empty() || !gui::display_available();
    if (unwatched && !options.timeout_seconds)
        options.timeout_seconds = headless_default_timeout;
    if (!options.screenshot.empty() || (!options.headless && gui::display_available())) {
        if (!options.gdb.empty()) {
            fmt::print(stderr, "bootsim: error: --gdb runs with --headless only: the visualizer does not share "
                               "the debugger's stops yet\n");
            return exit_usage;
        }
        return gui::run_visualizer(options);
    }
    if (!options.headless)
        fmt::print(stderr, "bootsim: no display (DISPLAY and WAYLAND_DISPLAY are unset): running headless\n");
    return run_headless(options);
}

}  // namespace

int main(int argc, char** argv)
{
    // Anything unexpected ends the run with one line and a documented code,
    // not an abort and a core dump.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bootsim: error: unexpected failure: {}\n", e.what());
    } catch (...) {
        fmt::print(stderr, "bootsim: error: unexpected failure\n");
    }
    return bootsim::exit_bootsim_failed;
}
