// bzImage parsing: one fake image per corrupt case, each asserting the error
// kind and that the message names the file.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "loader/bzimage.h"
#include "loader/kernel_image.h"
#include "fake_bzimage.h"

namespace bootsim {
namespace {

using fake::build_fake_bzimage;
using fake::FakeKernel;

constexpr const char* name = "images/vmlinuz";

Error parse_error(std::vector<uint8_t> bytes)
{
    auto result = parse_bzimage(name, std::move(bytes));
    EXPECT_FALSE(result.ok());
    if (result.ok())
        return Error{ErrorKind::Emulator, "parsed unexpectedly"};
    return result.error();
}

void expect_names_file(const Error& e)
{
    EXPECT_EQ(e.message.rfind(std::string(name) + ": ", 0), 0u) << e.message;
}

TEST(BzImage, ParsesAValidImage)
{
    FakeKernel k;
    auto bz = parse_bzimage(name, build_fake_bzimage(k));
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->path, name);
    EXPECT_EQ(bz->header.version, 0x020f);
    EXPECT_EQ(bz->header.setup_sects, 4);
    EXPECT_EQ(bz->header.loadflags, 0x01);
    EXPECT_EQ(bz->header.code32_start, 0x100000u);
    EXPECT_EQ(bz->header.initrd_addr_max, 0x7fffffffu);
    EXPECT_EQ(bz->header.kernel_alignment, 0x200000u);
    EXPECT_EQ(bz->header.relocatable_kernel, 1);
    EXPECT_EQ(bz->header.min_alignment, 21);
    EXPECT_EQ(bz->header.xloadflags, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
    EXPECT_EQ(bz->header.cmdline_size, 0x7ffu);
    EXPECT_EQ(bz->header.payload_offset, 0x300u);
    EXPECT_EQ(bz->header.payload_length, 6u + 0x100 + 4);
    EXPECT_EQ(bz->header.pref_address, 0x1000000u);
    EXPECT_EQ(bz->header.init_size, 0x2000000u);
    EXPECT_EQ(bz->header.handover_offset, 0x190u);
    EXPECT_EQ(bz->header.kernel_info_offset, 0x1000u);
    EXPECT_EQ(bz->compression, Compression::Xz);
    EXPECT_EQ(bz->decompressed_size, 0x1234567u);

    EXPECT_EQ(bz->setup_size(), 5u * 512);
    EXPECT_EQ(bz->setup_header_bytes().size(), 0x26cu - 0x1f1);
    EXPECT_EQ(bz->setup_header_bytes()[0], 4);  // setup_sects
    // Protected-mode code: the rest of the file, starting after the setup.
    ASSERT_EQ(bz->protected_mode_code().size(), bz->file.size() - 5 * 512);
    EXPECT_EQ(bz->protected_mode_code()[0], fake::fake_code_byte(0));
    ASSERT_EQ(bz->payload().size(), 6u + 0x100 + 4);
    EXPECT_EQ(bz->payload()[0], 0xfd);
    EXPECT_EQ(bz->payload().data(), bz->file.data() + 5 * 512 + 0x300);
}

TEST(BzImage, SetupSectsZeroMeansFour)
{
    FakeKernel k;
    k.setup_sects = 0;
    auto bz = parse_bzimage(name, build_fake_bzimage(k));
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->setup_size(), 5u * 512);
    EXPECT_EQ(bz->payload()[0], 0xfd);
}

TEST(BzImage, ProtectedModeCodeStopsAtSyssize)
{
    // A signed kernel carries its Authenticode signature after the code.
    auto bytes = build_fake_bzimage(FakeKernel{});
    size_t unsigned_size = bytes.size();
    bytes.insert(bytes.end(), 0x540, 0x30);
    auto bz = parse_bzimage(name, bytes);
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->protected_mode_code().size(), unsigned_size - 5 * 512);
}

struct MagicCase {
    Compression compression;
    std::vector<uint8_t> magic;
};

class BzImageCompression : public ::testing::TestWithParam<MagicCase> {};

TEST_P(BzImageCompression, IdentifiedByMagic)
{
    FakeKernel k;
    k.payload_magic = GetParam().magic;
    auto bz = parse_bzimage(name, build_fake_bzimage(k));
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->compression, GetParam().compression);
    EXPECT_EQ(bz->decompressed_size, 0x1234567u);
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, BzImageCompression,
    ::testing::Values(MagicCase{Compression::Gzip, {0x1f, 0x8b, 0x08}},
                      MagicCase{Compression::Bzip2, {'B', 'Z', 'h', '9'}},
                      MagicCase{Compression::Lzma, {0x5d, 0x00, 0x00, 0x00, 0x04}},
                      MagicCase{Compression::Xz, {0xfd, '7', 'z', 'X', 'Z', 0x00}},
                      MagicCase{Compression::Lzo, {0x89, 'L', 'Z', 'O', 0x00}},
                      MagicCase{Compression::Lz4, {0x02, 0x21, 0x4c, 0x18}},
                      MagicCase{Compression::Zstd, {0x28, 0xb5, 0x2f, 0xfd}}),
    [](const auto& info) { return std::string(compression_name(info.param.compression)); });

