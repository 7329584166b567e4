// Pic8259 and PicPair driven through their ports, programmed the way
// Linux's arch/x86/kernel/i8259.c programs them.

#include <gtest/gtest.h>

#include "devices/pic_8259.h"
#include "devices/pic_pair.h"

#include "unit/fake_irq_line.h"

namespace bootsim {
namespace {

using fake::FakeIrqLine;

constexpr uint64_t CMD = 0, DATA = 1;

// init_8259A(0): ICW1 0x11 (edge, cascade, ICW4 needed), ICW2 base,
// ICW3, ICW4 0x01 (8086 mode, normal EOI).
void init_chip(BusDevice& pic, uint8_t base, uint8_t icw3)
{
    pic.write(DATA, 0xff, 1);
    pic.write(CMD, 0x11, 1);
    pic.write(DATA, base, 1);
    pic.write(DATA, icw3, 1);
    pic.write(DATA, 0x01, 1);
}

class PicTest : public ::testing::Test {
protected:
    uint8_t in(uint64_t offset) { return uint8_t(pic.read(offset, 1)); }
    void out(uint64_t offset, uint8_t value) { pic.write(offset, value, 1); }

    FakeIrqLine intr;
    Pic8259 pic {intr};
};

TEST_F(PicTest, ImrReadsBackBeforeAndAfterInit)
{
    // probe_8259A writes ~(1 << 2) to the master's IMR and reads it back.
    out(DATA, 0xfb);
    EXPECT_EQ(in(DATA), 0xfb);
    init_chip(pic, 0x30, 0x04);
    EXPECT_EQ(in(DATA), 0x00);  // ICW1 clears IMR
    out(DATA, 0xfa);
    EXPECT_EQ(in(DATA), 0xfa);
}

TEST_F(PicTest, InitSequenceSetsVectorBase)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(0, true);
    EXPECT_EQ(pic.pending_vector(), 0x30);
    EXPECT_TRUE(intr.level());
    EXPECT_EQ(pic.acknowledge(), 0x30);
    EXPECT_FALSE(intr.level());
}

TEST_F(PicTest, VectorBaseIgnoresLowBits)
{
    // ICW1 0x13: single, ICW4 needed: no ICW3 follows.
    out(CMD, 0x13);
    out(DATA, 0x47);
    out(DATA, 0x01);
    out(DATA, 0x01);  // this is OCW1 now
    EXPECT_EQ(in(DATA), 0x01);
    pic.set_irq(3, true);
    EXPECT_EQ(pic.acknowledge(), 0x43);
}

TEST_F(PicTest, EdgeIsLatchedUntilAcknowledged)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(0, true);
    pic.set_irq(0, false);  // a pulse, as the PIT sends
    EXPECT_EQ(pic.irr(), 0x01);
    EXPECT_TRUE(intr.level());
    EXPECT_EQ(pic.acknowledge(), 0x30);
    EXPECT_EQ(pic.irr(), 0x00);
    EXPECT_EQ(pic.isr(), 0x01);
    // Holding the input high is not a new edge.
    pic.set_irq(0, true);
    out(CMD, 0x20);  // non-specific EOI
    pic.set_irq(0, true);
    EXPECT_EQ(pic.irr(), 0x01);  // that was the edge
    pic.acknowledge();
    out(CMD, 0x20);
    pic.set_irq(0, true);
    EXPECT_EQ(pic.irr(), 0x00);
    EXPECT_EQ(pic.isr(), 0x00);
}

TEST_F(PicTest, ReadIrrAndIsrThroughOcw3)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(1, true);
    pic.set_irq(4, true);
    EXPECT_EQ(in(CMD), 0x12);  // IRR by default
    EXPECT_EQ(pic.acknowledge(), 0x31);
    out(CMD, 0x0b);            // read ISR
    EXPECT_EQ(in(CMD), 0x02);
    EXPECT_EQ(in(CMD), 0x02);  // the selection sticks
    out(CMD, 0x0a);            // read IRR
    EXPECT_EQ(in(CMD), 0x10);
}

TEST_F(PicTest, MaskHoldsRequestBack)
{
    init_chip(pic, 0x30, 0x04);
    out(DATA, 0x01);
    pic.set_irq(0, true);
    EXPECT_EQ(pic.irr(), 0x01);
    EXPECT_FALSE(intr.level());
    EXPECT_EQ(pic.pending_vector(), -1);
    out(DATA, 0x00);
    EXPECT_TRUE(intr.level());
    EXPECT_EQ(pic.pending_vector(), 0x30);
}

