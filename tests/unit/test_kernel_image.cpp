// The host's model of the decompressed kernel: decompress_payload() for each
// codec, lay_out_kernel() and relocate() on a small vmlinux built byte by
// byte, and check_handoff() on a fake guest RAM.

#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

#include "unit/compress_for_tests.h"
#include "unit/le_bytes.h"

#include "loader/kernel_image.h"

using namespace bootsim;

namespace {

using fake::append32;
using fake::Bytes;
using fake::get32;
using fake::gzip;
using fake::lz4_legacy;
using fake::lzma_alone;
using fake::xz;
using fake::zstd;
using fake::put16;
using fake::put32;
using fake::get64;
using fake::put64;

// The fake vmlinux. Two PT_LOAD segments, as parse_elf() sees them:
//   segment A: file 0x100..0x400 -> p_paddr 0x1000000 (image offset 0)
//   segment B: file 0x400..0x600 -> p_paddr 0x1200000 (image offset 0x200000)
// then the relocation table, as vmlinux.relocs is appended after vmlinux.bin.
constexpr uint64_t phys_start = 0x1000000;        // LOAD_PHYSICAL_ADDR
constexpr uint64_t kernel_map = 0xffffffff80000000;  // __START_KERNEL_map
constexpr uint64_t a_file = 0x100, a_size = 0x300, a_memsz = 0x400, a_image = 0;
constexpr uint64_t b_file = 0x400, b_size = 0x200, b_memsz = 0x1000, b_image = 0x200000;
constexpr uint64_t elf_size = 0x600;
constexpr uint64_t image_size = b_image + b_size;
constexpr uint64_t entry_offset = 0x40;

// Relocation sites (image offsets) and the unrelocated values at them.
constexpr uint32_t site64_a = 0x10, site64_b = 0x200008;
constexpr uint64_t value64_a = 0xffffffff81000123, value64_b = 0xffffffff81200040;
constexpr uint32_t site32_a = 0x20, site32_b = 0x200100;
constexpr uint32_t value32_a = 0x81000200, value32_b = 0x81200010;
constexpr uint32_t site_inv = 0x30;
constexpr uint32_t value_inv = 0x12345678;

// ELF64 header and program header field offsets (include/uapi/linux/elf.h).
constexpr size_t e_phoff = 32, e_entry = 24, e_phnum = 56;
constexpr size_t ph0 = 0x40, ph1 = 0x40 + 56;
constexpr size_t p_type = 0, p_offset = 8, p_paddr = 24, p_filesz = 32, p_memsz = 40;

// The table entry for an image offset: the kernel virtual address, truncated to 32 bits.
uint32_t entry(uint32_t site) { return uint32_t(kernel_map + phys_start + site); }

// Where an image offset's byte lives in the ELF file.
size_t file_at(uint64_t image_offset)
{
    return image_offset >= b_image ? b_file + (image_offset - b_image) : a_file + image_offset;
}

void put_phdr(Bytes& e, size_t at, uint64_t offset, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    put32(e, at + p_type, 1);                   // p_type = PT_LOAD
    put32(e, at + 4, 5);                        // p_flags = R|X
    put64(e, at + p_offset, offset);            // p_offset
    put64(e, at + 16, paddr + kernel_map);      // p_vaddr: linked at __START_KERNEL_map + p_paddr
    put64(e, at + p_paddr, paddr);              // p_paddr
    put64(e, at + p_filesz, filesz);            // p_filesz
    put64(e, at + p_memsz, memsz);              // p_memsz
    put64(e, at + 48, 0x200000);                // p_align
}

Bytes elf_without_relocs()
{
    Bytes e(elf_size, 0);
    e[0] = 0x7f, e[1] = 'E', e[2] = 'L', e[3] = 'F';  // e_ident[EI_MAG0..3]
    e[4] = 2;                                       // EI_CLASS = ELFCLASS64
    e[5] = 1;                                       // EI_DATA = ELFDATA2LSB
    e[6] = 1;                                       // EI_VERSION = EV_CURRENT
    put16(e, 16, 2);                                // e_type = ET_EXEC
    put16(e, 18, 62);                               // e_machine = EM_X86_64
    put32(e, 20, 1);                                // e_version
    put64(e, e_entry, phys_start + entry_offset);   // e_entry: physical on x86-64
    put64(e, e_phoff, ph0);                         // e_phoff
    put64(e, 40, 0);                                // e_shoff: stripped
    put16(e, 52, 64);                               // e_ehsize
    put16(e, 54, 56);                               // e_phentsize
    put16(e, e_phnum, 2);                           // e_phnum
    put16(e, 58, 64);                               // e_shentsize
    put16(e, 60, 0);                                // e_shnum
    put_phdr(e, ph0, a_file, phys_start + a_image, a_size, a_memsz);
    put_phdr(e, ph1, b_file, phys_start + b_image, b_size, b_memsz);
    // Segment contents: distinct patterns, then the values at the sites.
    for (uint64_t i = 0; i < a_size; i++)
        e[a_file + i] = uint8_t(i * 7 + 3);
    for (uint64_t i = 0; i < b_size; i++)
        e[b_file + i] = uint8_t(i * 13 + 1);
    put64(e, file_at(site64_a), value64_a);
    put64(e, file_at(site64_b), value64_b);
    put32(e, file_at(site32_a), value32_a);
    put32(e, file_at(site32_b), value32_b);
    put32(e, file_at(site_inv), value_inv);
    return e;
}

// vmlinux.relocs as arch/x86/tools/relocs.c writes it: 0, the 64-bit
// sites, 0, the inverse 32-bit sites, 0, the 32-bit sites. The kernel reads
// it from the end backwards.
Bytes relocation_table(std::vector<uint32_t> r64, std::vector<uint32_t> inv, std::vector<uint32_t> r32)
{
    Bytes t;
    append32(t, 0);
    for (uint32_t s : r64)
        append32(t, entry(s));
    append32(t, 0);
    for (uint32_t s : inv)
        append32(t, entry(s));
    append32(t, 0);
    for (uint32_t s : r32)
        append32(t, entry(s));
    return t;
}

Bytes fake_vmlinux()
{
    Bytes e = elf_without_relocs();
    Bytes t = relocation_table({site64_a, site64_b}, {site_inv}, {site32_a, site32_b});
    e.insert(e.end(), t.begin(), t.end());
    return e;
}

// --- Payloads: compressed as scripts/Makefile.lib does it, then size_append. ---

void size_append(Bytes& payload, size_t size) { append32(payload, uint32_t(size)); }

Bytes compress(Compression format, const Bytes& in)
{
    Bytes out;
    switch (format) {
    case Compression::Gzip: out = gzip(in); break;
    case Compression::Xz: out = xz(in); break;
    case Compression::Lzma: out = lzma_alone(in); break;
    case Compression::Zstd: out = zstd(in); break;
    case Compression::Lz4: out = lz4_legacy(in, 8 << 20); break;
    default: ADD_FAILURE() << "no compressor for this format in the test";
    }
    size_append(out, in.size());
    return out;
}

// A 32-bit kernel's vmlinux (ELF32, EM_386), one PT_LOAD segment linked at
// PAGE_OFFSET + p_paddr, and relocs.c's table for it: 0, then the 32-bit
// sites (kernel virtual addresses) and nothing else.
constexpr uint64_t page_offset = 0xc0000000;
constexpr uint64_t elf32_code = 0x100, elf32_size = 0x1000;
constexpr uint32_t site32_lo = 0x10, site32_hi = 0xf00;

Bytes fake_vmlinux32()
{
    Bytes e(elf32_code + elf32_size, 0);
    e[0] = 0x7f, e[1] = 'E', e[2] = 'L', e[3] = 'F';
    e[4] = 1;                                   // EI_CLASS = ELFCLASS32
    e[5] = 1;                                   // EI_DATA = ELFDATA2LSB
    e[6] = 1;
    put16(e, 16, 2);                            // e_type = ET_EXEC
    put16(e, 18, 3);                            // e_machine = EM_386
    put32(e, 20, 1);
    put32(e, 24, uint32_t(phys_start));         // e_entry: startup_32, physical
    put32(e, 28, 0x34);                         // e_phoff
    put32(e, 32, 0);                            // e_shoff: stripped
    put16(e, 40, 0x34);                         // e_ehsize
    put16(e, 42, 32);                           // e_phentsize
    put16(e, 44, 1);                            // e_phnum
    put16(e, 46, 40);                           // e_shentsize
    const size_t ph = 0x34;
    put32(e, ph + 0, 1);                        // PT_LOAD
    put32(e, ph + 4, uint32_t(elf32_code));     // p_offset
    put32(e, ph + 8, uint32_t(page_offset + phys_start));  // p_vaddr
    put32(e, ph + 12, uint32_t(phys_start));    // p_paddr
    put32(e, ph + 16, uint32_t(elf32_size));    // p_filesz
    put32(e, ph + 20, uint32_t(elf32_size));    // p_memsz
    for (uint64_t i = 0; i < elf32_size; i++)
        e[elf32_code + i] = uint8_t(i * 5 + 1);
    put32(e, elf32_code + site32_lo, uint32_t(page_offset + phys_start + 0x800));
    put32(e, elf32_code + site32_hi, uint32_t(page_offset + phys_start + 0x40));
    append32(e, 0);
    append32(e, uint32_t(page_offset + phys_start + site32_lo));
    append32(e, uint32_t(page_offset + phys_start + site32_hi));
    return e;
}

KernelImage laid_out()
{
    auto k = lay_out_kernel(fake_vmlinux());
    EXPECT_TRUE(k.ok()) << (k.ok() ? "" : k.error().message);
    return k.ok() ? *k : KernelImage{};
}

ErrorKind layout_error(const Bytes& elf)
{
    auto k = lay_out_kernel(elf);
    EXPECT_FALSE(k.ok());
    return k.ok() ? ErrorKind::FileMissing : k.error().kind;  // FileMissing: never expected here
}

}  // namespace

