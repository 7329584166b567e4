#pragma once
// A second SIGINT or SIGTERM ends bootsim at once, from inside the signal
// handler, for a run that does not stop after the first (a guest stuck
// where the CPU cannot be stopped cleanly, a slow output on its way). Only
// async-signal-safe calls are allowed there, so the report it leaves is
// composed beforehand, on the CPU thread, when the run starts and again at
// every phase; the handler only writes those bytes (to a temporary file
// renamed over the report, as every output is written) and exits.

#include <string>

namespace bootsim::forced_exit {

// The report path a forced exit writes; before any signal handler can run.
void arm(const std::string& report_path);
// From now on a forced exit writes no report (the real one is written).
void disarm();
// The report as it stands, to be written if the exit is forced now.
void update(std::string text);
// Async-signal-safe: says so on stderr, writes the last update()'s text to
// the armed path and ends the process with `code`.
[[noreturn]] void exit_now(int code);

}  // namespace bootsim::forced_exit
