// The BootPlan: e820, initrd placement, --mem parsing, and the zero page,
// read back through the kernel's own struct boot_params.

#include <gtest/gtest.h>

#include <asm/bootparam.h>

#include <algorithm>
#include <cstring>

#include "loader/boot_plan.h"
#include "loader/guest_layout.h"
#include "fake_bzimage.h"

namespace bootsim {
namespace {

using fake::build_fake_bzimage;
using fake::FakeKernel;

constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t GiB = 1ull << 30;

BzImage fake_kernel(const FakeKernel& k = {})
{
    auto bz = parse_bzimage("images/vmlinuz", build_fake_bzimage(k));
    EXPECT_TRUE(bz.ok()) << bz.error().message;
    return std::move(*bz);
}

BootConfig config(uint64_t mem = 512 * MiB)
{
    BootConfig c;
    c.kernel_path = "images/vmlinuz";
    c.cmdline = "console=ttyS0 quiet";
    c.mem_size = mem;
    c.entry = EntryMode::Long64;  // most tests here check the 64-bit entry's state
    return c;
}

struct boot_params zero_page(const BootPlan& plan)
{
    const Region* r = plan.find(RegionRole::BootParams);
    EXPECT_NE(r, nullptr);
    struct boot_params bp;
    std::memset(&bp, 0, sizeof bp);
    if (r && r->bytes.size() == sizeof bp)
        std::memcpy(&bp, r->bytes.data(), sizeof bp);
    return bp;
}

uint64_t le64(const std::vector<uint8_t>& bytes, size_t at)
{
    uint64_t v;
    std::memcpy(&v, &bytes[at], 8);
    return v;
}

// --- e820 -----------------------------------------------------------------

TEST(E820, MapFor512MiB)
{
    auto map = build_e820(512 * MiB);
    ASSERT_EQ(map.size(), 4u);
    EXPECT_EQ(map[0].address, 0u);
    EXPECT_EQ(map[0].size, 0x9fc00u);
    EXPECT_EQ(map[0].type, E820Type::Ram);
    EXPECT_EQ(map[1].address, 0x9fc00u);
    EXPECT_EQ(map[1].size, 0x400u);
    EXPECT_EQ(map[1].type, E820Type::Reserved);
    EXPECT_EQ(map[2].address, 0xf0000u);
    EXPECT_EQ(map[2].size, 0x10000u);
    EXPECT_EQ(map[2].type, E820Type::Reserved);
    EXPECT_EQ(map[3].address, 0x100000u);
    EXPECT_EQ(map[3].size, 512 * MiB - 0x100000);
    EXPECT_EQ(map[3].type, E820Type::Ram);
}

TEST(E820, TopOfRamFollowsMemSize)
{
    auto map = build_e820(3 * GiB);
    ASSERT_EQ(map.size(), 4u);
    EXPECT_EQ(map.back().address + map.back().size, 3 * GiB);
}

// --- initrd placement -------------------------------------------------------

TEST(PlaceInitrd, HighestPageAlignedFit)
{
    // 512 MiB of RAM: a 10 MiB initrd ends exactly at the top.
    auto a = place_initrd(10 * MiB, 512 * MiB, 0x7fffffff, 64 * MiB);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, 502 * MiB);
}

TEST(PlaceInitrd, AlignsDownToAPage)
{
    auto a = place_initrd(10 * MiB + 123, 512 * MiB, 0x7fffffff, 64 * MiB);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a % 4096, 0u);
    EXPECT_EQ(*a, 502 * MiB - 4096);
    EXPECT_LE(*a + 10 * MiB + 123, 512 * MiB);
}

TEST(PlaceInitrd, RespectsInitrdAddrMax)
{
    // 2 GiB of RAM, but the kernel takes the initrd only below 256 MiB.
    auto a = place_initrd(MiB, 2 * GiB, 0x0fffffff, 64 * MiB);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, 255 * MiB);
    EXPECT_LE(*a + MiB - 1, 0x0fffffffu);
}

TEST(PlaceInitrd, ZeroInitrdAddrMaxMeansTheOldLimit)
{
    auto a = place_initrd(MiB, 2 * GiB, 0, 64 * MiB);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, 0x38000000u - MiB);
}