// --- decompress_payload ---

class PayloadRoundTrip : public testing::TestWithParam<Compression> {};

TEST_P(PayloadRoundTrip, GivesBackTheVmlinux)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = compress(GetParam(), vmlinux);
    auto out = decompress_payload(GetParam(), payload, uint32_t(vmlinux.size()));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, vmlinux);
}

TEST_P(PayloadRoundTrip, LargerThanOneLz4BlockAndTheFirstOutputBuffer)
{
    // 9 MiB: two 8 MiB legacy lz4 blocks, and more than the decoder's first
    // allocation (4 x the payload, at least 1 MiB) for the compact codecs.
    Bytes data(9 << 20);
    for (size_t i = 0; i < data.size(); i++)
        data[i] = uint8_t((i >> 12) * 31 + (i % 251));
    Bytes payload = compress(GetParam(), data);
    auto out = decompress_payload(GetParam(), payload, uint32_t(data.size()));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_TRUE(*out == data);
}

TEST_P(PayloadRoundTrip, SizeTrailerDisagreeingIsBadFormat)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = compress(GetParam(), vmlinux);
    auto shorter = decompress_payload(GetParam(), payload, uint32_t(vmlinux.size() - 1));
    ASSERT_FALSE(shorter.ok());
    EXPECT_EQ(shorter.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(shorter.error().message.find("more than"), std::string::npos) << shorter.error().message;
    auto longer = decompress_payload(GetParam(), payload, uint32_t(vmlinux.size() + 1));
    ASSERT_FALSE(longer.ok());
    EXPECT_EQ(longer.error().kind, ErrorKind::BadFormat);
}

