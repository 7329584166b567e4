// The visualizer's engine without a window: BootController runs the real
// cloud kernel on its thread and obeys run-to-phase, step, step over,
// run-to-address, pause, typing and restart, as the buttons send them.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "support/images.h"
#include "ui/gui/boot_controller.h"
#include "ui/gui/disassembler.h"

using namespace bootsim;
using namespace bootsim::gui;
using bootsim::test::image;

namespace {

Options cloud_options(const std::string& append)
{
    Options o;
    o.kernel = image("bookworm/cloud/vmlinuz");
    o.initrd = image("initrd-busybox.cpio.gz");
    o.append = append;
    return o;
}

// Waits (up to `seconds`) until `done` holds for the controller's snapshot.
bool wait_for(BootController& c, const std::function<bool(const MachineSnapshot&)>& done, double seconds = 120)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!c.busy() && done(c.snapshot()))
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

bool stopped(const MachineSnapshot& s) { return s.state != RunState::Running; }

std::string console(BootController& c)
{
    auto session = c.session();
    return session ? session->model.copy().console : "";
}

}  // namespace

TEST(BootController, RunsToAPhaseThenStepsAndRunsToAnAddress)
{
    BootController c(cloud_options("console=ttyS0 nokaslr"));
    ASSERT_TRUE(wait_for(c, [](const MachineSnapshot& s) { return s.state == RunState::Paused; }));
    EXPECT_EQ(c.snapshot().phase, Phase::Loaded);

    c.send({CommandKind::RunToPhase, Phase::Handoff});
    ASSERT_TRUE(wait_for(c, stopped));
    MachineSnapshot at_handoff = c.snapshot();
    ASSERT_EQ(at_handoff.phase, Phase::Handoff) << at_handoff.status;
    ASSERT_TRUE(at_handoff.handoff);
    EXPECT_TRUE(at_handoff.handoff->matched);
    EXPECT_EQ(at_handoff.cpu.rip, 0x1000000u);  // nokaslr: startup_64 at LOAD_PHYSICAL_ADDR
    EXPECT_FALSE(at_handoff.kernel_segments.empty());

    // One instruction: the first of startup_64 is a lea (7 bytes).
    auto insns = disassemble(at_handoff.code, at_handoff.code_address, code_bits(at_handoff.cpu), 6);
    ASSERT_GE(insns.size(), 6u);
    c.send({CommandKind::Step});
    ASSERT_TRUE(wait_for(c, stopped));
    EXPECT_EQ(c.snapshot().cpu.rip, insns[1].address) << c.snapshot().status;
    EXPECT_EQ(c.snapshot().state, RunState::Paused);

    // Run to an address a few instructions on (no call in between).
    Command to{CommandKind::RunToAddress};
    to.address = insns[4].address;
    c.send(to);
    ASSERT_TRUE(wait_for(c, stopped));
    EXPECT_EQ(c.snapshot().cpu.rip, insns[4].address) << c.snapshot().status;

    // Step until a call comes up, then step over it: RIP is the next
    // instruction and RSP as before.
    for (int i = 0; i < 64; ++i) {
        MachineSnapshot s = c.snapshot();
        auto here = disassemble(s.code, s.code_address, code_bits(s.cpu), 1);
        ASSERT_FALSE(here.empty());
        if (here[0].is_call) {
            c.send({CommandKind::StepOver});
            ASSERT_TRUE(wait_for(c, stopped));
            EXPECT_EQ(c.snapshot().cpu.rip, here[0].address + here[0].length) << c.snapshot().status;
            EXPECT_EQ(c.snapshot().cpu.gpr[4], s.cpu.gpr[4]);
            break;
        }
        c.send({CommandKind::Step});
        ASSERT_TRUE(wait_for(c, stopped));
        ASSERT_EQ(c.snapshot().state, RunState::Paused);
    }

    // The next phase after the handoff is the kernel proper.
    c.send({CommandKind::RunToNextPhase});
    ASSERT_TRUE(wait_for(c, stopped));
    EXPECT_EQ(c.snapshot().phase, Phase::Kernel) << c.snapshot().status;
}