TEST(PlaceInitrd, DoesNotFitAboveTheKernel)
{
    EXPECT_FALSE(place_initrd(100 * MiB, 128 * MiB, 0x7fffffff, 64 * MiB).has_value());
    EXPECT_FALSE(place_initrd(1 * GiB, 512 * MiB, 0x7fffffff, 0).has_value());
    // Exactly filling the space between kernel and top still fits.
    auto a = place_initrd(64 * MiB, 128 * MiB, 0x7fffffff, 64 * MiB);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, 64 * MiB);
}

// --- --mem ----------------------------------------------------------------

TEST(ParseMemSize, AcceptsUnits)
{
    EXPECT_EQ(*parse_mem_size("512M"), 512 * MiB);
    EXPECT_EQ(*parse_mem_size("512MiB"), 512 * MiB);
    EXPECT_EQ(*parse_mem_size("512m"), 512 * MiB);
    EXPECT_EQ(*parse_mem_size("1G"), GiB);
    EXPECT_EQ(*parse_mem_size("1GiB"), GiB);
    EXPECT_EQ(*parse_mem_size("3G"), 3 * GiB);
    EXPECT_EQ(*parse_mem_size("268435456"), 256 * MiB);
    EXPECT_EQ(*parse_mem_size("65536k"), 64 * MiB);
}

TEST(ParseMemSize, RejectsMalformed)
{
    for (const char* text : {"abc", "12Q", "", "M", "-1G", "1.5G", " 1G", "1G "}) {
        auto r = parse_mem_size(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.error().kind, ErrorKind::BadUsage) << text;
        EXPECT_EQ(r.error().message,
                  fmt::format("--mem: expected a size like 512M or 2G, found \"{}\"", text));
    }
}

TEST(ParseMemSize, RejectsOutOfRange)
{
    for (const char* text : {"64k", "15M", "4G", "3073M", "99999999999999999999", "99999999999G"}) {
        auto r = parse_mem_size(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.error().kind, ErrorKind::BadUsage) << text;
        EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
    }
    EXPECT_NE(parse_mem_size("8M").error().message.find("too small"), std::string::npos);
    EXPECT_NE(parse_mem_size("4G").error().message.find("at most 3G"), std::string::npos);
    EXPECT_FALSE(parse_mem_size("16777217").ok());  // not a whole MiB
    EXPECT_EQ(*parse_mem_size("16M"), 16 * MiB);
}

// --- the plan ---------------------------------------------------------------

TEST(BootPlan, RegionsSortedWithRolesAndAddresses)
{
    BzImage bz = fake_kernel();
    std::vector<uint8_t> initrd(3 * MiB + 5, 0x5a);
    BootConfig c = config();
    c.initrd_path = "initrd.img";
    auto plan = make_boot_plan(bz, &initrd, c);
    ASSERT_TRUE(plan.ok()) << plan.error().message;

    std::vector<RegionRole> roles;
    for (const Region& r : plan->regions)
        roles.push_back(r.role);
    EXPECT_EQ(roles, (std::vector<RegionRole>{RegionRole::Gdt, RegionRole::BootParams,
                                              RegionRole::PageTables, RegionRole::Cmdline,
                                              RegionRole::Kernel, RegionRole::DecompressBuffer,
                                              RegionRole::Initrd}));
    for (size_t i = 1; i < plan->regions.size(); ++i)
        EXPECT_LE(plan->regions[i - 1].guest_address, plan->regions[i].guest_address);

    const Region* kernel = plan->find(RegionRole::Kernel);
    ASSERT_NE(kernel, nullptr);
    EXPECT_EQ(kernel->guest_address, 0x1000000u);
    EXPECT_EQ(kernel->name, "kernel (protected mode: decompressor + xz payload)");
    auto code = bz.protected_mode_code();
    EXPECT_EQ(kernel->bytes, std::vector<uint8_t>(code.begin(), code.end()));
    EXPECT_EQ(kernel->size, code.size());

    const Region* buffer = plan->find(RegionRole::DecompressBuffer);
    ASSERT_NE(buffer, nullptr);
    EXPECT_EQ(buffer->guest_address, 0x1000000u);
    EXPECT_EQ(buffer->size, 0x2000000u);
    EXPECT_TRUE(buffer->bytes.empty());

    const Region* rd = plan->find(RegionRole::Initrd);
    ASSERT_NE(rd, nullptr);
    EXPECT_EQ(rd->guest_address, 512 * MiB - 3 * MiB - 4096);
    EXPECT_EQ(rd->size, initrd.size());
    EXPECT_EQ(rd->bytes, initrd);

    EXPECT_EQ(plan->mem_size, 512 * MiB);
    EXPECT_EQ(plan->load_address, 0x1000000u);
    EXPECT_EQ(plan->loaded_size, code.size());
    EXPECT_EQ(plan->init_size, 0x2000000u);
    EXPECT_EQ(plan->kernel_alignment, 0x200000u);
    EXPECT_EQ(plan->cmdline, "console=ttyS0 quiet");
    EXPECT_EQ(plan->e820.size(), 4u);
    EXPECT_STREQ(region_role_name(RegionRole::DecompressBuffer), "decompress-buffer");
}

