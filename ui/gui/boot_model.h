#pragma once
// The visualizer's record of the boot's events: the console text, the
// phases entered, the decompressor's move, the disk and interrupt traffic.
// The machine's thread writes (it is an EventSink); the GUI thread copies.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/boot_event.h"
#include "ui/gui/phase_timeline.h"

namespace bootsim::gui {

struct BootRecord {
    std::string console;                 // the last console_limit bytes of serial output
    uint64_t console_dropped = 0;        // bytes cut from the front
    std::vector<PhaseMark> phases;
    uint64_t decompressor_moved_to = 0;  // 0: not yet
    uint64_t disk_requests = 0, disk_bytes = 0, disk_errors = 0;
    uint64_t exceptions = 0;
    std::vector<std::string> notes;      // bootsim's own lines (handoff check, kernel watch)
    static constexpr size_t console_limit = 1 << 20;
};

class BootModel final : public EventSink {
public:
    void on_event(const BootEvent& event) override;
    BootRecord copy() const;
    // Console bytes since `offset` (a count of all bytes ever received);
    // cheap for a terminal pane that redraws every frame.
    uint64_t console_total() const;

private:
    mutable std::mutex m_mutex;
    BootRecord m_record;
};

}  // namespace bootsim::gui
