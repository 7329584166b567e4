#include "run/run_report.h"

#include <fmt/format.h>

#include "core/boot_plan.h"
#include "run/output_limits.h"

namespace bootsim {

namespace {

double seconds(uint64_t ns) { return double(ns) / 1e9; }

nlohmann::json by_vector(const std::map<uint64_t, uint64_t>& counts)
{
    uint64_t total = 0;
    nlohmann::json vectors = nlohmann::json::object();
    for (auto [vector, count] : counts) {
        vectors[std::to_string(vector)] = count;
        total += count;
    }
    return {{"total", total}, {"by_vector", vectors}};
}
}  // namespace

void RunReport::on_event(const BootEvent& e)
{
    switch (e.kind) {
    case EventKind::RegionPlaced:
        m_regions.push_back({{"role", region_role_name(RegionRole(e.value))},
                             {"name", e.text},
                             {"address", fmt::format("{:#x}", e.address)},
                             {"size", e.size}});
        break;
    case EventKind::PhaseEntered:
        m_phase_marks.push_back({e.phase, e.virtual_ns, e.wall_ns, e.instructions});
        m_phases.push_back({{"phase", std::string(phase_name(e.phase))},
                            {"guest_seconds", seconds(e.virtual_ns)},
                            {"wall_seconds", seconds(e.wall_ns)},
                            {"instructions", e.instructions},
                            {"rip", fmt::format("{:#x}", e.address)},
                            {"evidence", e.text}});
        break;
    case EventKind::DecompressorMoved:
        m_decompressor_moved_to = e.address;
        break;
    case EventKind::SerialOutput:
        m_serial_bytes += e.text.size();
        split_console_lines(
            m_console_partial, e.text,
            [this](const std::string& line) {
                if (m_console_lines.size() < max_report_console_lines)
                    m_console_lines.push_back(line);
            },
            max_console_line);
        break;
    case EventKind::ExceptionDelivered:
        ++m_exceptions[strtoul(e.text.c_str(), nullptr, 10)];
        break;
    case EventKind::Note:
        if (m_notes.size() < max_kept_events)
            m_notes.push_back(e.text);
        break;
    case EventKind::FirmwareCall: {
        auto [it, added] = m_firmware_calls.try_emplace(e.text);
        if (added)
            it->second = {{"service", e.text}, {"vector", e.value >> 16}, {"supported", e.size != 0}, {"calls", 0},
                          {"first_guest_seconds", double(e.virtual_ns) / 1e9}};
        it->second["calls"] = it->second["calls"].get<uint64_t>() + 1;
        break;
    }
    case EventKind::CpuModeChanged:
        m_cpu_modes.push_back({{"mode", e.text},
                               {"address", e.address},
                               {"guest_seconds", double(e.virtual_ns) / 1e9},
                               {"phase", phase_name(e.phase)}});
        break;
    case EventKind::BootStep:
        if (m_steps.size() < max_kept_events)
            m_steps.push_back({{"step", boot_step_name(BootStepKind(e.value))},
                               {"text", e.text},
                               {"guest_seconds", double(e.virtual_ns) / 1e9},
                               {"phase", phase_name(e.phase)}});
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
    case EventKind::InitcallStarted:
        if (m_initcalls.size() >= max_kept_events)
            break;  // its return finds no open call and is dropped too
        m_open_initcalls.push_back(m_initcalls.size());
        m_initcalls.push_back({e.text, e.address, e.virtual_ns, e.instructions, 0, 0, 0, false});
        break;
    case EventKind::InitcallReturned:
        // The open call of that function, latest first.
        for (auto it = m_open_initcalls.rbegin(); it != m_open_initcalls.rend(); ++it) {
            Initcall& call = m_initcalls[*it];
            if (call.address != e.address)
                continue;
            call.guest_ns = e.virtual_ns - call.start_ns;
            call.instructions = e.instructions - call.start_instructions;
            call.result = int64_t(e.value);
            call.returned = true;
            m_open_initcalls.erase(std::next(it).base());
            break;
        }
        break;
    case EventKind::GuestHalted:
        break;
    }
}

nlohmann::json RunReport::to_json() const
{
    nlohmann::json out = nlohmann::json::object();
    out["schema"] = "bootsim-report";
    out["schema_version"] = report_schema_version;
    for (const auto& [key, value] : m_sections)
        out[key] = value;
    out["regions"] = m_regions;
    out["phases"] = m_phases;
    nlohmann::json initcalls = nlohmann::json::array();
    for (const Initcall& c : m_initcalls) {
        initcalls.push_back({{"name", c.name},
                             {"address", fmt::format("{:#x}", c.address)},
                             {"start_guest_seconds", seconds(c.start_ns)},
                             {"guest_seconds", seconds(c.guest_ns)},
                             {"instructions", c.instructions},
                             {"returned", c.returned},
                             {"result", c.result}});
    }
    out["initcalls"] = initcalls;
    out["decompressor_moved_to"] =
        m_decompressor_moved_to ? nlohmann::json(fmt::format("{:#x}", *m_decompressor_moved_to)) : nullptr;
    out["notes"] = m_notes;
    out["steps"] = m_steps;
    out["cpu_modes"] = m_cpu_modes;
    nlohmann::json calls = nlohmann::json::array();
    for (const auto& [service, call] : m_firmware_calls)
        calls.push_back(call);
    std::stable_sort(calls.begin(), calls.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
        return a["first_guest_seconds"].get<double>() < b["first_guest_seconds"].get<double>();
    });
    out["firmware_calls"] = calls;
    std::vector<std::string> lines = m_console_lines;
    if (!m_console_partial.empty() && lines.size() < max_report_console_lines)
        lines.push_back(m_console_partial);
    out["console"] = {{"lines", lines.size()}, {"bytes", m_serial_bytes}, {"text", lines}};
    out["totals"] = {{"guest_seconds", seconds(m_totals.guest_ns)},
                     {"wall_seconds", seconds(m_totals.wall_ns)},
                     {"instructions", m_totals.instructions},
                     {"idle_skipped_seconds", seconds(m_idle_ns)}};
    nlohmann::json disk = {{"requests", m_disk_requests}, {"errors", m_disk_errors}};
    for (const char* kind : {"read", "write", "flush", "get-id", "unsupported"}) {
        auto it = m_disk_bytes.find(kind);
        disk[std::string(kind) + "_bytes"] = it == m_disk_bytes.end() ? 0 : it->second;
    }
    // The board has no memory-mapped device (its PCI devices decode port
    // I/O only), so no access leaves translated code through MMIO.
    out["counters"] = {{"exceptions", by_vector(m_exceptions)},
                       {"interrupts", by_vector(m_interrupts)},
                       {"port_io", {{"reads", m_totals.port_reads}, {"writes", m_totals.port_writes}}},
                       {"mmio", {{"reads", m_totals.mmio_reads}, {"writes", m_totals.mmio_writes}}},
                       {"cpu", {{"blocks", m_totals.blocks}, {"stops", m_totals.cpu_stops}}},
                       {"disk", disk}};
    return out;
}

std::string RunReport::text_of(const nlohmann::json& report)
{
    // The guest's text (notes, panic messages, console lines) need not be
    // valid UTF-8: replace what is not rather than fail the whole report.
    return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace bootsim
