#include "core/block_counter.h"

#include <capstone/capstone.h>

namespace bootsim {

BlockCounter::BlockCounter() : m_near(size_t(1) << near_bits), m_entries(size_t(1) << slot_bits)
{
    const cs_mode modes[] = {CS_MODE_16, CS_MODE_32, CS_MODE_64};
    for (size_t i = 0; i < 3; i++) {
        csh handle = 0;
        if (cs_open(CS_ARCH_X86, modes[i], &handle) == CS_ERR_OK)
            m_capstone[i] = handle;
    }
}

BlockCounter::~BlockCounter()
{
    for (size_t& h : m_capstone) {
        if (h) {
            csh handle = h;
            cs_close(&handle);
        }
    }
}

BlockCounter::Decoded BlockCounter::decode(uint64_t address, const uint8_t* bytes, uint32_t size, CodeSize mode)
{
    Decoded out;
    if (csh capstone = m_capstone[size_t(mode)]) {
        cs_insn* insn = cs_malloc(capstone);
        const uint8_t* code = bytes;
        size_t left = size;
        uint64_t at = address;
        while (left > 0 && cs_disasm_iter(capstone, &code, &left, &at, insn)) {
            ++out.instructions;
            if (insn->id == X86_INS_RDTSC || insn->id == X86_INS_RDTSCP)
                out.tsc_reads.emplace_back(insn->address, uint8_t(insn->size));
        }
        cs_free(insn, 1);
        // Bytes capstone cannot decode (a block ending in an instruction it
        // does not know) still count as one instruction.
        if (left > 0)
            ++out.instructions;
    }
    if (out.instructions == 0)
        out.instructions = 1;
    size_t s = slot(address, size);
    drop(m_entries[s]);  // the block that held the slot (its near copy with it)
    m_entries[s] = {address, size, out.instructions};
    m_near[near_slot(address)] = m_entries[s];
    m_slots_by_page[address >> 12].push_back(uint32_t(s));
    return out;
}

void BlockCounter::drop(Entry& e)
{
    // Every near entry is a copy of one in the big table: dropping the big
    // one drops the copy, so forgetting never has to look at the near table.
    Entry& near = m_near[near_slot(e.address)];
    if (near.address == e.address && near.size == e.size)
        near = Entry{};
    e = Entry{};
}

uint32_t BlockCounter::count(uint64_t address, const uint8_t* bytes, size_t size, CodeSize mode) const
{
    csh capstone = m_capstone[size_t(mode)];
    if (!capstone)
        return 0;
    cs_insn* insn = cs_malloc(capstone);
    uint32_t n = 0;
    while (size > 0 && cs_disasm_iter(capstone, &bytes, &size, &address, insn))
        ++n;
    cs_free(insn, 1);
    return n + (size > 0 ? 1 : 0);
}

void BlockCounter::forget(uint64_t begin, uint64_t end)
{
    if (end <= begin)
        return;
    // A block overlapping the range may start on the page before it (a
    // block is shorter than a page: QEMU stops translating at the second).
    uint64_t first_page = (begin >> 12) - ((begin >> 12) ? 1 : 0), last_page = (end - 1) >> 12;
    // A wide range (all of user space) walks the pages known, not the range.
    std::vector<uint64_t> pages;
    if (last_page - first_page > m_slots_by_page.size()) {
        for (const auto& [page, slots] : m_slots_by_page)
            if (page >= first_page && page <= last_page)
                pages.push_back(page);
    } else {
        for (uint64_t page = first_page; page <= last_page; ++page)
            pages.push_back(page);
    }
    for (uint64_t page : pages) {
        auto it = m_slots_by_page.find(page);
        if (it == m_slots_by_page.end())
            continue;
        std::vector<uint32_t>& slots = it->second;
        std::vector<uint32_t> kept;
        for (uint32_t s : slots) {
            Entry& e = m_entries[s];
            if (e.address >> 12 != page)
                continue;  // the slot holds another block now
            if (e.address < end && e.address + e.size > begin)
                drop(e);
            else
                kept.push_back(s);
        }
        if (kept.empty())
            m_slots_by_page.erase(it);
        else
            slots = std::move(kept);
    }
}

void BlockCounter::forget_all()
{
    std::fill(m_near.begin(), m_near.end(), Entry{});
    std::fill(m_entries.begin(), m_entries.end(), Entry{});
    m_slots_by_page.clear();
}

}  // namespace bootsim
