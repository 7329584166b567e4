#pragma once
// A copy of the CPU's architectural state, for dumps, reports and the
// visualizer. Plain data: no emulator types.

#include <array>
#include <cstdint>
#include <string>

namespace bootsim {

struct SegmentState {
    uint16_t selector = 0;
    uint64_t base = 0;
    uint32_t limit = 0;
    uint32_t flags = 0;
};

struct CpuState {
    // rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15: the hardware order.
    std::array<uint64_t, 16> gpr{};
    uint64_t rip = 0, rflags = 0;
    uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, efer = 0;
    SegmentState cs, ds, es, ss, fs, gs, tr;
    uint64_t gdt_base = 0, idt_base = 0;
    uint16_t gdt_limit = 0, idt_limit = 0;

    unsigned cpl() const { return cs.selector & 3; }
    bool long_mode() const { return efer & (1 << 10); }
    bool paging() const { return cr0 & (1u << 31); }
    bool protected_mode() const { return cr0 & 1; }
    // "real", "protected", "compat" or "long" plus paging and CPL.
    std::string mode_name() const;
    // A multi-line register dump, like a kernel oops.
    std::string dump() const;
};

inline constexpr std::array<const char*, 16> gpr_names = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};

}  // namespace bootsim
