#pragma once
// The GDB remote protocol's commands, answered from a stopped machine:
// registers, memory (virtual through the guest's page tables, or physical
// after `monitor phys on`), breakpoints and watchpoints, and bootsim's own
// monitor commands (run to a phase, the BootPlan, the e820 map, a symbol
// file from the kernel's kallsyms). No
// sockets and no running here: handle() answers a packet or says how the
// guest should go on (GdbServer does the talking and the running).

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "core/boot_plan.h"
#include "core/machine.h"
#include "run/handoff_verifier.h"

namespace bootsim::gdb {

struct Action {
    enum class Kind {
        Reply,     // send `reply`, stay stopped
        Continue,  // resume until something stops the guest
        Step,      // one instruction
        Detach,    // send `reply` ("OK"), forget the debugger's breakpoints, run on without it
        Kill,      // end the run
    } kind = Kind::Reply;
    std::string reply;
};

// The reply that tells gdb the guest's run is over, with bootsim's exit code.
std::string exit_reply(int exit_code);

class GdbStub final {
public:
    // `verifier`: where the kernel's symbols and KASLR's offset come from
    // once the handoff is verified (monitor symbols); may be null.
    GdbStub(Machine& machine, const BootPlan& plan, const HandoffVerifier* verifier = nullptr)
        : m_machine(machine), m_plan(plan), m_verifier(verifier)
    {
    }

    // One packet's payload (framing and acknowledgements already done).
    Action handle(std::string_view packet);

    // The stop reply for a run that ended for the debugger (a breakpoint,
    // a step, a phase it asked for, its Ctrl-C): a signal, with the
    // watchpoint that caught it if one did ("T05watch:...").
    std::string stop_reply(const RunOutcome& outcome) const;

    // The phase `monitor phase NAME` asked the next continue to stop at.
    std::optional<Phase> stop_at_phase() const { return m_stop_at_phase; }
    void phase_reached() { m_stop_at_phase.reset(); }

    // Drops every breakpoint and watchpoint the debugger set (detach).
    void clear_all();

private:
    std::string read_registers() const;
    std::string read_register(std::string_view number) const;
    std::string write_registers(std::string_view hex);
    std::string write_register(std::string_view assignment);
    std::string read_memory(std::string_view args) const;
    std::string write_memory(std::string_view args, bool binary);
    std::string breakpoint(std::string_view args, bool insert);
    std::string query(std::string_view packet);
    std::string monitor(std::string_view hex_command);
    std::string monitor_text(std::string_view command);
    std::string read_features(std::string_view args) const;
    bool read_guest(uint64_t address, uint8_t* out, size_t size) const;
    bool write_guest(uint64_t address, const uint8_t* data, size_t size);

    Machine& m_machine;
    const BootPlan& m_plan;
    const HandoffVerifier* m_verifier;
    bool m_physical = false;  // monitor phys on: m/M/X address guest-physical memory
    std::optional<Phase> m_stop_at_phase;
    std::set<uint64_t> m_breakpoints;
    std::set<std::tuple<uint64_t, uint64_t, DataWatchKind>> m_watchpoints;
};

}  // namespace bootsim::gdb
