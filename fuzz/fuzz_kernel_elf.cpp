// Fuzz entry point: the decompressed kernel's ELF layout and its appended
// relocation table, then a handoff check against the result.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loader/kernel_image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto kernel = bootsim::lay_out_kernel(std::span<const uint8_t>(data, size));
    if (kernel && kernel->image.size() < (64u << 20)) {
        std::vector<uint8_t> ram(kernel->image.size() + 0x200000, 0);
        (void)bootsim::check_handoff(*kernel, ram, 0x200000);
    }
    return 0;
}
