#pragma once
// One run of bootsim from options to exit code: load and validate the inputs,
// plan the boot, build the PC, run it headless, report.

#include "ui/options.h"

namespace bootsim {

// Returns the process exit code (ExitCode). Prints errors itself, once.
int run_headless(const Options& options);

}  // namespace bootsim
