#pragma once
// The visualizer's colours, one per thing it draws. Plain RGB so that the
// view models, the panels and the screenshot tests share them.

#include <cstdint>

#include "loader/boot_plan.h"

namespace bootsim::gui {

struct Rgb {
    uint8_t r, g, b;
    bool operator==(const Rgb&) const = default;
    uint32_t abgr() const { return 0xff000000u | uint32_t(b) << 16 | uint32_t(g) << 8 | r; }  // ImGui's IM_COL32
};

namespace colour {
inline constexpr Rgb ram{38, 42, 50};            // RAM nothing placed in
inline constexpr Rgb hole{12, 12, 14};           // not RAM (e820 reserved, the legacy hole)
inline constexpr Rgb gdt{150, 150, 150};
inline constexpr Rgb page_tables{160, 110, 220};
inline constexpr Rgb boot_params{240, 200, 40};
inline constexpr Rgb cmdline{250, 140, 30};
inline constexpr Rgb kernel{50, 120, 230};         // the compressed kernel as loaded
inline constexpr Rgb setup{120, 200, 250};         // the real-mode setup code
inline constexpr Rgb firmware{190, 120, 90};       // the BIOS's tables
inline constexpr Rgb decompress_buffer{28, 78, 88}; // reserved for the decompressor's output
inline constexpr Rgb initrd{60, 190, 90};
inline constexpr Rgb initrd_freed{30, 80, 45};
inline constexpr Rgb decompressor_copy{40, 220, 230};
inline constexpr Rgb kernel_output{220, 60, 80};    // the decompressed kernel, as written
inline constexpr Rgb written{255, 255, 255};        // heat: pages written recently
inline constexpr Rgb executed{255, 80, 200};        // heat: the page RIP was sampled in
inline constexpr Rgb window_background{20, 22, 27};
}  // namespace colour

inline Rgb role_colour(RegionRole role)
{
    switch (role) {
    case RegionRole::Gdt: return colour::gdt;
    case RegionRole::PageTables: return colour::page_tables;
    case RegionRole::BootParams: return colour::boot_params;
    case RegionRole::Cmdline: return colour::cmdline;
    case RegionRole::Kernel: return colour::kernel;
    case RegionRole::DecompressBuffer: return colour::decompress_buffer;
    case RegionRole::Initrd: return colour::initrd;
    case RegionRole::Setup: return colour::setup;
    case RegionRole::Firmware: return colour::firmware;
    }
    return colour::ram;
}

// a*(1-t) + b*t
inline Rgb blend(Rgb a, Rgb b, float t)
{
    auto mix = [t](uint8_t x, uint8_t y) { return uint8_t(float(x) + (float(y) - float(x)) * t + 0.5f); };
    return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

}  // namespace bootsim::gui
