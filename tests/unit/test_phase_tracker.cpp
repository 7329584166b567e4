#include <gtest/gtest.h>

#include "core/phase_tracker.h"

using namespace bootsim;

namespace {
// A kernel loaded at 16 MiB, 8 MiB in the file, decompressing in a 48 MiB buffer:
// the decompressor's moved copy lies in [24 MiB, 64 MiB).
PhaseHints hints()
{
    return {.load_address = 0x1000000, .loaded_size = 0x800000, .buffer_end = 0x4000000};
}

// Runs the decompressor up to its move: the entry, the trampoline in low
// memory, the original copy, then the first block of the moved copy.
void decompress_and_move(PhaseTracker& t)
{
    auto c = t.on_block(0x1000200);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Decompress);
    EXPECT_FALSE(t.on_block(0x9d000));
    EXPECT_FALSE(t.on_block(0x1000400));
    c = t.on_block(0x3a00123);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->what, PhaseChange::What::DecompressorMoved);
}
}  // namespace

TEST(PhaseTracker, WalksFromEntryToKernel)
{
    PhaseTracker t(hints());
    decompress_and_move(t);
    // Aligned addresses inside the moved copy are not the handoff.
    EXPECT_FALSE(t.on_block(0x3c00000));
    auto c = t.on_block(0x1000000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
    EXPECT_EQ(t.handoff_target(), 0x1000000u);
    EXPECT_TRUE(t.handoff_seen());
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

// 6.12 and later: extract_kernel() returns output + (e_entry -
// LOAD_PHYSICAL_ADDR), and e_entry is 0x1000c43, so the jump lands at an
// address with no alignment at all.
TEST(PhaseTracker, UnalignedHandoffTarget)
{
    PhaseTracker t(hints());
    decompress_and_move(t);
    auto c = t.on_block(0x1000c43);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
    EXPECT_EQ(c->address, 0x1000c43u);
    EXPECT_EQ(t.handoff_target(), 0x1000c43u);
    EXPECT_NE(std::string(c->evidence).find("moved copy"), std::string::npos) << c->evidence;
}

// With KASLR the output may lie anywhere, also above the buffer.
TEST(PhaseTracker, KaslrOutputAboveTheBuffer)
{
    PhaseTracker t(hints());
    decompress_and_move(t);
    auto c = t.on_block(0x7e00010);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
    EXPECT_EQ(t.handoff_target(), 0x7e00010u);
}

// A decompressor that maps the kernel and jumps to its virtual address:
// the handoff is that block, and with no symbols the kernel phase cannot
// be told apart from it, so the next phase is the first user block.
TEST(PhaseTracker, VirtualHandoffTarget)
{
    PhaseTracker t(hints());
    decompress_and_move(t);
    auto c = t.on_block(0xffffffff838c0fa0ull);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
    EXPECT_TRUE(t.handoff_seen());
    EXPECT_FALSE(t.on_block(0xffffffff81000100ull));  // no second "kernel" at the next high block
    c = t.on_block(0x401000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Init);
}

// With the kernel's symbols, the kernel phase is start_kernel itself.
TEST(PhaseTracker, KernelPhaseAtStartKernelWithSymbols)
{
    PhaseTracker t(hints());
    decompress_and_move(t);
    ASSERT_TRUE(t.on_block(0x1000c43));
    t.set_kernel_entry(0xffffffff83a1b2c0ull);
    EXPECT_FALSE(t.on_block(0xffffffff81000100ull));
    auto c = t.on_block(0xffffffff83a1b2c0ull);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Kernel);
    EXPECT_NE(std::string(c->evidence).find("start_kernel"), std::string::npos);
}

TEST(PhaseTracker, NoHandoffWhileTheDecompressorRunsInPlace)
{
    PhaseTracker t(hints());
    t.on_block(0x1000200);
    EXPECT_FALSE(t.on_block(0x1000000));
    EXPECT_FALSE(t.on_block(0x200000));
    EXPECT_FALSE(t.on_block(0x1000c43));
}

// No move seen (a decompressor that does not relocate itself): the first
// block at a kernel virtual address stands in for the handoff, and says
// it was not seen, so nothing relies on its address as the jump target.
TEST(PhaseTracker, FallbackWhenNoMoveIsSeen)
{
    PhaseTracker t(hints());
    t.on_block(0x1000200);
    EXPECT_FALSE(t.on_block(0x5000000));  // the kernel's own physical startup code: not told apart
    auto c = t.on_block(0xffffffff81000100ull);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
    EXPECT_FALSE(t.handoff_seen());
    EXPECT_NE(std::string(c->evidence).find("no decompressor move"), std::string::npos) << c->evidence;
    c = t.on_block(0x401000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Init);
}

// Without KASLR a 7.x kernel decompresses at its load address and its entry
// point lies 40 MiB in, above the loaded image: inside the coarse copy
// range, below the copy itself. Once the copy's start is measured, the jump
// there is the handoff.
TEST(PhaseTracker, EntryBelowTheMeasuredCopyIsTheHandoff)
{
    PhaseTracker t(hints());
    decompress_and_move(t);
    t.narrow_moved_copy(0x3000000);
    EXPECT_EQ(t.moved_copy_range().first, 0x3000000u);
    EXPECT_FALSE(t.on_block(0x3a00200));  // still the copy
    auto c = t.on_block(0x28c0fa0);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phase, Phase::Handoff);
}

TEST(PhaseTracker, AMeasuredCopyOutsideTheBufferIsIgnored)
{
    PhaseTracker t(hints());
    t.narrow_moved_copy(0x5000000);
    t.narrow_moved_copy(0x100000);
    EXPECT_EQ(t.moved_copy_range().first, 0x1800000u);
}
