#pragma once
// Reads a fuzz input as a sequence of small typed values, for the targets
// that drive a device or a consumer step by step: once the bytes run out
// every read returns zero, so any input is a complete program.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace bootsim::fuzz {

class FuzzInput {
public:
    FuzzInput(const uint8_t* data, size_t size) : m_data(data), m_size(size) {}

    bool empty() const { return m_pos >= m_size; }

    uint8_t byte() { return m_pos < m_size ? m_data[m_pos++] : 0; }

    // Little-endian, `bytes` (1-8) wide.
    uint64_t value(unsigned bytes)
    {
        uint64_t v = 0;
        for (unsigned i = 0; i < bytes; ++i)
            v |= uint64_t(byte()) << (8 * i);
        return v;
    }

    // Up to `max` bytes, as many as the next byte says.
    std::span<const uint8_t> bytes(size_t max)
    {
        size_t want = byte() % (max + 1);
        size_t have = m_pos < m_size ? m_size - m_pos : 0;
        size_t n = want < have ? want : have;
        std::span<const uint8_t> out(m_data + m_pos, n);
        m_pos += n;
        return out;
    }

    std::string text(size_t max)
    {
        auto b = bytes(max);
        return std::string(b.begin(), b.end());
    }

    // An access width the buses deliver: 1, 2 or 4.
    unsigned width()
    {
        static constexpr unsigned widths[] = {1, 2, 4};
        return widths[byte() % 3];
    }

private:
    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
};

}  // namespace bootsim::fuzz
