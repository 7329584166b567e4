#pragma once
// One run of bootsim from options to exit code: load and validate the inputs,
// plan the boot, build the PC, run it headless, report.

#include "core/machine.h"
#include "ui/options.h"

namespace bootsim {

// The exit code for a run that ended this way (README, "Exit codes");
// `expectations_met`: every --expect pattern was seen.
int exit_code_for(RunEnd end, bool expectations_met);

// Returns the process exit code (ExitCode). Prints errors itself, once.
int run_headless(const Options& options);

}  // namespace bootsim