TEST_P(PayloadRoundTrip, CutStreamIsAnError)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = compress(GetParam(), vmlinux);
    Bytes cut(payload.begin(), payload.begin() + ptrdiff_t(payload.size() / 2));
    size_append(cut, vmlinux.size());
    auto out = decompress_payload(GetParam(), cut, uint32_t(vmlinux.size()));
    ASSERT_FALSE(out.ok());
    EXPECT_TRUE(out.error().kind == ErrorKind::Truncated || out.error().kind == ErrorKind::BadFormat)
        << out.error().message;
}

INSTANTIATE_TEST_SUITE_P(Codecs, PayloadRoundTrip,
                         testing::Values(Compression::Gzip, Compression::Xz, Compression::Lzma, Compression::Zstd,
                                         Compression::Lz4),
                         [](const auto& info) {
                             switch (info.param) {
                             case Compression::Gzip: return "gzip";
                             case Compression::Xz: return "xz";
                             case Compression::Lzma: return "lzma";
                             case Compression::Zstd: return "zstd";
                             case Compression::Lz4: return "lz4";
                             default: return "other";
                             }
                         });

TEST(DecompressPayload, Lz4LegacySmallBlocksAndARestartedStream)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = lz4_legacy(vmlinux, 256, 3);  // 7 blocks, the magic again before the 4th
    size_append(payload, vmlinux.size());
    auto out = decompress_payload(Compression::Lz4, payload, uint32_t(vmlinux.size()));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, vmlinux);
}

