#include "ui/gui/boot_model.h"

#include <algorithm>

namespace bootsim::gui {

void BootModel::on_event(const BootEvent& event)
{
    std::lock_guard lock(m_mutex);
    BootRecord& r = m_record;
    switch (event.kind) {
    case EventKind::SerialOutput:
        m_console += event.text;
        if (m_console.size() > BootRecord::console_limit) {
            size_t cut = m_console.size() - BootRecord::console_limit / 2;
            m_console.erase(0, cut);
            m_console_dropped += cut;
        }
        break;
    case EventKind::PhaseEntered:
        r.phases.push_back({event.phase, event.wall_ns, event.virtual_ns, event.address});
        break;
    case EventKind::DecompressorMoved:
        r.decompressor_moved_to = event.address;
        break;
    case EventKind::DiskIo:
        ++r.disk_requests;
        r.disk_bytes += event.size;
        r.disk_errors += event.value == 1 ? 0 : 1;
        break;
    case EventKind::ExceptionDelivered:
        ++r.exceptions;
        break;
    case EventKind::InitcallStarted:
        if (r.initcalls.size() < BootRecord::initcall_limit) {
            m_open_initcalls.push_back({r.initcalls.size(), event.address, event.virtual_ns, event.instructions});
            r.initcalls.push_back({event.text, event.wall_ns, 0, 0, 0});
        }
        break;
    case EventKind::InitcallReturned:
        for (auto it = m_open_initcalls.rbegin(); it != m_open_initcalls.rend(); ++it) {
            if (it->address != event.address)
                continue;
            InitcallMark& m = r.initcalls[it->index];
            m.end_ns = std::max(event.wall_ns, m.begin_ns + 1);
            m.guest_ns = event.virtual_ns - it->start_virtual_ns;
            m.instructions = event.instructions - it->start_instructions;
            m_open_initcalls.erase(std::next(it).base());
            break;
        }
        break;
    case EventKind::Note:
        if (r.notes.size() < 200)
            r.notes.push_back(event.text);
        break;
    case EventKind::FirmwareCall: {
        auto it = std::find_if(r.firmware.begin(), r.firmware.end(),
                               [&](const BootRecord::FirmwareService& f) { return f.service == event.text; });
        if (it != r.firmware.end())
            ++it->calls;
        else
            r.firmware.push_back({event.text, event.size != 0, 1, event.virtual_ns});
        break;
    }
    case EventKind::CpuModeChanged:
        r.modes.push_back({event.text, event.address, event.virtual_ns, event.phase});
        break;
    case EventKind::BootStep:
        if (r.steps.size() < BootRecord::max_shown_steps)
            r.steps.push_back({BootStepKind(event.value), event.virtual_ns, event.text});
        break;
    default:
        break;
    }
}

BootRecord BootModel::copy(uint64_t console_from) const
{
    std::lock_guard lock(m_mutex);
    BootRecord r = m_record;  // its console is kept apart, below
    uint64_t first = std::max(console_from, m_console_dropped);
    uint64_t skip = std::min<uint64_t>(first - m_console_dropped, m_console.size());
    r.console = m_console.substr(skip);
    r.console_dropped = m_console_dropped + skip;
    return r;
}

}  // namespace bootsim::gui
