// DiskImage on real temporary files: modes, the errors a user sees before
// the guest starts, and I/O errors the guest sees when the file changes.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "devices/disk_image.h"

namespace bootsim {
namespace {

using Bytes = std::vector<uint8_t>;

class DiskImageTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string templ = (std::filesystem::temp_directory_path() / "bootsim-disk-XXXXXX").string();
        ASSERT_NE(mkdtemp(templ.data()), nullptr);
        dir = templ;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    // A file whose byte i is pattern(i): every sector is different.
    static uint8_t pattern(uint64_t i) { return uint8_t(i * 7 + i / 512); }
    std::string make_file(const std::string& name, uint64_t size)
    {
        std::string path = (dir / name).string();
        Bytes bytes(size);
        for (uint64_t i = 0; i < size; ++i)
            bytes[i] = pattern(i);
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(size));
        return path;
    }
    static Bytes file_bytes(const std::string& path)
    {
        std::ifstream in(path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), {});
    }
    static Bytes sector_of(uint64_t sector, uint64_t count = 1)
    {
        Bytes bytes(count * 512);
        for (uint64_t i = 0; i < bytes.size(); ++i)
            bytes[i] = pattern(sector * 512 + i);
        return bytes;
    }

    std::filesystem::path dir;
};

TEST_F(DiskImageTest, ReadsSectorsAtTheirOffsets)
{
    std::string path = make_file("disk.img", 64 * 512);
    auto image = DiskImage::open(path, DiskMode::ReadOnly);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(image->sectors(), 64u);
    Bytes buffer(3 * 512);
    ASSERT_TRUE(image->read(5, buffer).ok());
    EXPECT_EQ(buffer, sector_of(5, 3));
    ASSERT_TRUE(image->read(61, buffer).ok());  // the last three
    EXPECT_EQ(buffer, sector_of(61, 3));
}

TEST_F(DiskImageTest, ReadWriteWritesTheFileAndFlushSyncs)
{
    std::string path = make_file("disk.img", 16 * 512);
    auto image = DiskImage::open(path, DiskMode::ReadWrite);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_FALSE(image->read_only());
    Bytes data(1024, 0xab);
    ASSERT_TRUE(image->write(3, data).ok());
    EXPECT_EQ(image->sync_count(), 0u);
    ASSERT_TRUE(image->flush().ok());
    EXPECT_EQ(image->sync_count(), 1u);
    Bytes file = file_bytes(path);
    ASSERT_EQ(file.size(), 16u * 512);
    EXPECT_EQ(Bytes(file.begin() + 3 * 512, file.begin() + 5 * 512), data);
    EXPECT_EQ(Bytes(file.begin() + 5 * 512, file.begin() + 6 * 512), sector_of(5));
}

TEST_F(DiskImageTest, ReadOnlyRefusesWrites)
{
    std::string path = make_file("disk.img", 8 * 512);
    auto image = DiskImage::open(path, DiskMode::ReadOnly);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_TRUE(image->read_only());
    Bytes data(512, 0);
    Status status = image->write(0, data);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("read-only"), std::string::npos) << status.error().message;
    EXPECT_EQ(file_bytes(path), sector_of(0, 8));
    EXPECT_TRUE(image->flush().ok());
    EXPECT_EQ(image->sync_count(), 0u);
}

TEST_F(DiskImageTest, SnapshotReadsItsOwnWritesAndNeverTouchesTheFile)
{
    // 9 sectors: the last 4 KiB overlay block is only one sector long.
    std::string path = make_file("disk.img", 9 * 512);
    struct stat before;
    ASSERT_EQ(stat(path.c_str(), &before), 0);
    Bytes original = file_bytes(path);
    {
        auto image = DiskImage::open(path, DiskMode::Snapshot);
        ASSERT_TRUE(image.ok()) << image.error().message;
        EXPECT_FALSE(image->read_only());
        Bytes a(512, 0x11), b(2 * 512, 0x22), c(512, 0x33);
        ASSERT_TRUE(image->write(1, a).ok());   // inside block 0
        ASSERT_TRUE(image->write(7, b).ok());   // across blocks 0 and 1
        ASSERT_TRUE(image->write(8, c).ok());   // the short last block, again
        ASSERT_TRUE(image->flush().ok());

        Bytes all(9 * 512);
        ASSERT_TRUE(image->read(0, all).ok());
        Bytes expected = original;
        std::fill(expected.begin() + 1 * 512, expected.begin() + 2 * 512, 0x11);
        std::fill(expected.begin() + 7 * 512, expected.begin() + 8 * 512, 0x22);
        std::fill(expected.begin() + 8 * 512, expected.begin() + 9 * 512, 0x33);
        EXPECT_EQ(all, expected);
        // Reads that start inside an overlay block and end in the file.
        Bytes two(2 * 512);
        ASSERT_TRUE(image->read(1, two).ok());
        EXPECT_EQ(Bytes(two.begin(), two.begin() + 512), a);
        EXPECT_EQ(Bytes(two.begin() + 512, two.end()), sector_of(2));
        EXPECT_EQ(image->overlay_bytes(), 2u * 4096);
        EXPECT_EQ(image->sync_count(), 0u);
    }
    struct stat after;
    ASSERT_EQ(stat(path.c_str(), &after), 0);
    EXPECT_EQ(file_bytes(path), original);
    EXPECT_EQ(after.st_size, before.st_size);
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST_F(DiskImageTest, SnapshotOpensAFileWithoutWritePermission)
{
    std::string path = make_file("disk.img", 8 * 512);
    ASSERT_EQ(chmod(path.c_str(), 0444), 0);
    auto snapshot = DiskImage::open(path, DiskMode::Snapshot);
    EXPECT_TRUE(snapshot.ok()) << snapshot.error().message;
    if (geteuid() != 0) {  // root may write anyway
        auto rw = DiskImage::open(path, DiskMode::ReadWrite);
        ASSERT_FALSE(rw.ok());
        EXPECT_EQ(rw.error().kind, ErrorKind::FileMissing);
        EXPECT_NE(rw.error().message.find("for writing"), std::string::npos) << rw.error().message;
    }
}

TEST_F(DiskImageTest, RequestsPastTheEndFail)
{
    std::string path = make_file("disk.img", 8 * 512);
    auto image = DiskImage::open(path, DiskMode::ReadWrite);
    ASSERT_TRUE(image.ok()) << image.error().message;
    Bytes one(512), two(1024);
    EXPECT_TRUE(image->read(7, one).ok());
    EXPECT_FALSE(image->read(8, one).ok());
    EXPECT_FALSE(image->read(7, two).ok());
    EXPECT_FALSE(image->read(~uint64_t(0), one).ok());  // no overflow into range
    Status status = image->write(7, two);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, ErrorKind::DoesNotFit);
    EXPECT_NE(status.error().message.find("past the end"), std::string::npos) << status.error().message;
    EXPECT_EQ(file_bytes(path).size(), 8u * 512);  // nothing appended
    // Not a whole number of sectors.
    Bytes odd(100);
    EXPECT_FALSE(image->read(0, odd).ok());
    EXPECT_FALSE(image->write(0, odd).ok());
}