TEST(BzImage, CompressionNames)
{
    EXPECT_STREQ(compression_name(Compression::Gzip), "gzip");
    EXPECT_STREQ(compression_name(Compression::Xz), "xz");
    EXPECT_STREQ(compression_name(Compression::Lz4), "lz4");
    EXPECT_STREQ(compression_name(Compression::Zstd), "zstd");
}

TEST(BzImage, IdentifyCompressionRejectsUnknownAndShort)
{
    std::vector<uint8_t> unknown = {0xde, 0xad, 0xbe, 0xef};
    auto r = identify_compression(unknown);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(r.error().message.find("de ad be ef"), std::string::npos) << r.error().message;

    std::vector<uint8_t> half_xz = {0xfd, '7', 'z'};
    EXPECT_FALSE(identify_compression(half_xz).ok());
}

TEST(BzImage, EmptyFile)
{
    Error e = parse_error({});
    EXPECT_EQ(e.kind, ErrorKind::FileEmpty);
    expect_names_file(e);
}

TEST(BzImage, TooShortForTheHeader)
{
    auto bytes = build_fake_bzimage(FakeKernel{});
    bytes.resize(0x250);
    Error e = parse_error(bytes);
    EXPECT_EQ(e.kind, ErrorKind::Truncated);
    expect_names_file(e);
    EXPECT_NE(e.message.find("592 bytes"), std::string::npos) << e.message;
}

TEST(BzImage, CutInsideTheSetup)
{
    auto bytes = build_fake_bzimage(FakeKernel{});
    bytes.resize(0x800);
    Error e = parse_error(bytes);
    EXPECT_EQ(e.kind, ErrorKind::Truncated);
    expect_names_file(e);
    EXPECT_NE(e.message.find("2560 bytes of setup"), std::string::npos) << e.message;
}

TEST(BzImage, CutInsideTheCode)
{
    auto bytes = build_fake_bzimage(FakeKernel{});
    bytes.resize(bytes.size() - 0x100);
    Error e = parse_error(bytes);
    EXPECT_EQ(e.kind, ErrorKind::Truncated);
    expect_names_file(e);
}

TEST(BzImage, NoHdrSMagic)
{
    FakeKernel k;
    k.magic = "\x01\x02\x03\x04";
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
    EXPECT_NE(e.message.find("expected \"HdrS\" at 0x202, found 01 02 03 04"), std::string::npos)
        << e.message;
}

TEST(BzImage, ElfFileIsNamedAsSuch)
{
    std::vector<uint8_t> elf(4096, 0);
    elf[0] = 0x7f, elf[1] = 'E', elf[2] = 'L', elf[3] = 'F';
    elf[4] = 2;  // ELFCLASS64
    Error e = parse_error(elf);
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
    EXPECT_NE(e.message.find("ELF file (vmlinux?)"), std::string::npos) << e.message;
}

TEST(BzImage, RandomBytes)
{
    std::mt19937 rng(1234);
    std::vector<uint8_t> noise(16384);
    for (auto& b : noise)
        b = uint8_t(rng());
    Error e = parse_error(noise);
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
    EXPECT_NE(e.message.find("not a bzImage"), std::string::npos) << e.message;
}

TEST(BzImage, BadBootFlag)
{
    FakeKernel k;
    k.boot_flag = 0x1234;
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
    EXPECT_NE(e.message.find("found 0x1234"), std::string::npos) << e.message;
}

TEST(BzImage, Protocol210IsTooOld)
{
    FakeKernel k;
    k.version = 0x020a;
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::Unsupported);
    expect_names_file(e);
    EXPECT_NE(e.message.find("boot protocol 2.10 is too old: 2.12 or later"), std::string::npos)
        << e.message;
}

TEST(BzImage, Protocol212IsEnough)
{
    FakeKernel k;
    k.version = 0x020c;
    k.jump_offset = 0x66;  // 2.12 headers end after handover_offset, at 0x268
    auto bz = parse_bzimage(name, build_fake_bzimage(k));
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->header.kernel_info_offset, 0u);  // past the header's end: not read
    EXPECT_EQ(bz->setup_header_bytes().size(), 0x268u - 0x1f1);
}

TEST(BzImage, HeaderEndingTooEarly)
{
    FakeKernel k;
    k.jump_offset = 0x40;
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
}

