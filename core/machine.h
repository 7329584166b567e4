#pragma once
// The machine: guest RAM, the CPU, the port-I/O bus and the devices a board
// attached to it, the phase tracker, and the run loop. It never prints: it
// reports everything as BootEvents to its sink.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/boot_event.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/guest_memory.h"
#include "core/interrupt_controller.h"
#include "core/io_bus.h"
#include "core/phase_tracker.h"
#include "core/boot_plan.h"

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
    Panic,         // the kernel panicked
    CheckFailed,   // bootsim's own check of the guest (the handoff verification) failed
    ExpectMatched, // every --expect pattern appeared on the console
    Interrupted,   // SIGINT or SIGTERM
    InstructionBudget, // RunLimits::max_instructions retired
    Breakpoint,    // a breakpoint (set_breakpoint) was reached
    Stepped,       // step() ran its instruction
};

// Emitted with EventKind::Interrupt: value = vector.
struct RunOutcome {
    RunEnd end;
    std::string reason;  // one line
};

struct RunLimits {
    std::optional<Phase> stop_at;
    bool stop_at_next_phase = false;  // stop when any phase is entered
    double timeout_seconds = 0;       // 0: none
    uint64_t max_instructions = 0;    // end after this many guest instructions in all; 0: none
};

class Machine final : public CpuClient, public Clock {
public:
    static Result<std::unique_ptr<Machine>> create(uint64_t mem_size, EventSink& sink);
    ~Machine() override;

    GuestMemory& memory() { return *m_memory; }
    IoBus& io() { return m_io; }
    Cpu& cpu() { return *m_cpu; }
    Phase phase() const { return m_phase; }
    // Whether the boot got to `phase` at some point of this run.
    bool reached(Phase phase) const { return m_reached[size_t(phase)]; }

    // Registers a device whose time-driven behaviour the run loop services.
    void add_timed_device(TimedDevice& device) { m_timed.push_back(&device); }
    // The firmware that answers a real-mode guest's service calls (INT n).
    void set_firmware(Firmware& firmware) { m_firmware = &firmware; }
    // The controller whose INTR output the CPU takes interrupts from.
    void set_interrupt_controller(InterruptController& controller) { m_interrupts = &controller; }
    // The INTR line changed (any thread): the CPU looks at it at the next
    // block boundary.
    void interrupt_line_changed() { m_cpu->request_stop(); }

    // Runs `work` on the CPU thread every time the run loop stops the CPU
    // (timer ticks, interrupts, posted work).
    void add_service(std::function<void()> service) { m_services.push_back(std::move(service)); }

    // Runs `work` on the CPU thread at the next block boundary (any thread).
    void post(std::function<void()> work);
    // Whether something outside (a console on stdin, the GUI) may still post
    // work: an idle guest then waits for it instead of ending the run.
    void set_input_open(bool open);

    // Guest code addresses to watch: when one is about to run, `handler` is
    // called on the CPU thread. Returning true stops the CPU exactly there;
    // work the handler posted then runs before the guest continues (or the
    // run ends, if the handler called request_stop()).
    using WatchHandler = std::function<bool()>;
    void watch(uint64_t address, WatchHandler handler);
    void unwatch(uint64_t address);
    // The guest-virtual address of a variable holding the base of the
    // kernel's direct map of physical memory (Linux: page_offset_base).
    // With it, device DMA into RAM drops the translated code of the pages
    // written, so a program read from disk into a reused page runs as read.
    void set_direct_map_variable(uint64_t address) { m_direct_map_variable = address; }

    // The running kernel was replaced by another copy of itself at other
    // addresses (a hibernation image restored: its KASLR offsets are its
    // own): drops every watch, which the old addresses made meaningless,
    // and from here on checks every store for code changes, since the
    // watches on the kernel's code patching are gone with them. Emits a
    // note with `reason`. CPU thread, outside hooks.
    void forget_kernel(const std::string& reason);

