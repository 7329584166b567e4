#include <gtest/gtest.h>

#include "core/io_bus.h"

using namespace bootsim;

namespace {
class Recorder final : public BusDevice {
public:
    const char* name() const override { return "recorder"; }
    uint32_t read(uint64_t offset, unsigned) override { return 0x40 + uint32_t(offset); }
    void write(uint64_t offset, uint32_t value, unsigned width) override
    {
        last_offset = offset;
        last_value = value;
        last_width = width;
    }
    uint64_t last_offset = ~0ull;
    uint32_t last_value = 0;
    unsigned last_width = 0;
};
}  // namespace

TEST(IoBus, RoutesOffsetsWithinTheDeviceRange)
{
    IoBus bus;
    Recorder dev;
    ASSERT_TRUE(bus.attach(0x3f8, 8, dev, "COM1"));
    EXPECT_EQ(bus.read(0x3fd, 1), 0x45u);
    bus.write(0x3f9, 0x0f, 1);
    EXPECT_EQ(dev.last_offset, 1u);
    EXPECT_EQ(dev.last_value, 0x0fu);
}

TEST(IoBus, UnassignedPortsReadAllOnesAndAreCounted)
{
    IoBus bus;
    EXPECT_EQ(bus.read(0x80, 1), 0xffu);
    EXPECT_EQ(bus.read(0x80, 2), 0xffffu);
    EXPECT_EQ(bus.read(0xcfc, 4), 0xffffffffu);
    bus.write(0x80, 1, 1);
    EXPECT_EQ(bus.unassigned_reads(), 3u);
    EXPECT_EQ(bus.unassigned_writes(), 1u);
}

TEST(IoBus, RejectsOverlappingRanges)
{
    IoBus bus;
    Recorder a, b;
    ASSERT_TRUE(bus.attach(0x40, 4, a, "PIT"));
    EXPECT_FALSE(bus.attach(0x43, 2, b, "overlap"));
    EXPECT_TRUE(bus.attach(0x44, 2, b, "next"));
}

TEST(IoBus, DetachFreesTheRangeForAnotherBase)
{
    IoBus bus;
    Recorder dev;
    ASSERT_TRUE(bus.attach(0xc000, 0x40, dev, "BAR0"));
    EXPECT_FALSE(bus.detach(0xc000, Recorder{}));  // not that device
    ASSERT_TRUE(bus.detach(0xc000, dev));
    EXPECT_EQ(bus.read(0xc000, 1), 0xffu);
    EXPECT_TRUE(bus.attach(0xc040, 0x40, dev, "BAR0 moved"));
    EXPECT_EQ(bus.read(0xc041, 1), 0x41u);
}
