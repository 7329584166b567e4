#include "core/cpu_state.h"

#include <fmt/format.h>

namespace bootsim {

std::string CpuState::mode_name() const
{
    const char* mode = "real";
    if (long_mode())
        mode = (cs.flags & (1 << 21)) ? "long" : "compat";  // CS.L
    else if (protected_mode())
        mode = "protected";
    return fmt::format("{}{}, CPL {}", mode, paging() ? " paged" : "", cpl());
}

std::string CpuState::dump() const
{
    std::string out;
    for (size_t i = 0; i < gpr.size(); ++i)
        out += fmt::format("{:>3}={:016x}{}", gpr_names[i], gpr[i], (i % 4 == 3) ? "\n" : " ");
    out += fmt::format("rip={:016x} rflags={:08x} mode: {}\n", rip, rflags, mode_name());
    out += fmt::format("cr0={:08x} cr2={:016x} cr3={:016x} cr4={:08x} efer={:x}\n", cr0, cr2, cr3, cr4, efer);
    auto seg = [&](const char* name, const SegmentState& s) {
        return fmt::format("{}={:04x} base={:x} limit={:x} flags={:x}\n", name, s.selector, s.base, s.limit, s.flags);
    };
    out += seg("cs", cs) + seg("ss", ss) + seg("ds", ds) + seg("tr", tr);
    out += fmt::format("gdt={:x}/{:x} idt={:x}/{:x}", gdt_base, gdt_limit, idt_base, idt_limit);
    return out;
}

}  // namespace bootsim
