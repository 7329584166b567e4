#pragma once
// Translates guest-virtual to guest-physical addresses by walking the guest's
// own page tables in RAM, as the MMU does. The CPU emulator's memory API
// takes physical addresses, so delivering an exception (reading the IDT,
// pushing a frame) needs this.

#include <cstdint>
#include <optional>

#include "core/guest_memory.h"

namespace bootsim {

struct PagingMode {
    bool paging = false;     // CR0.PG
    bool pae = false;        // CR4.PAE
    bool long_mode = false;  // EFER.LMA
    bool la57 = false;       // CR4.LA57: 5-level paging
    bool nxe = false;        // EFER.NXE: the XD bit of an entry counts
    uint64_t cr3 = 0;
};

// Returns the physical address, or nullopt when the page is not present or
// a table lies outside RAM. Permissions are not checked: this is the
// emulator looking, not the guest.
std::optional<uint64_t> translate(const GuestMemory& memory, const PagingMode& mode, uint64_t virt);

// Whether the CPU may fetch instructions from `virt` in supervisor mode: a
// present page that no level of the walk marks execute-disable. The CPU
// emulator's own lookup of such a page cannot fault.
bool executable(const GuestMemory& memory, const PagingMode& mode, uint64_t virt);

}  // namespace bootsim
