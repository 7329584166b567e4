#include "ui/gui/boot_controller.h"

#include <fmt/format.h>

#include "core/page_walk.h"
#include "ui/gui/disassembler.h"

namespace bootsim::gui {

namespace {

// Up to `max` bytes of code at a guest-virtual address: fewer when the next
// page is not mapped, none when this one is not.
std::vector<uint8_t> code_at(const Cpu& cpu, uint64_t address, size_t max)
{
    std::vector<uint8_t> code(max);
    size_t to_page_end = 4096 - (address & 0xfff);
    for (size_t length : {max, std::min(max, to_page_end)}) {
        if (cpu.read_virtual(address, code.data(), length)) {
            code.resize(length);
            return code;
        }
    }
    return {};
}

}  // namespace

bool run_can_continue(RunEnd end)
{
    switch (end) {
    case RunEnd::StopPhase:
    case RunEnd::StopRequested:
    case RunEnd::ExpectMatched:
    case RunEnd::Breakpoint:
    case RunEnd::Stepped:
        return true;
    default:
        return false;
    }
}

BootController::BootController(Options options) : m_options(std::move(options))
{
    m_worker = std::thread([this] { worker_main(); });
}

BootController::~BootController()
{
    {
        std::lock_guard lock(m_mutex);
        m_quit = true;
        m_queue.clear();
    }
    m_cv.notify_all();
    abandon();
    m_worker.join();
}

void BootController::send(Command command)
{
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(command);
    }
    m_cv.notify_all();
}

void BootController::pause()
{
    std::lock_guard lock(m_mutex);
    if (m_session && m_session->boot)
        m_session->boot->machine().request_pause("paused");
}

bool BootController::pause_waits() const
{
    std::lock_guard lock(m_mutex);
    return m_session && m_session->boot && m_session->boot->machine().in_fast_window();
}

void BootController::abandon()
{
    std::lock_guard lock(m_mutex);
    if (m_session && m_session->boot)
        m_session->boot->machine().request_stop(RunEnd::Interrupted, "abandoned");
}

void BootController::type(std::string bytes)
{
    std::lock_guard lock(m_mutex);
    if (!m_session || !m_session->boot)
        return;
    PreparedBoot* boot = m_session->boot.get();
    boot->machine().post([boot, bytes = std::move(bytes)] { boot->board().type_on_console(bytes); });
}

void BootController::refresh()
{
    std::lock_guard lock(m_mutex);
    if (!m_session || !m_session->boot || m_snapshot.state != RunState::Running || m_refresh_pending.exchange(true))
        return;
    m_session->boot->machine().post([this] { capture(); });
}

MachineSnapshot BootController::snapshot() const
{
    std::lock_guard lock(m_mutex);
    return m_snapshot;
}

std::shared_ptr<Session> BootController::session() const
{
    std::lock_guard lock(m_mutex);
    return m_session;
}

bool BootController::busy() const
{
    std::lock_guard lock(m_mutex);
    return m_executing || !m_queue.empty();
}

void BootController::worker_main()
{
    build();
    for (;;) {
        Command command;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_quit || !m_queue.empty(); });
            if (m_quit)
                break;
            command = m_queue.front();
            m_queue.pop_front();
            m_executing = true;
        }
        execute(command);
        std::lock_guard lock(m_mutex);
        m_executing = false;
    }
    // The machine goes with the thread that ran it.
    std::lock_guard lock(m_mutex);
    m_session.reset();
}

void BootController::build()
{
    auto session = std::make_shared<Session>();
    auto boot = PreparedBoot::create(m_options, &session->model);
    unsigned generation;
    {
        std::lock_guard lock(m_mutex);
        generation = m_session ? m_snapshot.generation + 1 : m_snapshot.generation;
        m_session.reset();
    }
    if (!boot) {
        {
            std::lock_guard lock(m_mutex);
            m_snapshot.failure_exit = boot.error().kind == ErrorKind::Emulator ? exit_bootsim_failed : boot.error().kind == ErrorKind::BadUsage ? exit_usage : exit_bad_input;
        }
        publish(RunState::Failed, boot.error().message);
        return;
    }
    session->boot = std::move(*boot);
    session->initrd = std::async(std::launch::async, [path = m_options.initrd]() -> std::optional<InitrdCatalog> {
                          if (path.empty())
                              return std::nullopt;
                          auto catalog = read_initrd_catalog_file(path);
                          return catalog ? std::optional<InitrdCatalog>(std::move(*catalog)) : std::nullopt;
                      }).share();
    Machine& machine = session->boot->machine();
    // An idle guest waits for typing rather than ending the run.
    machine.set_fast_decompression(m_fast_decompression);
    machine.set_input_open(true);
    machine.freeze_clock();
    {
        std::lock_guard lock(m_mutex);
        m_session = session;
        m_snapshot = {};
        m_snapshot.generation = generation;
    }
    m_refresh_pending = false;
    publish(RunState::Paused, "loaded: ready to run");
}

