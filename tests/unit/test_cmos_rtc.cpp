// CmosRtc with a fixed start time and a hand-set clock.

#include <gtest/gtest.h>

#include <chrono>

#include "devices/cmos_rtc.h"

namespace bootsim {
namespace {

constexpr uint64_t INDEX = 0, DATA = 1;
constexpr uint64_t s = 1'000'000'000;

// 2024-02-29 13:45:56 UTC, a Thursday.
constexpr int64_t leap_day = 1709214356;
// 1999-12-31 23:59:59 UTC, a Friday.
constexpr int64_t last_second_of_1999 = 946684799;

class CmosRtcTest : public ::testing::Test {
protected:
    uint8_t cmos(uint8_t index)
    {
        rtc.write(INDEX, index, 1);
        return uint8_t(rtc.read(DATA, 1));
    }
    void set_cmos(uint8_t index, uint8_t value)
    {
        rtc.write(INDEX, index, 1);
        rtc.write(DATA, value, 1);
    }

    ManualClock clock;
    CmosRtc rtc {clock, leap_day};
};

TEST_F(CmosRtcTest, TimeInBcdByDefault)
{
    EXPECT_EQ(cmos(0x00), 0x56);  // seconds
    EXPECT_EQ(cmos(0x02), 0x45);  // minutes
    EXPECT_EQ(cmos(0x04), 0x13);  // hours, 24-hour
    EXPECT_EQ(cmos(0x06), 0x05);  // day of week, 1 = Sunday
    EXPECT_EQ(cmos(0x07), 0x29);  // day of month
    EXPECT_EQ(cmos(0x08), 0x02);  // month
    EXPECT_EQ(cmos(0x09), 0x24);  // year
    EXPECT_EQ(cmos(0x32), 0x20);  // century
}

TEST_F(CmosRtcTest, StatusRegisterDefaults)
{
    EXPECT_EQ(cmos(0x0a), 0x26);
    EXPECT_EQ(cmos(0x0b), 0x02);  // BCD, 24-hour
    EXPECT_EQ(cmos(0x0c), 0x00);
    EXPECT_EQ(cmos(0x0d), 0x80);  // VRT: valid
}

TEST_F(CmosRtcTest, BinaryMode)
{
    set_cmos(0x0b, 0x06);
    EXPECT_EQ(cmos(0x00), 56);
    EXPECT_EQ(cmos(0x02), 45);
    EXPECT_EQ(cmos(0x04), 13);
    EXPECT_EQ(cmos(0x07), 29);
    EXPECT_EQ(cmos(0x09), 24);
    EXPECT_EQ(cmos(0x32), 20);
}

TEST_F(CmosRtcTest, TwelveHourMode)
{
    set_cmos(0x0b, 0x00);
    EXPECT_EQ(cmos(0x04), 0x81);  // 1 PM
    clock.set(11 * 3600 * s);     // 00:45:56 the next day
    EXPECT_EQ(cmos(0x04), 0x12);  // 12 AM
    set_cmos(0x0b, 0x04);
    EXPECT_EQ(cmos(0x04), 12);
}

TEST_F(CmosRtcTest, AdvancesWithTheInjectedClock)
{
    clock.set(3 * s + 999'000'000);
    EXPECT_EQ(cmos(0x00), 0x59);
    clock.set(4 * s);
    EXPECT_EQ(cmos(0x00), 0x00);
    EXPECT_EQ(cmos(0x02), 0x46);
    clock.set(10 * 3600 * s + 15 * 60 * s);  // 00:00:56 on March 1st
    EXPECT_EQ(cmos(0x04), 0x00);
    EXPECT_EQ(cmos(0x07), 0x01);
    EXPECT_EQ(cmos(0x08), 0x03);
    EXPECT_EQ(cmos(0x06), 0x06);  // Friday
    EXPECT_EQ(rtc.time(), leap_day + 10 * 3600 + 15 * 60);
}

TEST(CmosRtcCentury, RollsIntoTheNextCentury)
{
    ManualClock clock;
    clock.set(7 * s);  // the start time belongs to the clock's present value
    CmosRtc rtc {clock, last_second_of_1999};
    auto cmos = [&](uint8_t index) {
        rtc.write(INDEX, index, 1);
        return rtc.read(DATA, 1);
    };
    EXPECT_EQ(cmos(0x09), 0x99u);
    EXPECT_EQ(cmos(0x32), 0x19u);
    EXPECT_EQ(cmos(0x06), 0x06u);
    clock.add(1 * s);
    EXPECT_EQ(cmos(0x00), 0x00u);
    EXPECT_EQ(cmos(0x04), 0x00u);
    EXPECT_EQ(cmos(0x07), 0x01u);
    EXPECT_EQ(cmos(0x08), 0x01u);
    EXPECT_EQ(cmos(0x09), 0x00u);
    EXPECT_EQ(cmos(0x32), 0x20u);
}

TEST_F(CmosRtcTest, UpdateInProgressOnlyJustBeforeEachSecond)
{
    clock.set(500'000'000);
    EXPECT_EQ(cmos(0x0a) & 0x80, 0);
    clock.set(999'755'999);
    EXPECT_EQ(cmos(0x0a) & 0x80, 0);
    clock.set(999'756'000);  // 244 us before the update
    EXPECT_EQ(cmos(0x0a), 0xa6);
    EXPECT_EQ(cmos(0x00), 0x56);  // still the old second
    clock.set(1'000'000'000);
    EXPECT_EQ(cmos(0x0a), 0x26);
    EXPECT_EQ(cmos(0x00), 0x57);
}

TEST_F(CmosRtcTest, SettingTheTimeWithTheSetBit)
{
    // As mc146818_set_time does: SET, write the fields, clear SET.
    clock.set(400'000'000);
    set_cmos(0x0b, 0x82);
    set_cmos(0x00, 0x00);
    set_cmos(0x02, 0x30);
    set_cmos(0x04, 0x08);
    set_cmos(0x07, 0x04);
    set_cmos(0x08, 0x07);
    set_cmos(0x09, 0x31);
    clock.set(5 * s);  // stopped while SET
    EXPECT_EQ(cmos(0x00), 0x00);
    EXPECT_EQ(cmos(0x0a) & 0x80, 0);
    set_cmos(0x0b, 0x02);  // counting resumes at the start of a second
    EXPECT_EQ(rtc.time(), 1940920200);  // 2031-07-04 08:30:00
    clock.set(6 * s + 999'999'999);
    EXPECT_EQ(cmos(0x00), 0x01);
    clock.set(7 * s);
    EXPECT_EQ(cmos(0x00), 0x02);
    EXPECT_EQ(cmos(0x06), 0x06);  // a Friday
}

TEST_F(CmosRtcTest, WritingOneFieldMovesTheClock)
{
    set_cmos(0x02, 0x05);
    EXPECT_EQ(cmos(0x02), 0x05);
    EXPECT_EQ(rtc.time(), leap_day - 40 * 60);
    set_cmos(0x02, 0x60);  // not a minute: ignored
    set_cmos(0x02, 0x5a);  // not BCD: ignored
    EXPECT_EQ(cmos(0x02), 0x05);
    clock.set(4 * s);
    EXPECT_EQ(cmos(0x00), 0x00);
    EXPECT_EQ(cmos(0x02), 0x06);
}

TEST_F(CmosRtcTest, TwelveHourWrites)
{
    set_cmos(0x0b, 0x00);
    set_cmos(0x04, 0x92);  // 12 PM
    EXPECT_EQ(cmos(0x04), 0x92);
    set_cmos(0x0b, 0x02);
    EXPECT_EQ(cmos(0x04), 0x12);
}

TEST_F(CmosRtcTest, StatusCAndDAreReadOnly)
{
    set_cmos(0x0c, 0xff);
    set_cmos(0x0d, 0x00);
    EXPECT_EQ(cmos(0x0c), 0x00);
    EXPECT_EQ(cmos(0x0d), 0x80);
    set_cmos(0x0a, 0xa6);  // UIP is read-only too
    EXPECT_EQ(cmos(0x0a), 0x26);
}

TEST_F(CmosRtcTest, NmiMaskBitIsNotPartOfTheIndex)
{
    set_cmos(0x40, 0x12);
    rtc.write(INDEX, 0x80 | 0x40, 1);
    EXPECT_TRUE(rtc.nmi_masked());
    EXPECT_EQ(rtc.read(DATA, 1), 0x12u);
    rtc.write(INDEX, 0x40, 1);
    EXPECT_FALSE(rtc.nmi_masked());
    EXPECT_EQ(rtc.read(INDEX, 1), 0xffu);
}

TEST_F(CmosRtcTest, RamBytesHoldValues)
{
    for (unsigned i = 0x0e; i < 0x80; ++i) {
        if (i == 0x32)
            continue;
        set_cmos(uint8_t(i), uint8_t(i ^ 0xa5));
    }
    for (unsigned i = 0x0e; i < 0x80; ++i) {
        if (i == 0x32)
            continue;
        EXPECT_EQ(cmos(uint8_t(i)), uint8_t(i ^ 0xa5)) << i;
    }
}

TEST_F(CmosRtcTest, MemorySize)
{
    rtc.set_memory_size(32ull << 20);
    EXPECT_EQ(cmos(0x15), 0x80);  // 640 KiB
    EXPECT_EQ(cmos(0x16), 0x02);
    EXPECT_EQ(cmos(0x17), 0x00);  // 31 MiB = 31744 KiB = 0x7c00
    EXPECT_EQ(cmos(0x18), 0x7c);
    EXPECT_EQ(cmos(0x30), 0x00);
    EXPECT_EQ(cmos(0x31), 0x7c);
    EXPECT_EQ(cmos(0x34), 0x00);  // 16 MiB = 256 x 64 KiB
    EXPECT_EQ(cmos(0x35), 0x01);

    rtc.set_memory_size(8ull << 30);
    EXPECT_EQ(cmos(0x17), 0xff);  // capped
    EXPECT_EQ(cmos(0x18), 0xff);
    EXPECT_EQ(cmos(0x34), 0xff);
    EXPECT_EQ(cmos(0x35), 0xff);

    rtc.set_memory_size(128ull << 20);
    EXPECT_EQ(cmos(0x34), 0x00);  // 112 MiB = 1792 x 64 KiB = 0x700
    EXPECT_EQ(cmos(0x35), 0x07);
}

TEST_F(CmosRtcTest, ResetClearsInterruptEnablesOnly)
{
    set_cmos(0x0b, 0x7e);
    set_cmos(0x50, 0x33);
    rtc.reset();
    EXPECT_EQ(cmos(0x0b), 0x06);
    EXPECT_EQ(cmos(0x50), 0x33);
    EXPECT_EQ(cmos(0x00), 56);  // binary mode kept
}

TEST(CmosRtcHostClock, StartsAtTheHostsWallClock)
{
    ManualClock clock;
    auto before = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    CmosRtc rtc {clock};
    auto after = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    EXPECT_GE(rtc.time(), before);
    EXPECT_LE(rtc.time(), after);
    clock.add(3600 * s);
    EXPECT_GE(rtc.time(), before + 3600);
    EXPECT_LE(rtc.time(), after + 3600);
}

}  // namespace
}  // namespace bootsim