TEST(BzImage, A32BitKernelParsesWithoutA64BitEntry)
{
    // XLF_KERNEL_64 clear: a 32-bit kernel. It has the real-mode and 32-bit
    // entries; the boot plan refuses the 64-bit one (BootPlan tests).
    FakeKernel k;
    k.xloadflags = 0;
    auto bz = parse_bzimage("images/vmlinuz", build_fake_bzimage(k));
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_FALSE(bz->has_64bit_entry());
    FakeKernel k64;
    auto bz64 = parse_bzimage("images/vmlinuz", build_fake_bzimage(k64));
    ASSERT_TRUE(bz64.ok());
    EXPECT_TRUE(bz64->has_64bit_entry());
}

TEST(BzImage, ZImageIsUnsupported)
{
    FakeKernel k;
    k.loadflags = 0;
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::Unsupported);
    expect_names_file(e);
    EXPECT_NE(e.message.find("LOADED_HIGH"), std::string::npos) << e.message;
}

TEST(BzImage, PayloadPastEndOfFile)
{
    FakeKernel k;
    k.payload_length_delta = 0x10000;
    auto bytes = build_fake_bzimage(k);
    Error e = parse_error(bytes);
    EXPECT_EQ(e.kind, ErrorKind::Truncated);
    expect_names_file(e);
    size_t promised = 5 * 512 + 0x300 + (6 + 0x100 + 4) + 0x10000;
    EXPECT_NE(e.message.find(fmt::format("promises {} bytes", promised)), std::string::npos)
        << e.message;
    EXPECT_NE(e.message.find(fmt::format("the file has {} bytes", bytes.size())), std::string::npos)
        << e.message;
}

// QEMU's -kernel loader never reads payload_offset or the payload's magic,
// and neither does the kernel's own boot path: such a kernel boots, and only
// the host's checks are off, with the reason kept.
TEST(BzImage, UnknownPayloadMagicIsNotedNotRefused)
{
    FakeKernel k;
    k.payload_magic = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x11};
    auto bz = parse_bzimage(name, build_fake_bzimage(k));
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->compression, Compression::Unknown);
    EXPECT_TRUE(bz->payload().empty());
    EXPECT_NE(bz->payload_problem.find("de ad be ef 00 11"), std::string::npos) << bz->payload_problem;
    EXPECT_NE(bz->payload_problem.find("0xd00"), std::string::npos) << bz->payload_problem;  // where: 0xa00 + 0x300
    auto host = decompress_kernel(*bz);
    ASSERT_FALSE(host.ok());
    EXPECT_EQ(host.error().kind, ErrorKind::Unsupported);
    EXPECT_NE(host.error().message.find("unknown payload compression"), std::string::npos) << host.error().message;
}

TEST(BzImage, InitSizeZero)
{
    FakeKernel k;
    k.init_size = 0;
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
    EXPECT_NE(e.message.find("init_size"), std::string::npos) << e.message;
}

TEST(BzImage, KernelAlignmentNotAPowerOfTwo)
{
    FakeKernel k;
    k.kernel_alignment = 0x300000;
    Error e = parse_error(build_fake_bzimage(k));
    EXPECT_EQ(e.kind, ErrorKind::BadFormat);
    expect_names_file(e);
}

// Files on disk: a scratch directory per test.
class ReadFile : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = ::testing::TempDir() + "bootsim_read_file_XXXXXX";
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        m_dir = pattern;
    }
    void TearDown() override
    {
        for (const char* f : {"/empty", "/kernel", "/data"})
            std::remove((m_dir + f).c_str());
        rmdir(m_dir.c_str());
    }
    std::string write(const char* file, const std::vector<uint8_t>& bytes)
    {
        std::string path = m_dir + file;
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        return path;
    }
    std::string m_dir;
};

TEST_F(ReadFile, Missing)
{
    std::string path = m_dir + "/initrd.img";
    auto r = read_file(path, "initrd");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::FileMissing);
    EXPECT_EQ(r.error().message, path + ": cannot open: No such file or directory");
}

TEST_F(ReadFile, Directory)
{
    auto r = read_file(m_dir, "initrd");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::FileMissing);
    EXPECT_EQ(r.error().message, m_dir + ": is a directory, expected the initrd file");
}

TEST_F(ReadFile, Empty)
{
    std::string path = write("/empty", {});
    auto r = read_file(path, "initrd");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::FileEmpty);
    EXPECT_EQ(r.error().message.rfind(path + ": ", 0), 0u) << r.error().message;
}

TEST_F(ReadFile, ReadsEveryByte)
{
    std::vector<uint8_t> bytes(200000);
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = uint8_t(i * 31);
    auto r = read_file(write("/data", bytes), "initrd");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, bytes);
}

TEST_F(ReadFile, LoadBzImage)
{
    auto bytes = build_fake_bzimage(FakeKernel{});
    std::string path = write("/kernel", bytes);
    auto bz = load_bzimage(path);
    ASSERT_TRUE(bz.ok()) << bz.error().message;
    EXPECT_EQ(bz->path, path);
    EXPECT_EQ(bz->file, bytes);

    auto missing = load_bzimage(m_dir + "/vmlinuz");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, ErrorKind::FileMissing);
}

}  // namespace
}  // namespace bootsim
