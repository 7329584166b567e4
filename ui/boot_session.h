#pragma once
// One headless run of bootsim from options to exit code: prepare the boot
// (run/prepared_boot), run it with the console on stdin/stdout, finish it
// (run/run_finish: exit code, outputs, summary).

#include "run/run_finish.h"
#include "ui/options.h"

namespace bootsim {

// Returns the process exit code (ExitCode). Prints errors itself, once.
int run_headless(const Options& options);

}  // namespace bootsim
