// The Boot protocol inspector's decoder. The zero pages here are filled at
// boot.rst's offsets by hand (not through struct boot_params), so a decoder
// reading the wrong field fails rather than agreeing with itself.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "loader/boot_params_fields.h"
#include "unit/le_bytes.h"

namespace bootsim {
namespace {

using fake::Bytes;
using fake::put16;
using fake::put32;
using fake::put64;
using fake::put8;

constexpr size_t zero_page_size = 4096;
constexpr size_t e820_table_at = 0x2d0;
constexpr size_t e820_entry_size = 20;

// The row named `name`; a missing row fails the test and reads as "<missing>".
BootField row(const std::vector<BootField>& rows, const std::string& name)
{
    auto it = std::find_if(rows.begin(), rows.end(), [&](const BootField& f) { return f.name == name; });
    if (it == rows.end()) {
        ADD_FAILURE() << "no row named " << name;
        return {name, "<missing>", "<missing>"};
    }
    return *it;
}

std::string value(const std::vector<BootField>& rows, const std::string& name) { return row(rows, name).value; }
std::string meaning(const std::vector<BootField>& rows, const std::string& name) { return row(rows, name).meaning; }

void put_e820(Bytes& zp, size_t index, uint64_t addr, uint64_t size, uint32_t type)
{
    size_t at = e820_table_at + index * e820_entry_size;
    put64(zp, at, addr);
    put64(zp, at + 8, size);
    put32(zp, at + 16, type);
}

// A zero page as bootsim's loader would leave it for a protocol 2.15 kernel
// with its initrd above 4 GiB. Offsets from boot.rst and zero-page.rst.
Bytes sample_zero_page()
{
    Bytes zp(zero_page_size, 0);
    put8(zp, 0x006, 0x03);              // screen_info.orig_video_mode
    put8(zp, 0x007, 80);                // orig_video_cols
    put8(zp, 0x00e, 25);                // orig_video_lines
    put8(zp, 0x00f, 1);                 // orig_video_isVGA
    put64(zp, 0x070, 0xf5a40);          // acpi_rsdp_addr
    put32(zp, 0x0c0, 0x1);              // ext_ramdisk_image
    put32(zp, 0x0c4, 0x0);              // ext_ramdisk_size
    put32(zp, 0x0c8, 0x0);              // ext_cmd_line_ptr
    put32(zp, 0x1e0, 523264);           // alt_mem_k: 511 MiB
    put8(zp, 0x1e8, 2);                 // e820_entries
    put8(zp, 0x1f1, 27);                // setup_sects
    put16(zp, 0x1f2, 1);                // root_flags
    put32(zp, 0x1f4, 0x4b5f0);          // syssize
    put16(zp, 0x1fa, 0xffff);           // vid_mode
    put16(zp, 0x1fe, 0xaa55);           // boot_flag
    put16(zp, 0x200, 0x66eb);           // jump: jmp short +0x66
    put32(zp, 0x202, 0x53726448);       // header "HdrS"
    put16(zp, 0x206, 0x020f);           // version 2.15
    put8(zp, 0x210, 0xff);              // type_of_loader
    put8(zp, 0x211, 0x81);              // loadflags: LOADED_HIGH | CAN_USE_HEAP
    put32(zp, 0x214, 0x100000);         // code32_start
    put32(zp, 0x218, 0x7f000000);       // ramdisk_image (low half)
    put32(zp, 0x21c, 0x1000000);        // ramdisk_size: 16 MiB
    put16(zp, 0x224, 0xfe00);           // heap_end_ptr
    put32(zp, 0x228, 0x20000);          // cmd_line_ptr
    put32(zp, 0x22c, 0x7fffffff);       // initrd_addr_max
    put32(zp, 0x230, 0x200000);         // kernel_alignment
    put8(zp, 0x234, 1);                 // relocatable_kernel
    put8(zp, 0x235, 21);                // min_alignment
    put16(zp, 0x236, 0x7f);             // xloadflags
    put32(zp, 0x238, 0x7ff);            // cmdline_size
    put32(zp, 0x248, 0x3b4);            // payload_offset
    put32(zp, 0x24c, 0x4a3c68);         // payload_length
    put64(zp, 0x258, 0x1000000);        // pref_address
    put32(zp, 0x260, 0x2000000);        // init_size: 32 MiB
    put32(zp, 0x264, 0x190);            // handover_offset
    put32(zp, 0x268, 0x4a4000);         // kernel_info_offset
    put_e820(zp, 0, 0x0, 0x9fc00, 1);
    put_e820(zp, 1, 0x9fc00, 0x400, 2);
    return zp;
}

TEST(BootParamsFields, DecodesTheSetupHeaderIdentity)
{
    auto rows = decode_setup_header(sample_zero_page());
    EXPECT_EQ(value(rows, "hdr.setup_sects"), "27");
    EXPECT_EQ(value(rows, "hdr.root_flags"), "0x1");
    EXPECT_EQ(meaning(rows, "hdr.root_flags"), "mount root read-only");
    EXPECT_EQ(value(rows, "hdr.syssize"), "0x4b5f0");
    EXPECT_EQ(value(rows, "hdr.boot_flag"), "0xaa55");
    EXPECT_EQ(value(rows, "hdr.jump"), "0x66eb");
    EXPECT_EQ(meaning(rows, "hdr.jump"), "jmp short: setup header ends at 0x268");
    EXPECT_EQ(value(rows, "hdr.header"), "HdrS");
    EXPECT_EQ(meaning(rows, "hdr.header"), "setup header magic");
    EXPECT_EQ(value(rows, "hdr.version"), "2.15");
    EXPECT_EQ(meaning(rows, "hdr.version"), "0x020f");
}

TEST(BootParamsFields, DecodesTheLoaderWrittenFields)
{
    auto rows = decode_setup_header(sample_zero_page());
    EXPECT_EQ(value(rows, "hdr.type_of_loader"), "0xff");
    EXPECT_EQ(meaning(rows, "hdr.type_of_loader"), "undefined boot loader");
    EXPECT_EQ(value(rows, "hdr.loadflags"), "0x81");
    EXPECT_EQ(meaning(rows, "hdr.loadflags"), "LOADED_HIGH|CAN_USE_HEAP");
    EXPECT_EQ(value(rows, "hdr.code32_start"), "0x100000");
    // ext_ramdisk_image (0x1) is the high half of the initrd address.
    EXPECT_EQ(value(rows, "hdr.ramdisk_image"), "0x17f000000");
    EXPECT_EQ(meaning(rows, "hdr.ramdisk_image"), "initrd address (ext_ramdisk_image 0x1 << 32)");
    EXPECT_EQ(value(rows, "hdr.ramdisk_size"), "0x1000000 (16 MiB)");
    EXPECT_EQ(value(rows, "hdr.heap_end_ptr"), "0xfe00");
    EXPECT_EQ(value(rows, "hdr.ext_loader_ver"), "0");
    EXPECT_EQ(value(rows, "hdr.ext_loader_type"), "0");
    EXPECT_EQ(value(rows, "hdr.cmd_line_ptr"), "0x20000");
    EXPECT_EQ(meaning(rows, "hdr.cmd_line_ptr"), "command line address");
}

TEST(BootParamsFields, DecodesPlacementAndPayloadFields)
{
    auto rows = decode_setup_header(sample_zero_page());
    EXPECT_EQ(value(rows, "hdr.initrd_addr_max"), "0x7fffffff");
    EXPECT_EQ(value(rows, "hdr.kernel_alignment"), "0x200000 (2 MiB)");
    EXPECT_EQ(value(rows, "hdr.relocatable_kernel"), "1");
    EXPECT_EQ(value(rows, "hdr.min_alignment"), "21");
    EXPECT_EQ(meaning(rows, "hdr.min_alignment"), "least alignment accepted: 2 MiB");
    EXPECT_EQ(value(rows, "hdr.xloadflags"), "0x7f");
    EXPECT_EQ(meaning(rows, "hdr.xloadflags"),
              "XLF_KERNEL_64|XLF_CAN_BE_LOADED_ABOVE_4G|XLF_EFI_HANDOVER_32|XLF_EFI_HANDOVER_64|"
              "XLF_EFI_KEXEC|XLF_5LEVEL|XLF_5LEVEL_ENABLED");
    EXPECT_EQ(value(rows, "hdr.cmdline_size"), "2047");
    EXPECT_EQ(value(rows, "hdr.hardware_subarch"), "0");
    EXPECT_EQ(meaning(rows, "hdr.hardware_subarch"), "PC");
    EXPECT_EQ(value(rows, "hdr.payload_offset"), "0x3b4");
    EXPECT_EQ(value(rows, "hdr.payload_length"), "0x4a3c68 (4.6 MiB)");
    EXPECT_EQ(value(rows, "hdr.setup_data"), "0x0");
    EXPECT_EQ(value(rows, "hdr.pref_address"), "0x1000000");
    EXPECT_EQ(value(rows, "hdr.init_size"), "0x2000000 (32 MiB)");
    EXPECT_EQ(value(rows, "hdr.handover_offset"), "0x190");
    EXPECT_EQ(value(rows, "hdr.kernel_info_offset"), "0x4a4000");
}

TEST(BootParamsFields, EveryHeaderFieldHasExactlyOneRow)
{
    auto rows = decode_setup_header(sample_zero_page());
    for (const char* name :
         {"hdr.setup_sects", "hdr.root_flags", "hdr.syssize", "hdr.boot_flag", "hdr.jump", "hdr.header",
          "hdr.version", "hdr.type_of_loader", "hdr.loadflags", "hdr.code32_start", "hdr.ramdisk_image",
          "hdr.ramdisk_size", "hdr.heap_end_ptr", "hdr.ext_loader_ver", "hdr.ext_loader_type", "hdr.cmd_line_ptr",
          "hdr.initrd_addr_max", "hdr.kernel_alignment", "hdr.relocatable_kernel", "hdr.min_alignment",
          "hdr.xloadflags", "hdr.cmdline_size", "hdr.hardware_subarch", "hdr.payload_offset", "hdr.payload_length",
          "hdr.setup_data", "hdr.pref_address", "hdr.init_size", "hdr.handover_offset", "hdr.kernel_info_offset"})
        EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [&](const BootField& f) { return f.name == name; }), 1)
            << name;
}

