#pragma once
// The registers the stub serves and the target description that names
// them for gdb (qXfer:features:read:target.xml): gdb's x86-64 layout (the
// core, SSE and segment-base features QEMU serves too) plus bootsim's
// system registers (CR0-CR4, CR8, EFER, KERNEL_GS_BASE), which gdb shows
// as $cr0 and so on. One layout for the whole boot, whatever the CPU mode:
// in real and protected mode the upper halves read as the CPU holds them,
// and `set architecture i8086` or `i386` changes only how gdb disassembles
// (QEMU's stub does the same for qemu-system-x86_64).

#include <cstddef>
#include <string>
#include <vector>

#include "core/cpu_register.h"

namespace bootsim::gdb {

struct RegisterInfo {
    const char* name;
    CpuRegister reg;
    unsigned bits;  // as gdb sees it (32 for eflags and the selectors, which the CPU holds wider)
    const char* type;
    const char* feature;
};

// In gdb's register number order.
const std::vector<RegisterInfo>& registers();

// The whole target description (target.xml).
const std::string& target_description();

}  // namespace bootsim::gdb