TEST(DecompressPayload, Lz4BlockRunningPastTheEndIsTruncated)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = lz4_legacy(vmlinux, 8 << 20);
    put32(payload, 4, get32(payload, 4) + 100);  // the first block's size
    size_append(payload, vmlinux.size());
    auto out = decompress_payload(Compression::Lz4, payload, uint32_t(vmlinux.size()));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::Truncated);
}

TEST(DecompressPayload, Lz4WithoutLegacyMagicIsBadFormat)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = lz4_legacy(vmlinux, 8 << 20);
    put32(payload, 0, 0x184D2204);  // the lz4 frame format's magic, not the legacy one
    size_append(payload, vmlinux.size());
    auto out = decompress_payload(Compression::Lz4, payload, uint32_t(vmlinux.size()));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::BadFormat);
}

TEST(DecompressPayload, CorruptXzIsBadFormat)
{
    Bytes vmlinux = fake_vmlinux();
    Bytes payload = compress(Compression::Xz, vmlinux);
    payload[payload.size() / 2] ^= 0x55;
    auto out = decompress_payload(Compression::Xz, payload, uint32_t(vmlinux.size()));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::BadFormat) << out.error().message;
}

TEST(DecompressPayload, GzipGivenAsXzIsBadFormat)
{
    Bytes vmlinux = fake_vmlinux();
    auto out = decompress_payload(Compression::Xz, compress(Compression::Gzip, vmlinux), uint32_t(vmlinux.size()));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::BadFormat);
}

TEST(DecompressPayload, Bzip2AndLzoAreUnsupported)
{
    Bytes payload = {'B', 'Z', 'h', '9', 0, 0, 0, 0};
    for (Compression c : {Compression::Bzip2, Compression::Lzo}) {
        auto out = decompress_payload(c, payload, 100);
        ASSERT_FALSE(out.ok());
        EXPECT_EQ(out.error().kind, ErrorKind::Unsupported);
        EXPECT_NE(out.error().message.find("does not decode"), std::string::npos) << out.error().message;
    }
}

TEST(DecompressPayload, PayloadShorterThanItsTrailerIsTruncated)
{
    auto out = decompress_payload(Compression::Gzip, Bytes{0x1f, 0x8b}, 100);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::Truncated);
}

// --- lay_out_kernel ---

TEST(LayOutKernel, PlacesSegmentsByPhysicalAddress)
{
    KernelImage k = laid_out();
    EXPECT_EQ(k.load_physical_addr, phys_start);
    EXPECT_EQ(k.entry_offset, entry_offset);
    ASSERT_EQ(k.segments.size(), 2u);
    EXPECT_EQ(k.segments[0].offset, a_image);
    EXPECT_EQ(k.segments[0].file_size, a_size);
    EXPECT_EQ(k.segments[0].mem_size, a_memsz);
    EXPECT_EQ(k.segments[1].offset, b_image);
    EXPECT_EQ(k.segments[1].file_size, b_size);
    EXPECT_EQ(k.segments[1].mem_size, b_memsz);
    ASSERT_EQ(k.image.size(), image_size);

    Bytes elf = fake_vmlinux();
    EXPECT_TRUE(std::equal(elf.begin() + a_file, elf.begin() + a_file + a_size, k.image.begin() + a_image));
    EXPECT_TRUE(std::equal(elf.begin() + b_file, elf.begin() + b_file + b_size, k.image.begin() + b_image));
    // The gap between the segments is zero (the guest leaves whatever was there).
    EXPECT_TRUE(std::all_of(k.image.begin() + a_size, k.image.begin() + b_image, [](uint8_t b) { return b == 0; }));
    EXPECT_EQ(get64(k.image, site64_a), value64_a);
    EXPECT_EQ(get32(k.image, site32_b), value32_b);
}

