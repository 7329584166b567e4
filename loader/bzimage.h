#pragma once
// A bzImage read from disk and validated against the x86 boot protocol
// (Documentation/arch/x86/boot.rst). Nothing here touches guest memory.

#include <asm/bootparam.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace bootsim {

// Unknown: the payload fields or magic name no format bootsim knows. The
// kernel still boots (its own decompressor does not care, nor does QEMU's
// -kernel loader); only the host-side checks are off.
enum class Compression { Gzip, Bzip2, Lzma, Xz, Lzo, Lz4, Zstd, Unknown };
const char* compression_name(Compression c);

// The fields of the setup header the loader uses, decoded. Names follow
// boot.rst and asm/bootparam.h.
struct SetupHeader {
    uint8_t setup_sects = 0;      // 0 means 4
    uint16_t version = 0;         // protocol version, e.g. 0x020f
    uint8_t loadflags = 0;
    uint32_t code32_start = 0;
    uint32_t initrd_addr_max = 0;
    uint32_t kernel_alignment = 0;
    uint8_t relocatable_kernel = 0;
    uint8_t min_alignment = 0;    // log2
    uint16_t xloadflags = 0;
    uint32_t cmdline_size = 0;
    uint32_t payload_offset = 0;  // from the start of the protected-mode code
    uint32_t payload_length = 0;
    uint64_t pref_address = 0;
    uint32_t init_size = 0;
    uint32_t handover_offset = 0;
    uint32_t kernel_info_offset = 0;
};

// xloadflags bits (boot.rst, "Details of header fields"): XLF_KERNEL_64,
// XLF_CAN_BE_LOADED_ABOVE_4G, ... and the loadflags bits (LOADED_HIGH, ...)
// come from the kernel's own <asm/bootparam.h>, as macros. (Own constants of
// the same names would break every file that includes that header first.)

struct BzImage {
    std::string path;
    std::vector<uint8_t> file;   // the whole file
    SetupHeader header;
    // The raw setup header bytes as found in the file, from 0x1f1 to the
    // end given by the jump at 0x200: they are copied into boot_params.hdr.
    std::span<const uint8_t> setup_header_bytes() const;
    size_t setup_size() const;             // (setup_sects + 1) * 512
    std::span<const uint8_t> protected_mode_code() const;  // loaded at the 32/64-bit load address
    std::span<const uint8_t> payload() const;              // the compressed kernel; empty if unusable
    Compression compression = Compression::Unknown;
    uint32_t decompressed_size = 0;        // the payload's last 4 bytes (little-endian)
    // Why the payload cannot be read on the host (empty: it can). Not an
    // error: the boot protocol does not need payload_offset/payload_length
    // (QEMU's loader never reads them); bootsim uses them only to verify
    // the handoff and recover the kernel's symbols.
    std::string payload_problem;
    // A 64-bit kernel (XLF_KERNEL_64): it has the 64-bit entry at load
    // address + 0x200. A 32-bit kernel has only the real-mode and 32-bit ones.
    bool has_64bit_entry() const { return header.xloadflags & XLF_KERNEL_64; }
};

// Parses and validates a bzImage held in memory. `name` is used in messages.
// Rejects: too short, no "HdrS" magic, protocol older than 2.12 (no
// xloadflags), setup, code or payload reaching past the end of the file, an init_size of
// 0. A payload that lies outside the protected-mode code, is too short or
// has an unknown magic is only noted (payload_problem).
Result<BzImage> parse_bzimage(std::string name, std::vector<uint8_t> bytes);

// Reads `path` and parses it; a missing or empty file is its own error.
Result<BzImage> load_bzimage(const std::string& path);

// Identifies a compressed payload by its magic bytes.
Result<Compression> identify_compression(std::span<const uint8_t> payload);

// Reads a whole file, with errors that name it (missing, unreadable, empty).
Result<std::vector<uint8_t>> read_file(const std::string& path, const char* what);
// The checks read_file makes before it reads (exists, a regular file, not
// too large), for an input read later: `what` names it in the error.
Status check_input_file(const std::string& path, const char* what);

}  // namespace bootsim
