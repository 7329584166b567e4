#pragma once
// A read-only copy of what the visualizer shows of the machine at one
// moment, taken on the machine's thread (the CPU can only be read there)
// and handed to the GUI thread whole.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "core/machine.h"
#include "core/phase.h"
#include "loader/kernel_image.h"

namespace bootsim::gui {

enum class RunState {
    Paused,   // stopped, can go on
    Running,
    Ended,    // the run ended for good (power-off, panic, triple fault...): only restart
    Failed,   // the boot could not even be built (bad input): only quit
};

struct MachineSnapshot {
    uint64_t sequence = 0;     // grows with every snapshot
    unsigned generation = 0;   // restarts so far
    RunState state = RunState::Paused;
    std::string status;        // one line: why it stopped, or what it is doing
    std::optional<RunEnd> end; // how the last run ended
    bool expectations_met = true;  // every --expect pattern was seen
    int failure_exit = 0;          // Failed: the exit code for the error (bad input, emulator)
    Phase phase = Phase::Loaded;

    bool have_cpu = false;
    CpuState cpu;
    std::optional<uint64_t> rip_physical;
    uint64_t code_address = 0;       // guest-virtual address of `code`
    std::vector<uint8_t> code;       // bytes from RIP on, for the disassembly

    uint64_t blocks_executed = 0;
    bool unhooked = false;  // the decompressor runs outside the block hook: blocks are not counted
    uint64_t wall_ns = 0, virtual_ns = 0;
    std::array<uint64_t, 16> irq_counts{};
    std::array<std::string, 16> irq_owners;  // what the board wired to each line

    std::optional<HandoffCheck> handoff;
    std::vector<LoadSegment> kernel_segments;  // the decompressed kernel's, once known
};

}  // namespace bootsim::gui
