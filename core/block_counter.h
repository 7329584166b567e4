#pragma once
// Guest instructions per translated block, for counting instructions
// retired without a per-instruction hook: the block hook knows where a block
// starts and how many bytes it spans; this decodes it once (capstone) and
// remembers the count. Decoding also finds the RDTSC and RDTSCP
// instructions in it, for the deterministic clock (Cpu::emulate_tsc).
//
// Entries are keyed by the block's virtual address and size, so code that
// changes in place with the same block size keeps its old count: counts
// stay deterministic (the same run gives the same cache) but can be off by
// the difference. Forgetting a page range (code the guest patched) drops
// what is known about it.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace bootsim {

// The code segment's operand size, which decides how bytes decode: 16
// (real mode, the setup code), 32 (protected mode, a 32-bit kernel and
// user space, startup_32) or 64 (long mode).
enum class CodeSize : uint8_t { Bits16, Bits32, Bits64 };

class BlockCounter final {
public:
    BlockCounter();
    ~BlockCounter();
    BlockCounter(const BlockCounter&) = delete;
    BlockCounter& operator=(const BlockCounter&) = delete;

    struct Decoded {
        uint32_t instructions = 0;
        std::vector<std::pair<uint64_t, uint8_t>> tsc_reads;  // (address, length) of each RDTSC/RDTSCP
    };

    // The cached count for the block at `address` spanning `size` bytes, or
    // 0 when it is not known yet (then decode() it).
    uint32_t lookup(uint64_t address, uint32_t size)
    {
        // A small table of the blocks seen last in front of the big one:
        // the hot loops of a boot fit in it, and it fits the host's cache.
        Entry& near = m_near[near_slot(address)];
        if (near.address == address && near.size == size)
            return near.instructions;
        const Entry& e = m_entries[slot(address, size)];
        if (e.address != address || e.size != size)
            return 0;
        near = e;
        return e.instructions;
    }
    // Decodes the block's bytes (read by the caller at `address`) and
    // remembers its count.
    Decoded decode(uint64_t address, const uint8_t* bytes, uint32_t size, CodeSize mode = CodeSize::Bits64);

    // The instructions in `size` bytes of code at `address`, not remembered.
    uint32_t count(uint64_t address, const uint8_t* bytes, size_t size, CodeSize mode = CodeSize::Bits64) const;

    // Forgets the blocks that overlap [begin, end).
    void forget(uint64_t begin, uint64_t end);
    void forget_all();

private:
    struct Entry {
        uint64_t address = ~0ull;
        uint32_t size = 0;
        uint32_t instructions = 0;
    };
    static constexpr unsigned slot_bits = 18;  // 256 Ki entries, 4 MiB
    static size_t slot(uint64_t address, uint32_t size)
    {
        uint64_t h = (address ^ (uint64_t(size) << 40)) * 0x9e3779b97f4a7c15ull;
        return size_t(h >> (64 - slot_bits));
    }
    static constexpr unsigned near_bits = 14;  // 16 Ki entries, 256 KiB
    static size_t near_slot(uint64_t address) { return size_t((address ^ (address >> 12)) & ((1u << near_bits) - 1)); }
    void drop(Entry& e);
    std::vector<Entry> m_near;
    std::vector<Entry> m_entries;
    // The slots filled from each virtual page, for forget().
    std::unordered_map<uint64_t, std::vector<uint32_t>> m_slots_by_page;
    size_t m_capstone[3] = {};  // csh per CodeSize
};

}  // namespace bootsim
