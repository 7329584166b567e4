// bootsim: boots a real Linux bzImage on an emulated PC.
#include <cstdlib>

#include <fmt/format.h>

#include "ui/boot_session.h"
#include "ui/gui/visualizer.h"
#include "ui/options.h"

int main(int argc, char** argv)
{
    using namespace bootsim;
    auto parsed = parse_options(argc, argv);
    if (!parsed) {
        fmt::print(stderr, "bootsim: error: {}\n", parsed.error().message);
        return exit_bad_input;
    }
    if (parsed->help) {
        fmt::print("{}", *parsed->help);
        return exit_success;
    }
    Options options = *parsed->options;
    if (!options.screenshot.empty())
        return gui::run_visualizer(options);
    if (!options.headless) {
        if (gui::display_available())
            return gui::run_visualizer(options);
        fmt::print(stderr, "bootsim: no display (DISPLAY and WAYLAND_DISPLAY are unset): running headless\n");
    }
    return run_headless(options);
}