    // Set before the handoff when something watches the kernel's own code
    // patching (KernelWatch): then guest stores need no per-store checks.
    void set_code_patching_watched(bool watched) { m_code_patching_watched = watched; }

    // Writes the plan's regions into guest RAM and sets the entry state.
    Status load(const BootPlan& plan);

    RunOutcome run(const RunLimits& limits);

    // Runs one guest instruction and stops before the next one (RunEnd::Stepped).
    // An interrupt pending and accepted first makes the "next instruction"
    // the first of its handler, as on a real CPU with a debugger attached.
    RunOutcome step();

    // A debugger's breakpoint: the run ends (RunEnd::Breakpoint) just before
    // the instruction at the guest-virtual `address` runs. Independent of
    // watch(), which may watch the same address. Not from inside a hook.
    void set_breakpoint(uint64_t address);
    void clear_breakpoint(uint64_t address);
    // A debugger's watchpoint on guest-virtual [address, address + length):
    // an access of that kind ends the run (RunEnd::Breakpoint) at the next
    // block boundary, and watchpoint_hit() says where. False when the CPU
    // could not hook it. Not from inside a hook.
    bool set_watchpoint(uint64_t address, uint64_t length, DataWatchKind kind);
    void clear_watchpoint(uint64_t address, uint64_t length, DataWatchKind kind);
    struct WatchpointHit { uint64_t address; bool write; };
    // The access that ended the last run, if a watchpoint did.
    std::optional<WatchpointHit> watchpoint_hit() const { return m_watchpoint_hit; }

    // Guest time from now on follows the instructions retired, at
    // `instructions_per_second`, instead of the host clock: timers, the TSC
    // (RDTSC answered by the CPU, Cpu::emulate_tsc), idle skipping and the
    // RTC all follow it, RDRAND and RDSEED are hidden, and the decompressor
    // runs under the block hook (its instructions counted), so the same
    // inputs give the same run on any host, however loaded. Before the
    // first run.
    void make_deterministic(uint64_t instructions_per_second);
    bool deterministic() const { return m_instructions_per_second != 0; }
    // Whether the time a halted guest waits for its next timer is skipped
    // (the default: the clock jumps to the deadline) or waited out in real
    // time, as QEMU does; a deterministic run always skips. Before a run.
    void set_idle_skipping(bool on) { m_idle_skipping = on; }
    bool idle_skipping() const { return m_idle_skipping || deterministic(); }
    // Something outside the guest will answer soon in host time (a network
    // peer the guest just sent to): for `host_ns` from now a halted guest
    // waits in real time instead of skipping to its next timer, so the
    // answer is not overtaken by a timeout the skip would bring forward.
    // Any thread.
    void hold_real_time(uint64_t host_ns);
    uint64_t instructions() const { return m_cpu->instructions(); }
    // Counts guest instructions from now on (deterministic runs always do).
    void count_instructions() { m_cpu->count_instructions(); }
    bool counting_instructions() const { return m_cpu->counting_instructions(); }

    // Freezes guest time (the clock and the TSC) while nothing runs, so a
    // guest paused in a debugger does not see the pause as time passed.
    // Call on the CPU thread, between runs.
    void freeze_clock();
    void thaw_clock();

    // Translated blocks entered under the block hook so far: the visualizer's
    // measure of execution speed. Read on the CPU thread.
    uint64_t blocks_executed() const { return m_cpu->blocks(); }
    // Port I/O the guest did (each IN or OUT is an exit from translated code).
    uint64_t port_reads() const { return m_port_reads; }
    // Times the CPU left translated code to come back to the run loop (a
    // stop for timers, interrupts, posted work, a halt): each costs far
    // more than a block, so it is a measure of overhead.
    uint64_t cpu_stops() const { return m_cpu_stops; }
    uint64_t port_writes() const { return m_port_writes; }

