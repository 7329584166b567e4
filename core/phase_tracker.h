#pragma once
// Tells the boot phases from the machine's own evidence: where the CPU
// executes, checked at the start of every translated block. Never from
// timing, never from console text, never from one kernel's layout.
//
//   loaded      the plan is in RAM; nothing has run
//   setup       (real-mode entry only) the first instruction runs: the
//               kernel's 16-bit setup code
//   decompress  the first instruction runs: the 64-bit entry (startup_64) and
//               the 32-bit one (startup_32) are the decompressor's own code;
//               after the setup code, the first block in the loaded
//               protected-mode code (its jump to code32_start)
//   (moved)     the decompressor runs from the copy of itself it made at the
//               top of its buffer (arch/x86/boot/compressed/head_64.S copies
//               itself to load address + init_size - its size, so that it can
//               decompress in place) — an event, not a phase
//   handoff     after the move, the first block outside that copy: the
//               decompressor's final `jmp *%rax` into the kernel it unpacked.
//               Its target is wherever extract_kernel() says: the output
//               (with KASLR, wherever the decompressor chose) plus the ELF's
//               entry offset, which is not aligned on 6.12 and later (e_entry
//               0x1000c43), or a kernel virtual address. Nothing else runs
//               outside the copy once it runs from it: its stack, page-fault
//               handler and identity maps all live in it, with interrupts off.
//               If no move is seen, the first block at a kernel virtual
//               address stands in (the decompressor never runs up there).
//   kernel      the first block at a kernel virtual address after a physical
//               handoff (the kernel proper, on its own page tables), or
//               start_kernel when the kernel's symbols are known (see
//               core/kernel_watch.*)
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
    bool setup_first = false;       // the real-mode entry: the setup code runs before the decompressor
    // Where the kernel's half of the address space starts. x86-64: the
    // upper canonical half (4-level). A 32-bit kernel's split is
    // PAGE_OFFSET (set_address_split() once the host read it from the
    // kernel's ELF; until then the 3G/1G default).
    uint64_t kernel_virtual_base = 0xffff800000000000ull;
    // Where user space ends: x86-64's lower canonical half.
    uint64_t user_space_end = 0x0000800000000000ull;
};

// The split of a 32-bit kernel's address space until its own is known:
// CONFIG_PAGE_OFFSET's default (VMSPLIT_3G).
constexpr uint64_t default_page_offset_32 = 0xc0000000;

struct PhaseChange {
    enum class What { Phase, DecompressorMoved } what;
    Phase phase = Phase::Loaded;
    uint64_t address = 0;
    const char* evidence = "";  // what showed it, for the log and the report
};

class PhaseTracker final {
public:
    explicit PhaseTracker(const PhaseHints& hints) : m_hints(hints) {}

    // Called for every block; cheap when nothing changes.
    std::optional<PhaseChange> on_block(uint64_t address)
    {
        using What = PhaseChange::What;
        switch (m_state) {
        case State::Loaded:
            if (m_hints.setup_first) {
                m_state = State::Setup;
                return PhaseChange{What::Phase, Phase::Setup, address,
                                   "the first instruction, the setup code's real-mode entry"};
            }
            m_state = State::Decompressing;
            return PhaseChange{What::Phase, Phase::Decompress, address, "the first instruction, at the entry point"};
        case State::Setup:
            if (address >= m_hints.load_address && address < m_hints.load_address + m_hints.loaded_size) {
                m_state = State::Decompressing;
                return PhaseChange{What::Phase, Phase::Decompress, address,
                                   "the setup code's jump to code32_start, the decompressor's 32-bit entry"};
            }
            return std::nullopt;
        case State::Decompressing:
            if (in_moved_copy(address)) {
                m_state = State::Moved;
                return PhaseChange{What::DecompressorMoved, Phase::Decompress, address,
                                   "a block in the top of the decompression buffer, above the loaded image"};
            }
            if (address >= m_hints.kernel_virtual_base) {
                m_handoff_seen = false;
                return hand_off(address, "the first block at a kernel virtual address (no decompressor move seen)");
            }
            return std::nullopt;
        case State::Moved:
            if (!in_moved_copy(address))
                return hand_off(address, "the first block outside the decompressor's moved copy");
            return std::nullopt;
        case State::HandedOff:
            if (m_kernel_entry ? address == m_kernel_entry
                               : address >= m_hints.kernel_virtual_base && m_handoff_target < m_hints.kernel_virtual_base) {
                m_state = State::Kernel;
                return PhaseChange{What::Phase, Phase::Kernel, address,
                                   m_kernel_entry ? "start_kernel runs (kernel symbols)"
                                                  : "the first block at a kernel virtual address after the handoff"};
            }
            if (!m_kernel_entry && address < m_hints.user_space_end && m_handoff_target >= m_hints.kernel_virtual_base) {
                // Handed off at a virtual address and no symbols: the kernel
                // ran from the start; the first low block is user space.
                m_state = State::User;
                return PhaseChange{What::Phase, Phase::Init, address,
                                   "the first block in the user half after a virtual handoff"};
            }
            return std::nullopt;
        case State::Kernel:
            if (address < m_hints.user_space_end) {
                m_state = State::User;
                return PhaseChange{What::Phase, Phase::Init, address,
                                   "the first block in the user half of the address space (user mode)"};
            }
            return std::nullopt;
        case State::User:
            return std::nullopt;
        }
        return std::nullopt;
    }

