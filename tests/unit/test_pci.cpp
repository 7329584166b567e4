// PciHost and PciFunction driven through ports 0xcf8-0xcff on an IoBus, the
// way Linux's arch/x86/pci/direct.c probes and uses configuration
// mechanism #1.

#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

#include "core/io_bus.h"
#include "devices/pci_function.h"
#include "devices/pci_host.h"

#include "unit/fake_irq_line.h"

namespace bootsim {
namespace {

using fake::FakeIrqLine;

constexpr uint16_t config_address_port = 0xcf8;
constexpr uint16_t config_data_port = 0xcfc;

// Header offsets.
constexpr uint8_t VENDOR = 0x00, DEVICE = 0x02, COMMAND = 0x04, STATUS = 0x06, REVISION = 0x08,
                  CLASS_DEVICE = 0x0a, HEADER_TYPE = 0x0e, BAR0 = 0x10, BAR1 = 0x14, SUBSYSTEM = 0x2e,
                  ROM = 0x30, INTERRUPT_LINE = 0x3c, INTERRUPT_PIN = 0x3d;

// A device with a 32-byte I/O BAR at BAR1 and INTB#, whose interrupt
// request the test sets directly.
class TestFunction final : public PciFunction {
public:
    explicit TestFunction(IrqLine& intx)
        : PciFunction(PciIdentity {.vendor = 0x1234,
                                   .device = 0x5678,
                                   .class_code = 0x020000,
                                   .revision = 3,
                                   .subsystem_vendor = 0x1234,
                                   .subsystem = 0x0042,
                                   .interrupt_pin = 2},
                      &intx)
    {
        declare_io_bar(1, 32);
    }
    const char* name() const override { return "test"; }
    void request_interrupt(bool on) { set_intx(on); }
};

class PciTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(io.attach(config_address_port, 8, host, "PCI conf1"));
        ASSERT_TRUE(host.attach(0, bridge));
        ASSERT_TRUE(host.attach(3, function));
        function.set_bar_callback([this](int bar, std::optional<uint16_t> base) { moves.emplace_back(bar, base); });
    }

    // PCI_CONF1_ADDRESS(bus, devfn, reg) from arch/x86/pci/direct.c.
    static uint32_t conf1_address(unsigned bus, unsigned device, unsigned function, unsigned reg)
    {
        return 0x80000000u | bus << 16 | (device << 3 | function) << 8 | (reg & ~3u);
    }
    // pci_conf1_read() and pci_conf1_write().
    uint32_t conf_read(unsigned device, unsigned reg, unsigned len, unsigned bus = 0, unsigned fn = 0)
    {
        io.write(config_address_port, conf1_address(bus, device, fn, reg), 4);
        switch (len) {
        case 1:
            return io.read(uint16_t(config_data_port + (reg & 3)), 1);
        case 2:
            return io.read(uint16_t(config_data_port + (reg & 2)), 2);
        default:
            return io.read(config_data_port, 4);
        }
    }
    void conf_write(unsigned device, unsigned reg, unsigned len, uint32_t value, unsigned fn = 0)
    {
        io.write(config_address_port, conf1_address(0, device, fn, reg), 4);
        switch (len) {
        case 1:
            io.write(uint16_t(config_data_port + (reg & 3)), value, 1);
            break;
        case 2:
            io.write(uint16_t(config_data_port + (reg & 2)), value, 2);
            break;
        default:
            io.write(config_data_port, value, 4);
            break;
        }
    }

    IoBus io;
    PciHost host;
    PciHostBridge bridge;
    FakeIrqLine irq;
    TestFunction function {irq};
    std::vector<std::pair<int, std::optional<uint16_t>>> moves;
};

TEST_F(PciTest, CheckType1ProbeAsLinuxDoesIt)
{
    // pci_check_type1(): a byte to 0xcfb, save 0xcf8, write and read back
    // 0x80000000, then restore.
    io.write(0xcfb, 0x01, 1);
    uint32_t saved = io.read(config_address_port, 4);
    EXPECT_EQ(saved, 0u);
    io.write(config_address_port, 0x80000000, 4);
    EXPECT_EQ(io.read(config_address_port, 4), 0x80000000u);
    io.write(config_address_port, saved, 4);
    EXPECT_EQ(io.read(config_address_port, 4), 0u);
}

TEST_F(PciTest, NarrowAccessesToConfigAddressDoNotChangeIt)
{
    io.write(config_address_port, 0x80001800, 4);
    io.write(0xcfb, 0x01, 1);
    io.write(0xcf8, 0x00, 1);
    io.write(0xcfa, 0x1234, 2);
    EXPECT_EQ(io.read(config_address_port, 4), 0x80001800u);
    // pci_check_type2() then expects to read back 0: it must not.
    EXPECT_EQ(io.read(0xcf8, 1), 0xffu);
    EXPECT_EQ(io.read(0xcfa, 2), 0xffffu);
}

TEST_F(PciTest, ConfigAddressReservedBitsReadZero)
{
    io.write(config_address_port, 0xffffffff, 4);
    EXPECT_EQ(io.read(config_address_port, 4), 0x80fffffcu);
}