TEST(BootController, PausesTypesAndRestarts)
{
    BootController c(cloud_options("console=ttyS0 bootsim.shell"));
    ASSERT_TRUE(wait_for(c, [](const MachineSnapshot& s) { return s.state == RunState::Paused; }));

    // Run, then pause mid-boot.
    c.send({CommandKind::Run});
    ASSERT_TRUE(wait_for(c, [](const MachineSnapshot& s) { return s.state == RunState::Running; }, 10) ||
                c.snapshot().state == RunState::Running);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    c.pause();
    ASSERT_TRUE(wait_for(c, stopped));
    EXPECT_EQ(c.snapshot().state, RunState::Paused);
    EXPECT_EQ(c.snapshot().status, "paused");

    // Run on to the shell and type a command for it.
    c.send({CommandKind::Run});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (console(c).find("BOOTSIM-INIT-OK") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_NE(console(c).find("BOOTSIM-INIT-OK"), std::string::npos);
    c.type("echo typed-$((6*7))\r");
    while (console(c).find("typed-42") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_NE(console(c).find("typed-42"), std::string::npos) << console(c).substr(console(c).size() > 500 ? console(c).size() - 500 : 0);

    // Restart: a new boot from the start, the old console gone.
    c.pause();
    ASSERT_TRUE(wait_for(c, stopped));
    c.send({CommandKind::Restart});
    ASSERT_TRUE(wait_for(c, [](const MachineSnapshot& s) { return s.generation == 1; }));
    EXPECT_EQ(c.snapshot().phase, Phase::Loaded);
    EXPECT_EQ(console(c), "");
    c.send({CommandKind::RunToPhase, Phase::Decompress});
    ASSERT_TRUE(wait_for(c, stopped));
    EXPECT_EQ(c.snapshot().phase, Phase::Decompress) << c.snapshot().status;
}

TEST(BootController, StepsExactlyInsideTheUnhookedDecompressorAndPausesAtItsEnd)
{
    // The XZ kernel: its decompressor runs long enough to pause in it.
    Options o = cloud_options("console=ttyS0 nokaslr");
    o.kernel = image("bookworm/generic/vmlinuz");
    BootController c(o);
    ASSERT_TRUE(wait_for(c, [](const MachineSnapshot& s) { return s.state == RunState::Paused; }));
    c.send({CommandKind::RunToPhase, Phase::Decompress});
    ASSERT_TRUE(wait_for(c, stopped));
    // Run into the relocated copy: the first block there is announced.
    c.send({CommandKind::Run});
    uint64_t moved = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!(moved = c.session()->model.copy().decompressor_moved_to) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_NE(moved, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Unhooked now: the pause waits for the jump to the kernel.
    EXPECT_TRUE(c.pause_waits());
    c.pause();
    ASSERT_TRUE(wait_for(c, stopped));
    EXPECT_EQ(c.snapshot().phase, Phase::Handoff) << c.snapshot().status;
    EXPECT_EQ(c.snapshot().state, RunState::Paused);

    // A second boot: stop inside the copy at its first instruction, then
    // step there, exactly, instruction by instruction.
    c.send({CommandKind::Restart});
    ASSERT_TRUE(wait_for(c, [](const MachineSnapshot& s) { return s.generation == 1; }));
    Command to{CommandKind::RunToAddress};
    to.address = moved;
    c.send(to);
    ASSERT_TRUE(wait_for(c, stopped));
    ASSERT_EQ(c.snapshot().cpu.rip, moved) << c.snapshot().status;
    for (int i = 0; i < 40; ++i) {
        MachineSnapshot s = c.snapshot();
        auto here = disassemble(s.code, s.code_address, code_bits(s.cpu), 1);
        ASSERT_FALSE(here.empty());
        c.send({CommandKind::Step});
        ASSERT_TRUE(wait_for(c, stopped));
        MachineSnapshot after = c.snapshot();
        ASSERT_EQ(after.state, RunState::Paused) << after.status;
        // Straight-line code lands on the next instruction; a jump, call or
        // return somewhere else. A REP string instruction steps one
        // iteration at a time, as with the trap flag on hardware.
        bool rep = here[0].text.rfind("rep", 0) == 0;
        if (rep) {
            EXPECT_TRUE(after.cpu.rip == here[0].address || after.cpu.rip == here[0].address + here[0].length);
        }
        else if (!here[0].ends_block) {
            EXPECT_EQ(after.cpu.rip, here[0].address + here[0].length) << here[0].text;
        }
        EXPECT_EQ(after.phase, Phase::Decompress);
    }
    // Run on: the handoff comes, verified.
    c.send({CommandKind::RunToPhase, Phase::Handoff});
    ASSERT_TRUE(wait_for(c, stopped));
    ASSERT_EQ(c.snapshot().phase, Phase::Handoff) << c.snapshot().status;
    ASSERT_TRUE(c.snapshot().handoff);
    EXPECT_TRUE(c.snapshot().handoff->matched);
}