    // Whether the handoff was seen as the decompressor's jump out of its
    // moved copy (false: inferred from the first kernel virtual address,
    // and the jump's target is not known).
    bool handoff_seen() const { return m_handoff_seen; }

    uint64_t handoff_target() const { return m_handoff_target; }
    const PhaseHints& hints() const { return m_hints; }

    // Where the decompressor's relocated copy lies: above its original
    // load, up to the end of its buffer, until narrow_moved_copy() says
    // where it starts.
    std::pair<uint64_t, uint64_t> moved_copy_range() const
    {
        return {m_copy_begin ? m_copy_begin : m_hints.load_address + m_hints.loaded_size, m_hints.buffer_end};
    }

    // The copy starts at `begin` (measured in guest RAM once the move is
    // seen). The coarse range can hold the kernel's own entry: without
    // KASLR the kernel decompresses at its load address, and a 7.x entry
    // point 40 MiB into the image lies below the copy but above the load.
    void narrow_moved_copy(uint64_t begin)
    {
        if (begin >= m_hints.load_address + m_hints.loaded_size && begin < m_hints.buffer_end)
            m_copy_begin = begin;
    }

    // With the kernel's symbols known, the kernel phase starts at
    // start_kernel rather than at the first high address.
    void set_kernel_entry(uint64_t address) { m_kernel_entry = address; }

    // The blocks whose addresses can still change something, as [begin,
    // end): on_block() need see no others. Once the kernel runs, only the
    // first block in the user half matters; after it, none.
    std::pair<uint64_t, uint64_t> blocks_of_interest() const
    {
        switch (m_state) {
        case State::Kernel:
            return {0, m_hints.user_space_end};
        case State::User:
            return {0, 0};
        default:
            return {0, ~0ull};
        }
    }

    // A 32-bit kernel's PAGE_OFFSET: user space below, the kernel above.
    void set_address_split(uint64_t page_offset)
    {
        m_hints.kernel_virtual_base = page_offset;
        m_hints.user_space_end = page_offset;
    }
    uint64_t kernel_virtual_base() const { return m_hints.kernel_virtual_base; }

private:
    bool in_moved_copy(uint64_t address) const
    {
        auto [begin, end] = moved_copy_range();
        return address >= begin && address < end;
    }

    PhaseChange hand_off(uint64_t address, const char* evidence)
    {
        m_state = State::HandedOff;
        m_handoff_target = address;
        return PhaseChange{PhaseChange::What::Phase, Phase::Handoff, address, evidence};
    }

    enum class State { Loaded, Setup, Decompressing, Moved, HandedOff, Kernel, User };
    PhaseHints m_hints;
    State m_state = State::Loaded;
    uint64_t m_handoff_target = 0;
    uint64_t m_kernel_entry = 0;
    uint64_t m_copy_begin = 0;  // 0: not measured
    bool m_handoff_seen = true;
};

}  // namespace bootsim