TEST_F(DiskImageTest, TruncatedUnderAnOpenImageGivesErrorsNotCrashes)
{
    for (DiskMode mode : {DiskMode::ReadWrite, DiskMode::ReadOnly, DiskMode::Snapshot}) {
        std::string path = make_file("disk.img", 32 * 512);
        auto image = DiskImage::open(path, mode);
        ASSERT_TRUE(image.ok()) << image.error().message;
        ASSERT_EQ(truncate(path.c_str(), 4 * 512), 0);  // another program shrinks it

        Bytes buffer(512);
        EXPECT_TRUE(image->read(3, buffer).ok());
        EXPECT_EQ(buffer, sector_of(3));
        Status status = image->read(10, buffer);
        ASSERT_FALSE(status.ok());
        EXPECT_EQ(status.error().kind, ErrorKind::Truncated);
        EXPECT_NE(status.error().message.find(path), std::string::npos);
        // A read straddling the new end fails as a whole.
        Bytes straddle(2 * 512);
        EXPECT_FALSE(image->read(3, straddle).ok());

        if (mode != DiskMode::ReadOnly) {
            // A write into the lost part fails rather than grow the file
            // back (ReadWrite) or read missing bytes (Snapshot, partial block).
            EXPECT_FALSE(image->write(20, buffer).ok());
            EXPECT_EQ(file_bytes(path).size(), 4u * 512);
        }
    }
}

TEST_F(DiskImageTest, MissingFile)
{
    std::string path = (dir / "nope.img").string();
    auto image = DiskImage::open(path, DiskMode::ReadOnly);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().kind, ErrorKind::FileMissing);
    EXPECT_EQ(image.error().message, path + ": cannot open the disk image: No such file or directory");
}

TEST_F(DiskImageTest, Directory)
{
    for (DiskMode mode : {DiskMode::ReadWrite, DiskMode::ReadOnly, DiskMode::Snapshot}) {
        auto image = DiskImage::open(dir.string(), mode);
        ASSERT_FALSE(image.ok());
        EXPECT_EQ(image.error().message, dir.string() + ": is a directory, expected a raw disk image");
    }
}

TEST_F(DiskImageTest, EmptyFile)
{
    std::string path = make_file("empty.img", 0);
    auto image = DiskImage::open(path, DiskMode::ReadWrite);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().kind, ErrorKind::FileEmpty);
    EXPECT_EQ(image.error().message, path + ": empty file (0 bytes), expected a raw disk image");
}

TEST_F(DiskImageTest, SizeNotAMultipleOf512)
{
    std::string path = make_file("odd.img", 1000);
    auto image = DiskImage::open(path, DiskMode::ReadOnly);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().kind, ErrorKind::BadFormat);
    EXPECT_EQ(image.error().message, path + ": size 1000 bytes is not a whole number of 512-byte sectors "
                                            "(pad it: truncate -s 1024 " + path + ")");
}

TEST_F(DiskImageTest, NotARegularFile)
{
    auto image = DiskImage::open("/dev/null", DiskMode::ReadOnly);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().message, "/dev/null: not a regular file, expected a raw disk image");
}

TEST_F(DiskImageTest, ReadWriteImageIsLocked)
{
    std::string path = make_file("disk.img", 8 * 512);
    auto first = DiskImage::open(path, DiskMode::ReadWrite);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = DiskImage::open(path, DiskMode::ReadWrite);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().message,
              path + ": disk image is in use by another program (locked); cannot open it read-write "
                     "(use it read-only or as a snapshot)");
    // Not even for reading while someone writes it.
    EXPECT_FALSE(DiskImage::open(path, DiskMode::Snapshot).ok());
    // The lock goes with the image.
    { DiskImage moved = std::move(*first); }
    EXPECT_TRUE(DiskImage::open(path, DiskMode::ReadWrite).ok());
}

TEST_F(DiskImageTest, ReadersShareTheImage)
{
    std::string path = make_file("disk.img", 8 * 512);
    auto a = DiskImage::open(path, DiskMode::ReadOnly);
    auto b = DiskImage::open(path, DiskMode::Snapshot);
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_TRUE(b.ok()) << b.error().message;
    auto writer = DiskImage::open(path, DiskMode::ReadWrite);
    ASSERT_FALSE(writer.ok());
}

}  // namespace
}  // namespace bootsim
