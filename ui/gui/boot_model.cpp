#include "ui/gui/boot_model.h"

namespace bootsim::gui {

void BootModel::on_event(const BootEvent& event)
{
    std::lock_guard lock(m_mutex);
    BootRecord& r = m_record;
    switch (event.kind) {
    case EventKind::SerialOutput:
        r.console += event.text;
        if (r.console.size() > BootRecord::console_limit) {
            size_t cut = r.console.size() - BootRecord::console_limit / 2;
            r.console.erase(0, cut);
            r.console_dropped += cut;
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
    case EventKind::Note:
        if (r.notes.size() < 200)
            r.notes.push_back(event.text);
        break;
    default:
        break;
    }
}

BootRecord BootModel::copy() const
{
    std::lock_guard lock(m_mutex);
    return m_record;
}

uint64_t BootModel::console_total() const
{
    std::lock_guard lock(m_mutex);
    return m_record.console_dropped + m_record.console.size();
}

}  // namespace bootsim::gui
