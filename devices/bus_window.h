#pragma once
// A view of another device's registers starting at a fixed offset, for a
// chip whose ports are not contiguous: the board maps I8042 at 0x60 and a
// BusWindow(i8042, 4) at 0x64, leaving 0x61 to System Control Port B.

#include <cstdint>

#include "core/bus_device.h"

namespace bootsim {

class BusWindow final : public BusDevice {
public:
    BusWindow(BusDevice& device, uint64_t offset)
        : m_device(device)
        , m_offset(offset)
    {
    }

    const char* name() const override { return m_device.name(); }
    uint32_t read(uint64_t offset, unsigned width) override
    {
        return m_device.read(m_offset + offset, width);
    }
    void write(uint64_t offset, uint32_t value, unsigned width) override
    {
        m_device.write(m_offset + offset, value, width);
    }
    // Resetting the device is its own mapping's job, not the window's.

private:
    BusDevice& m_device;
    uint64_t m_offset;
};

}  // namespace bootsim