    // Thread-safe; the run ends with `end` and `reason` at the next block
    // boundary (or at once, mid-block, in the fast decompression window:
    // the guest must not be resumed after such an end).
    void request_stop(RunEnd end, std::string reason);
    // Thread-safe; a stop the guest resumes from (RunEnd::StopRequested):
    // always at a block boundary, so in the fast decompression window it
    // waits for the decompressor's jump to the kernel.
    void request_pause(std::string reason);
    // Whether the decompressor runs unhooked right now (a pause waits).
    bool in_fast_window() const { return m_in_fast_window.load(); }

    // Async-signal-safe: ends the run (RunEnd::Interrupted) at the next
    // block boundary; for SIGINT and SIGTERM handlers.
    void interrupt_from_signal();

    // While the decompressor runs from its relocated copy, leave that copy
    // out of the block hook (twice the speed for an XZ payload). The cost:
    // a pause waits for the end of decompression, and an end requested
    // meanwhile (timeout, SIGINT) stops the CPU mid-block. Stepping there
    // hooks the copy again until the next run. On by default; call between
    // runs.
    void set_fast_decompression(bool fast);

    // Emits an event stamped with the current times.
    void emit(BootEvent event);

    // Enters a phase shown by evidence outside the tracker (kernel
    // functions); `evidence` says what showed it, for the log and the report.
    void enter_phase(Phase phase, uint64_t address, std::string evidence);
    PhaseTracker& tracker() { return *m_tracker; }

    // Clock: guest time in ns since the machine started.
    uint64_t now_ns() const override;
    // Host time the machine has spent running (frozen spans left out): the
    // time stamps of the boot log and the timeline.
    uint64_t wall_ns() const;

    // CpuClient
    uint32_t port_read(uint16_t port, unsigned width) override;
    void port_write(uint16_t port, uint32_t value, unsigned width) override;
    // No device of this board decodes memory: outside RAM a read floats to
    // all ones and a write goes nowhere, as on a PC with nothing at that
    // address. Counted, and the first of each kind noted in the event stream.
    uint64_t mmio_read(uint64_t address, unsigned width) override;
    void mmio_write(uint64_t address, uint64_t value, unsigned width) override;
    uint64_t mmio_reads() const { return m_mmio_reads; }
    uint64_t mmio_writes() const { return m_mmio_writes; }
    bool on_block(uint64_t address) override;
    void on_exception(uint8_t vector, uint64_t rip, uint32_t error_code) override;
    bool on_watch(uint64_t address) override;
    uint64_t guest_tsc() override { return tsc_ticks(now_ns()); }
    bool on_real_mode_interrupt(RealModeCall& call) override;
    void on_data_watch(uint64_t address, bool write) override;

private:
    Machine(EventSink& sink) : m_sink(sink) {}
    void run_posted_work();
    // Where the decompressor's copy of itself starts, found in RAM when the
    // CPU first runs in it at `running_at` (nullopt: not found).
    std::optional<uint64_t> find_moved_copy(uint64_t running_at) const;
    void service_timers();
    void deliver_interrupt();
    // Tells the CPU which blocks on_block() must see: all while a step, a
    // refused interrupt or a phase stop waits on one; else only those the
    // phase tracker can still learn from.
    void update_client_blocks();
    uint64_t next_deadline() const;
    // The guest halted with interrupts on: skip virtual time to the next
    // timer event (moving the TSC with it), or wait for posted work.
    // Returns false when nothing can ever wake the guest.
    bool idle();
    // How much longer hold_real_time() holds (0: not held).
    uint64_t held_real_time_ns() const;
    void ticker_main();
    void rearm_ticker();
    uint64_t tsc_ticks(uint64_t ns) const;
    uint64_t host_ns() const;  // since the machine was created, frozen or not

