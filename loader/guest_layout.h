#pragma once
// Every fixed guest-physical address the loader uses, in one place.
// The kernel and the initrd are placed by the boot protocol's rules
// (boot_plan.cpp); everything here sits in the first MiB, below where any
// protected-mode kernel may be loaded.

#include <cstdint>

namespace bootsim::layout {

// Flat GDT for the 64-bit entry: boot.rst, "64-bit Boot Protocol" asks for
// __BOOT_CS (0x10) as a 64-bit code segment and __BOOT_DS (0x18) as data.
inline constexpr uint64_t gdt = 0x500;
inline constexpr uint16_t boot_cs = 0x10;
inline constexpr uint16_t boot_ds = 0x18;

// The "zero page", a.k.a. struct boot_params, that RSI points at on entry.
inline constexpr uint64_t boot_params = 0x7000;

// A small stack for the entry; the decompressor sets up its own at once.
inline constexpr uint64_t boot_stack_top = 0x8ff0;

// Identity-mapping page tables (2 MiB pages) covering all of guest RAM up to
// 4 GiB: PML4, one PDPT, then up to four page directories.
inline constexpr uint64_t pml4 = 0x9000;
inline constexpr uint64_t pdpt = 0xa000;
inline constexpr uint64_t page_directories = 0xb000;  // 4 pages: 0xb000..0xefff
inline constexpr uint64_t page_tables_end = 0xf000;

// The real-mode entry (boot.rst, "Loading the rest of the kernel", and
// QEMU's loader for a bzImage with LOADED_HIGH): the setup sectors at
// 0x10000, their heap up to 0xfe00 in that segment (just below the command
// line at 0x20000, 0x200 left for the stack), started at setup segment +
// 0x20 : 0 with DS = ES = SS = the setup segment.
inline constexpr uint64_t real_mode_base = 0x10000;
inline constexpr uint16_t real_mode_segment = 0x1000;
inline constexpr uint16_t real_mode_heap_end = 0xfe00;

// The kernel command line (boot.rst: anywhere from the end of the setup heap
// to 0xA0000; it must fit under 640K).
inline constexpr uint64_t cmdline = 0x20000;
inline constexpr uint64_t cmdline_max = 0x10000;

// Conventional memory ends at the EBDA; the legacy hole (VGA, option ROMs,
// BIOS) runs from 640 KiB to 1 MiB and is reserved in the e820 map.
inline constexpr uint64_t ebda_start = 0x9fc00;
inline constexpr uint64_t legacy_hole_start = 0xa0000;
inline constexpr uint64_t high_memory_start = 0x100000;

}  // namespace bootsim::layout
