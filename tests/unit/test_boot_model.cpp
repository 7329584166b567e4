// The visualizer's record of the boot's events.
#include <gtest/gtest.h>

#include "ui/gui/boot_model.h"

using namespace bootsim;
using namespace bootsim::gui;

TEST(BootModel, RecordsPhasesConsoleAndTraffic)
{
    BootModel m;
    m.on_event({.kind = EventKind::PhaseEntered, .virtual_ns = 5, .wall_ns = 7, .phase = Phase::Handoff, .address = 0x1000000});
    m.on_event({.kind = EventKind::SerialOutput, .text = "Linux version"});
    m.on_event({.kind = EventKind::SerialOutput, .text = " 6.1\n"});
    m.on_event({.kind = EventKind::DecompressorMoved, .address = 0x4000000});
    m.on_event({.kind = EventKind::DiskIo, .size = 4096, .value = 1, .text = "read"});
    m.on_event({.kind = EventKind::DiskIo, .size = 512, .value = 0, .text = "write"});
    BootRecord r = m.copy();
    ASSERT_EQ(r.phases.size(), 1u);
    EXPECT_EQ(r.phases[0].phase, Phase::Handoff);
    EXPECT_EQ(r.phases[0].wall_ns, 7u);
    EXPECT_EQ(r.phases[0].virtual_ns, 5u);
    EXPECT_EQ(r.phases[0].address, 0x1000000u);
    EXPECT_EQ(r.console, "Linux version 6.1\n");
    EXPECT_EQ(r.decompressor_moved_to, 0x4000000u);
    EXPECT_EQ(r.disk_requests, 2u);
    EXPECT_EQ(r.disk_bytes, 4608u);
    EXPECT_EQ(r.disk_errors, 1u);
}

TEST(BootModel, ConsoleKeepsTheNewestBytes)
{
    BootModel m;
    std::string chunk(64 << 10, 'a');
    for (int i = 0; i < 40; ++i)  // 2.5 MiB in all
        m.on_event({.kind = EventKind::SerialOutput, .text = chunk});
    m.on_event({.kind = EventKind::SerialOutput, .text = "THE END"});
    BootRecord r = m.copy();
    EXPECT_LE(r.console.size(), BootRecord::console_limit);
    EXPECT_EQ(r.console.substr(r.console.size() - 7), "THE END");
    EXPECT_EQ(r.console_dropped + r.console.size(), 40u * chunk.size() + 7);
    // A copy from a point on holds only what came after it.
    BootRecord tail = m.copy(40u * chunk.size());
    EXPECT_EQ(tail.console, "THE END");
    EXPECT_EQ(tail.console_dropped, 40u * chunk.size());
    EXPECT_EQ(tail.phases.size(), r.phases.size());
}

// Initcalls pair up by function, the inner one closing first.
TEST(BootModel, PairsInitcalls)
{
    BootModel model;
    model.on_event({.kind = EventKind::InitcallStarted, .virtual_ns = 10, .wall_ns = 100, .instructions = 5,
                    .address = 0xa, .text = "outer"});
    model.on_event({.kind = EventKind::InitcallStarted, .virtual_ns = 20, .wall_ns = 200, .instructions = 7,
                    .address = 0xb, .text = "inner"});
    model.on_event({.kind = EventKind::InitcallReturned, .virtual_ns = 30, .wall_ns = 300, .instructions = 17,
                    .address = 0xb, .text = "inner"});
    BootRecord r = model.copy();
    ASSERT_EQ(r.initcalls.size(), 2u);
    EXPECT_EQ(r.initcalls[0].end_ns, 0u) << "outer still running";
    EXPECT_EQ(r.initcalls[1].name, "inner");
    EXPECT_EQ(r.initcalls[1].begin_ns, 200u);
    EXPECT_EQ(r.initcalls[1].end_ns, 300u);
    EXPECT_EQ(r.initcalls[1].guest_ns, 10u);
    EXPECT_EQ(r.initcalls[1].instructions, 10u);
}

TEST(BootModel, KeepsTheStepsToTheRootInOrderUpToItsLimit)
{
    BootModel m;
    m.on_event({.kind = EventKind::BootStep, .virtual_ns = 20, .value = uint64_t(BootStepKind::Module),
                .text = "module dm_mod loaded"});
    m.on_event({.kind = EventKind::BootStep, .virtual_ns = 30, .value = uint64_t(BootStepKind::Unlock),
                .text = "unlocked root_crypt (CRYPT): 0 8 crypt aes-xts-plain64 <key> 0 254:0 32768"});
    BootRecord r = m.copy();
    ASSERT_EQ(r.steps.size(), 2u);
    EXPECT_EQ(r.steps[0].kind, BootStepKind::Module);
    EXPECT_EQ(r.steps[1].kind, BootStepKind::Unlock);
    EXPECT_EQ(r.steps[1].virtual_ns, 30u);
    EXPECT_EQ(std::string(boot_step_name(r.steps[1].kind)), "unlock");
    for (size_t i = 0; i < BootRecord::max_shown_steps + 10; ++i)
        m.on_event({.kind = EventKind::BootStep, .value = uint64_t(BootStepKind::Module), .text = "module x loaded"});
    EXPECT_EQ(m.copy().steps.size(), BootRecord::max_shown_steps);
}
