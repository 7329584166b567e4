// Pit8254 against a hand-set clock. Expected times are the first
// nanosecond at which floor(t * 1193182 / 1e9) reaches the clock count,
// i.e. ceil(count * 1e9 / 1193182). Without a Port61 attached, all three
// gates are high.

#include <gtest/gtest.h>

#include "devices/pit_8254.h"

#include "unit/fake_irq_line.h"

namespace bootsim {
namespace {

using fake::FakeIrqLine;

constexpr uint64_t CH0 = 0, CH1 = 1, CH2 = 2, MODE = 3;
constexpr uint64_t never = TimedDevice::never;

class PitTest : public ::testing::Test {
protected:
    uint8_t in(uint64_t offset) { return uint8_t(pit.read(offset, 1)); }
    void out(uint64_t offset, uint8_t value) { pit.write(offset, value, 1); }
    void program(uint64_t channel, uint8_t control, uint16_t count)
    {
        out(MODE, control);
        out(channel, count & 0xff);
        out(channel, count >> 8);
    }
    uint16_t latched_count(uint64_t channel)
    {
        out(MODE, uint8_t(channel << 6));  // counter latch command
        uint8_t low = in(channel);
        return uint16_t(low | in(channel) << 8);
    }
    // Moves the clock and lets the device catch up, as the machine does.
    void run_to(uint64_t ns)
    {
        clock.set(ns);
        pit.advance(ns);
    }

