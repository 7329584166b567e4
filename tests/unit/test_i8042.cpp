// I8042 driven the way Linux's drivers/input/serio/i8042.c and the x86
// reboot code drive it, through the two windows a PC board maps.

#include <gtest/gtest.h>

#include "devices/bus_window.h"
#include "devices/i8042.h"

namespace bootsim {
namespace {

constexpr uint8_t OBF = 0x01, SYS = 0x04, CMDDAT = 0x08, KEYLOCK = 0x10, AUXDATA = 0x20;

class I8042Test : public ::testing::Test {
protected:
    // Port 0x60 is offset 0 of the device; port 0x64 is reached through a
    // BusWindow at offset 4, as the board maps it.
    uint8_t data() { return uint8_t(kbc.read(0, 1)); }
    void data(uint8_t value) { kbc.write(0, value, 1); }
    uint8_t status() { return uint8_t(port64.read(0, 1)); }
    void command(uint8_t value) { port64.write(0, value, 1); }

    int resets = 0;
    I8042 kbc {[this] { ++resets; }};
    BusWindow port64 {kbc, 4};
};

TEST_F(I8042Test, IdleStatusHasNoData)
{
    // i8042_flush finds OBF clear: a controller is present and empty.
    EXPECT_EQ(status(), SYS | KEYLOCK);
    EXPECT_EQ(status() & OBF, 0);
}

TEST_F(I8042Test, SelfTest)
{
    command(0xaa);
    EXPECT_EQ(status(), OBF | SYS | CMDDAT | KEYLOCK);
    EXPECT_EQ(data(), 0x55);
    EXPECT_EQ(status() & OBF, 0);
    EXPECT_EQ(data(), 0x55);  // an empty buffer reads its last value
}

TEST_F(I8042Test, KeyboardInterfaceTest)
{
    command(0xab);
    EXPECT_EQ(data(), 0x00);
}

TEST_F(I8042Test, ReadAndWriteCommandByte)
{
    command(0x20);
    EXPECT_EQ(data(), 0x65);
    command(0x60);
    data(0x47);
    EXPECT_EQ(status() & (OBF | CMDDAT), 0);  // last write was data
    command(0x20);
    EXPECT_EQ(data(), 0x47);
    EXPECT_EQ(status() & SYS, SYS);
    command(0x60);
    data(0x00);
    EXPECT_EQ(status() & SYS, 0);  // status mirrors the system flag
}

TEST_F(I8042Test, EnableAndDisableBitsInCommandByte)
{
    command(0x60);
    data(0x00);
    command(0xad);
    command(0xa7);
    command(0x20);
    EXPECT_EQ(data(), 0x30);
    command(0xae);
    command(0x20);
    EXPECT_EQ(data(), 0x20);
    command(0xa8);
    command(0x20);
    EXPECT_EQ(data(), 0x00);
}

TEST_F(I8042Test, PulseResetLineCallsBack)
{
    command(0xfe);
    EXPECT_EQ(resets, 1);
    command(0xff);  // pulses nothing
    EXPECT_EQ(resets, 1);
    command(0xfe);
    EXPECT_EQ(resets, 2);
}

TEST_F(I8042Test, OutputPortResetBit)
{
    command(0xd0);
    EXPECT_EQ(data(), 0xcf);
    command(0xd1);
    data(0xdf);  // A20 on, reset inactive: no reset
    EXPECT_EQ(resets, 0);
    command(0xd1);
    data(0xde);  // bit 0 low: reset
    EXPECT_EQ(resets, 1);
}

TEST_F(I8042Test, AuxPortIsReportedAbsent)
{
    // i8042_check_aux: AUX_LOOP with 0x5a must come back as AUX data for
    // an AUX port to exist; then AUX_TEST must report no error.
    command(0xd3);
    data(0x5a);
    EXPECT_EQ(status() & (OBF | AUXDATA), OBF);
    command(0xa9);
    EXPECT_EQ(data(), 0x01);
}

TEST_F(I8042Test, WritesForAbsentDevicesAreDropped)
{
    data(0xf2);  // keyboard GETID: no keyboard
    EXPECT_EQ(status() & OBF, 0);
    command(0xd4);
    data(0xff);  // mouse reset: no mouse
    EXPECT_EQ(status() & OBF, 0);
    command(0x20);  // the 0xd4 parameter did not stick
    EXPECT_EQ(data(), 0x65);
}

TEST_F(I8042Test, WriteKeyboardOutputBuffer)
{
    command(0xd2);
    data(0x1c);
    EXPECT_EQ(status() & (OBF | AUXDATA), OBF);
    EXPECT_EQ(data(), 0x1c);
}

TEST_F(I8042Test, ResetRestoresDefaults)
{
    command(0x60);
    data(0x00);
    command(0xaa);
    kbc.reset();
    EXPECT_EQ(status(), SYS | KEYLOCK);
    command(0x20);
    EXPECT_EQ(data(), 0x65);
    EXPECT_EQ(resets, 0);
}

TEST_F(I8042Test, OtherOffsetsFloat)
{
    EXPECT_EQ(kbc.read(1, 1), 0xffu);
    kbc.write(2, 0xfe, 1);
    EXPECT_EQ(resets, 0);
}

}  // namespace
}  // namespace bootsim
