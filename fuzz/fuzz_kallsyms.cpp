// Fuzz entry point: recovering kallsyms from a kernel image.
#include <cstddef>
#include <cstdint>

#include "loader/kernel_symbols.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    bootsim::KernelImage kernel;
    kernel.load_physical_addr = 0x1000000;
    kernel.image.assign(data, data + size);
    kernel.segments.push_back({0, size, size});
    auto symbols = bootsim::KernelSymbols::from_kallsyms(kernel);
    if (symbols && symbols->size() > 0)
        (void)symbols->describe(symbols->symbols().front().address + 1);
    return 0;
}
