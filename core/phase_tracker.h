#pragma once
// Tells the boot phases from the machine's own evidence: where the CPU
// executes, checked at the start of every translated block. Never from
// timing, never from console text.
//
//   loaded      the plan is in RAM; nothing has run
//   decompress  the first instruction runs: the 64-bit entry (startup_64) is
//               the decompressor's own code
//   (moved)     the decompressor runs from the copy of itself it made at the
//               top of its buffer (arch/x86/boot/compressed/head_64.S copies
//               itself to load address + init_size - its size, so that it can
//               decompress in place) — an event, not a phase
//   handoff     after the move, the first block at a kernel_alignment-aligned
//               address outside that copy: the decompressor's final
//               `jmp *%rax` into the kernel it unpacked (with KASLR, wherever
//               the decompressor chose to put it)
//   kernel      the first block at a kernel virtual address (the kernel
//               proper, running on its own page tables), or at start_kernel
//               when the kernel's symbols are known (see ui/kernel_watch.*)
//   init        the first block in the lower, user half of the address
//               space once the kernel runs: the first user-mode instruction
//               (the kernel itself never executes there after its start)

#include <cstdint>
#include <optional>
#include <utility>

#include "core/phase.h"

namespace bootsim {

struct PhaseHints {
    uint64_t load_address = 0;      // where the protected-mode code was loaded
    uint64_t loaded_size = 0;       // its size
    uint64_t buffer_end = 0;        // load_address + init_size
    uint64_t kernel_alignment = 0;  // the decompressed kernel's physical alignment
};

struct PhaseChange {
    enum class What { Phase, DecompressorMoved } what;
    Phase phase = Phase::Loaded;
    uint64_t address = 0;
};

class PhaseTracker final {
public:
    explicit PhaseTracker(const PhaseHints& hints) : m_hints(hints) {}

    // Called for every block; cheap when nothing changes.
    std::optional<PhaseChange> on_block(uint64_t address)
    {
        switch (m_state) {
        case State::Loaded:
            m_state = State::Decompressing;
            return PhaseChange{PhaseChange::What::Phase, Phase::Decompress, address};
        case State::Decompressing:
            if (address >= m_hints.load_address + m_hints.loaded_size && address < m_hints.buffer_end) {
                m_state = State::Moved;
                m_moved_to = address;
                return PhaseChange{PhaseChange::What::DecompressorMoved, Phase::Decompress, address};
            }
            return std::nullopt;
        case State::Moved:
            if (is_handoff_target(address)) {
                m_state = State::HandedOff;
                m_handoff_target = address;
                return PhaseChange{PhaseChange::What::Phase, Phase::Handoff, address};
            }
            return std::nullopt;
        case State::HandedOff:
            if (m_kernel_entry ? address == m_kernel_entry : address >= kernel_virtual_base) {
                m_state = State::Kernel;
                return PhaseChange{PhaseChange::What::Phase, Phase::Kernel, address};
            }
            return std::nullopt;
        case State::Kernel:
            if (address < user_space_end) {
                m_state = State::User;
                return PhaseChange{PhaseChange::What::Phase, Phase::Init, address};
            }
            return std::nullopt;
        case State::User:
            return std::nullopt;
        }
        return std::nullopt;
    }

    uint64_t handoff_target() const { return m_handoff_target; }

    // Where the decompressor's relocated copy may lie: above its original
    // load, up to the end of its buffer.
    std::pair<uint64_t, uint64_t> moved_copy_range() const
    {
        return {m_hints.load_address + m_hints.loaded_size, m_hints.buffer_end};
    }

    // With the kernel's symbols known, the kernel phase starts at
    // start_kernel rather than at the first high address.
    void set_kernel_entry(uint64_t address) { m_kernel_entry = address; }

    // The start of the kernel's half of the address space (x86-64, 4-level).
    static constexpr uint64_t kernel_virtual_base = 0xffff800000000000ull;
    // The end of the lower canonical half: user space.
    static constexpr uint64_t user_space_end = 0x0000800000000000ull;

private:
    bool is_handoff_target(uint64_t address) const
    {
        auto [begin, end] = moved_copy_range();
        bool in_moved_copy = address >= begin && address < end;
        return !in_moved_copy && address >= 0x100000 && m_hints.kernel_alignment &&
               address % m_hints.kernel_alignment == 0;
    }

    enum class State { Loaded, Decompressing, Moved, HandedOff, Kernel, User };
    PhaseHints m_hints;
    State m_state = State::Loaded;
    uint64_t m_moved_to = 0;
    uint64_t m_handoff_target = 0;
    uint64_t m_kernel_entry = 0;
};

}  // namespace bootsim
