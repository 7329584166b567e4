#include "core/machine.h"

#include <condition_variable>
#include <thread>

namespace bootsim {

Result<std::unique_ptr<Machine>> Machine::create(uint64_t mem_size, EventSink& sink)
{
    std::unique_ptr<Machine> machine(new Machine(sink));
    auto memory = GuestMemory::create(mem_size);
    if (!memory)
        return memory.error();
    machine->m_memory.reset(*memory);
    auto cpu = Cpu::create(*machine->m_memory, *machine);
    if (!cpu)
        return cpu.error();
    machine->m_cpu = std::move(*cpu);
    return machine;
}

Machine::~Machine() = default;

uint64_t Machine::wall_ns() const
{
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - m_start)
                        .count());
}

uint64_t Machine::now_ns() const
{
    return wall_ns() + m_skipped_ns;
}

void Machine::emit(BootEvent event)
{
    event.wall_ns = wall_ns();
    event.virtual_ns = event.wall_ns + m_skipped_ns;
    m_sink.on_event(event);
}

Status Machine::load(const BootPlan& plan)
{
    for (const Region& region : plan.regions) {
        if (!m_memory->contains(region.guest_address, region.size) || region.bytes.size() > region.size)
            return make_error(ErrorKind::DoesNotFit, "region \"{}\" at {:#x} ({} bytes) does not fit in {} MiB of RAM",
                              region.name, region.guest_address, region.size, m_memory->size() >> 20);
        m_memory->write(region.guest_address, region.bytes.data(), region.bytes.size());
        emit({.kind = EventKind::RegionPlaced, .address = region.guest_address, .size = region.size,
              .value = uint64_t(region.role), .text = region.name});
    }
    TRY(m_cpu->load_entry_state(plan.entry));
    m_tracker.emplace(PhaseHints{plan.load_address, plan.loaded_size, plan.load_address + plan.init_size,
                                 plan.kernel_alignment});
    enter_phase(Phase::Loaded, plan.entry.rip);
    return Ok{};
}

void Machine::enter_phase(Phase phase, uint64_t address)
{
    m_phase = phase;
    emit({.kind = EventKind::PhaseEntered, .phase = phase, .address = address});
    if (m_stop_at && *m_stop_at == phase)
        m_stop_for_phase = true;
}

void Machine::request_stop(RunEnd end, std::string reason)
{
    {
        std::lock_guard lock(m_stop_mutex);
        if (m_stop_pending.load())
            return;  // the first reason wins
        m_stop_end = end;
        m_stop_reason = std::move(reason);
    }
    m_stop_pending.store(true);
    m_cpu->request_stop();
}

bool Machine::on_block(uint64_t address)
{
    if (auto change = m_tracker->on_block(address)) {
        if (change->what == PhaseChange::What::DecompressorMoved)
            emit({.kind = EventKind::DecompressorMoved, .phase = m_phase, .address = change->address});
        else
            enter_phase(change->phase, change->address);
    }
    return m_stop_for_phase || m_stop_pending.load(std::memory_order_relaxed);
}

void Machine::on_exception(uint8_t vector, uint64_t rip, uint32_t error_code)
{
    ++m_exceptions;
    emit({.kind = EventKind::ExceptionDelivered, .phase = m_phase, .address = rip, .value = error_code,
          .text = std::to_string(vector)});
}

uint32_t Machine::port_read(uint16_t port, unsigned width)
{
    return m_io.read(port, width);
}

void Machine::port_write(uint16_t port, uint32_t value, unsigned width)
{
    m_io.write(port, value, width);
}

RunOutcome Machine::run(const RunLimits& limits)
{
    m_stop_at = limits.stop_at;
    if (m_stop_at && *m_stop_at == m_phase)
        return {RunEnd::StopPhase, fmt::format("reached phase {}", phase_name(m_phase))};

    // The watchdog only raises a flag; the CPU stops at the next block
    // boundary, the one place a stop is clean.
    std::mutex watchdog_mutex;
    std::condition_variable watchdog_cv;
    bool finished = false;
    std::thread watchdog;
    if (limits.timeout_seconds > 0) {
        watchdog = std::thread([&] {
            std::unique_lock lock(watchdog_mutex);
            auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(limits.timeout_seconds));
            if (!watchdog_cv.wait_until(lock, deadline, [&] { return finished; }))
                request_stop(RunEnd::Timeout, fmt::format("timed out after {:g} s", limits.timeout_seconds));
        });
    }

    RunOutcome outcome{RunEnd::EmulatorError, "?"};
    for (;;) {
        CpuRunResult r = m_cpu->run();
        if (r.stop == CpuStop::Requested) {
            if (m_stop_pending.load()) {
                std::lock_guard lock(m_stop_mutex);
                outcome = {m_stop_end, m_stop_reason};
                break;
            }
            if (m_stop_for_phase) {
                m_stop_for_phase = false;
                outcome = {RunEnd::StopPhase, fmt::format("reached phase {}", phase_name(m_phase))};
                break;
            }
            continue;  // a stale request from an earlier run
        }
        if (r.stop == CpuStop::TripleFault) {
            outcome = {RunEnd::TripleFault, r.detail};
            break;
        }
        if (r.stop == CpuStop::Failed) {
            outcome = {RunEnd::EmulatorError, r.detail};
            break;
        }
        // Halted.
        CpuState s = m_cpu->state();
        if (!(s.rflags & (1 << 9))) {
            outcome = {RunEnd::Halted, fmt::format("the guest halted with interrupts disabled at rip {:#x}", s.rip - 1)};
            break;
        }
        outcome = {RunEnd::Idle, fmt::format("the guest waits for an interrupt at rip {:#x} and nothing will raise one",
                                             s.rip - 1)};
        break;
    }

    if (watchdog.joinable()) {
        {
            std::lock_guard lock(watchdog_mutex);
            finished = true;
        }
        watchdog_cv.notify_all();
        watchdog.join();
    }
    // A request that raced with another ending must not leak into the next run.
    m_stop_pending.store(false);
    return outcome;
}

}  // namespace bootsim
