// The initrd catalog: cpio "newc" archives are built here byte by byte and
// compressed (compress_for_tests.h) with the same libraries the kernel's
// formats come from, so each test knows exactly which files, offsets and
// sizes to expect.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "loader/initrd_catalog.h"
#include "loader/stream_decoder.h"
#include "unit/compress_for_tests.h"

namespace bootsim {
namespace {

using fake::Bytes;
using fake::bzip2;
using fake::gzip;
using fake::lz4_legacy;
using fake::lzma_alone;
using fake::xz;
using fake::zstd;

struct Entry {
    std::string name;
    uint32_t mode;
    std::string data;  // a file's contents or a symlink's target
};

constexpr uint32_t dir_mode = S_IFDIR | 0755;
constexpr uint32_t file_mode = S_IFREG | 0644;
constexpr uint32_t exec_mode = S_IFREG | 0755;
constexpr uint32_t link_mode = S_IFLNK | 0777;
constexpr uint32_t chr_mode = S_IFCHR | 0600;

void pad4(Bytes& out)
{
    while (out.size() % 4 != 0)
        out.push_back(0);
}

void append(Bytes& out, const std::string& s)
{
    out.insert(out.end(), s.begin(), s.end());
}

// One header as `cpio -o -H newc` (or -H crc) writes it: magic, 13 fields of
// 8 hex digits, the NUL-terminated name padded so header + name is a multiple
// of 4, then the data padded to 4. `name_size` overrides c_namesize.
void append_entry(Bytes& out, const std::string& name, uint32_t mode, const std::string& data, bool crc,
                  uint32_t ino, long name_size = -1)
{
    uint32_t sum = 0;
    if (crc)
        for (unsigned char c : data)
            sum += c;
    uint32_t namesize = name_size < 0 ? uint32_t(name.size() + 1) : uint32_t(name_size);
    append(out, fmt::format("{}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
                            crc ? "070702" : "070701", ino, mode, 0, 0, 1, 0x65000000, data.size(), 0, 0,
                            S_ISCHR(mode) ? 5 : 0, S_ISCHR(mode) ? 1 : 0, namesize, sum));
    append(out, name);
    out.push_back(0);
    pad4(out);
    append(out, data);
    pad4(out);
}

// A whole archive; archives are only ever placed at 4-aligned offsets.
Bytes cpio(const std::vector<Entry>& entries, bool crc = false, bool trailer = true)
{
    Bytes out;
    uint32_t ino = 100;
    for (const Entry& e : entries)
        append_entry(out, e.name, e.mode, e.data, crc, ino++);
    if (trailer)
        append_entry(out, "TRAILER!!!", 0, "", crc, 0);
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes zeros(size_t n) { return Bytes(n, 0); }

// Compressible but not trivial: text-like bytes from a fixed seed.
std::string pseudo_text(size_t size, unsigned seed)
{
    std::mt19937 rng(seed);
    std::string s(size, ' ');
    for (char& c : s)
        c = "abcdefgh \n"[rng() % 10];
    return s;
}

std::string random_bytes(size_t size, unsigned seed)
{
    std::mt19937 rng(seed);
    std::string s(size, '\0');
    for (char& c : s)
        c = char(rng());
    return s;
}

std::vector<std::string> paths(const InitrdArchive& archive)
{
    std::vector<std::string> out;
    for (const InitrdFile& f : archive.files)
        out.push_back(f.path);
    return out;
}

// A small root: directories, an executable big enough to span many decoder
// output chunks, a symlink and a device node.
const std::string busybox_data = pseudo_text(300 << 10, 1);
const std::string init_data = "#!/bin/busybox sh\nexec /bin/sh\n";
const std::vector<Entry> root_entries = {
    {".", dir_mode, ""},
    {"bin", dir_mode, ""},
    {"bin/busybox", exec_mode, busybox_data},
    {"bin/sh", link_mode, "busybox"},
    {"dev", dir_mode, ""},
    {"dev/console", chr_mode, ""},
    {"init", exec_mode, init_data},
};
const std::vector<std::string> root_paths = {".", "bin", "bin/busybox", "bin/sh", "dev", "dev/console", "init"};

void expect_root(const InitrdArchive& archive)
{
    ASSERT_EQ(paths(archive), root_paths);
    const std::vector<InitrdFile>& f = archive.files;
    EXPECT_EQ(f[0].mode, dir_mode);
    EXPECT_EQ(f[2].mode, exec_mode);
    EXPECT_EQ(f[2].size, busybox_data.size());
    EXPECT_EQ(f[3].mode, link_mode);
    EXPECT_EQ(f[3].link_target, "busybox");
    EXPECT_EQ(f[3].size, 7u);
    EXPECT_EQ(f[5].mode, chr_mode);
    EXPECT_EQ(f[5].size, 0u);
    EXPECT_EQ(f[6].size, init_data.size());
    EXPECT_TRUE(f[6].link_target.empty());
}

void expect_one_compressed(const Bytes& compressed, const char* format)
{
    InitrdCatalog catalog = read_initrd_catalog(compressed);
    ASSERT_EQ(catalog.archives.size(), 1u);
    const InitrdArchive& a = catalog.archives[0];
    EXPECT_EQ(a.format, format);
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(a.offset, 0u);
    EXPECT_EQ(a.compressed_size, compressed.size());
    expect_root(a);
    EXPECT_EQ(catalog.total_files(), root_paths.size());
}

TEST(InitrdCatalog, ReadsOneUncompressedArchive)
{
    Bytes image = cpio(root_entries);
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    const InitrdArchive& a = catalog.archives[0];
    EXPECT_EQ(a.format, "uncompressed");
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(a.offset, 0u);
    EXPECT_EQ(a.compressed_size, image.size());
    expect_root(a);
}

// What dracut and mkinitramfs build: an uncompressed early cpio with CPU
// microcode, zero padding, then the compressed main archive.
TEST(InitrdCatalog, ReadsEarlyMicrocodeThenGzip)
{
    const std::string microcode = random_bytes(5000, 2);
    Bytes early = cpio({{"kernel", dir_mode, ""},
                        {"kernel/x86", dir_mode, ""},
                        {"kernel/x86/microcode", dir_mode, ""},
                        {"kernel/x86/microcode/GenuineIntel.bin", file_mode, microcode}});
    Bytes main = gzip(cpio(root_entries));
    size_t main_offset = (early.size() + 511) / 512 * 512 + 512;
    Bytes image = cat({early, zeros(main_offset - early.size()), main});

    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 2u);
    const InitrdArchive& first = catalog.archives[0];
    EXPECT_EQ(first.format, "uncompressed");
    EXPECT_EQ(first.error, "");
    EXPECT_EQ(first.offset, 0u);
    EXPECT_EQ(first.compressed_size, early.size());
    EXPECT_EQ(paths(first), (std::vector<std::string>{"kernel", "kernel/x86", "kernel/x86/microcode",
                                                      "kernel/x86/microcode/GenuineIntel.bin"}));
    EXPECT_EQ(first.files[3].size, microcode.size());
    EXPECT_EQ(first.files[3].mode, file_mode);

    const InitrdArchive& second = catalog.archives[1];
    EXPECT_EQ(second.format, "gzip");
    EXPECT_EQ(second.error, "");
    EXPECT_EQ(second.offset, main_offset);
    EXPECT_EQ(second.compressed_size, main.size());
    expect_root(second);
    EXPECT_EQ(catalog.total_files(), 4 + root_paths.size());
}

TEST(InitrdCatalog, ReadsGzip) { expect_one_compressed(gzip(cpio(root_entries)), "gzip"); }
TEST(InitrdCatalog, ReadsXz) { expect_one_compressed(xz(cpio(root_entries)), "xz"); }
TEST(InitrdCatalog, ReadsLzma) { expect_one_compressed(lzma_alone(cpio(root_entries)), "lzma"); }
TEST(InitrdCatalog, ReadsBzip2) { expect_one_compressed(bzip2(cpio(root_entries)), "bzip2"); }
TEST(InitrdCatalog, ReadsZstd) { expect_one_compressed(zstd(cpio(root_entries)), "zstd"); }
TEST(InitrdCatalog, ReadsLz4Legacy) { expect_one_compressed(lz4_legacy(cpio(root_entries)), "lz4"); }

// More than 8 MiB of cpio data: two LZ4 blocks, the second starting in the
// middle of a file.
TEST(InitrdCatalog, ReadsLz4LegacyWithSeveralBlocks)
{
    const std::string big = pseudo_text(9 << 20, 3);
    Bytes compressed = lz4_legacy(cpio({{"big", file_mode, big}, {"after", file_mode, "x"}}));
    InitrdCatalog catalog = read_initrd_catalog(compressed);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(catalog.archives[0].error, "");
    EXPECT_EQ(catalog.archives[0].compressed_size, compressed.size());
    EXPECT_EQ(paths(catalog.archives[0]), (std::vector<std::string>{"big", "after"}));
    EXPECT_EQ(catalog.archives[0].files[0].size, big.size());
}

// Each decoder must report exactly where its stream ends, or the next
// segment would be taken for junk.
TEST(InitrdCatalog, ReadsOneSegmentOfEachFormatBackToBack)
{
    std::vector<std::pair<const char*, Bytes>> segments = {
        {"uncompressed", cpio({{"a", file_mode, "a"}})},
        {"gzip", gzip(cpio({{"b", file_mode, "bb"}}))},
        {"xz", xz(cpio({{"c", file_mode, "ccc"}}))},
        {"bzip2", bzip2(cpio({{"d", file_mode, "dddd"}}))},
        {"zstd", zstd(cpio({{"e", file_mode, "eeeee"}}))},
        {"lzma", lzma_alone(cpio({{"f", file_mode, "ffffff"}}))},
        {"lz4", lz4_legacy(cpio({{"g", file_mode, "ggggggg"}}))},
        {"gzip", gzip(cpio({{"h", file_mode, "hhhhhhhh"}}))},
    };
    Bytes image;
    std::vector<size_t> offsets;
    for (const auto& [format, bytes] : segments) {
        // Zero padding to 4 bytes (and a little more), which the kernel skips;
        // it also ends the LZ4 legacy stream, which has no end marker.
        image.resize((image.size() + 3) / 4 * 4 + 8, 0);
        offsets.push_back(image.size());
        image.insert(image.end(), bytes.begin(), bytes.end());
    }

    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), segments.size());
    for (size_t i = 0; i < segments.size(); ++i) {
        const InitrdArchive& a = catalog.archives[i];
        SCOPED_TRACE(fmt::format("segment {} ({})", i, segments[i].first));
        EXPECT_EQ(a.format, segments[i].first);
        EXPECT_EQ(a.error, "");
        EXPECT_EQ(a.offset, offsets[i]);
        EXPECT_EQ(a.compressed_size, segments[i].second.size());
        ASSERT_EQ(a.files.size(), 1u);
        EXPECT_EQ(a.files[0].path, std::string(1, char('a' + i)));
        EXPECT_EQ(a.files[0].size, i + 1);
    }
}

