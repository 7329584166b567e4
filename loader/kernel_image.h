#pragma once
// The decompressed kernel as the host computes it: the payload decompressed
// with liblzma / liblz4 / zlib / libzstd, its ELF PT_LOAD segments laid out
// the way arch/x86/boot/compressed/misc.c parse_elf() lays them out, and the
// relocation table the build appended after the ELF (handle_relocations()).
// Used to verify, at the handoff, what the guest's own decompressor produced.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "loader/bzimage.h"

namespace bootsim {

// Decompresses a payload in the given format. The kernel appends the
// decompressed size (4 bytes, little-endian) to every payload; decoding stops
// at the end of the compressed stream and the output must have exactly that
// size. LZ4 is the legacy format (magic 0x184C2102), read block by block.
// bzip2 and LZO are identified but not decoded on the host (Unsupported).
Result<std::vector<uint8_t>> decompress_payload(Compression format, std::span<const uint8_t> payload,
                                                uint32_t expected_size);

struct LoadSegment {
    uint64_t offset;      // from the start of the output: p_paddr - LOAD_PHYSICAL_ADDR
    uint64_t file_size;   // bytes the decompressor copies (p_filesz)
    uint64_t mem_size;    // p_memsz
};

struct KernelImage {
    bool wide = true;                  // a 64-bit kernel (ELF64); false: a 32-bit one (ELF32)
    uint64_t load_physical_addr = 0;   // LOAD_PHYSICAL_ADDR: lowest PT_LOAD p_paddr
    // The link-time virtual address of physical 0: __START_KERNEL_map
    // (0xffffffff80000000) on x86-64, PAGE_OFFSET (0xc0000000 with the
    // usual 3G/1G split) on x86-32. Read from the lowest segment.
    uint64_t kernel_map = 0xffffffff80000000;
    // MIN_KERNEL_ALIGN: the output address (and so the offset) is a multiple of it.
    uint64_t min_kernel_align = 0x200000;
    // The link-time virtual address of image offset 0.
    uint64_t link_address() const { return kernel_map + load_physical_addr; }
    uint64_t entry_offset = 0;         // e_entry - LOAD_PHYSICAL_ADDR
    std::vector<LoadSegment> segments;
    std::vector<uint8_t> image;        // laid out, unrelocated; size = end of last segment's file bytes
    // Relocation sites as offsets into `image` (kernel virtual address -
    // __START_KERNEL_map - LOAD_PHYSICAL_ADDR), by kind.
    std::vector<uint32_t> relocs32;
    std::vector<uint32_t> relocs32_inverse;
    std::vector<uint32_t> relocs64;
};

// Parses the decompressed payload (ELF64 or, for a 32-bit kernel, ELF32,
// followed by the relocation table).
Result<KernelImage> lay_out_kernel(std::span<const uint8_t> decompressed);

// decompress_payload + lay_out_kernel for a parsed bzImage.
Result<KernelImage> decompress_kernel(const BzImage& bz);

// Returns `image` relocated by `delta` (virtual offset chosen by KASLR:
// virt_addr - LOAD_PHYSICAL_ADDR; on x86-32 the physical one,
// output - LOAD_PHYSICAL_ADDR), exactly as handle_relocations() does.
std::vector<uint8_t> relocate(const KernelImage& kernel, int64_t delta);

// The result of comparing the guest's output with the host's.
struct HandoffCheck {
    bool matched = false;
    uint64_t output_address = 0;     // guest-physical start of the decompressed kernel
    int64_t virtual_offset = 0;      // KASLR's virtual offset, derived from a relocation site
    uint64_t bytes_compared = 0;
    uint64_t mismatched_bytes = 0;
    uint64_t first_mismatch = 0;     // guest-physical address
    uint8_t expected = 0, found = 0; // at first_mismatch
    std::string summary;             // one line for the console
};

// Compares the guest's memory (`guest_ram`, indexed by guest-physical
// address) against `kernel`, placed at `output_address`. The virtual offset is
// derived from the guest's value at the first 64-bit relocation site; every
// other byte of every segment (relocated sites included) must then match.
HandoffCheck check_handoff(const KernelImage& kernel, std::span<const uint8_t> guest_ram,
                           uint64_t output_address);

}  // namespace bootsim
