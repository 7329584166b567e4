#include "core/boot_plan.h"

namespace bootsim {

const char* entry_mode_name(EntryMode mode)
{
    switch (mode) {
    case EntryMode::Real16: return "real";
    case EntryMode::Protected32: return "32";
    case EntryMode::Long64: return "64";
    }
    return "?";
}

const char* region_role_name(RegionRole role)
{
    switch (role) {
    case RegionRole::Gdt: return "gdt";
    case RegionRole::PageTables: return "page-tables";
    case RegionRole::BootParams: return "boot-params";
    case RegionRole::Cmdline: return "cmdline";
    case RegionRole::Kernel: return "kernel";
    case RegionRole::DecompressBuffer: return "decompress-buffer";
    case RegionRole::Initrd: return "initrd";
    case RegionRole::Setup: return "setup";
    case RegionRole::Firmware: return "firmware";
    }
    return "unknown";
}

const Region* BootPlan::find(RegionRole role) const
{
    for (const Region& r : regions) {
        if (r.role == role)
            return &r;
    }
    return nullptr;
}

}  // namespace bootsim