TEST(InitrdCatalog, ReadsSeveralCpioArchivesInOneCompressedStream)
{
    Bytes inner = cat({cpio({{"first", file_mode, "1"}}), zeros(12), cpio({{"second", dir_mode, ""}}),
                       cpio({{"third", link_mode, "first"}})});
    Bytes image = zstd(inner);
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(catalog.archives[0].error, "");
    EXPECT_EQ(paths(catalog.archives[0]), (std::vector<std::string>{"first", "second", "third"}));
    EXPECT_EQ(catalog.archives[0].files[2].link_target, "first");
}

// The kernel treats TRAILER!!! as optional (Documentation/driver-api/
// early-userspace/buffer-format.rst).
TEST(InitrdCatalog, AcceptsAnArchiveWithoutTrailer)
{
    Bytes early = cpio({{"early", file_mode, "e"}}, false, false);
    Bytes main = gzip(cpio({{"main", file_mode, "m"}}, false, false));
    Bytes image = cat({early, main});
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 2u);
    EXPECT_EQ(catalog.archives[0].error, "");
    EXPECT_EQ(catalog.archives[0].compressed_size, early.size());
    EXPECT_EQ(paths(catalog.archives[0]), std::vector<std::string>{"early"});
    EXPECT_EQ(catalog.archives[1].error, "");
    EXPECT_EQ(catalog.archives[1].offset, early.size());
    EXPECT_EQ(paths(catalog.archives[1]), std::vector<std::string>{"main"});
}