TEST_F(PicTest, FixedPriorityAndNesting)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(3, true);
    pic.set_irq(1, true);
    EXPECT_EQ(pic.acknowledge(), 0x31);  // lower line first
    // IRQ 1 in service blocks IRQ 3 ...
    EXPECT_FALSE(intr.level());
    EXPECT_EQ(pic.pending_vector(), -1);
    // ... but not IRQ 0.
    pic.set_irq(0, true);
    EXPECT_TRUE(intr.level());
    EXPECT_EQ(pic.acknowledge(), 0x30);
    EXPECT_EQ(pic.isr(), 0x03);
    out(CMD, 0x20);  // non-specific EOI ends the highest: IRQ 0
    EXPECT_EQ(pic.isr(), 0x02);
    EXPECT_FALSE(intr.level());
    out(CMD, 0x20);
    EXPECT_EQ(pic.isr(), 0x00);
    EXPECT_EQ(pic.acknowledge(), 0x33);
}

TEST_F(PicTest, InServiceLineBlocksItsOwnNextRequest)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(0, true);
    pic.set_irq(0, false);
    EXPECT_EQ(pic.acknowledge(), 0x30);
    pic.set_irq(0, true);  // the next timer tick, before the EOI
    EXPECT_EQ(pic.irr(), 0x01);
    EXPECT_FALSE(intr.level());
    EXPECT_EQ(pic.pending_vector(), -1);
    out(CMD, 0x60);  // specific EOI for IRQ 0
    EXPECT_TRUE(intr.level());
    EXPECT_EQ(pic.acknowledge(), 0x30);
}

TEST_F(PicTest, SpecificEoi)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(5, true);
    pic.set_irq(6, true);
    EXPECT_EQ(pic.acknowledge(), 0x35);
    out(CMD, 0x60 + 6);  // not in service: no effect
    EXPECT_EQ(pic.isr(), 0x20);
    out(CMD, 0x60 + 5);  // mask_and_ack_8259A's specific EOI
    EXPECT_EQ(pic.isr(), 0x00);
    EXPECT_EQ(pic.acknowledge(), 0x36);
}

TEST_F(PicTest, SpuriousIrq7WhenRequestWentAway)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(4, true);
    EXPECT_TRUE(intr.level());
    out(DATA, 0x10);  // masked between INTR and INTA
    EXPECT_EQ(pic.acknowledge(), 0x37);
    EXPECT_EQ(pic.isr(), 0x00);  // a spurious IRQ 7 sets no ISR bit
}

TEST_F(PicTest, LevelTriggeredFollowsTheInput)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_elcr(0x20);
    pic.set_irq(5, true);
    EXPECT_EQ(pic.acknowledge(), 0x35);
    EXPECT_EQ(pic.irr(), 0x20);  // still high, still requested
    out(CMD, 0x20);
    EXPECT_EQ(pic.pending_vector(), 0x35);  // asks again after EOI
    pic.set_irq(5, false);
    EXPECT_EQ(pic.irr(), 0x00);
    EXPECT_EQ(pic.acknowledge(), 0x37);  // dropped before INTA: spurious
}

TEST_F(PicTest, LtimMakesAllInputsLevelTriggered)
{
    out(CMD, 0x19);  // ICW1 with LTIM
    out(DATA, 0x30);
    out(DATA, 0x04);
    out(DATA, 0x01);
    pic.set_irq(2, true);
    pic.set_irq(2, false);
    EXPECT_EQ(pic.irr(), 0x00);
}

TEST_F(PicTest, AutoEoiLeavesIsrClear)
{
    pic.write(CMD, 0x11, 1);
    pic.write(DATA, 0x30, 1);
    pic.write(DATA, 0x04, 1);
    pic.write(DATA, 0x03, 1);  // 8086 mode, AEOI
    pic.set_irq(2, true);
    EXPECT_EQ(pic.acknowledge(), 0x32);
    EXPECT_EQ(pic.isr(), 0x00);
}

TEST_F(PicTest, PollMode)
{
    init_chip(pic, 0x30, 0x04);
    out(CMD, 0x0c);  // OCW3 poll
    EXPECT_EQ(in(CMD), 0x00);  // nothing pending
    pic.set_irq(6, true);
    out(CMD, 0x0c);
    EXPECT_EQ(in(CMD), 0x86);
    EXPECT_EQ(pic.isr(), 0x40);  // the poll acknowledged it
    EXPECT_EQ(in(CMD), 0x00);    // back to reading IRR
}

TEST_F(PicTest, InitClearsStateAndNeedsFreshEdge)
{
    init_chip(pic, 0x30, 0x04);
    pic.set_irq(1, true);
    pic.acknowledge();
    pic.set_irq(3, true);
    init_chip(pic, 0x30, 0x04);
    EXPECT_EQ(pic.isr(), 0x00);
    EXPECT_EQ(pic.irr(), 0x00);
    pic.set_irq(1, true);  // still high from before: not an edge
    EXPECT_EQ(pic.irr(), 0x00);
}

class PicPairTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        // init_8259A: master at 0x30 with a slave on IR2, slave at 0x38
        // with ID 2, then all unmasked.
        init_chip(pair.master(), 0x30, 0x04);
        init_chip(pair.slave(), 0x38, 0x02);
        pair.master().write(DATA, 0x00, 1);
        pair.slave().write(DATA, 0x00, 1);
    }

    FakeIrqLine intr;
    PicPair pair {intr};
};

TEST_F(PicPairTest, SlaveIrq10ArrivesAsVector0x3aThroughMasterIrq2)
{
    pair.set_irq(10, true);
    EXPECT_TRUE(pair.has_interrupt());
    EXPECT_TRUE(intr.level());
    EXPECT_EQ(pair.master().irr(), 0x04);
    EXPECT_EQ(pair.acknowledge(), 0x3a);
    EXPECT_FALSE(intr.level());
    EXPECT_EQ(pair.master().isr(), 0x04);
    EXPECT_EQ(pair.slave().isr(), 0x04);
    // mask_and_ack_8259A for IRQ 10: specific EOI to the slave, then to
    // the master's IR2.
    pair.slave().write(CMD, 0x60 + 2, 1);
    pair.master().write(CMD, 0x60 + 2, 1);
    EXPECT_EQ(pair.master().isr(), 0x00);
    EXPECT_EQ(pair.slave().isr(), 0x00);
}

TEST_F(PicPairTest, MasterIrqsOutrankTheCascadeBelowIt)
{
    pair.set_irq(12, true);
    pair.set_irq(1, true);
    pair.set_irq(4, true);
    EXPECT_EQ(pair.acknowledge(), 0x31);
    pair.master().write(CMD, 0x20, 1);
    EXPECT_EQ(pair.acknowledge(), 0x3c);  // IR2 beats IR4
    // Slave in service through IR2 blocks IRQ 4 until the master's EOI.
    EXPECT_FALSE(pair.has_interrupt());
    pair.slave().write(CMD, 0x20, 1);
    pair.master().write(CMD, 0x20, 1);
    EXPECT_EQ(pair.acknowledge(), 0x34);
}

TEST_F(PicPairTest, SlavePriorities)
{
    pair.set_irq(14, true);
    pair.set_irq(9, true);
    EXPECT_EQ(pair.acknowledge(), 0x39);
    pair.slave().write(CMD, 0x20, 1);
    pair.master().write(CMD, 0x20, 1);
    // The slave's output rose again for IRQ 14.
    EXPECT_TRUE(pair.has_interrupt());
    EXPECT_EQ(pair.acknowledge(), 0x3e);
}

TEST_F(PicPairTest, MaskedSlaveRequestGivesSpuriousIrq15)
{
    pair.set_irq(11, true);
    pair.slave().write(DATA, 0x08, 1);  // masked after the master latched IR2
    EXPECT_TRUE(pair.has_interrupt());
    EXPECT_EQ(pair.acknowledge(), 0x3f);
    EXPECT_EQ(pair.slave().isr(), 0x00);
}

TEST_F(PicPairTest, SpuriousIrq7FromMaster)
{
    EXPECT_FALSE(pair.has_interrupt());
    EXPECT_EQ(pair.acknowledge(), 0x37);
    EXPECT_EQ(pair.master().isr(), 0x00);
}

TEST_F(PicPairTest, IrqLinesDriveTheInputs)
{
    IrqLine& com1 = pair.irq_line(4);
    IrqLine& rtc = pair.irq_line(8);
    com1.set_level(true);
    rtc.set_level(true);
    EXPECT_EQ(pair.acknowledge(), 0x38);  // IR2 outranks IR4
    pair.slave().write(CMD, 0x20, 1);
    pair.master().write(CMD, 0x20, 1);
    EXPECT_EQ(pair.acknowledge(), 0x34);
    com1.set_level(false);
    EXPECT_EQ(pair.master().irr(), 0x00);
}

TEST_F(PicPairTest, Irq2IsTheCascadeNotABusLine)
{
    pair.set_irq(2, true);
    EXPECT_FALSE(pair.has_interrupt());
    EXPECT_EQ(pair.master().irr(), 0x00);
}

TEST_F(PicPairTest, MasterMaskOnIr2HidesTheSlave)
{
    pair.master().write(DATA, 0x04, 1);
    pair.set_irq(8, true);
    EXPECT_FALSE(pair.has_interrupt());
    pair.master().write(DATA, 0x00, 1);
    EXPECT_TRUE(pair.has_interrupt());
    EXPECT_EQ(pair.acknowledge(), 0x38);
}

}  // namespace
}  // namespace bootsim
