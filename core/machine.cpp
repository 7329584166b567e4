#include "core/machine.h"

#include <cstring>

#include <x86intrin.h>

namespace bootsim {

namespace {
// Host TSC ticks per nanosecond, measured against the monotonic clock: the
// guest's TSC runs at the host's rate (Unicorn 2.1.1's RDTSC is host TSC
// plus an offset), and skipping idle time must move it by the same amount.
double measure_tsc_per_ns()
{
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    uint64_t c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto t1 = clock::now();
    uint64_t c1 = __rdtsc();
    double ns = double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    return ns > 0 ? double(c1 - c0) / ns : 1.0;
}
}  // namespace

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
    machine->m_tsc_per_ns = measure_tsc_per_ns();
    machine->m_memory->set_write_observer([m = machine.get()](uint64_t address, uint64_t length) {
        if (m->m_direct_map_variable) {
            m->m_dma_written.emplace_back(address, length);
            m->m_cpu->request_stop();
        }
    });
    machine->m_ticker = std::thread([m = machine.get()] { m->ticker_main(); });
    return machine;
}

Machine::~Machine()
{
    {
        std::lock_guard lock(m_ticker_mutex);
        m_ticker_quit = true;
    }
    m_ticker_cv.notify_all();
    if (m_ticker.joinable())
        m_ticker.join();
}

uint64_t Machine::host_ns() const
{
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - m_start)
                        .count());
}

uint64_t Machine::wall_ns() const
{
    uint64_t host = host_ns();
    uint64_t since = m_frozen_since.load(std::memory_order_relaxed);
    if (since != not_frozen)
        host = since;  // frozen: time stands still
    return host - m_frozen_ns.load(std::memory_order_relaxed);
}

