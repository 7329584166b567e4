#pragma once
// What one run is asked to do, whichever front end asked (the command line,
// the visualizer), and the exit codes a run can end with.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/boot_plan.h"
#include "core/phase.h"
#include "run/exit_codes.h"

namespace bootsim {

// Deterministic runs' guest speed: instructions per second of guest time,
// near what the emulated CPU retires per second of host time here, so that
// timers fire about as often per instruction as in a run on the host clock.
inline constexpr uint64_t default_guest_ips = 250'000'000;

// Where a deterministic run's RTC starts without --rtc: 2026-01-01 00:00:00 UTC.
inline constexpr int64_t deterministic_rtc_epoch = 1767225600;

// A headless run (and an off-screen screenshot) ends after this many
// seconds unless --timeout says otherwise, so that a guest that never halts
// cannot hang a CI job. Ten minutes is far more than any reference boot
// takes here, even sanitized or deterministic.
inline constexpr double headless_default_timeout = 600;
// The longest --timeout accepted: a year, far beyond any boot, and small
// enough that the deadline's arithmetic cannot overflow.
inline constexpr double max_timeout_seconds = 365.0 * 24 * 3600;

struct Options {
    std::string kernel;
    std::string initrd;
    std::optional<std::string> append;  // unset: the default command line
    std::string mem = "512M";
    bool headless = false;
    std::optional<Phase> stop_at;
    // --timeout: unset, the front end's default (headless_default_timeout
    // for a run nobody watches, none in the visualizer); 0: none.
    std::optional<double> timeout_seconds;
    std::vector<std::string> expect;    // regexes the console must show
    std::string report;                 // JSON report path
    std::string trace;                  // --trace FILE.json: Chrome/Perfetto trace
    std::string serial_log;             // --serial-log FILE: the console with guest timestamps
    std::string compare;                // --compare BASELINE.json
    double compare_tolerance = 0.10;    // a cost may grow by this fraction
    double compare_min_seconds = 0.005;
    uint64_t compare_min_instructions = 1'000'000;
    bool deterministic = false;         // guest time from instructions retired
    bool no_idle_skip = false;          // a halted guest waits for its timer in real time
    uint64_t guest_ips = 0;             // deterministic guest speed (0: the default)
    uint64_t max_instructions = 0;      // end after this many guest instructions (0: none)
    int top_initcalls = 10;             // the headless summary's slowest initcalls
    std::optional<int> expected_exit;   // --expected-exit: recorded in the report (a matrix entry's exit_code)
    std::optional<int64_t> rtc_epoch;
    std::vector<std::string> disks;     // --disk FILE[,ro|,snapshot]
    EntryMode entry = EntryMode::Real16;  // --entry real|32|64: the protocol's way into the kernel
    std::string gdb;                    // --gdb [HOST:]PORT: a GDB remote protocol server; empty: none
    bool gdb_wait = false;              // --gdb-wait: the guest starts when gdb continues it
    std::string net;                    // --net user[,hostfwd=...][,mac=...]; empty: no network card
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

}  // namespace bootsim