TEST(LayOutKernel, A32BitKernelIsElf32WithOneRelocationList)
{
    auto k = lay_out_kernel(fake_vmlinux32());
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_FALSE(k->wide);
    EXPECT_EQ(k->kernel_map, page_offset);
    EXPECT_EQ(k->link_address(), page_offset + phys_start);
    EXPECT_EQ(k->load_physical_addr, phys_start);
    EXPECT_EQ(k->entry_offset, 0u);
    EXPECT_EQ(k->min_kernel_align, 0x2000u);  // PAGE_SHIFT + THREAD_SIZE_ORDER
    EXPECT_EQ(k->relocs32, (std::vector<uint32_t>{site32_hi, site32_lo}));
    EXPECT_TRUE(k->relocs32_inverse.empty());
    EXPECT_TRUE(k->relocs64.empty());

    // The decompressor adds the physical offset (no separate virtual one on
    // x86-32); the handoff check reads it back from the 32-bit sites.
    const uint64_t output = phys_start + 0x6000;
    Bytes ram(0x2000000, 0xcc);
    Bytes r = relocate(*k, 0x6000);
    EXPECT_EQ(get32(r, site32_lo), uint32_t(page_offset + phys_start + 0x6800));
    std::memcpy(ram.data() + output, r.data(), elf32_size);
    HandoffCheck h = check_handoff(*k, ram, output);
    EXPECT_TRUE(h.matched) << h.summary;
    EXPECT_EQ(h.virtual_offset, 0x6000);

    // A 64-bit kernel's three lists are not a 32-bit one's: the bytes
    // between the ELF and its single list are refused.
    Bytes extra = fake_vmlinux32();
    extra.insert(extra.end() - 12, {1, 2, 3, 4});
    auto bad = lay_out_kernel(extra);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().kind, ErrorKind::BadFormat);
}

TEST(LayOutKernel, ReadsTheThreeRelocationListsFromTheEnd)
{
    KernelImage k = laid_out();
    // Read back to front, so each list comes out reversed.
    EXPECT_EQ(k.relocs32, (std::vector<uint32_t>{site32_b, site32_a}));
    EXPECT_EQ(k.relocs32_inverse, (std::vector<uint32_t>{site_inv}));
    EXPECT_EQ(k.relocs64, (std::vector<uint32_t>{site64_b, site64_a}));
}

TEST(LayOutKernel, EmptyRelocationListsAreFine)
{
    Bytes e = elf_without_relocs();
    Bytes t = relocation_table({}, {}, {});
    e.insert(e.end(), t.begin(), t.end());
    auto k = lay_out_kernel(e);
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_TRUE(k->relocs32.empty() && k->relocs32_inverse.empty() && k->relocs64.empty());
}

TEST(LayOutKernel, TruncatedHeaderIsBadFormat)
{
    Bytes e = fake_vmlinux();
    e.resize(40);
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, NotElfIsBadFormat)
{
    Bytes e = fake_vmlinux();
    e[1] = 'X';
    auto k = lay_out_kernel(e);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(k.error().message.find("7f 58 4c 46"), std::string::npos) << k.error().message;
}

TEST(LayOutKernel, Elf32IsBadFormat)
{
    Bytes e = fake_vmlinux();
    e[4] = 1;  // ELFCLASS32
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, ProgramHeadersPastTheEndAreBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, e_phoff, e.size() - 56);  // the second header would run past the end
    auto k = lay_out_kernel(e);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(k.error().message.find("e_phoff"), std::string::npos) << k.error().message;
}

TEST(LayOutKernel, ProgramHeaderOffsetOverflowIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, e_phoff, ~uint64_t(0) - 8);
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, SegmentPastTheEndIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, ph1 + p_filesz, 0x100000);  // p_offset + p_filesz far beyond the file
    put64(e, ph1 + p_memsz, 0x100000);
    auto k = lay_out_kernel(e);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(k.error().message.find("p_filesz"), std::string::npos) << k.error().message;
}

