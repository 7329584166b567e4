#pragma once
// --report FILE: the run as JSON, for CI: the plan's regions, each phase with
// its times, the handoff check, and how the run ended.

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

private:
    nlohmann::json m_root = nlohmann::json::object();
    uint64_t m_serial_bytes = 0;
    uint64_t m_exceptions = 0;
    uint64_t m_idle_ns = 0;
};

}  // namespace bootsim
