#pragma once
// --report FILE: the run as JSON, for CI (docs/report.schema.json, version
// 1): the inputs, the plan's regions, each phase with its guest time, wall
// time and instructions, each initcall, how the run ended, the console, and
// the counters. Collected from the event stream as plain numbers and
// strings; turned into JSON only by to_json(), with text that is not valid
// UTF-8 replaced, so writing it cannot fail on what the guest printed.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/boot_event.h"
#include "run/console_lines.h"

namespace bootsim {

inline constexpr int report_schema_version = 1;

class RunReport final : public EventSink {
public:
    void on_event(const BootEvent& event) override;

    // Sections the run's end fills in (inputs, outcome, checks): set as
    // JSON, merged into the report as they are.
    void set(const std::string& key, nlohmann::json value) { m_sections[key] = std::move(value); }
    // Totals only the machine knows at the end.
    struct Totals {
        uint64_t guest_ns = 0, wall_ns = 0, instructions = 0, port_reads = 0, port_writes = 0;
        uint64_t mmio_reads = 0, mmio_writes = 0;  // outside RAM (no device decodes memory)
        uint64_t blocks = 0, cpu_stops = 0;        // blocks started; times the CPU left translated code
    };
    void set_totals(const Totals& totals) { m_totals = totals; }

    nlohmann::json to_json() const;
    // The report's text, as written.
    std::string text() const { return text_of(to_json()); }
    // A report's JSON as text: guest text that is not valid UTF-8 replaced.
    static std::string text_of(const nlohmann::json& report);

    struct Initcall {
        std::string name;
        uint64_t address = 0;
        uint64_t start_ns = 0, start_instructions = 0;
        uint64_t guest_ns = 0, instructions = 0;
        int64_t result = 0;
        bool returned = false;
    };
    const std::vector<Initcall>& initcalls() const { return m_initcalls; }
    struct PhaseMark {
        Phase phase;
        uint64_t guest_ns, wall_ns, instructions;
    };
    const std::vector<PhaseMark>& phase_marks() const { return m_phase_marks; }

private:
    std::map<std::string, nlohmann::json> m_sections;
    nlohmann::json m_regions = nlohmann::json::array();
    nlohmann::json m_phases = nlohmann::json::array();
    std::vector<PhaseMark> m_phase_marks;
    nlohmann::json m_notes = nlohmann::json::array();
    nlohmann::json m_steps = nlohmann::json::array();  // BootStep events: {step, text, guest_seconds, phase}
    nlohmann::json m_cpu_modes = nlohmann::json::array();  // CpuModeChanged: {mode, address, guest_seconds, phase}
    std::map<std::string, nlohmann::json> m_firmware_calls;  // by service: {service, vector, supported, calls, ...}
    std::vector<Initcall> m_initcalls;
    std::vector<size_t> m_open_initcalls;  // indices into m_initcalls
    std::optional<uint64_t> m_decompressor_moved_to;
    std::string m_console_partial;
    std::vector<std::string> m_console_lines;
    uint64_t m_serial_bytes = 0;
    std::map<uint64_t, uint64_t> m_exceptions;  // by vector
    std::map<uint64_t, uint64_t> m_interrupts;  // by vector
    uint64_t m_idle_ns = 0;
    uint64_t m_disk_requests = 0, m_disk_errors = 0;
    std::map<std::string, uint64_t> m_disk_bytes;  // by request kind
    Totals m_totals;
};

}  // namespace bootsim
