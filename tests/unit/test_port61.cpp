// Port61 with a Pit8254 behind it: the TSC calibration sequences of
// arch/x86/kernel/tsc.c, against a hand-set clock.

#include <gtest/gtest.h>

#include "devices/pit_8254.h"
#include "devices/port61.h"

namespace bootsim {
namespace {

constexpr uint64_t CH2 = 2, MODE = 3;

class Port61Test : public ::testing::Test {
protected:
    uint8_t in61() { return uint8_t(port61.read(0, 1)); }
    void out61(uint8_t value) { port61.write(0, value, 1); }

    ManualClock clock;
    NullIrqLine irq0;
    Pit8254 pit {clock, irq0};
    Port61 port61 {pit, clock};
};

TEST_F(Port61Test, RefreshBitFlipsOnEveryRead)
{
    uint8_t first = in61() & 0x10;
    uint8_t second = in61() & 0x10;
    uint8_t third = in61() & 0x10;
    EXPECT_NE(first, second);
    EXPECT_EQ(first, third);
}

TEST_F(Port61Test, ControlBitsReadBack)
{
    EXPECT_EQ(in61() & 0x0f, 0x00);
    out61(0xff);  // only bits 3-0 are writable
    EXPECT_EQ(in61() & 0xcf, 0x0f);
    out61(0x02);
    EXPECT_EQ(in61() & 0x0f, 0x02);
}

TEST_F(Port61Test, PitCalibrateTscSequence)
{
    // pit_calibrate_tsc(latch = 11931, ms = 10): gate high, speaker off,
    // counter 2 in mode 0 (0xb0), LSB then MSB, then poll bit 5.
    out61((in61() & ~0x02) | 0x01);
    pit.write(MODE, 0xb0, 1);
    clock.set(2'000'000);  // the count write starts the countdown
    pit.write(CH2, 11931 & 0xff, 1);
    pit.write(CH2, 11931 >> 8, 1);
    EXPECT_EQ(in61() & 0x20, 0);
    // 11931 clocks at 1.193182 MHz = 9999313 ns (rounded up).
    clock.set(2'000'000 + 9'999'312);
    EXPECT_EQ(in61() & 0x20, 0);
    clock.set(2'000'000 + 9'999'313);
    EXPECT_EQ(in61() & 0x20, 0x20);
    clock.set(2'000'000 + 50'000'000);
    EXPECT_EQ(in61() & 0x20, 0x20);  // stays high in mode 0
}

TEST_F(Port61Test, QuickPitCalibrateSequence)
{
    // quick_pit_calibrate: counter 2, mode 0, count 0xffff; bit 5 rises
    // 65535 clocks = 54924564 ns later.
    out61((in61() & ~0x02) | 0x01);
    pit.write(MODE, 0xb0, 1);
    pit.write(CH2, 0xff, 1);
    pit.write(CH2, 0xff, 1);
    // pit_expect_msb(0xff): the MSB reads 0xff for the first 256 clocks.
    clock.set(213'715);  // 255 clocks
    pit.read(CH2, 1);
    EXPECT_EQ(pit.read(CH2, 1), 0xffu);
    clock.set(214'553);  // 256 clocks
    pit.read(CH2, 1);
    EXPECT_EQ(pit.read(CH2, 1), 0xfeu);
    clock.set(54'924'563);
    EXPECT_EQ(in61() & 0x20, 0);
    clock.set(54'924'564);
    EXPECT_EQ(in61() & 0x20, 0x20);
}

TEST_F(Port61Test, GateLowStopsCounter2)
{
    // Power-on: gate low. A count written now does not run.
    pit.write(MODE, 0xb0, 1);
    pit.write(CH2, 100, 1);
    pit.write(CH2, 0, 1);
    clock.set(1'000'000);
    EXPECT_EQ(in61() & 0x20, 0);
    out61(0x01);  // counting starts here: 100 clocks = 83810 ns
    clock.set(1'000'000 + 83'809);
    EXPECT_EQ(in61() & 0x20, 0);
    clock.set(1'000'000 + 83'810);
    EXPECT_EQ(in61() & 0x20, 0x20);
}

TEST_F(Port61Test, ResetDropsTheGate)
{
    out61(0x01);
    port61.reset();
    EXPECT_EQ(in61() & 0x0f, 0);
    pit.write(MODE, 0xb0, 1);
    pit.write(CH2, 1, 1);
    pit.write(CH2, 0, 1);
    clock.set(1'000'000);
    EXPECT_EQ(in61() & 0x20, 0);
}

}  // namespace
}  // namespace bootsim
