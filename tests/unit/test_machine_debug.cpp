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

// Real mode: hooks, breakpoints and steps see linear addresses (CS base +
// IP), while RIP holds the offset. A stop at a block boundary must put the
// offset back in RIP, or the guest resumes at CS:linear, far from its code
// (what once sent the setup code astray when the GUI paused it).
TEST(MachineDebug, RealModeStopsResumeAtTheRightOffset)
{
    // +0: nop; +1: mov ax, 1; +4: inc ax; +5: jmp +4
    const std::vector<uint8_t> code = {0x90, 0xb8, 0x01, 0x00, 0x40, 0xeb, 0xfd};
    DebugGuest g(code, nullptr, EntryMode::Real16);
    ASSERT_TRUE(g.machine);
    // Where a resume at CS:linear would land (0x10200 + 0x10204): cli; hlt,
    // so that the bug ends the run (Halted) instead of running away.
    const uint8_t cli_hlt[] = {0xfa, 0xf4, 0xfa, 0xf4, 0xfa, 0xf4, 0xfa, 0xf4};
    g.machine->memory().write(0x20400, cli_hlt, sizeof cli_hlt);
    Cpu& cpu = g.machine->cpu();
    ASSERT_TRUE(cpu.real_mode());
    ASSERT_EQ(cpu.pc(), g.entry);
    const uint64_t base = g.entry - cpu.rip();
    ASSERT_EQ(base, 0x10200u);  // CS 0x1020
    for (uint64_t offset : {1, 4, 5, 4, 5}) {
        ASSERT_EQ(g.machine->step().end, RunEnd::Stepped);
        EXPECT_EQ(cpu.rip(), offset);
        EXPECT_EQ(cpu.pc(), base + offset);
    }
    // A breakpoint at the loop's linear address: the run stops there with
    // IP at the offset, again and again.
    g.machine->set_breakpoint(base + 4);
    for (int round = 0; round < 3; ++round) {
        ASSERT_EQ(g.machine->run({}).end, RunEnd::Breakpoint);
        EXPECT_EQ(cpu.rip(), 4u);
    }
    g.machine->clear_breakpoint(base + 4);
    // Stops at block boundaries (posted work, as the GUI's snapshots do)
    // while the loop runs: it keeps running the loop, never elsewhere.
    uint64_t before = cpu.state().gpr[0] & 0xffff;
    for (int stop = 0; stop < 20; ++stop) {
        std::thread pauser([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            g.machine->post([] {});
            g.machine->request_pause("test");
        });
        RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 5});
        pauser.join();
        ASSERT_EQ(outcome.end, RunEnd::StopRequested) << outcome.reason;
        EXPECT_TRUE(cpu.rip() == 4 || cpu.rip() == 5) << "IP " << cpu.rip();
    }
    EXPECT_NE(cpu.state().gpr[0] & 0xffff, before) << "the loop ran between the stops";
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
