#pragma once
// x86 disassembly for the CPU panel and for "step over" (which must know a
// CALL and its length), by capstone.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/cpu_state.h"

namespace bootsim::gui {

struct Instruction {
    uint64_t address = 0;
    unsigned length = 0;
    std::string text;       // "mov rax, qword ptr [rbx + 8]"
    bool is_call = false;
    bool ends_block = false; // a jump, call, return, interrupt or other control transfer
};

// The code size the CPU runs in: 16, 32 or 64.
int code_bits(const CpuState& cpu);

// Decodes up to `max` instructions of `code`, which starts at `address`.
// Stops early at bytes that do not decode.
std::vector<Instruction> disassemble(std::span<const uint8_t> code, uint64_t address, int bits, size_t max);

}  // namespace bootsim::gui
