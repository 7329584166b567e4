#pragma once
// A fake bzImage built byte by byte for the loader's unit tests, one comment
// per offset (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel
// Header"). Only the fields the loader reads are filled; every option
// defaults to what a current x86-64 kernel has.

#include <cstdint>
#include <cstring>
#include <vector>

#include "unit/le_bytes.h"

namespace bootsim::fake {

struct FakeKernel {
    uint8_t setup_sects = 4;             // setup = (4 + 1) * 512 bytes
    uint8_t jump_offset = 0x6a;          // header ends at 0x202 + 0x6a = 0x26c
    uint16_t boot_flag = 0xaa55;
    const char* magic = "HdrS";
    uint16_t version = 0x020f;           // protocol 2.15
    uint8_t loadflags = 0x01;            // LOADED_HIGH
    uint32_t initrd_addr_max = 0x7fffffff;
    uint32_t kernel_alignment = 0x200000;
    uint8_t relocatable_kernel = 1;
    uint8_t min_alignment = 21;
    uint16_t xloadflags = 0x3;           // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
    uint32_t cmdline_size = 0x7ff;
    uint64_t pref_address = 0x1000000;
    uint32_t init_size = 0x2000000;      // 32 MiB
    uint32_t payload_offset = 0x300;     // from the start of the protected-mode code
    std::vector<uint8_t> payload_magic = {0xfd, '7', 'z', 'X', 'Z', 0x00};  // xz
    uint32_t payload_body = 0x100;       // filler bytes after the magic
    uint32_t decompressed_size = 0x1234567;
    uint32_t code_tail = 0x80;           // decompressor code after the payload
    int64_t payload_length_delta = 0;    // added to the real payload_length
    // x86-64 code at the 64-bit entry (startup_64, 0x200 into the
    // protected-mode code), for tests that run a hand-written guest through
    // the whole program; at most payload_offset - 0x200 bytes.
    std::vector<uint8_t> entry64_code = {};
};


// The byte the fake puts at offset `i` of the protected-mode code outside
// the payload, so tests can recognise it in guest memory.
inline uint8_t fake_code_byte(size_t i) { return uint8_t(0xc0 ^ (i * 7)); }

inline size_t fake_setup_size(const FakeKernel& k)
{
    return (size_t(k.setup_sects ? k.setup_sects : 4) + 1) * 512;
}

inline std::vector<uint8_t> build_fake_bzimage(const FakeKernel& k)
{
    uint32_t payload_length = uint32_t(k.payload_magic.size()) + k.payload_body + 4;
    size_t setup = fake_setup_size(k);
    size_t code = (k.payload_offset + payload_length + k.code_tail + 15) / 16 * 16;
    std::vector<uint8_t> f(setup + code, 0);

    // Protected-mode code: recognisable filler, then the payload.
    for (size_t i = 0; i < code; ++i)
        f[setup + i] = fake_code_byte(i);
    size_t p = setup + k.payload_offset;
    std::memcpy(&f[p], k.payload_magic.data(), k.payload_magic.size());
    if (!k.entry64_code.empty() && 0x200 + k.entry64_code.size() <= k.payload_offset)
        std::memcpy(&f[setup + 0x200], k.entry64_code.data(), k.entry64_code.size());
    for (uint32_t i = 0; i < k.payload_body; ++i)
        f[p + k.payload_magic.size() + i] = uint8_t(i);
    put32(f, p + payload_length - 4, k.decompressed_size);  // appended decompressed size

    put8(f, 0x1f1, k.setup_sects);           // 0x1f1: setup_sects
    put32(f, 0x1f4, uint32_t(code / 16));    // 0x1f4: syssize, 16-byte paragraphs
    put16(f, 0x1fe, k.boot_flag);            // 0x1fe: boot_flag 0xAA55
    put8(f, 0x200, 0xeb);                    // 0x200: jump, a short jmp...
    put8(f, 0x201, k.jump_offset);           // 0x201: ...whose offset gives the header's end
    std::memcpy(&f[0x202], k.magic, 4);      // 0x202: header magic "HdrS"
    put16(f, 0x206, k.version);              // 0x206: protocol version
    put8(f, 0x211, k.loadflags);             // 0x211: loadflags
    put32(f, 0x214, 0x100000);               // 0x214: code32_start
    put32(f, 0x22c, k.initrd_addr_max);      // 0x22c: initrd_addr_max
    put32(f, 0x230, k.kernel_alignment);     // 0x230: kernel_alignment
    put8(f, 0x234, k.relocatable_kernel);    // 0x234: relocatable_kernel
    put8(f, 0x235, k.min_alignment);         // 0x235: min_alignment (log2)
    put16(f, 0x236, k.xloadflags);           // 0x236: xloadflags
    put32(f, 0x238, k.cmdline_size);         // 0x238: cmdline_size
    put32(f, 0x248, k.payload_offset);       // 0x248: payload_offset
    put32(f, 0x24c, uint32_t(payload_length + k.payload_length_delta));  // 0x24c: payload_length
    put64(f, 0x258, k.pref_address);         // 0x258: pref_address
    put32(f, 0x260, k.init_size);            // 0x260: init_size
    put32(f, 0x264, 0x190);                  // 0x264: handover_offset
    put32(f, 0x268, 0x1000);                 // 0x268: kernel_info_offset
    return f;
}

}  // namespace bootsim::fake
