#pragma once
// The CPU's registers by name, for a debugger: every register a debugger
// may read or write one at a time (Cpu::read_register / write_register),
// in no particular debugger's numbering. A gdb stub maps its own register
// numbers onto these.

#include <cstddef>
#include <cstdint>

namespace bootsim {

enum class CpuRegister : uint8_t {
    Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp,
    R8, R9, R10, R11, R12, R13, R14, R15,
    Rip, Rflags,
    Cs, Ss, Ds, Es, Fs, Gs,          // selectors
    FsBase, GsBase, KernelGsBase,    // the bases (the last is the MSR SWAPGS swaps in)
    Cr0, Cr2, Cr3, Cr4, Cr8, Efer,
    St0, St1, St2, St3, St4, St5, St6, St7,  // 80-bit x87 registers (10 bytes)
    Fctrl, Fstat, Ftag, Fiseg, Fioff, Foseg, Fooff, Fop,
    Xmm0, Xmm1, Xmm2, Xmm3, Xmm4, Xmm5, Xmm6, Xmm7,
    Xmm8, Xmm9, Xmm10, Xmm11, Xmm12, Xmm13, Xmm14, Xmm15,  // 16 bytes each
    Mxcsr,
};

// The register's size in bytes as Cpu::read_register gives it.
inline size_t cpu_register_size(CpuRegister r)
{
    if (r >= CpuRegister::St0 && r <= CpuRegister::St7)
        return 10;
    if (r >= CpuRegister::Xmm0 && r <= CpuRegister::Xmm15)
        return 16;
    return 8;
}

}  // namespace bootsim
