#pragma once
// The x86 port-I/O space: devices registered on port ranges, each with a
// label for traces. Unassigned ports read as all ones (an ISA bus with
// nothing driving it) and are counted, never an error.

#include <cstdint>
#include <string>
#include <vector>

#include "core/bus_device.h"

namespace bootsim {

class IoBus final {
public:
    struct Mapping {
        uint16_t base;
        uint16_t length;
        BusDevice* device;
        std::string label;
    };

    // Returns false if the range overlaps an existing mapping.
    bool attach(uint16_t base, uint16_t length, BusDevice& device, std::string label);
    // Removes the device's mapping at `base` (a PCI BAR moving); false if none.
    bool detach(uint16_t base, const BusDevice& device);

    uint32_t read(uint16_t port, unsigned width);
    void write(uint16_t port, uint32_t value, unsigned width);

    const std::vector<Mapping>& mappings() const { return m_mappings; }
    uint64_t unassigned_reads() const { return m_unassigned_reads; }
    uint64_t unassigned_writes() const { return m_unassigned_writes; }

private:
    const Mapping* find(uint16_t port) const;
    std::vector<Mapping> m_mappings;
    uint64_t m_unassigned_reads = 0;
    uint64_t m_unassigned_writes = 0;
};

}  // namespace bootsim
