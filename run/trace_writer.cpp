#include "run/trace_writer.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/boot_plan.h"
#include "run/console_lines.h"
#include "run/output_limits.h"

namespace bootsim {

namespace {
enum Track { track_phases = 1, track_initcalls = 2, track_events = 3, track_devices = 4, track_console = 5 };
constexpr uint64_t interrupt_bucket_ns = 10'000'000;  // 10 ms

double micros(uint64_t ns) { return double(ns) / 1000.0; }
}  // namespace

void TraceWriter::on_event(const BootEvent& e)
{
    switch (e.kind) {
    case EventKind::PhaseEntered:
        if (m_in_phase)
            m_phases.push_back({e.virtual_ns, false, "", {}});
        m_phases.push_back({e.virtual_ns, true, std::string(phase_name(e.phase)),
                            {{"evidence", e.text},
                             {"rip", fmt::format("{:#x}", e.address)},
                             {"instructions", e.instructions},
                             {"wall_seconds", double(e.wall_ns) / 1e9}}});
        m_in_phase = true;
        break;
    case EventKind::InitcallStarted:
        // Past the limit a call is dropped, and so is its return: calls
        // nest, so the returns of dropped calls come first.
        if (m_initcalls.size() >= 2 * max_kept_events) {
            ++m_dropped_open_initcalls;
            break;
        }
        ++m_open_initcalls;
        m_initcalls.push_back({e.virtual_ns, true, e.text,
                               {{"function", fmt::format("{:#x}", e.address)}, {"instructions_at_start", e.instructions}}});
        break;
    case EventKind::InitcallReturned:
        if (m_dropped_open_initcalls > 0) {
            --m_dropped_open_initcalls;
        } else if (m_open_initcalls > 0) {
            --m_open_initcalls;
            m_initcalls.push_back({e.virtual_ns, false, e.text,
                                   {{"result", int64_t(e.value)}, {"instructions_at_end", e.instructions}}});
        }
        break;
    case EventKind::RegionPlaced:
        add_instant({e.virtual_ns, track_events, "region " + e.text,
                     {{"role", region_role_name(RegionRole(e.value))},
                      {"address", fmt::format("{:#x}", e.address)},
                      {"size", e.size}}});
        break;
    case EventKind::DecompressorMoved:
        add_instant({e.virtual_ns, track_events, "decompressor moved",
                     {{"address", fmt::format("{:#x}", e.address)}, {"size", e.size}}});
        break;
    case EventKind::Note:
        add_instant({e.virtual_ns, track_events, e.text, nlohmann::json::object()});
        break;
    case EventKind::CpuModeChanged:
        add_instant({e.virtual_ns, track_events, "CPU mode: " + e.text, {{"address", fmt::format("{:#x}", e.address)}}});
        break;
    case EventKind::FirmwareCall:
        add_instant({e.virtual_ns, track_events, "BIOS " + e.text, nlohmann::json::object()});
        break;
    case EventKind::BootStep:
        add_instant({e.virtual_ns, track_events, e.text, {{"step", boot_step_name(BootStepKind(e.value))}}});
        break;
    case EventKind::Interrupt:
        ++m_interrupt_buckets[e.virtual_ns / interrupt_bucket_ns];
        break;
    case EventKind::DiskIo:
        m_disk_total += e.size;
        // One sample per counter bucket: the last total in it, at its time.
        if (!m_disk_bytes.empty() && m_disk_bytes.back().first / interrupt_bucket_ns == e.virtual_ns / interrupt_bucket_ns)
            m_disk_bytes.back() = {e.virtual_ns, m_disk_total};
        else
            m_disk_bytes.emplace_back(e.virtual_ns, m_disk_total);
        break;
    case EventKind::SerialOutput:
        if (m_console_partial.empty())
            m_console_line_start = e.virtual_ns;
        split_console_lines(
            m_console_partial, e.text,
            [&](const std::string& line) {
                if (m_console_kept < max_console_kept_bytes) {
                    m_console_kept += line.size() + 1;
                    add_instant({m_console_line_start, track_console, line.substr(0, 120), {{"text", line}}});
                }
                m_console_line_start = e.virtual_ns;
            },
            max_console_line);
        break;
    case EventKind::ExceptionDelivered:
    case EventKind::GuestHalted:
    case EventKind::IdleSkip:
        break;
    }
}

std::string TraceWriter::text(uint64_t end_ns, uint64_t end_instructions) const
{
    nlohmann::json events = nlohmann::json::array();
    auto meta = [&](int tid, const char* name) {
        events.push_back({{"ph", "M"}, {"pid", 1}, {"tid", tid}, {"name", "thread_name"}, {"args", {{"name", name}}}});
        events.push_back(
            {{"ph", "M"}, {"pid", 1}, {"tid", tid}, {"name", "thread_sort_index"}, {"args", {{"sort_index", tid}}}});
    };
    events.push_back({{"ph", "M"}, {"pid", 1}, {"name", "process_name"}, {"args", {{"name", "bootsim guest"}}}});
    meta(track_phases, "boot phases");
    meta(track_initcalls, "initcalls");
    meta(track_events, "events");
    meta(track_devices, "devices");
    meta(track_console, "console");

    auto slice = [&](int tid, const Slice& s) {
        nlohmann::json e = {{"ph", s.begin ? "B" : "E"}, {"pid", 1}, {"tid", tid}, {"ts", micros(s.ns)}};
        if (s.begin) {
            e["name"] = s.name;
            e["cat"] = tid == track_phases ? "phase" : "initcall";
        }
        if (!s.args.is_null())
            e["args"] = s.args;
        events.push_back(std::move(e));
    };
    // The whole run, with the phases inside it.
    events.push_back({{"ph", "B"}, {"pid", 1}, {"tid", track_phases}, {"ts", 0.0}, {"name", "boot"}, {"cat", "run"}});
    for (const Slice& s : m_phases)
        slice(track_phases, s);
    if (m_in_phase)
        slice(track_phases, {end_ns, false, "", {}});
    events.push_back({{"ph", "E"},
                      {"pid", 1},
                      {"tid", track_phases},
                      {"ts", micros(end_ns)},
                      {"args", {{"instructions", end_instructions}}}});

    for (const Slice& s : m_initcalls)
        slice(track_initcalls, s);
    for (int i = 0; i < m_open_initcalls; ++i)
        slice(track_initcalls, {end_ns, false, "", {{"result", "still running when the run ended"}}});

    for (const Instant& i : m_instants) {
        events.push_back({{"ph", "i"},
                          {"s", "t"},
                          {"pid", 1},
                          {"tid", i.track},
                          {"ts", micros(i.ns)},
                          {"name", i.name},
                          {"cat", i.track == track_console ? "console" : "event"},
                          {"args", i.args}});
    }

    // Counters: interrupts per 10 ms bucket of guest time, disk bytes so far.
    uint64_t previous = ~0ull;
    for (auto [bucket, count] : m_interrupt_buckets) {
        if (previous != ~0ull && bucket > previous + 1)  // back to zero in between
            events.push_back({{"ph", "C"}, {"pid", 1}, {"tid", track_devices}, {"name", "interrupts per second"},
                              {"ts", micros((previous + 1) * interrupt_bucket_ns)}, {"args", {{"value", 0}}}});
        events.push_back({{"ph", "C"}, {"pid", 1}, {"tid", track_devices}, {"name", "interrupts per second"},
                          {"ts", micros(bucket * interrupt_bucket_ns)},
                          {"args", {{"value", count * (1'000'000'000 / interrupt_bucket_ns)}}}});
        previous = bucket;
    }
    for (auto [ns, total] : m_disk_bytes)
        events.push_back({{"ph", "C"}, {"pid", 1}, {"tid", track_devices}, {"name", "disk bytes"}, {"ts", micros(ns)},
                          {"args", {{"value", total}}}});

    // In time order (stable: begins and ends at the same time keep theirs),
    // metadata first.
    std::vector<nlohmann::json> ordered(events.begin(), events.end());
    std::stable_sort(ordered.begin(), ordered.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
        double ta = a.contains("ts") ? a["ts"].get<double>() : -1, tb = b.contains("ts") ? b["ts"].get<double>() : -1;
        return ta < tb;
    });
    // One event per line: small, and readable in a text editor.
    auto dump = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
    std::string out = "{\"displayTimeUnit\": \"ms\",\n \"otherData\": " +
                      dump({{"producer", "bootsim"}, {"clock", "guest time"}}) + ",\n \"traceEvents\": [\n";
    for (size_t i = 0; i < ordered.size(); ++i)
        out += "  " + dump(ordered[i]) + (i + 1 < ordered.size() ? ",\n" : "\n");
    return out + " ]\n}\n";
}

}  // namespace bootsim
