#pragma once
// --report FILE: the run as JSON, for CI: the plan's regions, each phase with
// its times and the evidence that showed it, the handoff check, counters,
// and how the run ended. Written whatever happened: the counters are plain
// numbers until write() turns everything into JSON.

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/boot_event.h"

namespace bootsim {

class RunReport final : public EventSink {
public:
    void on_event(const BootEvent& event) override;
    nlohmann::json& root() { return m_root; }
    // Writes the report; returns false (with errno set) on failure.
    bool write(const std::string& path) const;
    // The report as it would be written.
    nlohmann::json to_json() const;

private:
    nlohmann::json m_root = nlohmann::json::object();
    uint64_t m_serial_bytes = 0;
    uint64_t m_exceptions = 0;
    uint64_t m_idle_ns = 0;
    std::map<uint64_t, uint64_t> m_interrupts;  // by vector
    uint64_t m_disk_requests = 0, m_disk_errors = 0;
    std::map<std::string, uint64_t> m_disk_bytes;  // by request kind
};

}  // namespace bootsim