TEST(BootParamsFields, NamesUnknownFlagBitsAndHighHalves)
{
    Bytes zp = sample_zero_page();
    put8(zp, 0x211, 0x00);            // loadflags: none
    put16(zp, 0x236, 0x0183);         // xloadflags with bits 7 and 8 unknown to the header
    put32(zp, 0x0c8, 0x2);            // ext_cmd_line_ptr
    put32(zp, 0x0c4, 0x1);            // ext_ramdisk_size
    auto rows = decode_setup_header(zp);
    EXPECT_EQ(meaning(rows, "hdr.loadflags"), "none");
    EXPECT_EQ(meaning(rows, "hdr.xloadflags"), "XLF_KERNEL_64|XLF_CAN_BE_LOADED_ABOVE_4G|bit 7|bit 8");
    EXPECT_EQ(value(rows, "hdr.cmd_line_ptr"), "0x200020000");
    EXPECT_EQ(meaning(rows, "hdr.cmd_line_ptr"), "command line address (ext_cmd_line_ptr 0x2 << 32)");
    EXPECT_EQ(value(rows, "hdr.ramdisk_size"), "0x101000000 (4.0 GiB)");
}

TEST(BootParamsFields, DecodesLoaderTypes)
{
    Bytes zp = sample_zero_page();
    put8(zp, 0x210, 0xb2);  // Qemu, version 2
    EXPECT_EQ(meaning(decode_setup_header(zp), "hdr.type_of_loader"), "Qemu, version 2");
    // Type 0xE: the id is 0x10 + ext_loader_type, the version gains ext_loader_ver's bits.
    put8(zp, 0x210, 0xe3);
    put8(zp, 0x226, 1);     // ext_loader_ver
    put8(zp, 0x227, 3);     // ext_loader_type: 0x13, barebox
    EXPECT_EQ(meaning(decode_setup_header(zp), "hdr.type_of_loader"), "barebox, version 19");
}

