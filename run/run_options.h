#pragma once
// What one run is asked to do, whichever front end asked (the command line,
// the visualizer), and the exit codes a run can end with.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/phase.h"

namespace bootsim {

struct Options {
    std::string kernel;
    std::string initrd;
    std::optional<std::string> append;  // unset: the default command line
    std::string mem = "512M";
    bool headless = false;
    std::optional<Phase> stop_at;
    double timeout_seconds = 0;
    std::vector<std::string> expect;    // regexes the console must show
    std::string report;                 // JSON report path
    std::optional<int64_t> rtc_epoch;
    std::vector<std::string> disks;     // --disk FILE[,ro|,snapshot]
    std::string system_map;             // a System.map instead of the kernel's own kallsyms
    bool no_kernel_symbols = false;     // use no kernel symbols at all: the fallback evidence, on purpose
    bool strict_code_tracking = false;  // check every guest store for code changes
    std::string screenshot;             // --screenshot FILE.png: render the visualizer off-screen
    std::optional<Phase> screenshot_at; // set with screenshot
    // Testing aid: flip one byte of the guest's decompressed kernel (at this
    // offset from its start) just before the handoff check, to show the
    // check catches it.
    std::optional<uint64_t> corrupt_output_offset;
};

// Exit codes, one per way a run can end (README, "Exit codes").
enum ExitCode : int {
    exit_success = 0,
    exit_guest_failed = 1,
    exit_bad_input = 2,
    exit_timeout = 3,
    exit_emulator_failure = 4,
    exit_interrupted = 130,  // SIGINT/SIGTERM, as a shell reports 128 + SIGINT
};

}  // namespace bootsim
