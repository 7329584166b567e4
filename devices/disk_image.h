#pragma once
// A raw disk image file: the backend of a disk controller. Sector n is the
// 512 bytes at file offset n * 512; nothing else is in the file.
//
// Every access is a pread()/pwrite() on the file, never a mapping: when
// another program truncates the image under us, the guest gets I/O errors,
// not the host a SIGBUS. A request is checked against the size the image
// had when opened, so nothing is ever read or written outside it.
//
// Modes:
//   ReadWrite  the guest's writes go to the file; flush() is fsync(). The
//              file is locked (flock, exclusive) so that a second bootsim
//              cannot write the same image at the same time.
//   ReadOnly   the guest is told the disk is read-only; writes fail.
//   Snapshot   the guest may write, but writes land in an in-memory
//              overlay of 4 KiB blocks, lost at exit; the file is opened
//              read-only and never changes.
// ReadOnly and Snapshot take a shared lock: any number of readers, but not
// together with a writer.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "core/result.h"

namespace bootsim {

enum class DiskMode { ReadWrite, ReadOnly, Snapshot };

// What a disk controller did with its image, for the event stream: one per
// request the guest made.
struct DiskRequest {
    enum class Kind { Read, Write, Flush, GetId, Unsupported };
    Kind kind = Kind::Read;
    uint64_t sector = 0;  // first sector (Read and Write)
    uint64_t bytes = 0;   // data bytes the request carried
    bool ok = false;
};

class DiskImage final {
public:
    static constexpr uint64_t sector_size = 512;

    // Errors are one line naming the file: missing or unreadable, a
    // directory or other non-regular file, empty, a size that is not a
    // whole number of sectors, or locked by another program.
    static Result<DiskImage> open(const std::string& path, DiskMode mode);

    DiskImage(DiskImage&& other) noexcept;
    DiskImage& operator=(DiskImage&& other) noexcept;
    DiskImage(const DiskImage&) = delete;
    DiskImage& operator=(const DiskImage&) = delete;
    ~DiskImage();

    const std::string& path() const { return m_path; }
    DiskMode mode() const { return m_mode; }
    bool read_only() const { return m_mode == DiskMode::ReadOnly; }
    uint64_t sectors() const { return m_sectors; }

    // `out` / `data` must be a whole number of sectors, all inside the
    // image. A short read (the file shrank since it was opened) is an error.
    Status read(uint64_t sector, std::span<uint8_t> out);
    Status write(uint64_t sector, std::span<const uint8_t> data);
    // Makes written data durable: fsync() in ReadWrite mode, nothing to do
    // in the others.
    Status flush();
    // fsync() calls made so far.
    uint64_t sync_count() const { return m_syncs; }
    // Snapshot mode: bytes held in the overlay.
    uint64_t overlay_bytes() const { return m_overlay.size() * block_size; }

private:
    static constexpr uint64_t block_size = 4096;  // the snapshot overlay's unit
    using Block = std::array<uint8_t, block_size>;

    DiskImage(int fd, std::string path, DiskMode mode, uint64_t sectors);
    Status check_range(uint64_t sector, uint64_t bytes, const char* what) const;
    Status pread_all(uint64_t offset, std::span<uint8_t> out);
    Status pwrite_all(uint64_t offset, std::span<const uint8_t> data);
    Status overlay_read(uint64_t offset, std::span<uint8_t> out);
    Status overlay_write(uint64_t offset, std::span<const uint8_t> data);
    uint64_t size_bytes() const { return m_sectors * sector_size; }

    int m_fd = -1;
    std::string m_path;
    DiskMode m_mode = DiskMode::ReadOnly;
    uint64_t m_sectors = 0;
    uint64_t m_syncs = 0;
    std::unordered_map<uint64_t, std::unique_ptr<Block>> m_overlay;  // block index -> bytes
};

}  // namespace bootsim