TEST(BootParamsFields, DecodesTheOtherBootParams)
{
    auto rows = decode_boot_params(sample_zero_page());
    EXPECT_EQ(value(rows, "e820_entries"), "2");
    EXPECT_EQ(value(rows, "screen_info.orig_video_mode"), "0x3");
    EXPECT_EQ(value(rows, "screen_info.orig_video_cols"), "80");
    EXPECT_EQ(value(rows, "screen_info.orig_video_lines"), "25");
    EXPECT_EQ(value(rows, "screen_info.orig_video_isVGA"), "0x1");
    EXPECT_EQ(meaning(rows, "screen_info.orig_video_isVGA"), "VGA text");
    EXPECT_EQ(value(rows, "acpi_rsdp_addr"), "0xf5a40");
    EXPECT_EQ(value(rows, "ext_cmd_line_ptr"), "0x0");
    EXPECT_EQ(value(rows, "hdr.vid_mode"), "0xffff");
    EXPECT_EQ(meaning(rows, "hdr.vid_mode"), "normal");
    EXPECT_EQ(value(rows, "alt_mem_k"), "523264");
    EXPECT_EQ(meaning(rows, "alt_mem_k"), "KiB of memory above 1 MiB (511 MiB)");
    EXPECT_EQ(value(rows, "sentinel"), "0x0");
}

