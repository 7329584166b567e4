#include "ui/run_report.h"

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
                                    {"rip", fmt::format("{:#x}", e.address)}});
        break;
    case EventKind::DecompressorMoved:
        m_root["decompressor_moved_to"] = fmt::format("{:#x}", e.address);
        break;
    case EventKind::SerialOutput:
        m_serial_bytes += e.text.size();
        m_root["serial_bytes"] = m_serial_bytes;
        break;
    case EventKind::ExceptionDelivered:
        m_root["exceptions_delivered"] = ++m_exceptions;
        break;
    case EventKind::Note:
        m_root["notes"].push_back(e.text);
        break;
    case EventKind::Interrupt:
        m_root["interrupts"][std::to_string(e.value)] = m_root["interrupts"].value(std::to_string(e.value), 0) + 1;
        break;
    case EventKind::IdleSkip:
        m_idle_ns += e.size;
        m_root["idle_skipped_seconds"] = double(m_idle_ns) / 1e9;
        break;
    case EventKind::DiskIo: {
        auto& disk = m_root["disk"];
        disk["requests"] = disk.value("requests", 0) + 1;
        disk[e.text + "_bytes"] = disk.value(e.text + "_bytes", uint64_t(0)) + e.size;
        if (!e.value)
            disk["errors"] = disk.value("errors", 0) + 1;
        break;
    }
    case EventKind::GuestHalted:
        break;
    }
}

bool RunReport::write(const std::string& path) const
{
    std::ofstream out(path);
    out << m_root.dump(2) << "\n";
    return bool(out);
}

}  // namespace bootsim