TEST(BootPlan, ZeroPageFields)
{
    BzImage bz = fake_kernel();
    std::vector<uint8_t> initrd(2 * MiB, 1);
    BootConfig c = config(256 * MiB);
    c.initrd_path = "initrd.img";
    auto plan = make_boot_plan(bz, &initrd, c);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const Region* r = plan->find(RegionRole::BootParams);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->guest_address, layout::boot_params);
    EXPECT_EQ(r->size, 4096u);
    struct boot_params bp = zero_page(*plan);

    // Copied from the file's header.
    EXPECT_EQ(std::memcmp(&bp.hdr.header, "HdrS", 4), 0);
    EXPECT_EQ(bp.hdr.version, 0x020f);
    EXPECT_EQ(bp.hdr.setup_sects, 4);
    EXPECT_EQ(bp.hdr.boot_flag, 0xaa55);
    EXPECT_EQ(bp.hdr.init_size, 0x2000000u);
    EXPECT_EQ(bp.hdr.kernel_alignment, 0x200000u);
    EXPECT_EQ(bp.hdr.pref_address, 0x1000000u);
    EXPECT_EQ(bp.hdr.kernel_info_offset, 0x1000u);
    // Written by the loader.
    EXPECT_EQ(bp.hdr.type_of_loader, 0xff);
    EXPECT_EQ(bp.hdr.vid_mode, 0xffff);
    EXPECT_EQ(bp.hdr.loadflags, LOADED_HIGH);
    EXPECT_EQ(bp.hdr.code32_start, 0x1000000u);
    EXPECT_EQ(bp.hdr.cmd_line_ptr, layout::cmdline);
    EXPECT_EQ(bp.ext_cmd_line_ptr, 0u);
    EXPECT_EQ(bp.hdr.ramdisk_image, 254 * MiB);
    EXPECT_EQ(bp.hdr.ramdisk_size, 2 * MiB);
    EXPECT_EQ(bp.ext_ramdisk_image, 0u);
    EXPECT_EQ(bp.sentinel, 0);
    ASSERT_EQ(bp.e820_entries, 4);
    EXPECT_EQ(bp.e820_table[0].addr, 0u);
    EXPECT_EQ(bp.e820_table[0].size, 0x9fc00u);
    EXPECT_EQ(bp.e820_table[0].type, 1u);
    EXPECT_EQ(bp.e820_table[1].type, 2u);
    EXPECT_EQ(bp.e820_table[3].addr, 0x100000u);
    EXPECT_EQ(bp.e820_table[3].size, 255 * MiB);
    EXPECT_EQ(bp.e820_table[3].type, 1u);
    EXPECT_EQ(bp.e820_table[4].size, 0u);
}