TEST(InitrdCatalog, TruncatedGzipKeepsTheFilesReadBefore)
{
    // Incompressible data after the small entries, so that cutting the
    // stream in half cuts inside it, after "init" and "etc" were decoded.
    Bytes whole = gzip(cpio({{"init", exec_mode, init_data},
                             {"etc", dir_mode, ""},
                             {"blob", file_mode, random_bytes(256 << 10, 4)},
                             {"late", file_mode, "never seen"}}));
    Bytes image(whole.begin(), whole.begin() + long(whole.size() / 2));
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    const InitrdArchive& a = catalog.archives[0];
    EXPECT_EQ(a.format, "gzip");
    EXPECT_NE(a.error.find("truncated"), std::string::npos) << a.error;
    EXPECT_EQ(paths(a), (std::vector<std::string>{"init", "etc", "blob"}));
}

TEST(InitrdCatalog, TruncatedUncompressedArchiveIsAnError)
{
    Bytes whole = cpio({{"a", file_mode, "aaaa"}, {"b", file_mode, std::string(1000, 'b')}});
    Bytes image(whole.begin(), whole.end() - 600);
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_NE(catalog.archives[0].error.find("ends inside the cpio entry"), std::string::npos)
        << catalog.archives[0].error;
    EXPECT_EQ(paths(catalog.archives[0]), (std::vector<std::string>{"a", "b"}));
}

