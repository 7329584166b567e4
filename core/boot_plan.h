#pragma once
// The BootPlan: everything a boot loader would put in guest memory, as plain
// data (named regions of bytes at guest-physical addresses), plus the CPU
// state at the kernel's entry. loader/ makes it (loader/boot_plan.h);
// the machine writes it into guest RAM (Machine::load); the visualizer
// draws the memory map from the same regions. It lives here, in core/, so
// that the data flows one way: loader -> core -> events -> front ends.

#include <cstdint>
#include <string>
#include <vector>

namespace bootsim {

enum class RegionRole {
    Gdt,
    PageTables,
    BootParams,       // the zero page
    Cmdline,
    Kernel,           // the protected-mode part: decompressor + compressed payload
    DecompressBuffer, // [load address, load address + init_size): where the kernel unpacks
    Initrd,
    Setup,            // the real-mode setup code (real-mode entry)
    Firmware,         // the BIOS's tables: interrupt vector table, BIOS data area, ROM stubs
};
const char* region_role_name(RegionRole role);

struct Region {
    RegionRole role;
    std::string name;            // e.g. "kernel (compressed, xz)"
    uint64_t guest_address = 0;
    uint64_t size = 0;           // bytes the region covers in guest memory
    std::vector<uint8_t> bytes;  // what to write there (may be shorter than size, or empty
                                 // for a region that only reserves space)
};

enum class E820Type : uint32_t { Ram = 1, Reserved = 2, Acpi = 3, Nvs = 4, Unusable = 5 };

struct E820Entry {
    uint64_t address;
    uint64_t size;
    E820Type type;
};

// Which of the protocol's ways into the kernel a boot takes (boot.rst):
// the 16-bit real-mode entry into the setup code (setup segment + 0x20:0,
// the BIOS answering its calls), the 32-bit entry at code32_start
// (protected mode, paging off, flat segments) or the 64-bit entry 0x200
// after it (long mode, identity paging).
enum class EntryMode { Real16, Protected32, Long64 };
const char* entry_mode_name(EntryMode mode);  // "real", "32", "64"

// The CPU state at the entry: boot.rst's "32-bit Boot Protocol" (flat
// 4 GiB __BOOT_CS/__BOOT_DS, paging off, interrupts off, ESI = boot_params)
// or "64-bit Boot Protocol" (the same in long mode with paging and an
// identity mapping, RSI = boot_params).
struct EntryState {
    EntryMode mode = EntryMode::Long64;
    uint64_t rip = 0;
    uint64_t rsi = 0;
    uint64_t rsp = 0;
    uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
    uint64_t rflags = 0x2;
    uint64_t gdt_base = 0;
    uint16_t gdt_limit = 0;
    uint16_t cs = 0, ds = 0;
};

struct BootPlan {
    uint64_t mem_size = 0;
    std::vector<Region> regions;    // sorted by guest address
    std::vector<E820Entry> e820;
    EntryState entry;
    // Facts the machine's phase tracker and the handoff check use.
    uint64_t load_address = 0;      // where the protected-mode code went
    uint64_t loaded_size = 0;       // its size in the file
    uint64_t init_size = 0;         // boot.rst init_size: the buffer it decompresses in
    uint64_t kernel_alignment = 0;
    bool kernel_64bit = true;       // XLF_KERNEL_64: false for a 32-bit kernel
    std::string cmdline;

    const Region* find(RegionRole role) const;
};

}  // namespace bootsim
