#include "ui/gui/page_activity.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bootsim::gui {

namespace {
constexpr uint64_t page_size = 4096;
}

PageActivity::PageActivity(uint64_t mem_size, double half_life_seconds)
    : m_half_life(half_life_seconds), m_hash(mem_size / page_size), m_write(m_hash.size()),
      m_exec(m_hash.size()), m_since(m_hash.size())
{
}

uint64_t PageActivity::hash_page(const uint8_t* bytes)
{
    // Four independent multiply-xor lanes over 64-bit words: fast enough to
    // sweep hundreds of MiB a second on one core, and any changed word
    // changes the result with overwhelming likelihood.
    uint64_t lane[4] = {0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0x27d4eb2f165667c5ull};
    for (uint64_t i = 0; i < page_size; i += 32) {
        for (int l = 0; l < 4; ++l) {
            uint64_t w;
            std::memcpy(&w, bytes + i + 8 * l, 8);
            lane[l] = (lane[l] ^ w) * 0xff51afd7ed558ccdull;
            lane[l] ^= lane[l] >> 29;
        }
    }
    return lane[0] ^ (lane[1] << 1 | lane[1] >> 63) ^ (lane[2] << 2 | lane[2] >> 62) ^ (lane[3] << 3 | lane[3] >> 61);
}

void PageActivity::sample_writes(std::span<const uint8_t> ram, uint64_t max_pages)
{
    uint64_t pages = std::min<uint64_t>(m_hash.size(), ram.size() / page_size);
    if (pages == 0)
        return;
    for (uint64_t n = 0; n < max_pages && n < pages; ++n) {
        if (m_cursor >= pages) {
            m_cursor = 0;
            m_primed = true;
        }
        uint64_t h = hash_page(ram.data() + m_cursor * page_size);
        if (m_primed && h != m_hash[m_cursor]) {
            m_write[m_cursor] = 1.0f;
            m_since[m_cursor] = 1;
        }
        m_hash[m_cursor] = h;
        ++m_cursor;
    }
}

void PageActivity::mark_executed(uint64_t physical_address)
{
    uint64_t page = physical_address / page_size;
    if (page < m_exec.size())
        m_exec[page] = 1.0f;
}

void PageActivity::decay(double seconds)
{
    if (seconds <= 0)
        return;
    float factor = float(std::exp2(-seconds / m_half_life));
    for (float& h : m_write)
        h = h < 0.01f ? 0.0f : h * factor;
    for (float& h : m_exec)
        h = h < 0.01f ? 0.0f : h * factor;
}

void PageActivity::mark_epoch()
{
    std::fill(m_since.begin(), m_since.end(), 0);
}

uint64_t PageActivity::pages_written_since_epoch(uint64_t first_page, uint64_t end_page) const
{
    end_page = std::min<uint64_t>(end_page, m_since.size());
    uint64_t n = 0;
    for (uint64_t p = first_page; p < end_page; ++p)
        n += m_since[p];
    return n;
}

}  // namespace bootsim::gui
