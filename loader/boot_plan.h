#pragma once
// Making the BootPlan (core/boot_plan.h) for a bzImage: where the protocol
// lets each piece go, the zero page, e820, the entry state.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/boot_plan.h"
#include "core/result.h"
#include "loader/bzimage.h"

namespace bootsim {

struct BootConfig {
    std::string kernel_path;
    std::string initrd_path;      // empty: no initrd
    std::string cmdline = "console=ttyS0";
    uint64_t mem_size = 512ull << 20;
    EntryMode entry = EntryMode::Real16;  // --entry (real: what QEMU and GRUB's linux16 do)
};

// Builds the e820 map for `mem_size` bytes of RAM: conventional memory to the
// EBDA, the reserved legacy hole, then RAM from 1 MiB to the top.
std::vector<E820Entry> build_e820(uint64_t mem_size);

// Chooses the initrd's address by the protocol's rules: the highest
// page-aligned address where it fits below both the top of RAM and
// initrd_addr_max, above `lowest` (the end of the kernel's buffer).
// Returns nullopt when it does not fit.
std::optional<uint64_t> place_initrd(uint64_t initrd_size, uint64_t mem_size,
                                     uint32_t initrd_addr_max, uint64_t lowest);

// Builds the whole plan. The kernel is loaded at pref_address (rounded up
// to kernel_alignment when relocatable); errors name the file that does not
// fit and the --mem that would do.
Result<BootPlan> make_boot_plan(const BzImage& kernel, const std::vector<uint8_t>* initrd,
                                const BootConfig& config);

// Parses a size such as "512M", "1G", "65536", "128MiB". Errors for
// malformed input or a size under 16 MiB (too small for any kernel).
Result<uint64_t> parse_mem_size(const std::string& text);

}  // namespace bootsim
