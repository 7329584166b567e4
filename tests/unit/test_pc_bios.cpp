// The firmware's answers, service by service, as the kernel's setup code
// (arch/x86/boot/) asks: registers in, registers and guest memory out.

#include <gtest/gtest.h>

#include <memory>

#include "core/guest_memory.h"
#include "devices/pc_bios.h"

namespace bootsim {
namespace {

constexpr uint64_t MiB = 1 << 20;
constexpr uint32_t SMAP = 0x534d4150;

class PcBiosTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto m = GuestMemory::create(64 * MiB);
        ASSERT_TRUE(m.ok());
        memory.reset(*m);
    }
    RealModeCall call(uint8_t vector, uint32_t eax, uint32_t ebx = 0, uint32_t ecx = 0, uint32_t edx = 0)
    {
        RealModeCall c;
        c.vector = vector;
        c.eax = eax, c.ebx = ebx, c.ecx = ecx, c.edx = edx;
        c.es = 0x1000, c.edi = 0x100;
        return c;
    }

    // The map build_e820() makes for 64 MiB.
    std::vector<E820Entry> e820 = {{0, 0x9fc00, E820Type::Ram},
                                   {0x9fc00, 0x400, E820Type::Reserved},
                                   {0xf0000, 0x10000, E820Type::Reserved},
                                   {MiB, 63 * MiB, E820Type::Ram}};
    std::unique_ptr<GuestMemory> memory;
    PcBios bios {e820};
};

TEST_F(PcBiosTest, E820WalksTheMachinesMapEntryByEntry)
{
    uint32_t next = 0;
    for (size_t i = 0; i < e820.size(); ++i) {
        auto c = call(0x15, 0xe820, next, 20, SMAP);
        auto answer = bios.call(c, *memory);
        EXPECT_TRUE(answer.supported);
        ASSERT_FALSE(c.carry) << i;
        EXPECT_EQ(c.eax, SMAP);
        EXPECT_EQ(c.ecx, 20u);
        uint64_t base = 0, length = 0;
        uint32_t type = 0;
        memory->read_value(0x10100, base);
        memory->read_value(0x10108, length);
        memory->read_value(0x10110, type);
        EXPECT_EQ(base, e820[i].address) << i;
        EXPECT_EQ(length, e820[i].size) << i;
        EXPECT_EQ(type, uint32_t(e820[i].type)) << i;
        next = c.ebx;
    }
    EXPECT_EQ(next, 0u);  // EBX 0 after the last entry
    // Past the end, or without the SMAP signature: carry.
    auto past = call(0x15, 0xe820, 7, 20, SMAP);
    bios.call(past, *memory);
    EXPECT_TRUE(past.carry);
    auto unsigned_call = call(0x15, 0xe820, 0, 20, 0);
    bios.call(unsigned_call, *memory);
    EXPECT_TRUE(unsigned_call.carry);
}

TEST_F(PcBiosTest, E820GivesTheExtendedAttributesWhenAsked)
{
    auto c = call(0x15, 0xe820, 0, 24, SMAP);
    bios.call(c, *memory);
    EXPECT_EQ(c.ecx, 24u);
    uint32_t attributes = 0;
    memory->read_value(0x10114, attributes);
    EXPECT_EQ(attributes, 1u);
}

TEST_F(PcBiosTest, E801And88CountTheRamAboveOneMebibyte)
{
    auto e801 = call(0x15, 0xe801);
    bios.call(e801, *memory);
    EXPECT_FALSE(e801.carry);
    EXPECT_EQ(e801.ax(), 15u * 1024);        // KiB from 1 to 16 MiB
    EXPECT_EQ(uint16_t(e801.ebx), 48u * 16);  // 64 KiB blocks from 16 to 64 MiB
    EXPECT_EQ(uint16_t(e801.ecx), e801.ax());
    EXPECT_EQ(uint16_t(e801.edx), uint16_t(e801.ebx));
    auto ah88 = call(0x15, 0x8800);
    bios.call(ah88, *memory);
    EXPECT_EQ(ah88.ax(), 63u * 1024);
    auto int12 = call(0x12, 0);
    bios.call(int12, *memory);
    EXPECT_EQ(int12.ax(), 639u);  // below the EBDA
}