void BootController::execute(const Command& command)
{
    if (command.kind == CommandKind::Restart) {
        build();
        return;
    }
    if (command.kind == CommandKind::SetFastDecompression) {
        m_fast_decompression = command.flag;  // for later boots too
        if (auto s = session(); s && s->boot)
            s->boot->machine().set_fast_decompression(command.flag);
        return;
    }
    RunState state;
    {
        std::lock_guard lock(m_mutex);
        state = m_snapshot.state;
    }
    if (state != RunState::Paused || !session())
        return;  // ended or failed: only a restart helps
    Machine& machine = m_session->boot->machine();
    if (command.kind == CommandKind::RunToPhase && machine.reached(command.phase)) {
        publish(RunState::Paused, fmt::format("phase {} was reached already: restart to see it again",
                                              phase_name(command.phase)));
        return;
    }
    publish(RunState::Running, "running");
    machine.thaw_clock();
    RunOutcome outcome{RunEnd::StopRequested, ""};
    switch (command.kind) {
    case CommandKind::Run:
        outcome = machine.run({.stop_at = std::nullopt, .timeout_seconds = command.timeout_seconds});
        break;
    case CommandKind::Step:
        outcome = machine.step();
        break;
    case CommandKind::StepOver:
        outcome = step_over();
        break;
    case CommandKind::RunToNextPhase:
        outcome = machine.run(
            {.stop_at = std::nullopt, .stop_at_next_phase = true, .timeout_seconds = command.timeout_seconds});
        break;
    case CommandKind::RunToPhase:
        outcome = machine.run({.stop_at = command.phase, .timeout_seconds = command.timeout_seconds});
        break;
    case CommandKind::RunToAddress:
        machine.set_breakpoint(command.address);
        outcome = machine.run({.stop_at = std::nullopt, .timeout_seconds = command.timeout_seconds});
        machine.clear_breakpoint(command.address);
        break;
    case CommandKind::Restart:
    case CommandKind::SetFastDecompression:
        break;
    }
    machine.freeze_clock();
    finish(outcome);
}

RunOutcome BootController::step_over()
{
    Machine& machine = m_session->boot->machine();
    CpuState cpu = machine.cpu().state();
    auto insns = disassemble(code_at(machine.cpu(), cpu.rip, 16), cpu.rip, code_bits(cpu), 1);
    if (insns.empty() || !insns[0].is_call)
        return machine.step();
    // Run to the instruction after the call, in this frame: a recursive
    // call reaching the same address deeper down (a lower RSP) goes on.
    uint64_t after = cpu.rip + insns[0].length;
    uint64_t rsp = cpu.gpr[4];
    machine.set_breakpoint(after);
    RunOutcome outcome;
    for (;;) {
        outcome = machine.run({});
        if (outcome.end != RunEnd::Breakpoint || machine.cpu().state().gpr[4] >= rsp)
            break;
    }
    machine.clear_breakpoint(after);
    if (outcome.end == RunEnd::Breakpoint)
        outcome = {RunEnd::Stepped, fmt::format("stepped over the call to {:#x}", after)};
    return outcome;
}

void BootController::finish(const RunOutcome& outcome)
{
    capture();
    {
        std::lock_guard lock(m_mutex);
        m_snapshot.end = outcome.end;
        m_snapshot.expectations_met = m_session->boot->matcher().all_matched();
    }
    publish(run_can_continue(outcome.end) ? RunState::Paused : RunState::Ended, outcome.reason);
}

void BootController::publish(RunState state, std::string status)
{
    std::lock_guard lock(m_mutex);
    m_snapshot.state = state;
    m_snapshot.status = std::move(status);
    ++m_snapshot.sequence;
}

void BootController::capture()
{
    std::shared_ptr<Session> session = this->session();
    if (!session || !session->boot)
        return;
    PreparedBoot& boot = *session->boot;
    Machine& machine = boot.machine();
    MachineSnapshot s;
    s.have_cpu = true;
    s.cpu = machine.cpu().state();
    s.phase = machine.phase();
    uint64_t linear = s.cpu.long_mode() ? s.cpu.rip : s.cpu.cs.base + s.cpu.rip;
    s.rip_physical = translate(machine.memory(), machine.cpu().paging_mode(), linear);
    s.code = code_at(machine.cpu(), s.cpu.rip, 96);
    s.code_address = s.cpu.rip;
    s.blocks_executed = machine.blocks_executed();
    s.unhooked = machine.in_fast_window();
    s.wall_ns = machine.wall_ns();
    s.virtual_ns = machine.now_ns();
    s.irq_counts = boot.board().irq_counts();
    s.irq_owners = boot.board().irq_owners();
    if (boot.verifier().result()) {
        s.handoff = *boot.verifier().result();
        if (const KernelImage* image = boot.verifier().host_image())
            s.kernel_segments = image->segments;
    }
    std::lock_guard lock(m_mutex);
    s.sequence = m_snapshot.sequence + 1;
    s.generation = m_snapshot.generation;
    s.state = m_snapshot.state;
    s.status = m_snapshot.status;
    s.end = m_snapshot.end;
    s.expectations_met = m_snapshot.expectations_met;
    m_snapshot = std::move(s);
    m_refresh_pending = false;
}

}  // namespace bootsim::gui
