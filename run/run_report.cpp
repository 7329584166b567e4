#include "run/run_report.h"

#include <fstream>

#include <fmt/format.h>

#include "loader/boot_plan.h"

namespace bootsim {

void RunReport::on_event(const BootEvent& e)
{
    switch (e.kind) {
    case EventKind::RegionPlaced:
        m_root["regions"].push_back({{"role", region_role_name(RegionRole(e.value))},
                                     {"name", e.text},
                                     {"address", fmt::format("{:#x}", e.address)},
                                     {"size", e.size}});
        break;
    case EventKind::PhaseEntered:
        m_root["phases"].push_back({{"phase", std::string(phase_name(e.phase))},
                                    {"wall_seconds", double(e.wall_ns) / 1e9},
                                    {"guest_seconds", double(e.virtual_ns) / 1e9},
                                    {"rip", fmt::format("{:#x}", e.address)},
                                    {"evidence", e.text}});
        break;
    case EventKind::DecompressorMoved:
        m_root["decompressor_moved_to"] = fmt::format("{:#x}", e.address);
        break;
    case EventKind::SerialOutput:
        m_serial_bytes += e.text.size();
        break;
    case EventKind::ExceptionDelivered:
        ++m_exceptions;
        break;
    case EventKind::Note:
        m_root["notes"].push_back(e.text);
        break;
    case EventKind::Interrupt:
        ++m_interrupts[e.value];
        break;
    case EventKind::IdleSkip:
        m_idle_ns += e.size;
        break;
    case EventKind::DiskIo:
        ++m_disk_requests;
        m_disk_bytes[e.text] += e.size;
        if (!e.value)
            ++m_disk_errors;
        break;
    case EventKind::GuestHalted:
        break;
    }
}

nlohmann::json RunReport::to_json() const
{
    nlohmann::json out = m_root;
    out["serial_bytes"] = m_serial_bytes;
    out["exceptions_delivered"] = m_exceptions;
    out["idle_skipped_seconds"] = double(m_idle_ns) / 1e9;
    nlohmann::json interrupts = nlohmann::json::object();
    for (auto [vector, count] : m_interrupts)
        interrupts[std::to_string(vector)] = count;
    out["interrupts"] = interrupts;
    nlohmann::json disk = {{"requests", m_disk_requests}, {"errors", m_disk_errors}};
    for (const auto& [kind, bytes] : m_disk_bytes)
        disk[kind + "_bytes"] = bytes;
    out["disk"] = disk;
    return out;
}

bool RunReport::write(const std::string& path) const
{
    std::ofstream out(path);
    // The guest's text (notes, panic messages) need not be valid UTF-8:
    // replace what is not rather than fail the whole report.
    out << to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return bool(out);
}

}  // namespace bootsim