TEST(InitrdCatalog, CorruptCompressedDataIsAnError)
{
    Bytes image = xz(cpio(root_entries));
    image[image.size() / 2] ^= 0x55;
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(catalog.archives[0].format, "xz");
    EXPECT_NE(catalog.archives[0].error, "");
}

TEST(InitrdCatalog, ChecksCrcArchiveChecksums)
{
    Bytes good = cpio({{"file", file_mode, "checksummed"}}, true);
    InitrdCatalog ok = read_initrd_catalog(good);
    ASSERT_EQ(ok.archives.size(), 1u);
    EXPECT_EQ(ok.archives[0].error, "");
    EXPECT_EQ(paths(ok.archives[0]), std::vector<std::string>{"file"});

    Bytes bad = good;
    bad[110 + 8] ^= 1;  // the data, after the header and the padded name "file\0"
    InitrdCatalog catalog = read_initrd_catalog(bad);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_NE(catalog.archives[0].error.find("bad data checksum"), std::string::npos) << catalog.archives[0].error;
}

TEST(InitrdCatalog, RecognisesLzoWithoutDecodingIt)
{
    Bytes early = cpio({{"early", file_mode, "e"}});
    Bytes lzo = {0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a, 0x10, 0x30};
    InitrdCatalog catalog = read_initrd_catalog(cat({early, lzo}));
    ASSERT_EQ(catalog.archives.size(), 2u);
    EXPECT_EQ(catalog.archives[0].error, "");
    EXPECT_EQ(catalog.archives[1].format, "lzo");
    EXPECT_EQ(catalog.archives[1].offset, early.size());
    EXPECT_EQ(catalog.archives[1].error, "LZO archives are not decoded");
}

TEST(InitrdCatalog, JunkAfterAnArchiveIsAnError)
{
    Bytes early = cpio({{"early", file_mode, "e"}});
    InitrdCatalog catalog = read_initrd_catalog(cat({early, Bytes{'P', 'K', 3, 4}}));
    ASSERT_EQ(catalog.archives.size(), 2u);
    EXPECT_EQ(paths(catalog.archives[0]), std::vector<std::string>{"early"});
    EXPECT_EQ(catalog.archives[1].format, "unknown");
    EXPECT_NE(catalog.archives[1].error.find("50 4b 03 04"), std::string::npos) << catalog.archives[1].error;
}

TEST(InitrdCatalog, JunkInsideACompressedStreamIsAnError)
{
    Bytes image = gzip(cat({cpio({{"a", file_mode, "a"}}), Bytes{'j', 'u', 'n', 'k'}}));
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(paths(catalog.archives[0]), std::vector<std::string>{"a"});
    EXPECT_NE(catalog.archives[0].error.find("junk in compressed archive"), std::string::npos)
        << catalog.archives[0].error;
}

// do_reset(): after zero padding, data must resume at a multiple of 4.
TEST(InitrdCatalog, UnalignedPaddingIsBroken)
{
    Bytes early = cpio({{"early", file_mode, "e"}});
    InitrdCatalog catalog = read_initrd_catalog(cat({early, zeros(3), gzip(cpio({{"main", file_mode, "m"}}))}));
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(paths(catalog.archives[0]), std::vector<std::string>{"early"});
    EXPECT_NE(catalog.archives[0].error.find("broken padding"), std::string::npos) << catalog.archives[0].error;
}