TEST(BootPlan, LoaderClearsFlagsItDoesNotSupport)
{
    FakeKernel k;
    k.loadflags = LOADED_HIGH | KASLR_FLAG | QUIET_FLAG | KEEP_SEGMENTS | CAN_USE_HEAP;
    auto plan = make_boot_plan(fake_kernel(k), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(zero_page(*plan).hdr.loadflags, LOADED_HIGH);
}

TEST(BootPlan, NoInitrd)
{
    auto plan = make_boot_plan(fake_kernel(), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->find(RegionRole::Initrd), nullptr);
    struct boot_params bp = zero_page(*plan);
    EXPECT_EQ(bp.hdr.ramdisk_image, 0u);
    EXPECT_EQ(bp.hdr.ramdisk_size, 0u);
}

TEST(BootPlan, CommandLineIsNulTerminated)
{
    auto plan = make_boot_plan(fake_kernel(), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const Region* r = plan->find(RegionRole::Cmdline);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->guest_address, layout::cmdline);
    std::string text = "console=ttyS0 quiet";
    std::vector<uint8_t> expected(text.begin(), text.end());
    expected.push_back(0);
    EXPECT_EQ(r->bytes, expected);
    EXPECT_EQ(r->size, expected.size());
}

TEST(BootPlan, CommandLineLimitIsCmdlineSize)
{
    FakeKernel k;
    k.cmdline_size = 20;
    BootConfig c = config();
    c.cmdline = std::string(20, 'x');  // at most cmdline_size characters: fits
    EXPECT_TRUE(make_boot_plan(fake_kernel(k), nullptr, c).ok());
    c.cmdline += 'x';
    auto r = make_boot_plan(fake_kernel(k), nullptr, c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::BadUsage);
    EXPECT_NE(r.error().message.find("21 characters"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("at most 20"), std::string::npos) << r.error().message;
}

TEST(BootPlan, CmdlineSizeZeroMeans255)
{
    FakeKernel k;
    k.cmdline_size = 0;
    BootConfig c = config();
    c.cmdline = std::string(255, 'x');
    EXPECT_TRUE(make_boot_plan(fake_kernel(k), nullptr, c).ok());
    c.cmdline += 'x';
    EXPECT_FALSE(make_boot_plan(fake_kernel(k), nullptr, c).ok());
}

TEST(BootPlan, GdtHasBootCsAndBootDs)
{
    auto plan = make_boot_plan(fake_kernel(), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const Region* gdt = plan->find(RegionRole::Gdt);
    ASSERT_NE(gdt, nullptr);
    EXPECT_EQ(gdt->guest_address, layout::gdt);
    ASSERT_EQ(gdt->bytes.size(), 32u);
    EXPECT_EQ(le64(gdt->bytes, 0), 0u);
    EXPECT_EQ(le64(gdt->bytes, 0x10), 0x00af9b000000ffffu);
    EXPECT_EQ(le64(gdt->bytes, 0x18), 0x00cf93000000ffffu);
}

TEST(BootPlan, PageTablesIdentityMapRam)
{
    auto plan = make_boot_plan(fake_kernel(), nullptr, config(1536 * MiB));
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const Region* pt = plan->find(RegionRole::PageTables);
    ASSERT_NE(pt, nullptr);
    EXPECT_EQ(pt->guest_address, layout::pml4);
    // PML4 + PDPT + two page directories for 1.5 GiB rounded up to 2 GiB.
    ASSERT_EQ(pt->bytes.size(), 4u * 4096);
    EXPECT_EQ(le64(pt->bytes, 0), layout::pdpt | 3);
    EXPECT_EQ(le64(pt->bytes, 8), 0u);
    EXPECT_EQ(le64(pt->bytes, 4096 + 0), layout::page_directories | 3);
    EXPECT_EQ(le64(pt->bytes, 4096 + 8), (layout::page_directories + 4096) | 3);
    EXPECT_EQ(le64(pt->bytes, 4096 + 16), 0u);
    // 2 MiB pages, present | writable | PS.
    EXPECT_EQ(le64(pt->bytes, 2 * 4096 + 0), 0x83u);
    EXPECT_EQ(le64(pt->bytes, 2 * 4096 + 8 * 8), 16 * MiB | 0x83);
    EXPECT_EQ(le64(pt->bytes, 3 * 4096 + 511 * 8), (2 * GiB - 2 * MiB) | 0x83);
}

TEST(BootPlan, EntryStateFor64BitProtocol)
{
    auto plan = make_boot_plan(fake_kernel(), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const EntryState& s = plan->entry;
    EXPECT_EQ(s.rip, 0x1000200u);
    EXPECT_EQ(s.rsi, layout::boot_params);
    EXPECT_EQ(s.rsp, layout::boot_stack_top);
    EXPECT_EQ(s.cr0, 0x80010033u);
    EXPECT_EQ(s.cr3, layout::pml4);
    EXPECT_EQ(s.cr4, 0x20u);
    EXPECT_EQ(s.efer, 0x500u);
    EXPECT_EQ(s.rflags, 0x2u);
    EXPECT_EQ(s.cs, 0x10);
    EXPECT_EQ(s.ds, 0x18);
    EXPECT_EQ(s.gdt_base, layout::gdt);
    EXPECT_EQ(s.gdt_limit, 31);
}

TEST(BootPlan, RelocatableKernelRoundsUpToAlignment)
{
    FakeKernel k;
    k.pref_address = 0x1100000;
    auto plan = make_boot_plan(fake_kernel(k), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->load_address, 0x1200000u);
    EXPECT_EQ(plan->entry.rip, 0x1200200u);
    EXPECT_EQ(zero_page(*plan).hdr.code32_start, 0x1200000u);
}

TEST(BootPlan, FixedKernelStaysAtPrefAddress)
{
    FakeKernel k;
    k.pref_address = 0x1100000;
    k.relocatable_kernel = 0;
    auto plan = make_boot_plan(fake_kernel(k), nullptr, config());
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->load_address, 0x1100000u);
}

TEST(BootPlan, TooLittleMemoryForTheKernel)
{
    FakeKernel k;
    k.init_size = 40 * MiB;
    auto r = make_boot_plan(fake_kernel(k), nullptr, config(32 * MiB));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::DoesNotFit);
    EXPECT_EQ(r.error().message,
              "not enough RAM: images/vmlinuz needs 40 MiB from 0x1000000 to decompress; "
              "--mem 32M given (try --mem 64M)");
}

TEST(BootPlan, InitrdThatDoesNotFit)
{
    std::vector<uint8_t> initrd(40 * MiB, 0);
    BootConfig c = config(64 * MiB);  // the kernel's buffer ends at 48 MiB
    c.initrd_path = "initrd.img";
    auto r = make_boot_plan(fake_kernel(), &initrd, c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::DoesNotFit);
    EXPECT_NE(r.error().message.find("initrd.img (40 MiB)"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("try --mem 128M"), std::string::npos) << r.error().message;
}

TEST(BootPlan, InitrdBelowInitrdAddrMax)
{
    FakeKernel k;
    k.initrd_addr_max = 0x3fffffff;  // 1 GiB
    std::vector<uint8_t> initrd(MiB, 0);
    BootConfig c = config(2 * GiB);
    c.initrd_path = "initrd.img";
    auto plan = make_boot_plan(fake_kernel(k), &initrd, c);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->find(RegionRole::Initrd)->guest_address, GiB - MiB);
}

TEST(BootPlan, RejectsMemOutsideTheSupportedRange)
{
    auto r = make_boot_plan(fake_kernel(), nullptr, config(4 * GiB));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::BadUsage);
}

TEST(BootPlan, TheThirtyTwoBitEntryStartsAtTheLoadAddressWithPagingOff)
{
    BootConfig c = config();
    c.entry = EntryMode::Protected32;
    auto plan = make_boot_plan(fake_kernel(), nullptr, c);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->entry.mode, EntryMode::Protected32);
    EXPECT_EQ(plan->entry.rip, plan->load_address);  // startup_32, code32_start
    EXPECT_EQ(plan->entry.rsi, layout::boot_params);
    EXPECT_EQ(plan->entry.cr0 & 0x80000001u, 1u);     // PE on, PG off
    EXPECT_EQ(plan->entry.efer, 0u);
    EXPECT_EQ(plan->find(RegionRole::PageTables), nullptr);
    const Region* gdt = plan->find(RegionRole::Gdt);
    ASSERT_NE(gdt, nullptr);
    uint64_t boot_cs = 0;
    std::memcpy(&boot_cs, gdt->bytes.data() + layout::boot_cs, 8);
    EXPECT_EQ(boot_cs, 0x00cf9b000000ffffu);  // 32-bit flat code (D=1, L=0)
    EXPECT_EQ(zero_page(*plan).hdr.code32_start, plan->load_address);
}