TEST_F(PciTest, SanityCheckFindsTheHostBridge)
{
    // pci_sanity_check(): 16-bit read of PCI_CLASS_DEVICE at each devfn.
    EXPECT_EQ(conf_read(0, CLASS_DEVICE, 2), 0x0600u);  // PCI_CLASS_BRIDGE_HOST
    EXPECT_EQ(conf_read(0, VENDOR, 2), 0x8086u);
    EXPECT_EQ(conf_read(0, DEVICE, 2), 0x1237u);
    EXPECT_EQ(conf_read(0, VENDOR, 4), 0x12378086u);
    EXPECT_EQ(conf_read(0, HEADER_TYPE, 1), 0x00u);
    EXPECT_EQ(conf_read(0, INTERRUPT_PIN, 1), 0x00u);
}

TEST_F(PciTest, ByteAndWordAccessesReachTheirSubOffsets)
{
    EXPECT_EQ(conf_read(3, 0x00, 1), 0x34u);
    EXPECT_EQ(conf_read(3, 0x01, 1), 0x12u);
    EXPECT_EQ(conf_read(3, 0x02, 1), 0x78u);
    EXPECT_EQ(conf_read(3, 0x03, 1), 0x56u);
    EXPECT_EQ(conf_read(3, 0x02, 2), 0x5678u);
    EXPECT_EQ(conf_read(3, REVISION, 4), 0x02000003u);  // class 020000, revision 3
    EXPECT_EQ(conf_read(3, SUBSYSTEM, 2), 0x0042u);
    EXPECT_EQ(conf_read(3, INTERRUPT_PIN, 1), 2u);
}

TEST_F(PciTest, AbsentDevicesReadAllOnes)
{
    for (unsigned device : {1u, 2u, 4u, 31u}) {
        EXPECT_EQ(conf_read(device, VENDOR, 4), 0xffffffffu) << device;
        EXPECT_EQ(conf_read(device, VENDOR, 2), 0xffffu) << device;
        EXPECT_EQ(conf_read(device, CLASS_DEVICE, 2), 0xffffu) << device;
        EXPECT_EQ(conf_read(device, HEADER_TYPE, 1), 0xffu) << device;
    }
    // Another function of a present device, another bus.
    EXPECT_EQ(conf_read(0, VENDOR, 4, 0, 1), 0xffffffffu);
    EXPECT_EQ(conf_read(3, VENDOR, 4, 0, 7), 0xffffffffu);
    EXPECT_EQ(conf_read(0, VENDOR, 4, 1), 0xffffffffu);
    // Enable bit clear: no configuration cycle at all.
    io.write(config_address_port, 0x00000000, 4);
    EXPECT_EQ(io.read(config_data_port, 4), 0xffffffffu);
    // Writes to absent devices go nowhere (and do not hit device 3).
    conf_write(4, INTERRUPT_LINE, 1, 0x0b);
    EXPECT_EQ(conf_read(3, INTERRUPT_LINE, 1), 0u);
}

TEST_F(PciTest, AttachRefusesTakenAndOutOfRangeSlots)
{
    PciHostBridge other;
    EXPECT_FALSE(host.attach(0, other));
    EXPECT_FALSE(host.attach(32, other));
    EXPECT_TRUE(host.attach(31, other));
    EXPECT_EQ(conf_read(31, VENDOR, 2), 0x8086u);
}

TEST_F(PciTest, ReadOnlyFieldsStayPut)
{
    conf_write(3, VENDOR, 4, 0xdeadbeef);
    conf_write(3, REVISION, 4, 0xffffffff);
    conf_write(3, HEADER_TYPE, 1, 0x80);
    conf_write(3, SUBSYSTEM - 2, 4, 0);
    conf_write(3, INTERRUPT_PIN, 1, 4);
    conf_write(3, ROM, 4, 0xffffffff);
    conf_write(3, BAR0, 4, 0xffffffff);  // not implemented
    EXPECT_EQ(conf_read(3, VENDOR, 4), 0x56781234u);
    EXPECT_EQ(conf_read(3, REVISION, 4), 0x02000003u);
    EXPECT_EQ(conf_read(3, HEADER_TYPE, 1), 0u);
    EXPECT_EQ(conf_read(3, SUBSYSTEM, 2), 0x0042u);
    EXPECT_EQ(conf_read(3, INTERRUPT_PIN, 1), 2u);
    EXPECT_EQ(conf_read(3, ROM, 4), 0u);
    EXPECT_EQ(conf_read(3, BAR0, 4), 0u);
    // Status: no capabilities, nothing to clear.
    conf_write(3, STATUS, 2, 0xffff);
    EXPECT_EQ(conf_read(3, STATUS, 2), 0u);
}

