#pragma once
// --trace FILE.json: the run as a Chrome / Perfetto trace (the Trace Event
// Format's JSON object form; opens in ui.perfetto.dev and chrome://tracing).
// Time is guest time, so a deterministic run's trace is the same on every
// host. Tracks (threads of one process):
//   boot phases  one slice per phase, nested in a slice for the whole run
//   initcalls    one slice per initcall, nested as the calls were
//   events       instants: regions placed, the decompressor's move, notes
//                (modules loaded, mounts, the kernel's own reports)
//   devices      counters: interrupts per 10 ms of guest time, disk bytes
//   console      an instant per console line, with its text

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/boot_event.h"
#include "run/output_limits.h"

namespace bootsim {

class TraceWriter final : public EventSink {
public:
    void on_event(const BootEvent& event) override;
    // The trace of the run that ended at guest time `end_ns` (open slices
    // end there).
    std::string text(uint64_t end_ns, uint64_t end_instructions) const;

private:
    struct Instant {
        uint64_t ns;
        int track;
        std::string name;
        nlohmann::json args;
    };
    struct Slice {  // a begin (open) or an end
        uint64_t ns;
        bool begin;
        std::string name;
        nlohmann::json args;
    };
    std::vector<Slice> m_phases;     // begin/end pairs
    std::vector<Slice> m_initcalls;  // begin/end pairs as they happened
    int m_open_initcalls = 0;
    int m_dropped_open_initcalls = 0;
    std::vector<Instant> m_instants;
    // Kept while fewer than max_kept_events (run/output_limits.h).
    void add_instant(Instant instant)
    {
        if (m_instants.size() < max_kept_events)
            m_instants.push_back(std::move(instant));
    }
    std::vector<std::pair<uint64_t, uint64_t>> m_disk_bytes;  // (ns, total so far), one per counter bucket
    uint64_t m_disk_total = 0;
    std::map<uint64_t, uint64_t> m_interrupt_buckets;  // interrupts per bucket of guest time
    uint64_t m_console_kept = 0;  // bytes of console lines on the console track
    std::string m_console_partial;
    uint64_t m_console_line_start = 0;
    bool m_in_phase = false;
};

}  // namespace bootsim