    EventSink& m_sink;
    std::unique_ptr<GuestMemory> m_memory;
    std::unique_ptr<Cpu> m_cpu;
    IoBus m_io;
    std::vector<TimedDevice*> m_timed;
    std::optional<PhaseTracker> m_tracker;
    Phase m_phase = Phase::Loaded;
    std::array<bool, all_phases.size()> m_reached{};
    std::optional<Phase> m_stop_at;
    bool m_stop_at_next_phase = false;
    bool m_stop_for_phase = false;

    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    uint64_t m_skipped_ns = 0;  // idle time jumped over

    std::atomic<bool> m_stop_pending{false};
    std::mutex m_stop_mutex;  // guards m_stop_end and m_stop_reason
    RunEnd m_stop_end = RunEnd::StopRequested;
    std::string m_stop_reason;

    InterruptController* m_interrupts = nullptr;
    bool m_interrupt_waiting = false;  // pending, but the CPU had interrupts off
    uint64_t m_interrupt_refused_at = 0;  // where: that block runs before the next try
    uint64_t m_interrupt_refused_blocks = 0;  // Cpu::blocks() then
    std::vector<std::function<void()>> m_services;

    // Posted work and the idle wait for it.
    std::mutex m_post_mutex;
    std::condition_variable m_post_cv;
    std::deque<std::function<void()>> m_posted;
    bool m_input_open = false;

    // The ticker thread stops the CPU when the earliest timer deadline passes
    // in host time.
    std::thread m_ticker;
    std::mutex m_ticker_mutex;
    std::condition_variable m_ticker_cv;
    uint64_t m_ticker_deadline = TimedDevice::never;  // guest ns
    bool m_ticker_quit = false;

    double m_tsc_per_ns = 0;  // host TSC ticks per nanosecond (the guest's, when deterministic)
    uint64_t m_instructions_per_second = 0;  // deterministic: guest time from instructions
    bool m_idle_skipping = true;
    std::atomic<uint64_t> m_real_time_until{0};  // host_ns(): hold_real_time
    uint64_t m_max_instructions = 0;         // this run's budget
    // The instruction count at which guest time reaches `ns` (deterministic).
    uint64_t instructions_at(uint64_t ns) const;

    std::map<uint64_t, WatchHandler> m_watches;
    std::set<uint64_t> m_breakpoints;
    std::optional<WatchpointHit> m_watchpoint_hit;
    // step(): where it started, and whether the CPU has left that spot.
    std::optional<uint64_t> m_step_from;
    bool m_step_left_origin = false;
    bool stop_for_step(uint64_t address);
    uint64_t m_port_reads = 0, m_port_writes = 0;
    uint64_t m_cpu_stops = 0;
    uint64_t m_mmio_reads = 0, m_mmio_writes = 0;
    // Host time the guest clock did not count (freeze_clock); atomics
    // because the ticker thread reads the clock too.
    std::atomic<uint64_t> m_frozen_ns{0};
    static constexpr uint64_t not_frozen = ~0ull;
    std::atomic<uint64_t> m_frozen_since{not_frozen};  // host_ns() at freeze_clock()
    bool m_code_patching_watched = false;
    bool m_awaiting_long_mode = false;  // the entry was before long mode, and it has not come yet
    bool m_awaiting_protected_mode = false;  // the same for protected mode (the real-mode entry)
    Firmware* m_firmware = nullptr;
    uint64_t m_direct_map_variable = 0;
    std::vector<std::pair<uint64_t, uint64_t>> m_dma_written;  // guest-physical ranges since the last stop
    void invalidate_dma_writes();
    bool m_fast_decompression = true;
    std::optional<std::pair<uint64_t, uint64_t>> m_fast_range;  // the decompressor's copy, until the handoff
    std::atomic<bool> m_in_fast_window{false};
    void enter_fast_window();
    void leave_fast_window();
    bool set_stop(RunEnd end, std::string reason);
    std::atomic<bool> m_signalled{false};  // the decompressor's copy is out of the block hook
};

}  // namespace bootsim
