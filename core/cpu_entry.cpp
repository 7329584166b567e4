// How the CPU enters a handler: exceptions and interrupts through the IVT
// (real mode), 8-byte gates (protected mode) or 16-byte gates (long mode),
// and the SYSCALL and SYSENTER system-call instructions, whose architectural
// work Unicorn leaves to its hooks. The firmware is offered a real-mode
// INT n first (core/firmware.h).
#include <algorithm>

#include <fmt/format.h>

#include "core/cpu.h"
#include "core/cpu_registers.h"

namespace bootsim {

using namespace cpu_detail;

void Cpu::hook_interrupt(void*, uint32_t intno, void* self_ptr)
{
    static_cast<Cpu*>(self_ptr)->handle_interrupt_hook(intno);
}

// Unicorn hands every exception and `int n` to this hook instead of the
// guest's IDT (cpu_handle_exception in qemu/accel/tcg/cpu-exec.c); the
// emulator delivers it as the hardware would.
void Cpu::handle_interrupt_hook(uint32_t intno)
{
    if (!m_context->save().ok()) {
        m_triple_fault = true;
        m_fault_detail = "cannot read the CPU context to deliver an exception";
        uc_emu_stop(engine(m_uc));
        return;
    }
    uint32_t error_code = uint32_t(m_context->error_code());
    // The marker of an exception in flight is never cleared by Unicorn; left
    // set, the next fault would be promoted to #DF and then a triple fault
    // (unicorn issue 1883).
    m_context->set_old_exception(-1);
    (void)m_context->restore();  // the blob was just saved: restoring it cannot fail

    uint64_t rip = read_reg(m_uc, UC_X86_REG_RIP);
    m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    if (m_self_testing) {
        m_recorded.push_back({intno, error_code, read_reg(m_uc, UC_X86_REG_CR2)});
        // Skip the faulting instruction: the test program's are 8 then 7 bytes.
        write_reg(m_uc, UC_X86_REG_RIP, rip + (m_recorded.size() == 1 ? 8 : 7));
        return;
    }

    if (real_mode()) {
        // A BIOS service call (INT n) for the firmware, or an interrupt
        // through the IVT. Unicorn leaves RIP after the INT instruction.
        if (!firmware_call(uint8_t(intno)) && !deliver_real(uint8_t(intno), rip)) {
            m_triple_fault = true;
            m_fault_detail = fmt::format("interrupt {:#x} at {:#x} in real mode could not be delivered through the "
                                         "interrupt vector table", intno, rip);
            uc_emu_stop(engine(m_uc));
        }
        return;
    }
    bool has_error = intno < 32 && pushes_error_code(intno);
    if (deliver(uint8_t(intno), has_error, error_code, rip)) {
        m_client.on_exception(uint8_t(intno), rip, has_error ? error_code : 0);
        return;
    }
    // Could not deliver: a double fault, and if that fails too, the CPU
    // shuts down (triple fault).
    if (intno != 8 && deliver(8, true, 0, rip)) {
        m_client.on_exception(8, rip, 0);
        return;
    }
    m_triple_fault = true;
    m_fault_detail = fmt::format("triple fault: exception {} at rip {:#x} (error code {:#x}, cr2 {:#x}) could not "
                                 "be delivered through the IDT at {:#x}",
                                 intno, rip, error_code, read_reg(m_uc, UC_X86_REG_CR2),
                                 read_mmr(m_uc, UC_X86_REG_IDTR).base);
    uc_emu_stop(engine(m_uc));
}


bool Cpu::deliver_real(uint8_t vector, uint64_t return_ip)
{
    SegmentState idtr = read_mmr(m_uc, UC_X86_REG_IDTR);
    if (uint32_t(vector) * 4 + 3 > idtr.limit)
        return false;
    uint16_t target[2];
    if (!m_memory.read(idtr.base + uint64_t(vector) * 4, target, sizeof target))
        return false;
    uint64_t ss = read_reg(m_uc, UC_X86_REG_SS);
    uint16_t sp = uint16_t(read_reg(m_uc, UC_X86_REG_RSP));
    uint16_t frame[3] = {uint16_t(return_ip), uint16_t(read_reg(m_uc, UC_X86_REG_CS)),
                         uint16_t(read_reg(m_uc, UC_X86_REG_EFLAGS))};
    for (uint16_t value : frame) {
        sp = uint16_t(sp - 2);
        if (!m_memory.write_value(RealModeCall::linear(uint16_t(ss), sp), value))
            return false;
    }
    uint64_t flags = read_reg(m_uc, UC_X86_REG_EFLAGS) & ~(rflags_if | rflags_tf);
    write_reg(m_uc, UC_X86_REG_EFLAGS, flags);
    write_reg(m_uc, UC_X86_REG_RSP, (read_reg(m_uc, UC_X86_REG_RSP) & ~0xffffull) | sp);
    write_reg(m_uc, UC_X86_REG_CS, target[1]);
    write_reg(m_uc, UC_X86_REG_RIP, target[0]);
    return true;
}

bool Cpu::deliver(uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t return_rip)
{
    return long_mode_active() ? deliver_long(vector, has_error_code, error_code, return_rip)
                              : deliver_legacy(vector, has_error_code, error_code, return_rip);
}

// Long mode (SDM 6.14): 16-byte gates, a 64-bit frame always with SS:RSP,
// the stack aligned to 16 bytes, IST stacks.
bool Cpu::deliver_long(uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t return_rip)
{
    SegmentState idtr = read_mmr(m_uc, UC_X86_REG_IDTR);
    if (uint32_t(vector) * 16 + 15 > idtr.limit)
        return false;
    uint8_t gate[16];
    if (!read_virtual(idtr.base + uint64_t(vector) * 16, gate, sizeof gate))
        return false;
    uint64_t target = uint64_t(gate[0] | gate[1] << 8) | uint64_t(gate[6] | gate[7] << 8) << 16 |
                      uint64_t(gate[8] | gate[9] << 8 | gate[10] << 16 | uint32_t(gate[11]) << 24) << 32;
    uint16_t selector = uint16_t(gate[2] | gate[3] << 8);
    unsigned ist = gate[4] & 7;
    unsigned type = gate[5] & 0xf;
    bool present = gate[5] & 0x80;
    if (!present || (type != 0xe && type != 0xf))
        return false;

    uint64_t rsp = read_reg(m_uc, UC_X86_REG_RSP);
    uint64_t rflags = read_reg(m_uc, UC_X86_REG_RFLAGS);
    uint16_t cs = uint16_t(read_reg(m_uc, UC_X86_REG_CS));
    uint16_t ss = uint16_t(read_reg(m_uc, UC_X86_REG_SS));
    unsigned cpl = cs & 3;
    unsigned new_cpl = selector & 3;

    // Stack choice (SDM 6.14.4-6.14.5): an IST entry if the gate names one,
    // else RSP0 from the TSS on a privilege change, else the current stack.
    uint64_t new_rsp = rsp;
    if (ist || new_cpl < cpl) {
        SegmentState tr = read_mmr(m_uc, UC_X86_REG_TR);
        uint64_t slot = ist ? 0x24 + 8 * (ist - 1) : 0x4;
        if (!read_virtual(tr.base + slot, &new_rsp, 8))
            return false;
    }
    new_rsp &= ~uint64_t(0xf);

    uint64_t frame[6];
    int n = 0;
    if (has_error_code)
        frame[n++] = error_code;
    frame[n++] = return_rip;
    frame[n++] = cs;
    frame[n++] = rflags;
    frame[n++] = rsp;
    frame[n++] = ss;
    uint64_t sp = new_rsp - 8 * uint64_t(n);
    if (!write_virtual(sp, frame, 8 * size_t(n)))
        return false;

    if (new_cpl != cpl) {
        // Entering the kernel from user mode: Unicorn cannot change the
        // privilege level through its register API, so the hidden CS/SS
        // state and the CPL bits of hflags are set in the context blob.
        // SS is loaded with a null selector (SDM 6.14.4); its hidden part
        // stays flat, as the kernel never uses it for addressing.
        enter_kernel_mode({selector, 0, 0xffffffff, code64_flags}, {uint16_t(new_cpl), 0, 0xffffffff, data_flags});
    } else {
        write_reg(m_uc, UC_X86_REG_CS, selector);
    }
    uint64_t new_flags = rflags & ~(rflags_tf | rflags_nt | rflags_rf | rflags_vm | rflags_ac);
    if (type == 0xe)
        new_flags &= ~rflags_if;  // interrupt gate
    write_reg(m_uc, UC_X86_REG_RFLAGS, new_flags);
    write_reg(m_uc, UC_X86_REG_RSP, sp);
    write_reg(m_uc, UC_X86_REG_RIP, target);
    return true;
}

// Protected mode without long mode (SDM 6.12, 6.12.1): 8-byte gates, a
// 32-bit frame (EFLAGS, CS, EIP and the error code), with the old SS:ESP
// below it when the handler runs at a lower privilege level, on the stack
// SS0:ESP0 of the 32-bit TSS. A 32-bit kernel's way in from user mode
// (int $0x80, page faults, the timer).
bool Cpu::deliver_legacy(uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t return_eip)
{
    SegmentState idtr = read_mmr(m_uc, UC_X86_REG_IDTR);
    if (uint32_t(vector) * 8 + 7 > idtr.limit)
        return false;
    uint8_t gate[8];
    if (!read_virtual(idtr.base + uint64_t(vector) * 8, gate, sizeof gate))
        return false;
    uint32_t target = uint32_t(gate[0] | gate[1] << 8) | uint32_t(gate[6] | gate[7] << 8) << 16;
    uint16_t selector = uint16_t(gate[2] | gate[3] << 8);
    unsigned type = gate[5] & 0x1f;  // with the S bit, which a gate has clear
    bool present = gate[5] & 0x80;
    // 32-bit interrupt and trap gates only: a task gate (a 32-bit kernel's
    // double-fault handler) switches tasks, which this delivery does not.
    if (!present || (type != 0xe && type != 0xf))
        return false;
    if (!m_context->save().ok())
        return false;

    uint32_t esp = uint32_t(read_reg(m_uc, UC_X86_REG_RSP));
    uint32_t eflags = uint32_t(read_reg(m_uc, UC_X86_REG_EFLAGS));
    uint16_t cs = uint16_t(read_reg(m_uc, UC_X86_REG_CS));
    SegmentState ss = m_context->segment(2);
    unsigned cpl = m_context->hflags() & hflags_cpl_mask;
    unsigned new_cpl = selector & 3;

    uint64_t stack_base = ss.base;
    uint32_t new_esp = esp;
    uint16_t new_ss = ss.selector;
    if (new_cpl < cpl) {
        SegmentState tr = read_mmr(m_uc, UC_X86_REG_TR);
        uint32_t esp0 = 0;
        uint16_t ss0 = 0;
        if (!read_virtual(tr.base + 4, &esp0, 4) || !read_virtual(tr.base + 8, &ss0, 2))
            return false;
        new_esp = esp0;
        new_ss = ss0;
        stack_base = 0;  // a flat kernel stack segment, as enter_kernel_mode loads it
    }

    uint32_t frame[6];
    int n = 0;
    if (has_error_code)
        frame[n++] = error_code;
    frame[n++] = uint32_t(return_eip);
    frame[n++] = cs;
    frame[n++] = eflags;
    if (new_cpl < cpl) {
        frame[n++] = esp;
        frame[n++] = ss.selector;
    }
    uint32_t sp = new_esp - 4 * uint32_t(n);
    if (!write_virtual(stack_base + sp, frame, 4 * size_t(n)))
        return false;

    if (new_cpl < cpl)
        enter_kernel_mode({selector, 0, 0xffffffff, code32_flags}, {new_ss, 0, 0xffffffff, data_flags});
    else
        write_reg(m_uc, UC_X86_REG_CS, selector);
    uint64_t new_flags = eflags & ~(rflags_tf | rflags_nt | rflags_rf | rflags_vm);
    if (type == 0xe)
        new_flags &= ~rflags_if;  // interrupt gate
    write_reg(m_uc, UC_X86_REG_EFLAGS, new_flags);
    write_reg(m_uc, UC_X86_REG_RSP, sp);
    write_reg(m_uc, UC_X86_REG_RIP, target);
    // A 32-bit system call (int $0x80) that replaces the process's code.
    if (vector == 0x80)
        forget_user_code_on_exec(uint32_t(read_reg(m_uc, UC_X86_REG_EAX)), 11, 358);
    return true;
}

void Cpu::hook_syscall(void*, void* self_ptr)
{
    static_cast<Cpu*>(self_ptr)->handle_syscall();
}

void Cpu::hook_sysenter(void*, void* self_ptr)
{
    static_cast<Cpu*>(self_ptr)->handle_sysenter();
}

// SYSCALL only calls the hooks in Unicorn 2.1.1 (helper_syscall) and then
// adds the instruction's length to RIP: the architectural work is ours
// (SDM vol. 2, SYSCALL).
void Cpu::handle_syscall()
{
    uint64_t star = read_msr(m_uc, 0xc0000081), lstar = read_msr(m_uc, 0xc0000082);
    uint64_t fmask = read_msr(m_uc, 0xc0000084);
    uint64_t rip = read_reg(m_uc, UC_X86_REG_RIP);
    uint64_t rflags = read_reg(m_uc, UC_X86_REG_RFLAGS);
    uint64_t number = read_reg(m_uc, UC_X86_REG_RAX);
    uint16_t cs = uint16_t((star >> 32) & 0xfffc);
    enter_kernel_mode({cs, 0, 0xffffffff, code64_flags}, {uint16_t(cs + 8), 0, 0xffffffff, data_flags});
    write_reg(m_uc, UC_X86_REG_RCX, rip + 2);
    write_reg(m_uc, UC_X86_REG_R11, rflags & ~rflags_rf);
    write_reg(m_uc, UC_X86_REG_RFLAGS, rflags & ~fmask & ~rflags_rf);
    write_reg(m_uc, UC_X86_REG_RIP, lstar - 2);  // helper_syscall adds 2 afterwards
    m_client.on_syscall(number);
    forget_user_code_on_exec(number, 59, 322);
}

// SYSENTER, the same in Unicorn 2.1.1 (helper_sysenter calls the hooks and
// adds the instruction's length): a 32-bit kernel's vDSO enters it this way
// (SDM vol. 2, SYSENTER). CS and SS are flat at CPL 0, from IA32_SYSENTER_CS;
// ESP and EIP from IA32_SYSENTER_ESP and _EIP. SYSEXIT is QEMU's own.
void Cpu::handle_sysenter()
{
    uint16_t cs = uint16_t(read_msr(m_uc, 0x174) & 0xfffc);
    if (cs == 0) {
        // #GP(0); the instruction has not run, so RIP stays on it.
        if (!deliver(13, true, 0, read_reg(m_uc, UC_X86_REG_RIP))) {
            m_triple_fault = true;
            m_fault_detail = "SYSENTER with IA32_SYSENTER_CS 0: its #GP could not be delivered";
            uc_emu_stop(engine(m_uc));
            return;
        }
        write_reg(m_uc, UC_X86_REG_RIP, read_reg(m_uc, UC_X86_REG_RIP) - 2);  // helper_sysenter adds 2
        return;
    }
    uint64_t number = read_reg(m_uc, UC_X86_REG_EAX);
    enter_kernel_mode({cs, 0, 0xffffffff, code32_flags}, {uint16_t(cs + 8), 0, 0xffffffff, data_flags});
    write_reg(m_uc, UC_X86_REG_EFLAGS, read_reg(m_uc, UC_X86_REG_EFLAGS) & ~(rflags_vm | rflags_if | rflags_rf));
    write_reg(m_uc, UC_X86_REG_RSP, uint32_t(read_msr(m_uc, 0x175)));
    write_reg(m_uc, UC_X86_REG_RIP, uint32_t(read_msr(m_uc, 0x176)) - 2);  // helper_sysenter adds 2
    forget_user_code_on_exec(number, 11, 358);
}

// execve/execveat replace the process's code: blocks at the same user
// addresses may hold other instructions from now on. The numbers are the
// ABI's (64-bit: 59 and 322; 32-bit: 11 and 358); below 4 GiB covers any
// 32-bit user space, whatever the kernel's split.
void Cpu::forget_user_code_on_exec(uint64_t number, uint64_t execve, uint64_t execveat)
{
    if (number != execve && number != execveat)
        return;
    m_counter.forget(0, long_mode_active() ? 1ull << 47 : 1ull << 32);
}

// CPL 0 with the given flat CS and SS: what SYSCALL, SYSENTER and an
// interrupt from user mode load. Unicorn's register API cannot change the
// privilege level (NOTES.md trap 4), so the hidden segment state and
// hflags' CPL bits are written in the context blob.
void Cpu::enter_kernel_mode(const SegmentState& cs, const SegmentState& ss)
{
    if (!m_context->save().ok())
        return;
    m_context->set_segment(1, cs);
    m_context->set_segment(2, ss);
    m_context->set_hflags(m_context->hflags() & ~hflags_cpl_mask);
    (void)m_context->restore();
}

bool Cpu::write_virtual(uint64_t address, const void* data, size_t length)
{
    auto* bytes = static_cast<const uint8_t*>(data);
    return for_each_page_piece(address, length, [&](uint64_t pa, size_t offset, size_t chunk) {
        return m_memory.write(pa, bytes + offset, chunk);
    });
}

}  // namespace bootsim