TEST(LayOutKernel, SegmentOffsetOverflowIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, ph0 + p_offset, ~uint64_t(0) - 0x10);
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, FileSizeAboveMemorySizeIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, ph0 + p_memsz, a_size - 1);
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, NoLoadSegmentIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put32(e, ph0 + p_type, 4);  // PT_NOTE
    put32(e, ph1 + p_type, 4);
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, SegmentFarAboveTheOthersIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, ph1 + p_paddr, phys_start + (uint64_t(4) << 30));  // 4 GiB above: no kernel is that big
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, EntryOutsideTheSegmentsIsBadFormat)
{
    Bytes e = fake_vmlinux();
    put64(e, e_entry, phys_start - 0x1000);
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, RelocationOutsideTheImageIsBadFormat)
{
    Bytes e = elf_without_relocs();
    Bytes t = relocation_table({site64_a}, {}, {uint32_t(image_size - 2)});  // a 4-byte site 2 bytes from the end
    e.insert(e.end(), t.begin(), t.end());
    auto k = lay_out_kernel(e);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(k.error().message.find("32-bit relocation #1"), std::string::npos) << k.error().message;
}

TEST(LayOutKernel, RelocationBelowTheKernelIsBadFormat)
{
    Bytes e = elf_without_relocs();
    Bytes t = relocation_table({}, {}, {});
    append32(t, 0x80ff0000);  // kernel address 0xffffffff80ff0000: below LOAD_PHYSICAL_ADDR
    e.insert(e.end(), t.begin(), t.end());
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, SixtyFourBitSiteAtTheLastFourBytesIsBadFormat)
{
    Bytes e = elf_without_relocs();
    Bytes t = relocation_table({uint32_t(image_size - 4)}, {}, {});
    e.insert(e.end(), t.begin(), t.end());
    EXPECT_EQ(layout_error(e), ErrorKind::BadFormat);
}

TEST(LayOutKernel, SitesEndingAtTheImageEndAreAccepted)
{
    Bytes e = elf_without_relocs();
    Bytes t = relocation_table({uint32_t(image_size - 8)}, {uint32_t(image_size - 4)}, {uint32_t(image_size - 4)});
    e.insert(e.end(), t.begin(), t.end());
    auto k = lay_out_kernel(e);
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_EQ(k->relocs64, (std::vector<uint32_t>{uint32_t(image_size - 8)}));
}

TEST(LayOutKernel, MissingRelocationTableIsBadFormat)
{
    // Without vmlinux.relocs the reader would walk into segment B's bytes.
    auto k = lay_out_kernel(elf_without_relocs());
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(k.error().message.find("no zero terminator"), std::string::npos) << k.error().message;
}

TEST(LayOutKernel, SegmentMovedOverALaterOnesBytesIsUnsupported)
{
    // Segment B's file bytes start at 0x200, inside segment A's destination
    // (image 0..0x300): parse_elf()'s first memmove would clobber them.
    Bytes e = fake_vmlinux();
    put64(e, ph1 + p_offset, 0x200);
    EXPECT_EQ(layout_error(e), ErrorKind::Unsupported);
}

// --- relocate ---

TEST(Relocate, AppliesEachKind)
{
    KernelImage k = laid_out();
    const int64_t delta = 0x3a00000;
    Bytes r = relocate(k, delta);
    ASSERT_EQ(r.size(), k.image.size());
    EXPECT_EQ(get64(r, site64_a), value64_a + delta);
    EXPECT_EQ(get64(r, site64_b), value64_b + delta);
    EXPECT_EQ(get32(r, site32_a), value32_a + delta);
    EXPECT_EQ(get32(r, site32_b), value32_b + delta);
    EXPECT_EQ(get32(r, site_inv), value_inv - delta);
    // Everything else is untouched.
    Bytes masked_r = r, masked_k = k.image;
    for (auto [site, width] : {std::pair{site64_a, 8}, {site64_b, 8}, {site32_a, 4}, {site32_b, 4}, {site_inv, 4}})
        for (int i = 0; i < width; i++)
            masked_r[site + i] = masked_k[site + i] = 0;
    EXPECT_TRUE(masked_r == masked_k);
}

TEST(Relocate, ZeroDeltaIsTheIdentity)
{
    KernelImage k = laid_out();
    EXPECT_TRUE(relocate(k, 0) == k.image);
}

