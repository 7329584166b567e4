#pragma once
// The files inside an initrd image, listed the way the kernel's
// init/initramfs.c (unpack_to_rootfs) would unpack them, for the boot
// protocol inspector. Host-side only: nothing here touches guest memory and
// nothing is written to disk.
//
// An image is a sequence of segments with optional zero padding between
// them: uncompressed cpio ("newc" 070701 or "crc" 070702) and compressed
// streams recognised by their magic (gzip, xz, lzma, bzip2, lz4 legacy,
// zstd; lzo is recognised but not decoded). One InitrdArchive is reported
// per uncompressed cpio archive (up to and including its TRAILER!!!) and per
// compressed stream (which may hold several cpio archives back to back).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace bootsim {

struct InitrdFile {
    std::string path;         // as stored in the archive (no leading "/")
    uint32_t mode = 0;        // st_mode: type and permission bits
    uint64_t size = 0;        // c_filesize: data bytes (a symlink's target length)
    std::string link_target;  // symlinks only
};

struct InitrdArchive {
    uint64_t offset = 0;           // where the segment starts in the image
    // Bytes of the image the segment occupies: the compressed stream, or the
    // uncompressed cpio data through its trailer. 0 when unknown (lzo, or a
    // segment whose magic is not recognised).
    uint64_t compressed_size = 0;
    // "uncompressed", "gzip", "xz", "lzma", "bzip2", "lz4", "zstd", "lzo", or
    // "unknown" for bytes the kernel would reject as junk.
    std::string format;
    std::vector<InitrdFile> files;  // every entry except TRAILER!!!, in archive order
    std::string error;              // empty when read whole; reading stops at the first error
};

struct InitrdCatalog {
    std::vector<InitrdArchive> archives;
    uint64_t total_files() const;
};

// The most decompressed bytes read_initrd_catalog() decodes across the whole
// image before it gives up with an error: a few bytes of input can expand to
// gigabytes, and a real initrd is far smaller.
inline constexpr uint64_t initrd_default_output_limit = uint64_t(2) << 30;  // 2 GiB

// Lists the archives and files of an initrd held in memory. Never throws and
// never reads outside `image`, whatever it holds: truncated or corrupt data
// ends the listing with `error` set on the archive being read, keeping the
// files read before it. `output_limit` caps the decompressed bytes (see above).
InitrdCatalog read_initrd_catalog(std::span<const uint8_t> image,
                                  uint64_t output_limit = initrd_default_output_limit);

// Reads `path` and lists it; a missing, unreadable or empty file is an error.
Result<InitrdCatalog> read_initrd_catalog_file(const std::string& path);

}  // namespace bootsim
