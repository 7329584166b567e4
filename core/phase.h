#pragma once
// The boot phases: the product's vocabulary, the same names in every front
// end and in --stop-at.

#include <array>
#include <optional>
#include <string_view>

namespace bootsim {

enum class Phase {
    Loaded,      // the BootPlan is in guest RAM
    Setup,       // the 16-bit real-mode setup runs (real-mode entry only)
    Decompress,  // the kernel's decompressor runs
    Handoff,     // the decompressor jumps into the decompressed kernel
    Kernel,      // the kernel proper runs
    Initramfs,   // the initrd has been unpacked
    Init,        // the first user-mode instruction (/init)
    Modules,     // modules loaded from the initrd
    Root,        // the real root is mounted and switched to
    Halt,        // the end: powered off, halted, or stopped
};

inline constexpr std::array<Phase, 10> all_phases = {
    Phase::Loaded, Phase::Setup,     Phase::Decompress, Phase::Handoff, Phase::Kernel,
    Phase::Initramfs, Phase::Init,   Phase::Modules,    Phase::Root,    Phase::Halt,
};

constexpr std::string_view phase_name(Phase phase)
{
    switch (phase) {
    case Phase::Loaded: return "loaded";
    case Phase::Setup: return "setup";
    case Phase::Decompress: return "decompress";
    case Phase::Handoff: return "handoff";
    case Phase::Kernel: return "kernel";
    case Phase::Initramfs: return "initramfs";
    case Phase::Init: return "init";
    case Phase::Modules: return "modules";
    case Phase::Root: return "root";
    case Phase::Halt: return "halt";
    }
    return "?";
}

inline std::optional<Phase> parse_phase(std::string_view name)
{
    for (Phase p : all_phases) {
        if (phase_name(p) == name)
            return p;
    }
    return std::nullopt;
}

}  // namespace bootsim
