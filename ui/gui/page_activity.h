#pragma once
// Which guest pages were written or executed recently, learned by sampling:
// the GUI thread hashes guest RAM a slice at a time and compares with the
// last hash of each page, and marks the page RIP was in at each snapshot.
// No hook in the guest's path, so the picture costs the guest nothing.
// Heat is 1 when activity is seen and decays by half every `half_life`.

#include <cstdint>
#include <span>
#include <vector>

namespace bootsim::gui {

class PageActivity {
public:
    PageActivity(uint64_t mem_size, double half_life_seconds);

    uint64_t pages() const { return m_hash.size(); }

    // Hashes up to `max_pages` pages of `ram`, continuing where the last
    // call stopped and wrapping around. A page whose contents changed since
    // its last sample is marked written. The first sweep only learns.
    void sample_writes(std::span<const uint8_t> ram, uint64_t max_pages);
    // Whether the first sweep over all of RAM is done.
    bool primed() const { return m_primed; }

    void mark_executed(uint64_t physical_address);

    // Lets `seconds` pass: heat decays.
    void decay(double seconds);

    float write_heat(uint64_t page) const { return page < m_write.size() ? m_write[page] : 0; }
    float exec_heat(uint64_t page) const { return page < m_exec.size() ? m_exec[page] : 0; }

    // Pages written since mark_epoch(): the decompressor's output filling in.
    void mark_epoch();
    bool written_since_epoch(uint64_t page) const { return page < m_since.size() && m_since[page]; }
    uint64_t pages_written_since_epoch(uint64_t first_page, uint64_t end_page) const;

    // The hash used to tell pages apart (exposed for the tests).
    static uint64_t hash_page(const uint8_t* bytes);

private:
    double m_half_life;
    std::vector<uint64_t> m_hash;
    std::vector<float> m_write, m_exec;
    std::vector<uint8_t> m_since;
    uint64_t m_cursor = 0;
    bool m_primed = false;
};

}  // namespace bootsim::gui
