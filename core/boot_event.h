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
    IdleSkip,           // the guest idled: size = virtual ns skipped (0: it waits in real time)
    DiskIo,             // a disk request: text = kind, address = first sector, size = bytes, value = 1 if ok
    InitcallStarted,    // the kernel calls an initcall: text = its name, address = the function
    InitcallReturned,   // it returned: text, address as at the start, value = its return value (int)
    Note,               // text: anything worth a line in the log
    BootStep,           // a step on the way to the real root: text = what, value = BootStepKind
    FirmwareCall,       // a real-mode BIOS service call: text = the service, value = vector << 16 | AX,
                        // size = 1 if the firmware has it (0: answered as absent)
    CpuModeChanged,     // the CPU changed mode: text = the new mode ("protected", "long"), address = RIP
};

// What the kernel and early user space do to reach the real root, each seen
// in the machine's own evidence (kernel functions, system calls): the
// vocabulary of the report's "steps" and the visualizer's list of them.
enum class BootStepKind : uint64_t {
    Module,        // a module's init runs (do_init_module)
    BlockDevice,   // the kernel adds a disk (device_add_disk), or a disk's size is set
    DeviceMapper,  // a device-mapper table is loaded (LVM, multipath, ...)
    RaidArray,     // an md array starts (its size is set: assembled, whole or degraded)
    Unlock,        // a dm-crypt table is loaded: the passphrase or key opened a LUKS volume
    Mount,         // a device is mounted
    Hibernate,     // the kernel writes a hibernation image
    Resume,        // the kernel reads a hibernation image and restores it
    NetworkDevice, // a network card's driver made it ready (virtio-net DRIVER_OK)
    DhcpLease,     // a DHCP server acknowledged the guest's lease
};

inline const char* boot_step_name(BootStepKind kind)
{
    switch (kind) {
    case BootStepKind::Module: return "module";
    case BootStepKind::BlockDevice: return "block-device";
    case BootStepKind::DeviceMapper: return "device-mapper";
    case BootStepKind::RaidArray: return "raid-array";
    case BootStepKind::Unlock: return "unlock";
    case BootStepKind::Mount: return "mount";
    case BootStepKind::Hibernate: return "hibernate";
    case BootStepKind::Resume: return "resume";
    case BootStepKind::NetworkDevice: return "network-device";
    case BootStepKind::DhcpLease: return "dhcp-lease";
    }
    return "step";
}

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
