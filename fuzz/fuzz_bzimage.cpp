// Fuzz entry point: the bzImage setup-header parser and the boot plan built
// from what it accepts.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "loader/boot_plan.h"
#include "loader/bzimage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto image = bootsim::parse_bzimage("fuzz", std::vector<uint8_t>(data, data + size));
    if (image) {
        bootsim::BootConfig config;
        (void)bootsim::make_boot_plan(*image, nullptr, config);
    }
    return 0;
}