TEST(BootPlan, A32BitKernelIsRefusedTheSixtyFourBitEntryAndTakesTheOthers)
{
    FakeKernel k;
    k.xloadflags = 0;  // XLF_KERNEL_64 clear
    BzImage bz = fake_kernel(k);
    BootConfig c = config();
    c.entry = EntryMode::Long64;
    auto refused = make_boot_plan(bz, nullptr, c);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::Unsupported);
    for (const char* part : {"images/vmlinuz", "32-bit kernel", "XLF_KERNEL_64", "--entry real", "--entry 32"})
        EXPECT_NE(refused.error().message.find(part), std::string::npos) << part << " in " << refused.error().message;
    for (EntryMode mode : {EntryMode::Protected32, EntryMode::Real16}) {
        c.entry = mode;
        auto plan = make_boot_plan(bz, nullptr, c);
        ASSERT_TRUE(plan.ok()) << plan.error().message;
        EXPECT_EQ(plan->entry.mode, mode);
    }
}

TEST(BootPlan, TheDefaultEntryIsTheRealModeSetupCode)
{
    // What QEMU's -kernel and GRUB's linux16 do: the image's own setup code runs first.
    EXPECT_EQ(BootConfig{}.entry, EntryMode::Real16);
    BootConfig c = config();
    c.entry = BootConfig{}.entry;
    auto plan = make_boot_plan(fake_kernel(), nullptr, c);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->entry.mode, EntryMode::Real16);
    EXPECT_NE(plan->find(RegionRole::Setup), nullptr);
}