TEST(BootParamsFields, DecodesTheE820Table)
{
    Bytes zp = sample_zero_page();
    put_e820(zp, 2, 0x100000, 0x1000, 7);  // past e820_entries: not shown
    auto e820 = decode_e820(zp);
    ASSERT_EQ(e820.size(), 2u);
    EXPECT_EQ(e820[0].address, 0x0u);
    EXPECT_EQ(e820[0].size, 0x9fc00u);
    EXPECT_EQ(e820[0].type, 1u);
    EXPECT_EQ(e820[0].type_name, "RAM");
    EXPECT_EQ(e820[1].address, 0x9fc00u);
    EXPECT_EQ(e820[1].size, 0x400u);
    EXPECT_EQ(e820[1].type, 2u);
    EXPECT_EQ(e820[1].type_name, "reserved");
}

TEST(BootParamsFields, NamesE820Types)
{
    Bytes zp(zero_page_size, 0);
    const uint32_t types[] = {3, 4, 5, 7, 12};
    put8(zp, 0x1e8, uint8_t(std::size(types)));
    for (size_t i = 0; i < std::size(types); ++i)
        put_e820(zp, i, 0x1000 * i, 0x1000, types[i]);
    std::vector<std::string> names;
    for (const E820Row& r : decode_e820(zp))
        names.push_back(r.type_name);
    EXPECT_EQ(names, (std::vector<std::string>{"ACPI", "NVS", "unusable", "PMEM(7)", "type 12"}));
}

TEST(BootParamsFields, CapsE820EntriesAtTheTableSize)
{
    Bytes zp = sample_zero_page();
    put8(zp, 0x1e8, 200);  // e820_entries beyond the 128-slot table
    EXPECT_EQ(decode_e820(zp).size(), 128u);
    auto rows = decode_boot_params(zp);
    EXPECT_EQ(value(rows, "e820_entries"), "200");
    EXPECT_EQ(meaning(rows, "e820_entries"), "over the table's 128 slots: only those are read");
}