TEST(InitrdCatalog, RejectsOldCpioFormats)
{
    Bytes image = cpio({{"a", file_mode, "a"}});
    image[5] = '7';  // 070707, the old "odc" magic
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_NE(catalog.archives[0].error.find("newc"), std::string::npos) << catalog.archives[0].error;
    EXPECT_TRUE(catalog.archives[0].files.empty());
}

TEST(InitrdCatalog, RejectsANameWithoutNul)
{
    Bytes image;
    append_entry(image, "ok", file_mode, "", false, 1);
    append_entry(image, "abc", file_mode, "", false, 2, 3);  // c_namesize counts no NUL
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(paths(catalog.archives[0]), std::vector<std::string>{"ok"});
    EXPECT_NE(catalog.archives[0].error.find("not NUL-terminated"), std::string::npos) << catalog.archives[0].error;
}

// do_header() skips what it would not create: a directory with data, a
// symlink longer than PATH_MAX. Reading goes on after them.
TEST(InitrdCatalog, SkipsEntriesTheKernelIgnores)
{
    Bytes image = cpio({{"dir-with-data", dir_mode, "xyz"},
                        {"long-link", link_mode, std::string(5000, 'l')},
                        {"kept", file_mode, "k"}});
    InitrdCatalog catalog = read_initrd_catalog(image);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(catalog.archives[0].error, "");
    EXPECT_EQ(paths(catalog.archives[0]), std::vector<std::string>{"kept"});
}

TEST(InitrdCatalog, StopsAtTheOutputLimit)
{
    Bytes plain = cpio({{"small", file_mode, "s"}, {"zeros", file_mode, std::string(1 << 20, '\0')}});
    Bytes image = gzip(plain);
    InitrdCatalog catalog = read_initrd_catalog(image, 64 << 10);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_NE(catalog.archives[0].error.find("limit of 65536 bytes"), std::string::npos)
        << catalog.archives[0].error;
    EXPECT_EQ(paths(catalog.archives[0]), (std::vector<std::string>{"small", "zeros"}));

    // The same image within the limit reads whole.
    EXPECT_EQ(read_initrd_catalog(image, plain.size()).archives.at(0).error, "");
}

TEST(InitrdCatalog, EmptyAndAllZeroImagesHoldNothing)
{
    EXPECT_TRUE(read_initrd_catalog({}).archives.empty());
    Bytes image = zeros(4096);
    EXPECT_TRUE(read_initrd_catalog(image).archives.empty());
}

TEST(InitrdCatalog, SurvivesGarbage)
{
    std::mt19937 rng(5);
    auto noise = [&](size_t n) {
        Bytes b(n);
        for (uint8_t& x : b)
            x = uint8_t(rng());
        return b;
    };
    Bytes random = noise(4096);
    random[0] = 0xee;  // no magic
    InitrdCatalog catalog = read_initrd_catalog(random);
    ASSERT_EQ(catalog.archives.size(), 1u);
    EXPECT_EQ(catalog.archives[0].format, "unknown");

    // Every magic followed by noise: an error, never a crash.
    const std::vector<Bytes> magics = {{0x1f, 0x8b}, {0x1f, 0x8b, 0x08, 0x00}, {0x1f, 0x9e},
                                       {'B', 'Z', 'h', '9'}, {0x5d, 0x00, 0x00},
                                       {0xfd, '7', 'z', 'X', 'Z', 0x00}, {0x89, 0x4c},
                                       {0x02, 0x21, 0x4c, 0x18}, {0x28, 0xb5, 0x2f, 0xfd},
                                       {'0', '7', '0', '7', '0', '1'}, {'0', '7', '0', '7', '0', '2'}};
    for (const Bytes& magic : magics) {
        for (size_t tail : {0, 1, 7, 200, 5000}) {
            Bytes image = cat({magic, noise(tail)});
            InitrdCatalog c = read_initrd_catalog(image);
            ASSERT_FALSE(c.archives.empty());
            if (magic.size() == 4 && magic[0] == 0x02 && tail == 0) {
                // An LZ4 legacy stream has no end marker: the magic alone is
                // an empty stream, as for the kernel.
                EXPECT_EQ(c.archives.back().error, "");
                EXPECT_EQ(c.total_files(), 0u);
                continue;
            }
            EXPECT_NE(c.archives.back().error, "") << fmt::format("magic {:02x} {:02x}, {} bytes of noise",
                                                                   magic[0], magic[1], tail);
        }
    }

    // Hostile header fields: sizes near 4 GiB, non-hex digits.
    Bytes huge;
    append_entry(huge, "x", file_mode, "", false, 1, 0x7fffffff);
    EXPECT_NE(read_initrd_catalog(huge).archives.at(0).error, "");
    Bytes nonhex = cpio({{"a", file_mode, "a"}});
    nonhex[20] = 'g';
    EXPECT_NE(read_initrd_catalog(nonhex).archives.at(0).error, "");

    // Valid archives with bytes flipped or cut anywhere: any outcome but a
    // crash (run under ASan in CI).
    std::vector<Entry> small = root_entries;
    small[2].data.resize(20000);  // bin/busybox: keeps the 280 decodes quick
    const Bytes plain = cpio(small, true);
    const std::vector<Bytes> valid = {plain, gzip(plain), xz(plain), lzma_alone(plain),
                                      bzip2(plain), zstd(plain), lz4_legacy(plain)};
    for (const Bytes& v : valid) {
        for (int i = 0; i < 40; ++i) {
            Bytes mutated = v;
            size_t at = rng() % mutated.size();
            if (i % 2)
                mutated.resize(at);
            else
                mutated[at] ^= uint8_t(1 + rng() % 255);
            InitrdCatalog c = read_initrd_catalog(mutated);
            EXPECT_LE(c.total_files(), root_paths.size() + 1);
        }
    }
}

