// The machine's debugger controls (step, breakpoints, the frozen clock) on a
// small synthetic guest: a fake bzImage's plan with a few instructions
// written at the 64-bit entry point.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/machine.h"
#include "unit/synthetic_guest.h"

using namespace bootsim;

namespace {

using DebugGuest = fake::SyntheticGuest;

// entry+0: nop; +1: nop; +2: mov eax, 1; +7: inc rax; +10: jmp +7
const std::vector<uint8_t> loop_code = {0x90, 0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc0, 0xeb, 0xfb};

}  // namespace

TEST(MachineDebug, StepRunsOneInstructionAtATime)
{
    DebugGuest g(loop_code);
    ASSERT_TRUE(g.machine);
    const uint64_t expected[] = {1, 2, 7, 10, 7, 10};
    for (uint64_t offset : expected) {
        RunOutcome outcome = g.machine->step();
        ASSERT_EQ(outcome.end, RunEnd::Stepped) << outcome.reason;
        EXPECT_EQ(g.machine->cpu().rip(), g.entry + offset);
    }
    // mov eax, 1, then the inc twice.
    EXPECT_EQ(g.machine->cpu().state().gpr[0], 3u);
}

TEST(MachineDebug, BreakpointStopsBeforeTheInstructionEveryTime)
{
    DebugGuest g(loop_code);
    ASSERT_TRUE(g.machine);
    g.machine->set_breakpoint(g.entry + 10);
    for (uint64_t round = 1; round <= 3; ++round) {
        RunOutcome outcome = g.machine->run({});
        ASSERT_EQ(outcome.end, RunEnd::Breakpoint) << outcome.reason;
        EXPECT_EQ(g.machine->cpu().rip(), g.entry + 10);
        EXPECT_EQ(g.machine->cpu().state().gpr[0], round + 1);  // mov eax, 1 then one inc per round
    }
    // Stepping from a breakpoint runs the jmp, not the breakpoint again.
    EXPECT_EQ(g.machine->step().end, RunEnd::Stepped);
    EXPECT_EQ(g.machine->cpu().rip(), g.entry + 7);
    g.machine->clear_breakpoint(g.entry + 10);
}

TEST(MachineDebug, FrozenClockStandsStill)
{
    DebugGuest g(loop_code);
    ASSERT_TRUE(g.machine);
    g.machine->freeze_clock();
    uint64_t before = g.machine->now_ns(), wall_before = g.machine->wall_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(g.machine->now_ns(), before);
    EXPECT_EQ(g.machine->wall_ns(), wall_before);  // the log's time stamps stand still too
    g.machine->thaw_clock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    uint64_t after = g.machine->now_ns();
    EXPECT_GE(after, before);
    EXPECT_LT(after - before, 25'000'000u);  // the 30 ms frozen are not counted
}
