#pragma once
// One exit-code table for the whole program: every way a run (or a
// comparison, or a matrix) can end, what CI can gate on. Printed by --help
// and in the README ("bootsim in CI").

#include <array>

namespace bootsim {

enum ExitCode : int {
    exit_success = 0,
    exit_goal_not_met = 1,        // the guest ended (halt, power-off, reset, waiting forever) before every
                                  // --expect matched or --stop-at was reached
    exit_usage = 2,               // the command line is wrong
    exit_bad_input = 3,           // an input file is unusable (kernel, initrd, disk, System.map, baseline)
    exit_guest_panic = 4,         // the kernel panicked
    exit_triple_fault = 5,        // the CPU shut down: an exception could not be delivered
    exit_timeout = 6,             // --timeout passed
    exit_instruction_budget = 7,  // --max-instructions retired
    exit_output_not_written = 8,  // --report, --trace or --serial-log could not be written
    exit_bootsim_failed = 9,      // bootsim's own failure: the emulator, or its check of the handoff
    exit_compare_slower = 10,     // --compare: the same boot, slower beyond the tolerance
    exit_compare_different = 11,  // --compare: a phase missing, added or reordered, or the end changed
    exit_interrupted = 130,       // SIGINT or SIGTERM (128 + SIGINT, as a shell reports it)
};

struct ExitCodeRow {
    int code;
    const char* name;
    const char* meaning;
};

inline constexpr std::array exit_code_table = {
    ExitCodeRow{exit_success, "success", "the run reached its goal (--expect matched, --stop-at reached, or a clean end)"},
    ExitCodeRow{exit_goal_not_met, "goal not met",
                "the guest ended (halted, powered off, reset, or waits forever) before the --expect patterns or "
                "the --stop-at phase"},
    ExitCodeRow{exit_usage, "usage error", "the command line is wrong"},
    ExitCodeRow{exit_bad_input, "bad input", "an input is unusable: kernel, initrd, disk, System.map, baseline, matrix"},
    ExitCodeRow{exit_guest_panic, "guest panic", "the kernel panicked"},
    ExitCodeRow{exit_triple_fault, "triple fault", "the CPU shut down: an exception could not be delivered"},
    ExitCodeRow{exit_timeout, "timeout", "--timeout passed"},
    ExitCodeRow{exit_instruction_budget, "instruction budget", "--max-instructions were retired"},
    ExitCodeRow{exit_output_not_written, "output not written", "--report, --trace or --serial-log could not be written"},
    ExitCodeRow{exit_bootsim_failed, "bootsim failed", "the emulator failed, or bootsim's check of the handoff did"},
    ExitCodeRow{exit_compare_slower, "compare: slower", "--compare: same structure, a cost beyond the tolerance"},
    ExitCodeRow{exit_compare_different, "compare: different",
                "--compare: a phase missing, added or reordered, or the end reason changed"},
    ExitCodeRow{exit_interrupted, "interrupted", "SIGINT or SIGTERM"},
};

// When several apply, the first of these wins: how the guest's run ended
// (one of 130, 9, 4, 5, 6, 7, 1, 0) comes before the outputs (8), and the
// outputs before the comparison (11, then 10).
inline constexpr const char* exit_code_precedence =
    "interrupted > bootsim failed > how the guest ended (panic, triple fault, timeout, budget, goal not met) > "
    "output not written > compare: different > compare: slower > success";

}  // namespace bootsim
