#pragma once
// Register access and x86 bit constants shared by the CPU core's source
// files (cpu.cpp: the engine and its hooks; cpu_entry.cpp: how the CPU
// enters an interrupt, exception or system call handler). Internal to
// core/: nothing outside the CPU core includes Unicorn.

#include <cstdint>

#include <unicorn/unicorn.h>

#include "core/cpu_context.h"

namespace bootsim::cpu_detail {

inline uc_engine* engine(void* uc) { return static_cast<uc_engine*>(uc); }

inline uint64_t read_reg(void* uc, int id)
{
    uint64_t v = 0;
    uc_reg_read(engine(uc), id, &v);
    return v;
}

inline void write_reg(void* uc, int id, uint64_t v)
{
    uc_reg_write(engine(uc), id, &v);
}

inline SegmentState read_mmr(void* uc, int id)
{
    uc_x86_mmr mmr{};
    uc_reg_read(engine(uc), id, &mmr);
    return {mmr.selector, mmr.base, mmr.limit, mmr.flags};
}

inline uint64_t read_msr(void* uc, uint32_t index)
{
    uc_x86_msr m{index, 0};
    uc_reg_read(engine(uc), UC_X86_REG_MSR, &m);
    return m.value;
}

// Exceptions that push an error code (SDM vol. 3, table 6-1).
inline bool pushes_error_code(uint32_t vector)
{
    switch (vector) {
    case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21: case 29: case 30:
        return true;
    default:
        return false;
    }
}

constexpr uint64_t rflags_cf = 1 << 0;
constexpr uint64_t rflags_zf = 1 << 6;
constexpr uint64_t rflags_if = 1 << 9;
constexpr uint64_t rflags_tf = 1 << 8;
constexpr uint64_t rflags_nt = 1 << 14;
constexpr uint64_t rflags_rf = 1 << 16;
constexpr uint64_t rflags_vm = 1 << 17;
constexpr uint64_t rflags_ac = 1 << 18;

// QEMU's hidden-segment flag bits for a flat 64-bit code segment (the high
// dword of the GDT descriptor, masked as QEMU keeps it).
constexpr uint32_t code64_flags = 0x00a09b00;
constexpr uint32_t code32_flags = 0x00c09b00;
// Real mode's segments, as QEMU's reset leaves them: present, accessed,
// readable code / writable data, 16-bit.
constexpr uint32_t real_code_flags = 0x00009b00;
constexpr uint32_t real_data_flags = 0x00009300;
constexpr uint32_t data_flags = 0x00c09300;

// hflags bits (QEMU target/i386/cpu.h): the current privilege level.
constexpr uint32_t hflags_cpl_mask = 3;

}  // namespace bootsim::cpu_detail