TEST(Relocate, NegativeDeltaWraps)
{
    KernelImage k = laid_out();
    Bytes r = relocate(k, -0x200000);
    EXPECT_EQ(get64(r, site64_a), value64_a - 0x200000);
    EXPECT_EQ(get32(r, site32_a), value32_a - 0x200000);
    EXPECT_EQ(get32(r, site_inv), value_inv + 0x200000);
}

// --- check_handoff ---

namespace {

// Guest RAM with the kernel as the guest's decompressor would leave it:
// junk everywhere, the relocated segments at `output`.
Bytes guest_ram_with(const KernelImage& k, uint64_t output, int64_t delta, size_t ram_size)
{
    Bytes ram(ram_size, 0xcc);
    Bytes r = relocate(k, delta);
    for (const LoadSegment& s : k.segments)
        std::memcpy(ram.data() + output + s.offset, r.data() + s.offset, s.file_size);
    return ram;
}

}  // namespace

TEST(CheckHandoff, KaslrOffsetIsDerivedAndEverythingMatches)
{
    KernelImage k = laid_out();
    const uint64_t output = 0x3c00000;
    Bytes ram = guest_ram_with(k, output, 0x3a00000, 0x4000000);
    HandoffCheck h = check_handoff(k, ram, output);
    EXPECT_TRUE(h.matched) << h.summary;
    EXPECT_EQ(h.virtual_offset, 0x3a00000);
    EXPECT_EQ(h.output_address, output);
    EXPECT_EQ(h.bytes_compared, a_size + b_size);
    EXPECT_EQ(h.mismatched_bytes, 0u);
    EXPECT_NE(h.summary.find("handoff verified"), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("+0x3a00000"), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("5 relocations"), std::string::npos) << h.summary;
}

TEST(CheckHandoff, OneFlippedByteIsFoundAtItsAddress)
{
    KernelImage k = laid_out();
    const uint64_t output = 0x3c00000;
    Bytes ram = guest_ram_with(k, output, 0x3a00000, 0x4000000);
    const uint64_t flipped = output + b_image + 0x123;
    uint8_t original = ram[flipped];
    ram[flipped] ^= 0x10;
    HandoffCheck h = check_handoff(k, ram, output);
    EXPECT_FALSE(h.matched);
    EXPECT_EQ(h.mismatched_bytes, 1u);
    EXPECT_EQ(h.first_mismatch, flipped);
    EXPECT_EQ(h.expected, original);
    EXPECT_EQ(h.found, original ^ 0x10);
    EXPECT_EQ(h.virtual_offset, 0x3a00000);
    EXPECT_NE(h.summary.find(fmt::format("first at 0x{:x}", flipped)), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("MISMATCH: 1 of"), std::string::npos) << h.summary;
}

TEST(CheckHandoff, UnrelocatedSiteIsAMismatch)
{
    // The guest "forgot" one 32-bit relocation.
    KernelImage k = laid_out();
    const uint64_t output = 0x3c00000;
    Bytes ram = guest_ram_with(k, output, 0x3a00000, 0x4000000);
    put32(ram, output + site32_b, value32_b);
    HandoffCheck h = check_handoff(k, ram, output);
    EXPECT_FALSE(h.matched);
    EXPECT_EQ(h.first_mismatch, output + site32_b + 2);  // 0x...10 + 0x3a00000 changes bytes 2 and 3
    EXPECT_EQ(h.mismatched_bytes, 2u);
}

TEST(CheckHandoff, CorruptFirstSixtyFourBitSiteIsReportedThere)
{
    // The offset is not taken from this one site alone, so the bad byte is
    // named instead of every other site.
    KernelImage k = laid_out();
    ASSERT_EQ(k.relocs64.front(), site64_b);
    const uint64_t output = 0x3c00000;
    Bytes ram = guest_ram_with(k, output, 0x3a00000, 0x4000000);
    ram[output + site64_b + 5] ^= 0x80;
    HandoffCheck h = check_handoff(k, ram, output);
    EXPECT_FALSE(h.matched);
    EXPECT_EQ(h.virtual_offset, 0x3a00000);
    EXPECT_EQ(h.mismatched_bytes, 1u);
    EXPECT_EQ(h.first_mismatch, output + site64_b + 5);
}

