#include "core/page_walk.h"

namespace bootsim {

namespace {
constexpr uint64_t present = 1;
constexpr uint64_t page_size_bit = 1 << 7;
constexpr uint64_t address_mask = 0x000ffffffffff000ull;
constexpr uint64_t execute_disable = 1ull << 63;

struct Walk {
    uint64_t physical;
    bool execute_disabled;  // some level had XD set (only PAE and long mode have it)
};

std::optional<Walk> walk(const GuestMemory& memory, const PagingMode& mode, uint64_t virt);
}  // namespace

std::optional<uint64_t> translate(const GuestMemory& memory, const PagingMode& mode, uint64_t virt)
{
    auto w = walk(memory, mode, virt);
    return w ? std::optional<uint64_t>(w->physical) : std::nullopt;
}

bool executable(const GuestMemory& memory, const PagingMode& mode, uint64_t virt)
{
    auto w = walk(memory, mode, virt);
    return w && !(mode.nxe && w->execute_disabled);
}

namespace {
std::optional<Walk> walk(const GuestMemory& memory, const PagingMode& mode, uint64_t virt)
{
    if (!mode.paging)
        return Walk{virt, false};

    if (!mode.pae) {
        // 32-bit paging: two levels of 4-byte entries, 4 MiB pages with PSE.
        uint32_t pde = 0;
        if (!memory.read_value((mode.cr3 & 0xfffff000) + ((virt >> 22) & 0x3ff) * 4, pde) || !(pde & present))
            return std::nullopt;
        if (pde & page_size_bit)
            return Walk{(pde & 0xffc00000) | (virt & 0x3fffff), false};
        uint32_t pte = 0;
        if (!memory.read_value((pde & 0xfffff000) + ((virt >> 12) & 0x3ff) * 4, pte) || !(pte & present))
            return std::nullopt;
        return Walk{(pte & 0xfffff000) | (virt & 0xfff), false};
    }

    if (!mode.long_mode) {
        // PAE: a 4-entry PDPT, then 2 MiB or 4 KiB pages.
        uint64_t pdpte = 0;
        if (!memory.read_value((mode.cr3 & 0xffffffe0) + ((virt >> 30) & 3) * 8, pdpte) || !(pdpte & present))
            return std::nullopt;
        uint64_t table = pdpte & address_mask;
        bool xd = false;  // a PDPTE has no XD bit in PAE paging
        for (int shift : {21, 12}) {
            uint64_t entry = 0;
            if (!memory.read_value(table + ((virt >> shift) & 0x1ff) * 8, entry) || !(entry & present))
                return std::nullopt;
            xd = xd || (entry & execute_disable);
            if (shift == 21 && (entry & page_size_bit))
                return Walk{(entry & address_mask & ~0x1fffffull) | (virt & 0x1fffff), xd};
            table = entry & address_mask;
        }
        return Walk{table | (virt & 0xfff), xd};
    }

    // Long mode: 4 or 5 levels of 9 bits each; 1 GiB and 2 MiB leaves.
    uint64_t table = mode.cr3 & address_mask;
    bool xd = false;
    for (int shift = mode.la57 ? 48 : 39; shift >= 12; shift -= 9) {
        uint64_t entry = 0;
        if (!memory.read_value(table + ((virt >> shift) & 0x1ff) * 8, entry) || !(entry & present))
            return std::nullopt;
        xd = xd || (entry & execute_disable);
        if ((shift == 30 || shift == 21) && (entry & page_size_bit)) {
            uint64_t page_mask = (1ull << shift) - 1;
            return Walk{(entry & address_mask & ~page_mask) | (virt & page_mask), xd};
        }
        table = entry & address_mask;
    }
    return Walk{table | (virt & 0xfff), xd};
}
}  // namespace

}  // namespace bootsim