TEST_F(PciTest, InterruptLineIsReadWrite)
{
    EXPECT_EQ(conf_read(3, INTERRUPT_LINE, 1), 0u);
    conf_write(3, INTERRUPT_LINE, 1, 11);
    EXPECT_EQ(conf_read(3, INTERRUPT_LINE, 1), 11u);
    EXPECT_EQ(function.interrupt_line(), 11);
    // A firmware-set value survives RST#.
    function.set_interrupt_line(10);
    host.reset();
    EXPECT_EQ(function.interrupt_line(), 10);
}

TEST_F(PciTest, CommandRegisterKeepsOnlyImplementedBits)
{
    conf_write(3, COMMAND, 2, 0xffff);
    EXPECT_EQ(conf_read(3, COMMAND, 2), 0x0507u);
    conf_write(3, COMMAND, 2, 0);
    EXPECT_EQ(conf_read(3, COMMAND, 2), 0u);
}

TEST_F(PciTest, BarSizingAsLinuxDoesIt)
{
    // __pci_read_base(): save, write all ones, read the size mask, restore.
    uint32_t saved = conf_read(3, BAR1, 4);
    EXPECT_EQ(saved, 0x00000001u);  // I/O, unprogrammed
    conf_write(3, BAR1, 4, saved | 0xffffffff);
    uint32_t size_mask = conf_read(3, BAR1, 4);
    conf_write(3, BAR1, 4, saved);
    EXPECT_EQ(size_mask, 0xffffffe1u);  // 32 bytes, I/O space
    EXPECT_EQ(~(size_mask & ~3u) + 1, 32u);
    EXPECT_EQ(conf_read(3, BAR1, 4), 0x00000001u);
    EXPECT_EQ(function.bar_size(1), 32u);
    EXPECT_EQ(function.bar_size(0), 0u);
    EXPECT_TRUE(moves.empty());  // decoding was never on
}

TEST_F(PciTest, IoWindowFollowsBarAndCommand)
{
    conf_write(3, BAR1, 4, 0xc040);
    EXPECT_TRUE(moves.empty());  // I/O space still disabled
    conf_write(3, COMMAND, 2, 0x0001);
    ASSERT_EQ(moves.size(), 1u);
    EXPECT_EQ(moves[0].first, 1);
    EXPECT_EQ(moves[0].second, std::optional<uint16_t>(0xc040));
    EXPECT_EQ(function.io_window(1), std::optional<uint16_t>(0xc040));

    // Low address bits inside the BAR's size are not writable.
    conf_write(3, BAR1, 4, 0xd05f);
    EXPECT_EQ(conf_read(3, BAR1, 4), 0xd041u);
    ASSERT_EQ(moves.size(), 2u);
    EXPECT_EQ(moves[1].second, std::optional<uint16_t>(0xd040));

    // Sizing with decoding on moves it out of the I/O space, then back.
    conf_write(3, BAR1, 4, 0xffffffff);
    conf_write(3, BAR1, 4, 0xd040);
    ASSERT_EQ(moves.size(), 4u);
    EXPECT_EQ(moves[2].second, std::nullopt);
    EXPECT_EQ(moves[3].second, std::optional<uint16_t>(0xd040));

    // Same value again: no callback.
    conf_write(3, BAR1, 4, 0xd040);
    conf_write(3, COMMAND, 2, 0x0005);
    EXPECT_EQ(moves.size(), 4u);

    conf_write(3, COMMAND, 2, 0x0004);
    ASSERT_EQ(moves.size(), 5u);
    EXPECT_EQ(moves[4].second, std::nullopt);
    EXPECT_EQ(function.io_window(1), std::nullopt);
}

TEST_F(PciTest, BarAtZeroDoesNotDecode)
{
    conf_write(3, COMMAND, 2, 0x0001);
    EXPECT_TRUE(moves.empty());
    EXPECT_EQ(function.io_window(1), std::nullopt);
}

TEST_F(PciTest, ResetStopsDecoding)
{
    conf_write(3, BAR1, 4, 0xc000);
    conf_write(3, COMMAND, 2, 0x0001);
    io.write(config_address_port, 0x80000000, 4);
    host.reset();
    EXPECT_EQ(host.config_address(), 0u);
    EXPECT_EQ(function.io_window(1), std::nullopt);
    EXPECT_EQ(conf_read(3, BAR1, 4), 1u);
    EXPECT_EQ(conf_read(3, COMMAND, 2), 0u);
    ASSERT_EQ(moves.size(), 2u);
    EXPECT_EQ(moves[1].second, std::nullopt);
}

TEST_F(PciTest, InterruptStatusAndInterruptDisable)
{
    function.request_interrupt(true);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(conf_read(3, STATUS, 2) & 0x0008, 0x0008u);
    // Command bit 10 masks the pin; the status bit still shows the request.
    conf_write(3, COMMAND, 2, 0x0400);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(conf_read(3, STATUS, 2) & 0x0008, 0x0008u);
    conf_write(3, COMMAND, 2, 0x0000);
    EXPECT_TRUE(irq.level());
    function.request_interrupt(false);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(conf_read(3, STATUS, 2), 0u);
    EXPECT_EQ(irq.rising_edges(), 2);
}

}  // namespace
}  // namespace bootsim
