#pragma once
// How the kernel's C functions receive their arguments, read at a watched
// function's first instruction (the call has pushed the return address and
// nothing else has run). x86-64: the System V registers RDI, RSI, RDX, RCX,
// R8, R9, variadic or not. x86-32: the kernel is built with -mregparm=3, so
// EAX, EDX, ECX and then the stack; a variadic function (printk, panic)
// takes every argument on the stack. Struct layouts differ too, so watches
// that read kernel structures ask wide() first.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/cpu.h"

namespace bootsim {

class KernelAbi final {
public:
    explicit KernelAbi(bool wide) : m_wide(wide) {}

    bool wide() const { return m_wide; }
    uint64_t word_size() const { return m_wide ? 8 : 4; }

    // Argument `n` (from 0) of a function with a fixed argument list.
    uint64_t argument(const Cpu& cpu, unsigned n) const
    {
        if (m_wide) {
            static constexpr int registers[] = {7, 6, 2, 1, 8, 9};  // RDI RSI RDX RCX R8 R9
            return n < 6 ? cpu.gpr(registers[n]) : stack_word(cpu, n - 6);
        }
        static constexpr int registers[] = {0, 2, 1};  // EAX EDX ECX
        return n < 3 ? uint32_t(cpu.gpr(registers[n])) : stack_word(cpu, n - 3);
    }

    // Argument `n` of a variadic function.
    uint64_t variadic_argument(const Cpu& cpu, unsigned n) const
    {
        return m_wide ? argument(cpu, n) : stack_word(cpu, n);
    }

    // What the function returned, read at its return address.
    uint64_t return_value(const Cpu& cpu) const
    {
        return m_wide ? cpu.gpr(rax) : uint32_t(cpu.gpr(rax));
    }

    // The system call's entry point for `name` ("mount"): the pt_regs
    // wrapper the syscall table points to (arch/x86/include/asm/syscall_wrapper.h).
    std::string syscall_symbol(std::string_view name) const
    {
        return std::string(m_wide ? "__x64_sys_" : "__ia32_sys_") + std::string(name);
    }
    // The user's argument `n` of a system call, from the struct pt_regs
    // whose address the wrapper got as its one argument: x86-64 passes
    // them in di, si, dx, r10, r8, r9; x86-32 in bx, cx, dx, si, di, bp
    // (arch/x86/include/asm/ptrace.h gives the offsets).
    bool syscall_argument(const Cpu& cpu, unsigned n, uint64_t& value) const
    {
        static constexpr uint64_t offsets64[] = {112, 104, 96, 56, 72, 64};
        static constexpr uint64_t offsets32[] = {0, 4, 8, 12, 16, 20};
        value = 0;
        if (n >= 6)
            return false;
        uint64_t regs = argument(cpu, 0);
        return cpu.read_virtual(regs + (m_wide ? offsets64[n] : offsets32[n]), &value, word_size());
    }

    // The stack pointer at entry, the return address on top of it, and the
    // stack pointer once the function has returned to it (its frame).
    uint64_t stack_pointer(const Cpu& cpu) const { return m_wide ? cpu.gpr(rsp) : uint32_t(cpu.gpr(rsp)); }
    bool return_address(const Cpu& cpu, uint64_t& address) const
    {
        address = 0;
        return cpu.read_virtual(stack_pointer(cpu), &address, word_size());
    }
    uint64_t frame_after_return(const Cpu& cpu) const { return stack_pointer(cpu) + word_size(); }

private:
    static constexpr int rax = 0, rsp = 4;
    // The n-th word above the return address.
    uint64_t stack_word(const Cpu& cpu, unsigned n) const
    {
        uint64_t value = 0;
        (void)cpu.read_virtual(stack_pointer(cpu) + word_size() * (n + 1), &value, word_size());
        return value;
    }

    bool m_wide;
};

}  // namespace bootsim
