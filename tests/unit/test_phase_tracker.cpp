#include <gtest/gtest.h>

#include "core/phase_tracker.h"

using namespace bootsim;

namespace {
// A kernel loaded at 16 MiB, 8 MiB in the file, decompressing in a 48 MiB buffer.
PhaseHints hints()
{
    return {.load_address = 0x1000000, .loaded_size = 0x800000, .buffer_end = 0x4000000, .kernel_alignment = 0x200000};
}
}  // namespace

TEST(PhaseTracker, WalksFromEntryToKernel)
{
    PhaseTracker t(hints());
    auto c = t.on_block(0x1000200);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Decompress);
    // The trampoline in low memory and the original copy: still decompress.
    EXPECT_FALSE(t.on_block(0x9d000));
    EXPECT_FALSE(t.on_block(0x1000400));
    c = t.on_block(0x3a00123);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->what, PhaseChange::What::DecompressorMoved);
    // Aligned addresses inside the moved copy are not the handoff.
    EXPECT_FALSE(t.on_block(0x3c00000));
    c = t.on_block(0x1000000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
    EXPECT_EQ(t.handoff_target(), 0x1000000u);
    EXPECT_FALSE(t.on_block(0x1000040));
    c = t.on_block(0xffffffff81000100ull);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Kernel);
    EXPECT_FALSE(t.on_block(0xffff888000100000ull));  // the direct map: still the kernel
    c = t.on_block(0x401000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Init);
    EXPECT_FALSE(t.on_block(0x7ffff7dd0000ull));
}

TEST(PhaseTracker, KaslrOutputAboveTheBuffer)
{
    PhaseTracker t(hints());
    t.on_block(0x1000200);
    t.on_block(0x3a00000);
    EXPECT_FALSE(t.on_block(0x7e00010));  // unaligned: not a handoff
    auto c = t.on_block(0x7e00000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
}

TEST(PhaseTracker, NoHandoffBeforeTheDecompressorMoved)
{
    PhaseTracker t(hints());
    t.on_block(0x1000200);
    EXPECT_FALSE(t.on_block(0x1000000));
    EXPECT_FALSE(t.on_block(0x200000));
}
