// Fuzz entry point: the System.map parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loader/kernel_symbols.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto symbols = bootsim::KernelSymbols::parse_system_map(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    if (symbols)
        (void)symbols->address_of("start_kernel");
    return 0;
}