TEST(BootParamsFields, ShortSpanYieldsZeroValuedRows)
{
    auto full = decode_setup_header(sample_zero_page());
    for (size_t size : {size_t(0), size_t(1), size_t(0x1f1)}) {
        Bytes shortened(size, 0);  // on the heap, so ASan sees any overread
        auto rows = decode_setup_header(shortened);
        ASSERT_EQ(rows.size(), full.size()) << size;
        EXPECT_EQ(value(rows, "hdr.header"), "0x0");
        EXPECT_EQ(value(rows, "hdr.version"), "0.00");
        EXPECT_EQ(value(rows, "hdr.init_size"), "0x0 (0 B)");
        EXPECT_EQ(value(rows, "hdr.ramdisk_image"), "0x0");
        EXPECT_EQ(value(decode_boot_params(shortened), "e820_entries"), "0");
        EXPECT_TRUE(decode_e820(shortened).empty());
    }
}

TEST(BootParamsFields, ShortSpanKeepsWhatItHolds)
{
    Bytes zp = sample_zero_page();
    // Through the first e820 entry and half of the second: the count says
    // 2, but only one entry is there to read; fields past the cut read 0.
    Bytes cut(zp.begin(), zp.begin() + e820_table_at + e820_entry_size + 10);
    auto e820 = decode_e820(cut);
    ASSERT_EQ(e820.size(), 1u);
    EXPECT_EQ(e820[0].size, 0x9fc00u);
    Bytes header_only(zp.begin(), zp.begin() + 0x208);  // through version
    auto rows = decode_setup_header(header_only);
    EXPECT_EQ(value(rows, "hdr.header"), "HdrS");
    EXPECT_EQ(value(rows, "hdr.version"), "2.15");
    EXPECT_EQ(value(rows, "hdr.type_of_loader"), "0x0");
    // ext_ramdisk_image (0xc0) is inside the cut, hdr.ramdisk_image (0x218) is not.
    EXPECT_EQ(value(rows, "hdr.ramdisk_image"), "0x100000000");
}

// The cloud kernel images/fetch-kernels.sh downloads, found from this
// source file since the unit tests are not given the images directory.
std::filesystem::path cloud_kernel()
{
    return std::filesystem::path(__FILE__).parent_path() / "../../images/out/bookworm/cloud/vmlinuz";
}

TEST(BootParamsFields, DecodesTheRealKernelHeader)
{
    std::filesystem::path path = cloud_kernel();
    if (!std::filesystem::exists(path))
        GTEST_SKIP() << path << " is absent: run images/fetch-kernels.sh";
    std::ifstream in(path, std::ios::binary);
    Bytes file(0x300, 0);
    ASSERT_TRUE(in.read(reinterpret_cast<char*>(file.data()), std::streamsize(file.size())));

    // As a loader does: the header from 0x1f1 to 0x202 + the jump's offset
    // byte, into a zeroed zero page at the same offset.
    size_t end = 0x202 + int8_t(file[0x201]);
    ASSERT_GT(end, 0x202u);
    Bytes zp(zero_page_size, 0);
    std::copy(file.begin() + 0x1f1, file.begin() + std::ptrdiff_t(end), zp.begin() + 0x1f1);

    auto rows = decode_setup_header(zp);
    EXPECT_EQ(value(rows, "hdr.header"), "HdrS");
    EXPECT_EQ(value(rows, "hdr.boot_flag"), "0xaa55");
    // "2.NN" from the row itself, at least 2.12 (bootsim's 64-bit entry).
    unsigned major = 0, minor = 0;
    std::string version = value(rows, "hdr.version");
    ASSERT_EQ(std::sscanf(version.c_str(), "%u.%u", &major, &minor), 2) << version;
    EXPECT_GE(major * 256 + minor, 0x020cu) << version;
    EXPECT_EQ(major * 256 + minor, fake::get16(zp, 0x206)) << version;
    EXPECT_NE(value(rows, "hdr.init_size").rfind("0x0 ", 0), 0u) << value(rows, "hdr.init_size");
    EXPECT_NE(meaning(rows, "hdr.xloadflags").find("XLF_KERNEL_64"), std::string::npos);
}

}  // namespace
}  // namespace bootsim
