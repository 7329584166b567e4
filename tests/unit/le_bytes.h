#pragma once
// Little-endian stores and loads into byte buffers, for tests that build
// binary formats (bzImage headers, ELF files, kallsyms tables) by hand.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bootsim::fake {

using Bytes = std::vector<uint8_t>;

template <typename T>
void put_le(Bytes& b, size_t at, T v)
{
    for (size_t i = 0; i < sizeof(T); ++i)
        b[at + i] = uint8_t(uint64_t(v) >> (8 * i));
}
template <typename T>
T get_le(const Bytes& b, size_t at)
{
    uint64_t v = 0;
    for (size_t i = sizeof(T); i-- > 0;)
        v = v << 8 | b[at + i];
    return T(v);
}

inline void put8(Bytes& b, size_t at, uint8_t v) { b[at] = v; }
inline void put16(Bytes& b, size_t at, uint16_t v) { put_le(b, at, v); }
inline void put32(Bytes& b, size_t at, uint32_t v) { put_le(b, at, v); }
inline void put64(Bytes& b, size_t at, uint64_t v) { put_le(b, at, v); }
inline uint16_t get16(const Bytes& b, size_t at) { return get_le<uint16_t>(b, at); }
inline uint32_t get32(const Bytes& b, size_t at) { return get_le<uint32_t>(b, at); }
inline uint64_t get64(const Bytes& b, size_t at) { return get_le<uint64_t>(b, at); }

}  // namespace bootsim::fake
