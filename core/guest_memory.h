#pragma once
// Guest physical RAM: one host buffer, mapped into the CPU emulator as-is
// (uc_mem_map_ptr) and read directly by everyone else, the visualizer
// included, with bounds-checked accessors.

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>

#include "core/result.h"

namespace bootsim {

class GuestMemory final {
public:
    // Reserves `size` bytes (rounded up to 4 KiB) of zeroed host memory.
    static Result<GuestMemory*> create(uint64_t size);
    ~GuestMemory();
    GuestMemory(const GuestMemory&) = delete;
    GuestMemory& operator=(const GuestMemory&) = delete;

    uint64_t size() const { return m_size; }
    uint8_t* host_base() { return m_base; }
    std::span<const uint8_t> bytes() const { return {m_base, m_size}; }

    bool contains(uint64_t address, uint64_t length) const
    {
        return address <= m_size && length <= m_size - address;
    }

    // Bounds-checked copies; false (and nothing copied) when out of range.
    bool read(uint64_t address, void* out, uint64_t length) const;
    bool write(uint64_t address, const void* data, uint64_t length);

    // Told of every write made through write() (devices' DMA, the loader),
    // not of the CPU's own stores.
    void set_write_observer(std::function<void(uint64_t address, uint64_t length)> observer)
    {
        m_write_observer = std::move(observer);
    }

    template <typename T>
    bool read_value(uint64_t address, T& out) const { return read(address, &out, sizeof(T)); }
    template <typename T>
    bool write_value(uint64_t address, T value) { return write(address, &value, sizeof(T)); }

private:
    GuestMemory(uint8_t* base, uint64_t size) : m_base(base), m_size(size) {}
    uint8_t* m_base;
    uint64_t m_size;
    std::function<void(uint64_t, uint64_t)> m_write_observer;
};

}  // namespace bootsim