TEST(CheckHandoff, TiedVotesFollowTheFirstSixtyFourBitSite)
{
    KernelImage k;
    k.load_physical_addr = phys_start;
    k.segments = {LoadSegment{0, 0x1000, 0x1000}};
    k.image.assign(0x1000, 0x11);
    k.relocs64 = {0x100, 0x800};
    Bytes ram = guest_ram_with(k, phys_start, 0x600000, phys_start + 0x1000);
    ram[phys_start + 0x800 + 3] ^= 0x40;  // one vote each way
    HandoffCheck h = check_handoff(k, ram, phys_start);
    EXPECT_FALSE(h.matched);
    EXPECT_EQ(h.virtual_offset, 0x600000);
    EXPECT_EQ(h.first_mismatch, phys_start + 0x800 + 3);
}

TEST(CheckHandoff, NokaslrAtLoadPhysicalAddrMatchesWithZeroOffset)
{
    KernelImage k = laid_out();
    Bytes ram = guest_ram_with(k, phys_start, 0, phys_start + image_size + 0x1000);
    HandoffCheck h = check_handoff(k, ram, phys_start);
    EXPECT_TRUE(h.matched) << h.summary;
    EXPECT_EQ(h.virtual_offset, 0);
    EXPECT_NE(h.summary.find("+0x0"), std::string::npos) << h.summary;
}

TEST(CheckHandoff, MisalignedVirtualOffsetIsAMismatch)
{
    KernelImage k = laid_out();
    Bytes ram = guest_ram_with(k, phys_start, 0x1234, phys_start + image_size);
    HandoffCheck h = check_handoff(k, ram, phys_start);
    EXPECT_FALSE(h.matched);
    EXPECT_EQ(h.virtual_offset, 0x1234);
    EXPECT_NE(h.summary.find("2 MiB"), std::string::npos) << h.summary;
}

TEST(CheckHandoff, KernelBeyondGuestRamIsNotMatched)
{
    KernelImage k = laid_out();
    Bytes ram(phys_start + image_size - 1, 0);
    HandoffCheck h = check_handoff(k, ram, phys_start);
    EXPECT_FALSE(h.matched);
    EXPECT_NE(h.summary.find("past the end of guest RAM"), std::string::npos) << h.summary;
    HandoffCheck wrapped = check_handoff(k, ram, ~uint64_t(0) - 0x100);
    EXPECT_FALSE(wrapped.matched);
}

// Windows of 64 KiB: sites straddling a window edge, and overlapping sites
// (which the comparison handles by relocating the whole image).
TEST(CheckHandoff, SitesAcrossComparisonWindowsAndOverlappingSites)
{
    KernelImage k;
    k.load_physical_addr = phys_start;
    k.segments = {LoadSegment{0, 0x30000, 0x30000}};
    k.image.resize(0x30000);
    for (size_t i = 0; i < k.image.size(); i++)
        k.image[i] = uint8_t(i * 5 + 1);
    k.relocs64 = {0x10000 - 4, 0x2fff8};
    k.relocs32 = {0x20000 - 2};
    k.relocs32_inverse = {0x100};
    for (int64_t delta : {int64_t(0x200000), int64_t(0x3a00000)}) {
        Bytes ram = guest_ram_with(k, phys_start, delta, phys_start + 0x30000);
        HandoffCheck h = check_handoff(k, ram, phys_start);
        EXPECT_TRUE(h.matched) << h.summary;
        EXPECT_EQ(h.virtual_offset, delta);
        ram[phys_start + 0x10002] ^= 1;  // the upper half of the straddling 64-bit site
        h = check_handoff(k, ram, phys_start);
        EXPECT_FALSE(h.matched);
        EXPECT_EQ(h.first_mismatch, phys_start + 0x10002);
    }
    // A 32-bit site over bytes 2..5 of the last 64-bit one, all ones: the
    // carry out of the 32-bit add is lost, so only the kernel's order (all
    // 32-bit sites, then all 64-bit ones) gives the right bytes.
    k.relocs32.push_back(0x2fff8 + 2);
    put64(k.image, 0x2fff8, 0x0000ffffffff0000);
    Bytes ram = guest_ram_with(k, phys_start, 0x3a00000, phys_start + 0x30000);
    HandoffCheck h = check_handoff(k, ram, phys_start);
    EXPECT_TRUE(h.matched) << h.summary;
}
