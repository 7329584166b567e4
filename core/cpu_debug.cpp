// What a debugger does to the CPU between runs: one register at a time,
// and data watches (watchpoints) through Unicorn's memory hooks.
#include <cstring>

#include "core/cpu.h"
#include "core/cpu_registers.h"

namespace bootsim {

using namespace cpu_detail;

namespace {

constexpr uint32_t msr_efer = 0xc0000080, msr_kernel_gs_base = 0xc0000102;

// Unicorn's register for each CpuRegister; 0 for the two MSRs.
int unicorn_id(CpuRegister r)
{
    static const int ids[] = {
        UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI, UC_X86_REG_RDI,
        UC_X86_REG_RBP, UC_X86_REG_RSP, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
        UC_X86_REG_CS,  UC_X86_REG_SS,  UC_X86_REG_DS,  UC_X86_REG_ES,  UC_X86_REG_FS,  UC_X86_REG_GS,
        UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE, 0,
        UC_X86_REG_CR0, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_CR8, 0,
        UC_X86_REG_FP0, UC_X86_REG_FP1, UC_X86_REG_FP2, UC_X86_REG_FP3,
        UC_X86_REG_FP4, UC_X86_REG_FP5, UC_X86_REG_FP6, UC_X86_REG_FP7,
        UC_X86_REG_FPCW, UC_X86_REG_FPSW, UC_X86_REG_FPTAG, UC_X86_REG_FCS,
        UC_X86_REG_FIP, UC_X86_REG_FDS, UC_X86_REG_FDP, UC_X86_REG_FOP,
        UC_X86_REG_XMM0, UC_X86_REG_XMM1, UC_X86_REG_XMM2,  UC_X86_REG_XMM3,  UC_X86_REG_XMM4,  UC_X86_REG_XMM5,
        UC_X86_REG_XMM6, UC_X86_REG_XMM7, UC_X86_REG_XMM8,  UC_X86_REG_XMM9,  UC_X86_REG_XMM10, UC_X86_REG_XMM11,
        UC_X86_REG_XMM12, UC_X86_REG_XMM13, UC_X86_REG_XMM14, UC_X86_REG_XMM15,
        UC_X86_REG_MXCSR,
    };
    static_assert(sizeof ids / sizeof ids[0] == size_t(CpuRegister::Mxcsr) + 1);
    return ids[size_t(r)];
}

bool is_selector(CpuRegister r) { return r >= CpuRegister::Cs && r <= CpuRegister::Gs; }

}  // namespace

void Cpu::read_register(CpuRegister reg, uint8_t* out) const
{
    size_t size = cpu_register_size(reg);
    if (reg == CpuRegister::Efer || reg == CpuRegister::KernelGsBase) {
        uint64_t v = read_msr(m_uc, reg == CpuRegister::Efer ? msr_efer : msr_kernel_gs_base);
        std::memcpy(out, &v, 8);
        return;
    }
    if (size == 8) {
        uint64_t v = read_reg(m_uc, unicorn_id(reg));
        std::memcpy(out, &v, 8);
        return;
    }
    uint8_t buffer[16] = {};
    uc_reg_read(engine(m_uc), unicorn_id(reg), buffer);
    std::memcpy(out, buffer, size);
}

bool Cpu::write_register(CpuRegister reg, const uint8_t* in)
{
    size_t size = cpu_register_size(reg);
    if (is_selector(reg)) {
        uint64_t now = 0, wanted = 0;
        read_register(reg, reinterpret_cast<uint8_t*>(&now));
        std::memcpy(&wanted, in, 8);
        return uint16_t(now) == uint16_t(wanted);
    }
    if (reg == CpuRegister::Efer || reg == CpuRegister::KernelGsBase) {
        uc_x86_msr m{reg == CpuRegister::Efer ? msr_efer : msr_kernel_gs_base, 0};
        std::memcpy(&m.value, in, 8);
        return uc_reg_write(engine(m_uc), UC_X86_REG_MSR, &m) == UC_ERR_OK;
    }
    uint8_t buffer[16] = {}, now[16] = {};
    std::memcpy(buffer, in, size);
    if (uc_reg_write(engine(m_uc), unicorn_id(reg), buffer) == UC_ERR_OK)
        return true;
    // Unicorn cannot write every register (CR8): the value it has is fine.
    read_register(reg, now);
    return std::memcmp(now, in, size) == 0;
}

bool Cpu::add_data_watch(uint64_t address, uint64_t length, DataWatchKind kind)
{
    if (length == 0 || address + length - 1 < address)
        return false;
    int types = kind == DataWatchKind::Write  ? UC_HOOK_MEM_WRITE
                : kind == DataWatchKind::Read ? UC_HOOK_MEM_READ
                                              : UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE;
    uc_hook h = 0;
    if (uc_hook_add(engine(m_uc), &h, types, reinterpret_cast<void*>(&Cpu::hook_data_watch), this, address,
                    address + length - 1) != UC_ERR_OK)
        return false;
    m_data_watches.push_back({address, length, kind, h});
    return true;
}

void Cpu::remove_data_watch(uint64_t address, uint64_t length, DataWatchKind kind)
{
    for (auto it = m_data_watches.begin(); it != m_data_watches.end(); ++it) {
        if (it->address == address && it->length == length && it->kind == kind) {
            uc_hook_del(engine(m_uc), it->hook);
            m_data_watches.erase(it);
            return;
        }
    }
}

void Cpu::hook_data_watch(void*, int type, uint64_t address, int, int64_t, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    self->m_client.on_data_watch(address, type == UC_MEM_WRITE);
}

}  // namespace bootsim