TEST(InitrdCatalog, MissingFileIsAnError)
{
    auto result = read_initrd_catalog_file("/nonexistent/initrd.img");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::FileMissing);
    EXPECT_NE(result.error().message.find("/nonexistent/initrd.img"), std::string::npos);
}

// The busybox initrd images/build-initrd.sh makes (images/out/, found from
// this file's path since unit tests get no image directory). Skipped when it
// has not been built: unit tests must not need the reference images.
TEST(InitrdCatalog, ReadsTheRealInitrd)
{
    std::filesystem::path out = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                                "images" / "out";
    std::filesystem::path path;
    for (const char* name : {"initrd.cpio.gz", "initrd-busybox.cpio.gz"})
        if (std::filesystem::exists(out / name)) {
            path = out / name;
            break;
        }
    if (path.empty())
        GTEST_SKIP() << "no initrd in " << out << ": run images/build-initrd.sh";

    auto result = read_initrd_catalog_file(path.string());
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_EQ(result->archives.size(), 1u);
    const InitrdArchive& a = result->archives[0];
    EXPECT_EQ(a.format, "gzip");
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(a.compressed_size, std::filesystem::file_size(path));
    std::vector<std::string> names = paths(a);
    EXPECT_NE(std::find(names.begin(), names.end(), "init"), names.end());
    auto busybox = std::find_if(a.files.begin(), a.files.end(),
                                [](const InitrdFile& f) { return f.path == "bin/busybox"; });
    ASSERT_NE(busybox, a.files.end());
    EXPECT_TRUE(S_ISREG(busybox->mode));
    EXPECT_GT(busybox->size, 100000u);
}

}  // namespace
// An .lzma header names its dictionary size, and liblzma allocates it
// before reading any data: a few hostile bytes asking for 4 GiB are refused
// at the decoder's memory limit instead (found by fuzzing; the inputs are
// in fuzz/regressions/).
TEST(StreamDecoder, LzmaDictionaryOverTheLimitIsRefusedNotAllocated)
{
    // props 0x5d, dictionary 0xf4000000 (3.8 GiB), unknown size, then data.
    std::vector<uint8_t> hostile = {0x5d, 0x00, 0x00, 0x00, 0xf4, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x49, 0x49, 0x00};
    auto r = decode_stream(Codec::Lzma, hostile, [](std::span<const uint8_t>) { return true; });
    EXPECT_EQ(r.outcome, StreamOutcome::Corrupt);
    EXPECT_NE(r.reason.find("memory limit"), std::string::npos) << r.reason;
    // A real .lzma file (64 MiB dictionary at most) still decodes.
    Bytes text(100000, 'k');
    Bytes out;
    auto ok = decode_stream(Codec::Lzma, fake::lzma_alone(text), [&](std::span<const uint8_t> b) {
        out.insert(out.end(), b.begin(), b.end());
        return true;
    });
    EXPECT_EQ(ok.outcome, StreamOutcome::End);
    EXPECT_EQ(out, text);
}

}  // namespace bootsim
