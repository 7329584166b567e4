// The CPU panel's disassembly and the facts "step over" needs.
#include <gtest/gtest.h>

#include "ui/gui/disassembler.h"

using namespace bootsim;
using namespace bootsim::gui;

TEST(Disassembler, DecodesLengthsAndCalls)
{
    // nop; call +5; mov eax, 1; ret
    const uint8_t code[] = {0x90, 0xe8, 0x05, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3};
    auto insns = disassemble(code, 0x1000, 64, 10);
    ASSERT_EQ(insns.size(), 4u);
    EXPECT_EQ(insns[0].text, "nop");
    EXPECT_FALSE(insns[0].ends_block);
    EXPECT_EQ(insns[1].address, 0x1001u);
    EXPECT_EQ(insns[1].length, 5u);
    EXPECT_TRUE(insns[1].is_call);
    EXPECT_EQ(insns[1].text, "call 0x100b");
    EXPECT_EQ(insns[2].text, "mov eax, 1");
    EXPECT_TRUE(insns[3].ends_block);
    EXPECT_FALSE(insns[3].is_call);
    EXPECT_EQ(disassemble(code, 0x1000, 64, 2).size(), 2u);  // the limit
}

TEST(Disassembler, StopsAtBytesThatDoNotDecode)
{
    const uint8_t code[] = {0x90, 0xb8, 0x01};  // mov eax, imm32 cut short
    EXPECT_EQ(disassemble(code, 0, 64, 10).size(), 1u);
    EXPECT_TRUE(disassemble({}, 0, 64, 10).empty());
}

TEST(Disassembler, CodeSizeFollowsTheMode)
{
    CpuState real;
    EXPECT_EQ(code_bits(real), 16);
    CpuState prot;
    prot.cr0 = 1;
    prot.cs.flags = 1u << 22;  // D: 32-bit segment
    EXPECT_EQ(code_bits(prot), 32);
    CpuState longmode;
    longmode.cr0 = 0x80000001;
    longmode.efer = 1 << 10;
    longmode.cs.flags = 0x00a09b00;  // L
    EXPECT_EQ(code_bits(longmode), 64);
    longmode.cs.flags = 0x00c09b00;  // compatibility mode: D, not L
    EXPECT_EQ(code_bits(longmode), 32);
}
