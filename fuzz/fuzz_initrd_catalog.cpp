// Fuzz entry point: listing an initrd (cpio archives, concatenated, each
// plain or compressed with any codec the kernel accepts), as the
// visualizer and the report do with a user's initrd.
#include <cstddef>
#include <cstdint>
#include <span>

#include "loader/initrd_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // A small output cap keeps a decompression bomb from spending the
    // fuzzer's time; the cap's own path is part of what is tested.
    auto catalog = bootsim::read_initrd_catalog(std::span<const uint8_t>(data, size), 64 << 20);
    (void)catalog.total_files();
    return 0;
}
