#pragma once
// The machine: guest RAM, the CPU, the port-I/O bus and the devices a board
// attached to it, the phase tracker, and the run loop. It never prints: it
// reports everything as BootEvents to its sink.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/boot_event.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/guest_memory.h"
#include "core/io_bus.h"
#include "core/phase_tracker.h"
#include "loader/boot_plan.h"

namespace bootsim {

enum class RunEnd {
    StopPhase,     // --stop-at reached
    StopRequested, // someone asked (an --expect matched, a verification failed, the user)
    Halted,        // the guest halted with interrupts off, for good
    Idle,          // the guest waits for an interrupt nothing will ever raise
    TripleFault,
    Reset,         // the guest asked the board to reset
    PowerOff,
    Timeout,
    EmulatorError,
    CheckFailed,   // bootsim's own check of the guest (the handoff verification) failed
    ExpectMatched, // every --expect pattern appeared on the console
};

struct RunOutcome {
    RunEnd end;
    std::string reason;  // one line
};

struct RunLimits {
    std::optional<Phase> stop_at;
    double timeout_seconds = 0;  // 0: none
};

class Machine final : public CpuClient, public Clock {
public:
    static Result<std::unique_ptr<Machine>> create(uint64_t mem_size, EventSink& sink);
    ~Machine() override;

    GuestMemory& memory() { return *m_memory; }
    IoBus& io() { return m_io; }
    Cpu& cpu() { return *m_cpu; }
    Phase phase() const { return m_phase; }

    // Registers a device whose time-driven behaviour the run loop services.
    void add_timed_device(TimedDevice& device) { m_timed.push_back(&device); }

    // Writes the plan's regions into guest RAM and sets the entry state.
    Status load(const BootPlan& plan);

    RunOutcome run(const RunLimits& limits);

    // Thread-safe; the run ends with `end` and `reason` at the next block boundary.
    void request_stop(RunEnd end, std::string reason);

    // Emits an event stamped with the current times.
    void emit(BootEvent event);

    // Clock: guest time in ns since the machine started.
    uint64_t now_ns() const override;
    uint64_t wall_ns() const;

    // CpuClient
    uint32_t port_read(uint16_t port, unsigned width) override;
    void port_write(uint16_t port, uint32_t value, unsigned width) override;
    bool on_block(uint64_t address) override;
    void on_exception(uint8_t vector, uint64_t rip, uint32_t error_code) override;

private:
    Machine(EventSink& sink) : m_sink(sink) {}
    void enter_phase(Phase phase, uint64_t address);

    EventSink& m_sink;
    std::unique_ptr<GuestMemory> m_memory;
    std::unique_ptr<Cpu> m_cpu;
    IoBus m_io;
    std::vector<TimedDevice*> m_timed;
    std::optional<PhaseTracker> m_tracker;
    Phase m_phase = Phase::Loaded;
    std::optional<Phase> m_stop_at;
    bool m_stop_for_phase = false;

    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    uint64_t m_skipped_ns = 0;  // idle time jumped over

    std::atomic<bool> m_stop_pending{false};
    std::mutex m_stop_mutex;  // guards m_stop_end and m_stop_reason
    RunEnd m_stop_end = RunEnd::StopRequested;
    std::string m_stop_reason;
    uint64_t m_exceptions = 0;
};

}  // namespace bootsim