TEST(BootPlan, TheRealModeEntryLoadsTheSetupSectorsWithTheHeaderFilledIn)
{
    BzImage bz = fake_kernel();
    std::vector<uint8_t> initrd(3000, 0x5a);
    BootConfig c = config();
    c.entry = EntryMode::Real16;
    c.initrd_path = "initrd";
    auto plan = make_boot_plan(bz, &initrd, c);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->entry.mode, EntryMode::Real16);
    EXPECT_EQ(plan->entry.cs, 0x1020);  // setup segment + 0x20, offset 0
    EXPECT_EQ(plan->entry.rip, 0u);
    EXPECT_EQ(plan->entry.ds, 0x1000);
    EXPECT_EQ(plan->entry.rsp, layout::real_mode_heap_end);
    // The setup code builds boot_params and its GDT itself.
    EXPECT_EQ(plan->find(RegionRole::BootParams), nullptr);
    EXPECT_EQ(plan->find(RegionRole::Gdt), nullptr);
    const Region* setup = plan->find(RegionRole::Setup);
    ASSERT_NE(setup, nullptr);
    EXPECT_EQ(setup->guest_address, layout::real_mode_base);
    ASSERT_EQ(setup->bytes.size(), bz.setup_size());
    struct boot_params bp;
    std::memset(&bp, 0, sizeof bp);
    std::memcpy(&bp, setup->bytes.data(), std::min(sizeof bp, setup->bytes.size()));
    EXPECT_EQ(bp.hdr.type_of_loader, 0xff);
    EXPECT_EQ(bp.hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
    EXPECT_EQ(bp.hdr.heap_end_ptr, layout::real_mode_heap_end - 0x200);
    EXPECT_EQ(bp.hdr.cmd_line_ptr, layout::cmdline);
    EXPECT_EQ(bp.hdr.code32_start, plan->load_address);
    const Region* rd = plan->find(RegionRole::Initrd);
    ASSERT_NE(rd, nullptr);
    EXPECT_EQ(bp.hdr.ramdisk_image, rd->guest_address);
    EXPECT_EQ(bp.hdr.ramdisk_size, initrd.size());
    // The rest of the sectors is the file's, byte for byte.
    EXPECT_TRUE(std::equal(setup->bytes.begin() + 0x300, setup->bytes.end(), bz.file.begin() + 0x300));
}

}  // namespace
}  // namespace bootsim
