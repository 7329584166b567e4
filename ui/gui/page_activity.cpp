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
    // Fletcher's checksum over 64-bit words in eight independent lanes: two
    // additions a word, which the compiler turns into vector code, so a
    // sweep costs little more than reading the memory. The second sum
    // weighs each word by its position, so moved data changes it too.
    constexpr int lanes = 8;
    uint64_t a[lanes] = {}, b[lanes] = {};
    for (uint64_t i = 0; i < page_size; i += 8 * lanes) {
        uint64_t w[lanes];
        std::memcpy(w, bytes + i, sizeof w);
        for (int l = 0; l < lanes; ++l) {
            a[l] += w[l];
            b[l] += a[l];
        }
    }
    // Mix the lanes in order (which lane holds a sum matters), folding high
    // bits down after each multiply so that no bit is lost off the top.
    uint64_t h = 0x6a09e667f3bcc908ull;
    for (int l = 0; l < lanes; ++l) {
        h = (h ^ a[l]) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
        h = (h ^ b[l]) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    return h;
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
    // Below 1% the colour no longer shows: drop to zero.
    for (float& h : m_write)
        h = h * factor < 0.01f ? 0.0f : h * factor;
    for (float& h : m_exec)
        h = h * factor < 0.01f ? 0.0f : h * factor;
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
