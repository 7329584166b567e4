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
    uint64_t console_dropped = 0;        // bytes before the first one in `console`
    std::vector<PhaseMark> phases;
    uint64_t decompressor_moved_to = 0;  // 0: not yet
    uint64_t disk_requests = 0, disk_bytes = 0, disk_errors = 0;
    uint64_t exceptions = 0;
    std::vector<std::string> notes;      // bootsim's own lines (handoff check, kernel watch)
    struct Step {
        BootStepKind kind;
        uint64_t virtual_ns;
        std::string text;
    };
    std::vector<Step> steps;             // the way to the root: modules, disks, volumes, mounts
    static constexpr size_t max_shown_steps = 2000;
    struct FirmwareService {
        std::string service;
        bool supported;
        uint64_t calls;
        uint64_t first_ns;
    };
    std::vector<FirmwareService> firmware;  // real-mode BIOS services, in the order first called
    struct ModeChange {
        std::string mode;  // "protected", "long"
        uint64_t address;
        uint64_t virtual_ns;
        Phase phase;
    };
    std::vector<ModeChange> modes;
    std::vector<InitcallMark> initcalls; // as run (the first initcall_limit)
    static constexpr size_t initcall_limit = 20000;
    static constexpr size_t console_limit = 1 << 20;
};

class BootModel final : public EventSink {
public:
    void on_event(const BootEvent& event) override;
    // A copy whose console holds the bytes from `console_from` on (counted
    // from the very first byte received; the oldest kept if those are cut):
    // a pane that redraws every frame copies only what is new.
    BootRecord copy(uint64_t console_from = 0) const;

private:
    mutable std::mutex m_mutex;
    BootRecord m_record;  // all but the console, which copy() fills from:
    std::string m_console;
    uint64_t m_console_dropped = 0;
    struct OpenCall {
        size_t index;
        uint64_t address, start_virtual_ns, start_instructions;
    };
    std::vector<OpenCall> m_open_initcalls;
};

}  // namespace bootsim::gui
