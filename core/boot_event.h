#pragma once
// The machine never prints: it emits BootEvents, and every front end
// (console, GUI, trace, report) consumes the one stream.

#include <cstdint>
#include <string>
#include <vector>

#include "core/phase.h"

namespace bootsim {

enum class EventKind {
    RegionPlaced,       // a BootPlan region written to guest RAM: text = role/name, address, size
    PhaseEntered,       // phase, address = RIP that showed it
    DecompressorMoved,  // the decompressor runs from its relocated copy: address = where
    SerialOutput,       // text = bytes the guest wrote to the console UART
    ExceptionDelivered, // vector, address = RIP, value = error code
    GuestHalted,        // HLT with nothing to wake the CPU
    Interrupt,          // an external interrupt delivered: value = vector, address = RIP
    IdleSkip,           // the guest idled: size = virtual ns skipped
    DiskIo,             // a disk request: text = kind, address = first sector, size = bytes, value = 1 if ok
    InitcallStarted,    // the kernel calls an initcall: text = its name, address = the function
    InitcallReturned,   // it returned: text, address as at the start, value = its return value (int)
    Note,               // text: anything worth a line in the log
};

struct BootEvent {
    EventKind kind = EventKind::Note;
    uint64_t virtual_ns = 0;  // guest time
    uint64_t wall_ns = 0;     // host time since the machine started
    uint64_t instructions = 0;  // guest instructions retired before it
    Phase phase = Phase::Loaded;
    uint64_t address = 0;
    uint64_t size = 0;
    uint64_t value = 0;
    std::string text = {};
};

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void on_event(const BootEvent& event) = 0;
};

}  // namespace bootsim

namespace bootsim {

// Forwards every event to each of its consumers, in the order added.
class EventFanout final : public EventSink {
public:
    void add(EventSink& sink) { m_sinks.push_back(&sink); }
    void on_event(const BootEvent& event) override
    {
        for (EventSink* sink : m_sinks)
            sink->on_event(event);
    }

private:
    std::vector<EventSink*> m_sinks;
};

}  // namespace bootsim