    ManualClock clock;
    FakeIrqLine irq0;
    Pit8254 pit {clock, irq0};
};

TEST_F(PitTest, IdleUntilProgrammed)
{
    EXPECT_EQ(pit.next_deadline_ns(), never);
    run_to(100'000'000);
    EXPECT_EQ(irq0.rising_edges(), 0);
}

TEST_F(PitTest, Mode2PeriodicEdges)
{
    // pit_set_periodic at HZ=250: 0x34 (counter 0, lobyte/hibyte, mode 2),
    // LATCH = 4773.
    program(CH0, 0x34, 4773);
    EXPECT_EQ(pit.next_deadline_ns(), 4'000'228u);
    run_to(4'000'227);
    EXPECT_EQ(irq0.rising_edges(), 0);
    run_to(4'000'228);
    EXPECT_EQ(irq0.rising_edges(), 1);
    EXPECT_FALSE(irq0.level());  // a pulse, not a level
    EXPECT_EQ(pit.next_deadline_ns(), 8'000'456u);
    run_to(8'000'456);
    EXPECT_EQ(irq0.rising_edges(), 2);
    EXPECT_EQ(pit.next_deadline_ns(), 12'000'684u);
}

TEST_F(PitTest, Mode2PeriodStartsAtTheCountWrite)
{
    clock.set(1'000'000);
    program(CH0, 0x34, 1000);
    EXPECT_EQ(pit.next_deadline_ns(), 1'000'000u + 838'096u);
}

TEST_F(PitTest, MissedEdgesCoalesceIntoOnePulse)
{
    program(CH0, 0x34, 1000);
    run_to(2'514'286);  // three periods at once
    EXPECT_EQ(irq0.rising_edges(), 1);
    EXPECT_EQ(pit.next_deadline_ns(), 3'352'381u);
}

TEST_F(PitTest, Mode3SquareWaveEdgesAndOutput)
{
    program(CH0, 0x36, 1000);  // mode 3
    EXPECT_EQ(pit.next_deadline_ns(), 838'096u);
    run_to(838'096);
    EXPECT_EQ(irq0.rising_edges(), 1);
    EXPECT_EQ(pit.next_deadline_ns(), 1'676'191u);
    run_to(1'676'191);
    EXPECT_EQ(irq0.rising_edges(), 2);

    // Counter 2 in mode 3: high for 500 clocks, low for 500. A low gate
    // holds OUT high; the gate's rising edge starts the period.
    pit.set_gate2(false);
    program(CH2, 0xb6, 1000);
    clock.add(5'000);
    EXPECT_TRUE(pit.out2(clock.now_ns()));
    pit.set_gate2(true);
    uint64_t start = clock.now_ns();
    EXPECT_TRUE(pit.out2(start));
    EXPECT_TRUE(pit.out2(start + 419'047));   // 499 clocks
    EXPECT_FALSE(pit.out2(start + 419'048));  // 500 clocks
    EXPECT_FALSE(pit.out2(start + 838'095));
    EXPECT_TRUE(pit.out2(start + 838'096));
}

TEST_F(PitTest, Mode0FiresOnceAtTerminalCount)
{
    program(CH0, 0x30, 1000);
    EXPECT_EQ(pit.next_deadline_ns(), 838'096u);
    run_to(838'095);
    EXPECT_EQ(irq0.rising_edges(), 0);
    run_to(838'096);
    EXPECT_EQ(irq0.rising_edges(), 1);
    EXPECT_EQ(pit.next_deadline_ns(), never);
    run_to(10'000'000);
    EXPECT_EQ(irq0.rising_edges(), 1);
    // The counter keeps counting down through zero.
    EXPECT_EQ(latched_count(CH0), uint16_t(1000 - 11931));
}

TEST_F(PitTest, Mode4OneShotAsLinuxProgramsIt)
{
    // pit_set_oneshot writes 0x38, pit_next_event writes the delta.
    out(MODE, 0x38);
    EXPECT_EQ(pit.next_deadline_ns(), never);
    out(CH0, 1000 & 0xff);
    out(CH0, 1000 >> 8);
    // OUT strobes low at count 0 and rises one clock later.
    EXPECT_EQ(pit.next_deadline_ns(), 838'934u);
    run_to(838'933);
    EXPECT_EQ(irq0.rising_edges(), 0);
    run_to(838'934);
    EXPECT_EQ(irq0.rising_edges(), 1);
    EXPECT_EQ(pit.next_deadline_ns(), never);
    // Re-arming: a new count starts a new one-shot from now.
    out(CH0, 100);
    out(CH0, 0);
    EXPECT_EQ(pit.next_deadline_ns(), 838'934u + 84'648u);  // 101 clocks
}

TEST_F(PitTest, ReprogrammingDeliversAnEdgeAlreadyDue)
{
    program(CH0, 0x34, 1000);
    clock.set(900'000);  // past the first edge, not yet advanced
    program(CH0, 0x34, 2000);
    EXPECT_EQ(irq0.rising_edges(), 1);
    EXPECT_EQ(pit.next_deadline_ns(), 900'000u + 1'676'191u);
}

TEST_F(PitTest, LatchFreezesARunningCount)
{
    program(CH0, 0x34, 10000);
    clock.set(1'000'000);  // 1193 clocks
    out(MODE, 0x00);       // latch counter 0
    clock.set(5'000'000);
    EXPECT_EQ(in(CH0), (10000 - 1193) & 0xff);
    clock.set(6'000'000);
    EXPECT_EQ(in(CH0), (10000 - 1193) >> 8);
    // Released after both bytes: the next read is live.
    EXPECT_EQ(latched_count(CH0), 10000 - 7159);
}

TEST_F(PitTest, SecondLatchBeforeReadIsIgnored)
{
    program(CH1, 0x74, 5000);  // counter 1, mode 2
    clock.set(838'096);        // 1000 clocks
    out(MODE, 0x40);
    clock.set(2 * 838'096);
    out(MODE, 0x40);
    uint8_t low = in(CH1);
    uint16_t count = uint16_t(low | in(CH1) << 8);
    EXPECT_EQ(count, 4000);
}

TEST_F(PitTest, UnlatchedReadsAreLive)
{
    // quick_pit_calibrate reads counter 2 without latching, LSB then MSB.
    program(CH2, 0xb0, 0xffff);
    EXPECT_EQ(in(CH2), 0xff);
    EXPECT_EQ(in(CH2), 0xff);
    clock.set(83'810);  // 100 clocks
    EXPECT_EQ(in(CH2), (0xffff - 100) & 0xff);
    clock.set(305'446);  // 364 clocks
    EXPECT_EQ(in(CH2), 0xfe);  // the MSB has moved on between the reads
    clock.set(54'925'402);     // 65536 clocks: one past zero
    EXPECT_EQ(in(CH2), 0xff);
    EXPECT_EQ(in(CH2), 0xff);
}

TEST_F(PitTest, LowByteAndHighByteAccess)
{
    out(MODE, 0x14);  // counter 0, LSB only, mode 2
    out(CH0, 200);
    EXPECT_EQ(pit.next_deadline_ns(), 167'620u);
    EXPECT_EQ(in(CH0), 200);
    EXPECT_EQ(in(CH0), 200);  // every read is the low byte

    out(MODE, 0x24);  // MSB only: count 0x0100
    out(CH0, 0x01);
    clock.set(83'810);  // 100 clocks
    EXPECT_EQ(in(CH0), 0x00);  // 156 = 0x009c: high byte 0
}

TEST_F(PitTest, CountZeroIs65536)
{
    program(CH0, 0x34, 0);
    EXPECT_EQ(pit.next_deadline_ns(), 54'925'402u);
}

TEST_F(PitTest, BcdCounting)
{
    out(MODE, 0x35);  // mode 2, BCD
    out(CH0, 0x00);
    out(CH0, 0x10);  // 1000 decimal
    EXPECT_EQ(pit.next_deadline_ns(), 838'096u);
    clock.set(83'810);  // 100 clocks: 900 left
    EXPECT_EQ(latched_count(CH0), 0x0900);
}

TEST_F(PitTest, ReadBackStatusAndCount)
{
    program(CH2, 0xb0, 1000);  // mode 0; the gate is high
    clock.set(83'810);  // 100 clocks
    // Read-back: latch status and count of counter 2 (0xc0 | CNT2).
    out(MODE, 0xc8);
    EXPECT_EQ(in(CH2), 0x30);  // OUT low, count loaded, lobyte/hibyte, mode 0
    uint8_t low = in(CH2);
    EXPECT_EQ(uint16_t(low | in(CH2) << 8), 900);
    // Status only, after terminal count.
    clock.set(838'096);
    out(MODE, 0xe8);
    EXPECT_EQ(in(CH2), 0xb0);  // OUT high
}

TEST_F(PitTest, NullCountUntilTheCountIsWritten)
{
    out(MODE, 0x34);
    out(MODE, 0xe2);  // status of counter 0
    EXPECT_EQ(in(CH0), 0xf4);  // OUT high (mode 2), NULL COUNT, lohi, mode 2
    out(CH0, 0x10);
    out(CH0, 0x00);
    out(MODE, 0xe2);
    EXPECT_EQ(in(CH0), 0xb4);
}

TEST_F(PitTest, ControlWordStopsTheCounter)
{
    program(CH0, 0x34, 1000);
    out(MODE, 0x34);
    EXPECT_EQ(pit.next_deadline_ns(), never);
}

TEST_F(PitTest, GateLowPausesMode0)
{
    program(CH2, 0xb0, 1000);
    clock.set(83'810);  // 100 clocks counted
    pit.set_gate2(false);
    clock.set(10'000'000);
    EXPECT_FALSE(pit.out2(clock.now_ns()));
    EXPECT_EQ(latched_count(CH2), 900);
    pit.set_gate2(true);  // resumes: 900 clocks to go
    EXPECT_FALSE(pit.out2(10'000'000 + 754'286 - 1));
    EXPECT_TRUE(pit.out2(10'000'000 + 754'286));
}

TEST_F(PitTest, Mode1WaitsForGateTrigger)
{
    pit.set_gate2(false);
    program(CH2, 0xb2, 1000);  // mode 1
    clock.set(1'000'000);
    EXPECT_TRUE(pit.out2(1'000'000));  // armed, not triggered
    pit.set_gate2(true);               // trigger
    EXPECT_FALSE(pit.out2(1'000'000)); // low while counting
    EXPECT_TRUE(pit.out2(1'000'000 + 838'096));
    // Retriggering restarts the one-shot.
    clock.set(1'500'000);
    pit.set_gate2(false);
    pit.set_gate2(true);
    EXPECT_FALSE(pit.out2(1'500'000 + 838'095));
    EXPECT_TRUE(pit.out2(1'500'000 + 838'096));
}

TEST_F(PitTest, OnlyCounter0DrivesIrq0)
{
    program(CH2, 0xb4, 100);
    program(CH1, 0x74, 100);
    EXPECT_EQ(pit.next_deadline_ns(), never);
    run_to(10'000'000);
    EXPECT_EQ(irq0.rising_edges(), 0);
}

TEST_F(PitTest, ResetStopsCountingButKeepsGates)
{
    pit.set_gate2(false);
    program(CH0, 0x34, 1000);
    pit.reset();
    EXPECT_EQ(pit.next_deadline_ns(), never);
    program(CH2, 0xb0, 10);
    EXPECT_FALSE(pit.out2(1'000'000));  // gate 2 still low: not counting
}

}  // namespace
}  // namespace bootsim