uint64_t Machine::now_ns() const
{
    if (m_instructions_per_second)
        return uint64_t((unsigned __int128)m_cpu->instructions() * 1'000'000'000u / m_instructions_per_second) +
               m_skipped_ns;
    return wall_ns() + m_skipped_ns;
}

uint64_t Machine::instructions_at(uint64_t ns) const
{
    if (ns == TimedDevice::never)
        return ~0ull;
    if (ns <= m_skipped_ns)
        return 0;
    unsigned __int128 scaled = (unsigned __int128)(ns - m_skipped_ns) * m_instructions_per_second;
    return uint64_t((scaled + 999'999'999u) / 1'000'000'000u);
}

void Machine::make_deterministic(uint64_t instructions_per_second)
{
    m_instructions_per_second = instructions_per_second;
    // The guest's TSC runs at a fixed 2 GHz of guest time.
    m_tsc_per_ns = 2.0;
    m_cpu->emulate_tsc();
    m_cpu->hide_random_instructions();
    // Every instruction is counted: none runs outside the block hook.
    set_fast_decompression(false);
}

void Machine::freeze_clock()
{
    if (m_frozen_since.load() == not_frozen)
        m_frozen_since.store(host_ns());
}

void Machine::thaw_clock()
{
    uint64_t since = m_frozen_since.load();
    if (since == not_frozen)
        return;
    uint64_t frozen = host_ns() - since;
    m_frozen_ns.fetch_add(frozen);
    m_frozen_since.store(not_frozen);
    if (m_instructions_per_second)
        return;  // guest time never followed the host's
    // The TSC is the host's plus an offset: take the frozen span back out
    // (unsigned arithmetic: adding the two's complement subtracts).
    m_cpu->advance_tsc(0 - tsc_ticks(frozen));
}

uint64_t Machine::tsc_ticks(uint64_t ns) const
{
    return uint64_t(double(ns) * m_tsc_per_ns);
}

void Machine::emit(BootEvent event)
{
    // Emitters outside the machine (the board, the watches) leave the
    // phase unset: the event happened in the current one.
    if (event.phase == Phase::Loaded)
        event.phase = m_phase;
    event.wall_ns = wall_ns();
    event.virtual_ns = now_ns();
    event.instructions = m_cpu->instructions();
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
    // An entry before long mode: the decompressor switches to it itself,
    // and the log says where (checked per block until then: startup_32's
    // few thousand blocks).
    m_awaiting_long_mode = plan.entry.mode != EntryMode::Long64 && plan.kernel_64bit;
    m_awaiting_protected_mode = plan.entry.mode == EntryMode::Real16;
    PhaseHints hints{plan.load_address, plan.loaded_size, plan.load_address + plan.init_size,
                     plan.entry.mode == EntryMode::Real16};
    if (!plan.kernel_64bit)
        hints.kernel_virtual_base = hints.user_space_end = default_page_offset_32;
    m_tracker.emplace(hints);
    // Real mode's entry is CS:IP: the address is where that is.
    uint64_t entry = plan.entry.mode == EntryMode::Real16 ? (uint64_t(plan.entry.cs) << 4) + plan.entry.rip : plan.entry.rip;
    enter_phase(Phase::Loaded, entry, "the boot plan was written to guest RAM");
    return Ok{};
}

void Machine::enter_phase(Phase phase, uint64_t address, std::string evidence)
{
    m_phase = phase;
    m_reached[size_t(phase)] = true;
    // Consumers run first: at the handoff they may arm kernel watches.
    emit({.kind = EventKind::PhaseEntered, .phase = phase, .address = address, .text = std::move(evidence)});
    if ((m_stop_at && *m_stop_at == phase) || m_stop_at_next_phase) {
        m_stop_for_phase = true;
        m_cpu->request_stop();  // entered from a watch, not a block: stop at the next block
    }
    if (phase == Phase::Handoff) {
        // The first block outside the decompressor's copy: hook every block again.
        m_fast_range.reset();
        if (m_in_fast_window)
            post([this] { leave_fast_window(); });
    }
    if (phase == Phase::Handoff) {
        // From the kernel on, every store takes the checked path so that the
        // kernel's patching of its own text through a second mapping is seen.
        // Only the decompressor's blocks were translated before, and they
        // never run again, so no flush is needed. Hooks change between runs,
        // never inside a block: the run loop does it at the next stop.
        // Unless the kernel's own patching functions are watched
        // (kernel_watch.h), which costs nothing per store.
        if (!m_code_patching_watched)
            post([this] { m_cpu->track_self_modifying_code(); });
    }
}

bool Machine::set_stop(RunEnd end, std::string reason)
{
    {
        std::lock_guard lock(m_stop_mutex);
        if (m_stop_pending.load())
            return false;  // the first reason wins
        m_stop_end = end;
        m_stop_reason = std::move(reason);
    }
    m_stop_pending.store(true);
    m_cpu->request_stop();
    m_post_cv.notify_all();
    return true;
}

void Machine::request_stop(RunEnd end, std::string reason)
{
    // No block hook runs in the decompressor's copy: stop it the hard way.
    // The run is ending, so the half-done block does not matter.
    if (set_stop(end, std::move(reason)) && m_in_fast_window)
        m_cpu->abort();
}

void Machine::request_pause(std::string reason)
{
    set_stop(RunEnd::StopRequested, std::move(reason));
}

void Machine::set_fast_decompression(bool fast)
{
    m_fast_decompression = fast;
    if (!fast)
        leave_fast_window();
}

void Machine::enter_fast_window()
{
    if (m_in_fast_window || !m_fast_range || !m_fast_decompression)
        return;
    m_cpu->exclude_from_block_hook(m_fast_range);
    m_in_fast_window = true;
}

void Machine::leave_fast_window()
{
    if (!m_in_fast_window)
        return;
    m_cpu->exclude_from_block_hook(std::nullopt);
    m_in_fast_window = false;
}

void Machine::interrupt_from_signal()
{
    // Only atomics here: the reason is filled in by the run loop.
    m_signalled.store(true);
    m_cpu->request_stop();
    if (m_in_fast_window)
        m_cpu->abort();
}

void Machine::post(std::function<void()> work)
{
    {
        std::lock_guard lock(m_post_mutex);
        m_posted.push_back(std::move(work));
    }
    m_post_cv.notify_all();
    m_cpu->request_stop();
}

void Machine::set_input_open(bool open)
{
    {
        std::lock_guard lock(m_post_mutex);
        m_input_open = open;
    }
    m_post_cv.notify_all();
}

void Machine::run_posted_work()
{
    std::deque<std::function<void()>> work;
    {
        std::lock_guard lock(m_post_mutex);
        work.swap(m_posted);
    }
    for (auto& w : work)
        w();
    for (auto& service : m_services)
        service();
    invalidate_dma_writes();
}

void Machine::invalidate_dma_writes()
{
    if (m_dma_written.empty())
        return;
    uint64_t base = 0;
    if (m_cpu->read_virtual(m_direct_map_variable, &base, 8) && base) {
        for (auto [address, length] : m_dma_written)
            m_cpu->invalidate_code(base + address, length);
    }
    m_dma_written.clear();
}

void Machine::watch(uint64_t address, WatchHandler handler)
{
    m_watches[address] = std::move(handler);
    m_cpu->add_watch(address);
}

void Machine::unwatch(uint64_t address)
{
    m_watches.erase(address);
    if (!m_breakpoints.count(address))
        m_cpu->remove_watch(address);
}

void Machine::forget_kernel(const std::string& reason)
{
    while (!m_watches.empty())
        unwatch(m_watches.begin()->first);
    m_direct_map_variable = 0;
    m_code_patching_watched = false;
    m_cpu->track_self_modifying_code();
    m_cpu->invalidate_all_code();
    emit({.kind = EventKind::Note,
          .text = reason + ": the kernel's symbols no longer locate its code, so its watches are dropped "
                           "and every store is checked for code changes from here on"});
}

void Machine::set_breakpoint(uint64_t address)
{
    m_breakpoints.insert(address);
    m_cpu->add_watch(address);
}

void Machine::clear_breakpoint(uint64_t address)
{
    m_breakpoints.erase(address);
    if (!m_watches.count(address))
        m_cpu->remove_watch(address);
}

bool Machine::set_watchpoint(uint64_t address, uint64_t length, DataWatchKind kind)
{
    return m_cpu->add_data_watch(address, length, kind);
}

void Machine::clear_watchpoint(uint64_t address, uint64_t length, DataWatchKind kind)
{
    m_cpu->remove_data_watch(address, length, kind);
}

void Machine::on_data_watch(uint64_t address, bool write)
{
    if (m_watchpoint_hit)
        return;  // the first access of the run is the one reported
    m_watchpoint_hit = WatchpointHit{address, write};
    request_stop(RunEnd::Breakpoint, fmt::format("watchpoint: {} at {:#x}", write ? "write" : "read", address));
}

bool Machine::on_watch(uint64_t address)
{
    // The step's watch covers the bytes after the instruction stepped.
    if (m_step_from && address != *m_step_from)
        return stop_for_step(address);
    bool stop = false;
    if (auto it = m_watches.find(address); it != m_watches.end()) {
        // Copy: the handler may unwatch itself.
        WatchHandler handler = it->second;
        stop = handler();
    }
    if (m_breakpoints.count(address)) {
        request_stop(RunEnd::Breakpoint, fmt::format("breakpoint at {:#x}", address));
        stop = true;
    }
    return stop || m_stop_pending.load(std::memory_order_relaxed);
}

bool Machine::stop_for_step(uint64_t address)
{
    request_stop(RunEnd::Stepped, fmt::format("stepped to {:#x}", address));
    return true;
}

RunOutcome Machine::step()
{
    uint64_t from = m_cpu->pc();  // linear, as the hooks see it
    m_step_from = from;
    m_step_left_origin = false;
    // The next instruction either follows this one in the same block (an
    // x86 instruction is at most 15 bytes: the code hook over the bytes
    // after it catches it exactly) or starts a block (the block hook).
    m_cpu->add_watch(from + 1, 15);
    RunOutcome outcome = run({});
    m_cpu->remove_watch(from + 1);
    m_step_from.reset();
    return outcome;
}

void Machine::update_client_blocks()
{
    if (m_step_from || m_interrupt_waiting || m_stop_for_phase) {
        m_cpu->set_client_blocks(0, ~0ull);
        return;
    }
    auto [begin, end] = m_tracker->blocks_of_interest();
    m_cpu->set_client_blocks(begin, end);
}

bool Machine::on_real_mode_interrupt(RealModeCall& call)
{
    if (!m_firmware)
        return false;
    uint64_t what = uint64_t(call.vector) << 16 | call.ax();
    FirmwareAnswer answer = m_firmware->call(call, *m_memory);
    emit({.kind = EventKind::FirmwareCall, .phase = m_phase, .address = m_cpu->rip(), .size = answer.supported ? 1u : 0u,
          .value = what, .text = answer.service});
    if (!answer.printed.empty())
        emit({.kind = EventKind::Note, .phase = m_phase, .text = "BIOS console: " + answer.printed});
    return true;
}

bool Machine::on_block(uint64_t address)
{
    if (m_awaiting_protected_mode && !m_cpu->real_mode()) {
        m_awaiting_protected_mode = false;
        emit({.kind = EventKind::CpuModeChanged, .phase = m_phase, .address = address, .text = "protected"});
    } else if (m_awaiting_long_mode && !m_awaiting_protected_mode && m_cpu->long_mode_active()) {
        m_awaiting_long_mode = false;
        emit({.kind = EventKind::CpuModeChanged, .phase = m_phase, .address = address, .text = "long"});
    }
    if (auto change = m_tracker->on_block(address)) {
        update_client_blocks();
        if (change->what == PhaseChange::What::DecompressorMoved) {
            if (auto begin = find_moved_copy(change->address))
                m_tracker->narrow_moved_copy(*begin);
            m_fast_range = m_tracker->moved_copy_range();
            emit({.kind = EventKind::DecompressorMoved, .phase = m_phase, .address = change->address,
                  .size = m_fast_range->second - m_fast_range->first});
            // The decompression starts: give it a TLB its size (Cpu::grow_tlb;
            // LZ4's run took a third of the time, zstd's two thirds).
            post([this, copy = *m_fast_range] {
                m_cpu->grow_tlb(copy.first, copy.second);
                if (m_fast_decompression)
                    enter_fast_window();
            });
        }
        else
            enter_phase(change->phase, change->address, change->evidence);
    }
    // A refused interrupt is tried again at the next block with interrupts
    // on, except the one it was refused at, which runs once first (the
    // instruction after STI). That block may loop on itself (`sti; 1: jmp
    // 1b`): then the try comes the second time it starts.
    bool retry_interrupt = m_interrupt_waiting && m_cpu->interrupt_flag() &&
                           (address != m_interrupt_refused_at || m_cpu->blocks() > m_interrupt_refused_blocks + 1);
    bool stop = retry_interrupt ||
                m_stop_for_phase || m_stop_pending.load(std::memory_order_relaxed);
    if (m_step_from) {
        if (address == *m_step_from && !m_step_left_origin) {
            // The block starting at the instruction to step: it runs only if
            // nothing else stops the CPU here first.
            if (!stop && !m_cpu->stop_requested())
                m_step_left_origin = true;
        }
        else if (!stop)
            stop = stop_for_step(address);
    }
    return stop;
}

std::optional<uint64_t> Machine::find_moved_copy(uint64_t running_at) const
{
    // head_64.S copied the loaded image (text, data, payload) up to the end
    // of the buffer with `rep movsq` before jumping to the copy, and nothing
    // has written the payload since: its last page is in the copy, at the
    // same distance from the copy's start as from the load address.
    constexpr uint64_t needle_size = 4096;
    const PhaseHints& hints = m_tracker->hints();
    const uint64_t coarse_begin = hints.load_address + hints.loaded_size, end = hints.buffer_end;
    if (hints.loaded_size < needle_size || end <= coarse_begin ||
        !m_memory->contains(hints.load_address, end - hints.load_address))
        return std::nullopt;
    const uint8_t* ram = m_memory->host_base();
    const uint8_t* needle = ram + coarse_begin - needle_size;
    const uint8_t* found = nullptr;
    for (const uint8_t* from = ram + coarse_begin; from < ram + end;) {
        auto* at = static_cast<const uint8_t*>(memmem(from, size_t(ram + end - from), needle, needle_size));
        if (!at)
            break;
        found = at;  // the copy is the last one: it ends at the top of the buffer
        from = at + 1;
    }
    if (!found)
        return std::nullopt;
    uint64_t begin = uint64_t(found - ram) + needle_size - hints.loaded_size;
    if (running_at < begin)
        return std::nullopt;  // not where the CPU runs: keep the coarse range
    return begin;
}

void Machine::on_exception(uint8_t vector, uint64_t rip, uint32_t error_code)
{
    emit({.kind = EventKind::ExceptionDelivered, .phase = m_phase, .address = rip, .value = error_code,
          .text = std::to_string(vector)});
}

uint32_t Machine::port_read(uint16_t port, unsigned width)
{
    ++m_port_reads;
    return m_io.read(port, width);
}

void Machine::port_write(uint16_t port, uint32_t value, unsigned width)
{
    ++m_port_writes;
    m_io.write(port, value, width);
    // A write may have reprogrammed a timer.
    rearm_ticker();
}

uint64_t Machine::mmio_read(uint64_t address, unsigned width)
{
    if (m_mmio_reads++ == 0)
        emit({.kind = EventKind::Note, .phase = m_phase, .address = address,
              .text = fmt::format("the guest read {} bytes at {:#x}, outside RAM, where nothing answers (all ones); "
                                  "further accesses are only counted",
                                  width, address)});
    return CpuClient::mmio_read(address, width);
}

void Machine::mmio_write(uint64_t address, uint64_t, unsigned width)
{
    if (m_mmio_writes++ == 0)
        emit({.kind = EventKind::Note, .phase = m_phase, .address = address,
              .text = fmt::format("the guest wrote {} bytes at {:#x}, outside RAM, where nothing answers (dropped); "
                                  "further accesses are only counted",
                                  width, address)});
}

uint64_t Machine::next_deadline() const
{
    uint64_t next = TimedDevice::never;
    for (const TimedDevice* d : m_timed)
        next = std::min(next, d->next_deadline_ns());
    return next;
}

void Machine::service_timers()
{
    uint64_t now = now_ns();
    for (TimedDevice* d : m_timed) {
        if (d->next_deadline_ns() <= now)
            d->advance(now);
    }
    rearm_ticker();
}

void Machine::rearm_ticker()
{
    uint64_t next = next_deadline();
    uint64_t budget = m_max_instructions ? m_max_instructions : ~0ull;
    if (m_instructions_per_second) {
        // Timers fire at an instruction count, checked at block boundaries.
        m_cpu->set_instruction_deadline(std::min(instructions_at(next), budget));
        return;
    }
    m_cpu->set_instruction_deadline(budget);
    std::lock_guard lock(m_ticker_mutex);
    if (next != m_ticker_deadline) {
        m_ticker_deadline = next;
        m_ticker_cv.notify_all();
    }
}

void Machine::ticker_main()
{
    std::unique_lock lock(m_ticker_mutex);
    while (!m_ticker_quit) {
        if (m_ticker_deadline == TimedDevice::never) {
            m_ticker_cv.wait(lock);
            continue;
        }
        uint64_t deadline = m_ticker_deadline;
        uint64_t now = now_ns();
        if (deadline > now) {
            m_ticker_cv.wait_for(lock, std::chrono::nanoseconds(deadline - now));
            continue;  // re-check: the deadline may have moved
        }
        // Due: stop the CPU at the next block boundary; the run loop services
        // the timers and re-arms us.
        m_ticker_deadline = TimedDevice::never;
        m_cpu->request_stop();
    }
}

void Machine::deliver_interrupt()
{
    m_interrupt_waiting = false;
    if (!m_interrupts || !m_interrupts->has_interrupt())
        return;
    if (!m_cpu->accepts_interrupts()) {
        // Interrupts are off, or this is the instruction after STI: stop
        // again at the first later block where they are on (see on_block).
        m_interrupt_waiting = true;
        m_interrupt_refused_at = m_cpu->pc();  // compared with block addresses
        m_interrupt_refused_blocks = m_cpu->blocks();
        return;
    }
    int vector = m_interrupts->acknowledge();
    if (vector < 0)
        return;
    uint64_t rip = m_cpu->rip();
    if (m_cpu->interrupt(uint8_t(vector))) {
        emit({.kind = EventKind::Interrupt, .phase = m_phase, .address = rip, .value = uint64_t(vector)});
    } else {
        request_stop(RunEnd::TripleFault,
                     fmt::format("triple fault: interrupt vector {:#x} at rip {:#x} could not be delivered through the "
                                 "IDT",
                                 vector, rip));
    }
}

void Machine::hold_real_time(uint64_t ns)
{
    uint64_t until = host_ns() + ns;
    uint64_t old = m_real_time_until.load();
    while (old < until && !m_real_time_until.compare_exchange_weak(old, until)) {
    }
}

uint64_t Machine::held_real_time_ns() const
{
    uint64_t until = m_real_time_until.load();
    uint64_t now = host_ns();
    return until > now ? until - now : 0;
}

bool Machine::idle()
{
    // Said once per idle spell that waits in real time (a skip says itself):
    // front ends flush what the guest printed without a newline, a prompt.
    bool waiting_said = false;
    auto say_waiting = [&] {
        if (!waiting_said)
            emit({.kind = EventKind::IdleSkip, .phase = m_phase, .size = 0});
        waiting_said = true;
    };
    for (;;) {
        service_timers();
        if (m_interrupts && m_interrupts->has_interrupt())
            return true;
        if (m_stop_pending.load() || m_signalled.load())
            return true;
        {
            std::unique_lock lock(m_post_mutex);
            if (!m_posted.empty())
                return true;
        }
        uint64_t next = next_deadline();
        if (next != TimedDevice::never) {
            uint64_t now = now_ns();
            uint64_t held = held_real_time_ns();
            if (next > now && (!idle_skipping() || held)) {
                // Wait it out, as a real PC does; posted work or a stop ends
                // the wait early. A hold waits at most until it ends.
                say_waiting();
                uint64_t wait = idle_skipping() ? std::min(next - now, held) : next - now;
                std::unique_lock lock(m_post_mutex);
                m_post_cv.wait_for(lock, std::chrono::nanoseconds(wait), [&] {
                    return !m_posted.empty() || m_stop_pending.load() || m_signalled.load();
                });
                continue;
            }
            if (next > now) {
                uint64_t skip = next - now;
                m_skipped_ns += skip;
                if (!m_instructions_per_second)
                    m_cpu->advance_tsc(tsc_ticks(skip));
                emit({.kind = EventKind::IdleSkip, .phase = m_phase, .size = skip});
            }
            continue;
        }
        // No timer will fire: only outside input can wake the guest.
        say_waiting();
        std::unique_lock lock(m_post_mutex);
        if (!m_input_open)
            return false;
        m_post_cv.wait_for(lock, std::chrono::milliseconds(100),
                           [&] { return !m_posted.empty() || !m_input_open || m_stop_pending.load() || m_signalled.load(); });
        if (m_signalled.load())
            return true;
    }
}

RunOutcome Machine::run(const RunLimits& limits)
{
    // A step must see every block; a run may leave the decompressor's copy
    // unhooked again (a step may have hooked it).
    if (m_step_from)
        leave_fast_window();
    else
        enter_fast_window();
    m_watchpoint_hit.reset();
    m_stop_at = limits.stop_at;
    m_stop_at_next_phase = limits.stop_at_next_phase;
    m_max_instructions = limits.max_instructions;
    rearm_ticker();
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
        if (m_signalled.exchange(false))
            request_stop(RunEnd::Interrupted, "interrupted by a signal (SIGINT or SIGTERM)");
        run_posted_work();
        service_timers();
        if (m_max_instructions && m_cpu->instructions() >= m_max_instructions)
            request_stop(RunEnd::InstructionBudget,
                         fmt::format("the instruction budget ran out ({} instructions)", m_max_instructions));
        if (m_stop_pending.load()) {
            std::lock_guard lock(m_stop_mutex);
            outcome = {m_stop_end, m_stop_reason};
            break;
        }
        deliver_interrupt();
        update_client_blocks();

        CpuRunResult r = m_cpu->run();
        ++m_cpu_stops;
        if (r.stop == CpuStop::Requested) {
            if (m_stop_pending.load())
                continue;  // an end: reported at the top of the loop, before anything else runs
            if (m_stop_for_phase) {
                m_stop_for_phase = false;
                outcome = {RunEnd::StopPhase, fmt::format("reached phase {}", phase_name(m_phase))};
                break;
            }
            continue;  // a service stop: timers, interrupts, posted work, or the end (checked above)
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
            // Nothing can wake a CPU halted with interrupts off (no NMI source
            // on this board): the kernel's end after `poweroff` or `halt`
            // without a power-off device (machine_halt -> stop_this_cpu).
            enter_phase(Phase::Halt, s.rip - 1, "HLT with interrupts disabled");
            outcome = {RunEnd::Halted, fmt::format("the guest halted with interrupts disabled at rip {:#x}", s.rip - 1)};
            break;
        }
        if (!idle()) {
            outcome = {RunEnd::Idle, fmt::format("the guest waits for an interrupt at rip {:#x} and nothing will raise one",
                                                 s.rip - 1)};
            break;
        }
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
