#pragma once
// How much of a run the in-memory outputs (report, trace, serial log) keep,
// so that a guest that never stops writing its console, loading modules or
// raising interrupts cannot make bootsim use up the host's memory. The
// console on stdout still gets every byte; the run goes on until it ends
// by itself or by --timeout (headless default: run_options.h).

#include <cstddef>
#include <cstdint>

namespace bootsim {

// A console line longer than this is cut (the rest of it is dropped).
inline constexpr size_t max_console_line = 2048;
// The report's console keeps its first lines, the serial log and the
// trace's console track their first bytes.
inline constexpr size_t max_report_console_lines = 50'000;
inline constexpr uint64_t max_console_kept_bytes = 32 << 20;
// Notes (modules, mounts, the kernel's reports), initcalls and trace
// instants: the first ones are kept, then only counted.
inline constexpr size_t max_kept_events = 100'000;

}  // namespace bootsim