TEST_F(PcBiosTest, VideoIsAnEightyColumnColourTextModeWithoutVesa)
{
    auto mode = call(0x10, 0x0f00);
    bios.call(mode, *memory);
    EXPECT_EQ(mode.al(), 3);
    EXPECT_EQ(mode.ah(), 80);
    auto ega = call(0x10, 0x1200, 0x10);
    bios.call(ega, *memory);
    EXPECT_EQ(uint8_t(ega.ebx >> 8), 0);  // colour
    auto vga = call(0x10, 0x1a00);
    bios.call(vga, *memory);
    EXPECT_EQ(vga.al(), 0x1a);
    auto vesa = call(0x10, 0x4f00);
    auto answer = bios.call(vesa, *memory);
    EXPECT_FALSE(answer.supported);
    EXPECT_NE(vesa.ax(), 0x004f);  // what vesa_probe() checks
    auto cursor = call(0x10, 0x0200, 0, 0, 0x0a05);
    bios.call(cursor, *memory);
    auto where = call(0x10, 0x0300);
    bios.call(where, *memory);
    EXPECT_EQ(uint16_t(where.edx), 0x0a05);
}

TEST_F(PcBiosTest, TeletypeOutputComesBackByLines)
{
    std::string printed;
    for (char ch : std::string("Probing EDD... ok\r\n")) {
        auto c = call(0x10, 0x0e00 | uint8_t(ch));
        auto answer = bios.call(c, *memory);
        printed += answer.printed;
        if (ch != '\n') {
            EXPECT_TRUE(answer.printed.empty());
        }
    }
    EXPECT_EQ(printed, "Probing EDD... ok");
}

TEST_F(PcBiosTest, ThereAreNoBiosDisksAndA20IsOn)
{
    for (uint32_t ax : {0x4100u, 0x0800u, 0x0201u}) {
        auto c = call(0x13, ax, 0x55aa, 0, 0x80);
        auto answer = bios.call(c, *memory);
        EXPECT_TRUE(c.carry) << std::hex << ax;
        EXPECT_FALSE(answer.supported);
    }
    auto a20 = call(0x15, 0x2401);
    bios.call(a20, *memory);
    EXPECT_FALSE(a20.carry);
    auto status = call(0x15, 0x2402);
    bios.call(status, *memory);
    EXPECT_EQ(status.al(), 1);
}

TEST_F(PcBiosTest, KeyboardHasNoKeyWaitingAndNoShiftKeys)
{
    auto check = call(0x16, 0x0100);
    bios.call(check, *memory);
    EXPECT_TRUE(check.zero);
    auto shift = call(0x16, 0x02ff);
    bios.call(shift, *memory);
    EXPECT_EQ(shift.al(), 0);
}

TEST_F(PcBiosTest, UnknownServicesAreAbsentFeaturesNamedOnce)
{
    auto c = call(0x1a, 0x0200);
    auto answer = bios.call(c, *memory);
    EXPECT_TRUE(c.carry);
    EXPECT_EQ(c.ah(), 0x86);
    EXPECT_FALSE(answer.supported);
    EXPECT_EQ(answer.service, "int 1Ah AH=02h (not supported)");
    auto ist = call(0x15, 0xe980);
    EXPECT_FALSE(bios.call(ist, *memory).supported);
    EXPECT_TRUE(ist.carry);
}

TEST_F(PcBiosTest, TablesAreAnIvtOfIretsAndABiosDataArea)
{
    bios.write_tables(*memory);
    uint16_t offset = 0, segment = 0;
    memory->read_value(0x10 * 4, offset);
    memory->read_value(0x10 * 4 + 2, segment);
    EXPECT_EQ(uint64_t(segment) * 16 + offset, PcBios::iret_address);
    uint8_t opcode = 0;
    memory->read_value(PcBios::iret_address, opcode);
    EXPECT_EQ(opcode, 0xcf);
    uint16_t com1 = 0, base_kib = 0, ebda = 0;
    memory->read_value(0x400, com1);
    memory->read_value(0x413, base_kib);
    memory->read_value(0x40e, ebda);
    EXPECT_EQ(com1, 0x3f8);
    EXPECT_EQ(base_kib, 639);
    EXPECT_EQ(uint64_t(ebda) * 16, 0x9fc00u);  // where the e820 map reserves it
}

}  // namespace
}  // namespace bootsim
