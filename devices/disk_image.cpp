#include "devices/disk_image.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <utility>
#include <unistd.h>

namespace bootsim {

namespace {

std::string errno_text(int err)
{
    return std::generic_category().message(err);
}

const char* mode_name(DiskMode mode)
{
    switch (mode) {
    case DiskMode::ReadWrite:
        return "read-write";
    case DiskMode::ReadOnly:
        return "read-only";
    case DiskMode::Snapshot:
        return "snapshot";
    }
    return "?";
}

// Closes the descriptor on every early return of open().
class FdGuard {
public:
    explicit FdGuard(int fd) : m_fd(fd) {}
    ~FdGuard()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

}  // namespace

Result<DiskImage> DiskImage::open(const std::string& path, DiskMode mode)
{
    // Snapshot never writes the file, so it opens it read-only.
    int flags = (mode == DiskMode::ReadWrite ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    FdGuard fd(::open(path.c_str(), flags));
    if (fd.get() < 0) {
        int err = errno;
        if (err == EISDIR)
            return make_error(ErrorKind::FileMissing, "{}: is a directory, expected a raw disk image", path);
        if (mode == DiskMode::ReadWrite && (err == EACCES || err == EROFS || err == EPERM))
            return make_error(ErrorKind::FileMissing,
                              "{}: cannot open the disk image for writing: {} (use it read-only or as a snapshot)",
                              path, errno_text(err));
        return make_error(ErrorKind::FileMissing, "{}: cannot open the disk image: {}", path, errno_text(err));
    }

    struct stat st;
    if (::fstat(fd.get(), &st) != 0)
        return make_error(ErrorKind::FileMissing, "{}: cannot stat the disk image: {}", path, errno_text(errno));
    if (S_ISDIR(st.st_mode))
        return make_error(ErrorKind::FileMissing, "{}: is a directory, expected a raw disk image", path);
    if (!S_ISREG(st.st_mode))
        return make_error(ErrorKind::Unsupported, "{}: not a regular file, expected a raw disk image", path);
    uint64_t size = uint64_t(st.st_size);
    if (size == 0)
        return make_error(ErrorKind::FileEmpty, "{}: empty file (0 bytes), expected a raw disk image", path);
    if (size % sector_size != 0) {
        uint64_t padded = (size / sector_size + 1) * sector_size;
        return make_error(ErrorKind::BadFormat,
                          "{}: size {} bytes is not a whole number of 512-byte sectors (pad it: truncate -s {} {})",
                          path, size, padded, path);
    }

    // Advisory, so it only keeps out programs that ask (other bootsims,
    // QEMU's flock-based image locking does the same on Linux hosts).
    // A file system without flock() support is not an error.
    int lock = (mode == DiskMode::ReadWrite ? LOCK_EX : LOCK_SH) | LOCK_NB;
    if (::flock(fd.get(), lock) != 0 && errno == EWOULDBLOCK)
        return make_error(ErrorKind::BadUsage,
                          "{}: disk image is in use by another program (locked); cannot open it {}{}", path,
                          mode_name(mode),
                          mode == DiskMode::ReadWrite ? " (use it read-only or as a snapshot)" : "");

    return DiskImage(fd.release(), path, mode, size / sector_size);
}

DiskImage::DiskImage(int fd, std::string path, DiskMode mode, uint64_t sectors)
    : m_fd(fd)
    , m_path(std::move(path))
    , m_mode(mode)
    , m_sectors(sectors)
{
}

DiskImage::DiskImage(DiskImage&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1))
    , m_path(std::move(other.m_path))
    , m_mode(other.m_mode)
    , m_sectors(other.m_sectors)
    , m_syncs(other.m_syncs)
    , m_overlay(std::move(other.m_overlay))
{
}

DiskImage& DiskImage::operator=(DiskImage&& other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
        m_path = std::move(other.m_path);
        m_mode = other.m_mode;
        m_sectors = other.m_sectors;
        m_syncs = other.m_syncs;
        m_overlay = std::move(other.m_overlay);
    }
    return *this;
}

DiskImage::~DiskImage()
{
    // Closing drops the flock.
    if (m_fd >= 0)
        ::close(m_fd);
}

Status DiskImage::check_range(uint64_t sector, uint64_t bytes, const char* what) const
{
    if (bytes % sector_size != 0)
        return make_error(ErrorKind::BadUsage, "{}: {} of {} bytes is not a whole number of sectors", m_path, what,
                          bytes);
    uint64_t count = bytes / sector_size;
    if (sector > m_sectors || count > m_sectors - sector)
        return make_error(ErrorKind::DoesNotFit, "{}: {} of sectors {}-{} is past the end of the image ({} sectors)",
                          m_path, what, sector, sector + count - 1, m_sectors);
    return Ok {};
}

Status DiskImage::read(uint64_t sector, std::span<uint8_t> out)
{
    TRY(check_range(sector, out.size(), "read"));
    if (m_mode == DiskMode::Snapshot)
        return overlay_read(sector * sector_size, out);
    return pread_all(sector * sector_size, out);
}

Status DiskImage::write(uint64_t sector, std::span<const uint8_t> data)
{
    if (m_mode == DiskMode::ReadOnly)
        return make_error(ErrorKind::Unsupported, "{}: write to sector {} of a read-only disk", m_path, sector);
    TRY(check_range(sector, data.size(), "write"));
    if (m_mode == DiskMode::Snapshot)
        return overlay_write(sector * sector_size, data);
    // pwrite() past the end of a file that shrank would grow it back with
    // a hole; the guest gets an error instead, as for a read.
    struct stat st;
    if (::fstat(m_fd, &st) != 0)
        return make_error(ErrorKind::FileMissing, "{}: cannot stat the disk image: {}", m_path, errno_text(errno));
    uint64_t end = sector * sector_size + data.size();
    if (uint64_t(st.st_size) < end)
        return make_error(ErrorKind::Truncated,
                          "{}: write to sector {}: the image is now {} bytes, {} when opened (truncated by another "
                          "program?)",
                          m_path, sector, uint64_t(st.st_size), size_bytes());
    return pwrite_all(sector * sector_size, data);
}

Status DiskImage::flush()
{
    if (m_mode != DiskMode::ReadWrite)
        return Ok {};
    ++m_syncs;
    if (::fsync(m_fd) != 0)
        return make_error(ErrorKind::FileMissing, "{}: fsync failed: {}", m_path, errno_text(errno));
    return Ok {};
}

Status DiskImage::pread_all(uint64_t offset, std::span<uint8_t> out)
{
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(m_fd, out.data() + done, out.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(ErrorKind::FileMissing, "{}: read at byte {} failed: {}", m_path, offset + done,
                              errno_text(errno));
        if (n == 0)
            return make_error(ErrorKind::Truncated,
                              "{}: read at byte {}: end of file; the image was {} bytes when opened (truncated by "
                              "another program?)",
                              m_path, offset + done, size_bytes());
        done += size_t(n);
    }
    return Ok {};
}

Status DiskImage::pwrite_all(uint64_t offset, std::span<const uint8_t> data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(m_fd, data.data() + done, data.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return make_error(ErrorKind::FileMissing, "{}: write at byte {} failed: {}", m_path, offset + done,
                              n < 0 ? errno_text(errno) : std::string("no progress"));
        done += size_t(n);
    }
    return Ok {};
}

Status DiskImage::overlay_read(uint64_t offset, std::span<uint8_t> out)
{
    // Runs of blocks not in the overlay go to the file in one pread().
    size_t done = 0;
    size_t run_start = 0;
    size_t run_length = 0;
    while (done < out.size()) {
        uint64_t at = offset + done;
        size_t within = size_t(at % block_size);
        size_t n = std::min(out.size() - done, size_t(block_size - within));
        auto it = m_overlay.find(at / block_size);
        if (it == m_overlay.end()) {
            if (run_length == 0)
                run_start = done;
            run_length += n;
        } else {
            if (run_length > 0) {
                TRY(pread_all(offset + run_start, out.subspan(run_start, run_length)));
                run_length = 0;
            }
            std::memcpy(out.data() + done, it->second->data() + within, n);
        }
        done += n;
    }
    if (run_length > 0)
        TRY(pread_all(offset + run_start, out.subspan(run_start, run_length)));
    return Ok {};
}

Status DiskImage::overlay_write(uint64_t offset, std::span<const uint8_t> data)
{
    size_t done = 0;
    while (done < data.size()) {
        uint64_t at = offset + done;
        uint64_t index = at / block_size;
        size_t within = size_t(at % block_size);
        size_t n = std::min(data.size() - done, size_t(block_size - within));
        auto it = m_overlay.find(index);
        if (it == m_overlay.end()) {
            // A new block starts as the file's bytes unless this write
            // covers all of it (the image's last block may be shorter).
            auto block = std::make_unique<Block>();
            uint64_t start = index * block_size;
            size_t valid = size_t(std::min(block_size, size_bytes() - start));
            if (within != 0 || n < valid)
                TRY(pread_all(start, std::span(block->data(), valid)));
            it = m_overlay.emplace(index, std::move(block)).first;
        }
        std::memcpy(it->second->data() + within, data.data() + done, n);
        done += n;
    }
    return Ok {};
}

}  // namespace bootsim
