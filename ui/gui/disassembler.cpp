#include "ui/gui/disassembler.h"

#include <capstone/capstone.h>

namespace bootsim::gui {

int code_bits(const CpuState& cpu)
{
    if (!cpu.protected_mode())
        return 16;
    // CS.L in a long-mode code segment: 64-bit code; otherwise CS.D picks
    // 32 or 16. Unicorn reports the descriptor's flags in the high bits of
    // its segment "flags" (as the descriptor's bits 8..23, shifted by 8).
    if (cpu.long_mode() && (cpu.cs.flags & (1u << 21)))
        return 64;
    if (cpu.long_mode() && cpu.cs.flags == 0)
        return 64;  // no flags reported: trust EFER.LMA
    return (cpu.cs.flags & (1u << 22)) ? 32 : 16;
}

std::vector<Instruction> disassemble(std::span<const uint8_t> code, uint64_t address, int bits, size_t max)
{
    std::vector<Instruction> out;
    csh handle;
    cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
    if (cs_open(CS_ARCH_X86, mode, &handle) != CS_ERR_OK)
        return out;
    cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn* insn = cs_malloc(handle);
    const uint8_t* bytes = code.data();
    size_t size = code.size();
    uint64_t at = address;
    while (out.size() < max && cs_disasm_iter(handle, &bytes, &size, &at, insn)) {
        Instruction i;
        i.address = insn->address;
        i.length = insn->size;
        i.text = std::string(insn->mnemonic) + (insn->op_str[0] ? " " : "") + insn->op_str;
        i.is_call = cs_insn_group(handle, insn, CS_GRP_CALL);
        i.ends_block = i.is_call || cs_insn_group(handle, insn, CS_GRP_JUMP) || cs_insn_group(handle, insn, CS_GRP_RET) ||
                       cs_insn_group(handle, insn, CS_GRP_INT) || cs_insn_group(handle, insn, CS_GRP_IRET) ||
                       insn->id == X86_INS_SYSCALL || insn->id == X86_INS_SYSRET || insn->id == X86_INS_HLT;
        out.push_back(std::move(i));
    }
    cs_free(insn, 1);
    cs_close(&handle);
    return out;
}

}  // namespace bootsim::gui
