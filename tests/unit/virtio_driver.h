#pragma once
// What a virtio driver does with a device, for the device tests: split
// rings in the legacy layout filled as virtqueue_add_split() fills them,
// and the PCI configuration space read through mechanism #1.

#include <cstdint>
#include <vector>

#include "core/guest_memory.h"
#include "core/io_bus.h"
#include "devices/pci_host.h"

namespace bootsim::test {

// Legacy header (uapi/linux/virtio_pci.h).
constexpr uint64_t HOST_FEATURES = 0x00, GUEST_FEATURES = 0x04, QUEUE_PFN = 0x08, QUEUE_NUM = 0x0c,
                   QUEUE_SEL = 0x0e, QUEUE_NOTIFY = 0x10, STATUS = 0x12, ISR = 0x13, CONFIG = 0x14;
// Device status bits (uapi/linux/virtio_config.h).
constexpr uint8_t S_ACKNOWLEDGE = 1, S_DRIVER = 2, S_DRIVER_OK = 4;

// One buffer of a descriptor chain.
struct Desc {
    uint64_t addr;
    uint32_t len;
    bool write;
};

// A driver's side of one virtqueue whose ring is at `pfn` * 4096: 256
// descriptors, the available ring after them, the used ring on the page
// after that (VIRTIO_PCI_VRING_ALIGN).
class DriverRing {
public:
    static constexpr uint16_t size = 256;

    DriverRing(GuestMemory& memory, uint32_t pfn) : m_memory(memory), m_pfn(pfn) {}

    uint32_t pfn() const { return m_pfn; }
    uint64_t desc_base() const { return uint64_t(m_pfn) << 12; }
    uint64_t avail_base() const { return desc_base() + 16 * uint64_t(size); }
    uint64_t used_base() const { return desc_base() + 0x2000; }

    // Descriptors from the next free one on, linked in order, the head
    // published in the available ring; returns the head.
    uint16_t add(const std::vector<Desc>& chain)
    {
        constexpr uint16_t f_next = 1, f_write = 2;
        uint16_t head = m_next_desc;
        for (size_t i = 0; i < chain.size(); ++i) {
            uint16_t index = uint16_t((head + i) % size);
            uint64_t at = desc_base() + 16 * uint64_t(index);
            bool last = i + 1 == chain.size();
            m_memory.write_value(at, chain[i].addr);
            m_memory.write_value(at + 8, chain[i].len);
            m_memory.write_value(at + 12, uint16_t((last ? 0 : f_next) | (chain[i].write ? f_write : 0)));
            m_memory.write_value(at + 14, uint16_t((index + 1) % size));
        }
        m_next_desc = uint16_t((head + chain.size()) % size);
        m_memory.write_value(avail_base() + 4 + 2 * uint64_t(m_avail_idx % size), head);
        ++m_avail_idx;
        m_memory.write_value(avail_base() + 2, m_avail_idx);
        return head;
    }

    uint16_t used_idx() const { return read<uint16_t>(used_base() + 2); }
    uint32_t used_id(uint16_t i) const { return read<uint32_t>(used_base() + 4 + 8 * uint64_t(i % size)); }
    uint32_t used_len(uint16_t i) const { return read<uint32_t>(used_base() + 8 + 8 * uint64_t(i % size)); }

private:
    template <typename T>
    T read(uint64_t at) const
    {
        T value {};
        m_memory.read_value(at, value);
        return value;
    }

    GuestMemory& m_memory;
    uint32_t m_pfn;
    uint16_t m_next_desc = 0;
    uint16_t m_avail_idx = 0;
};

// Bus 0 with the host bridge and `function` at `slot`, read and written
// the way Linux's pci_conf1 does.
class PciConfigSpace {
public:
    PciConfigSpace(PciFunction& function, uint8_t slot) : m_slot(slot)
    {
        m_io.attach(0xcf8, 8, m_host, "PCI conf1");
        m_host.attach(0, m_bridge);
        m_host.attach(slot, function);
    }
    uint32_t read(unsigned reg, unsigned width)
    {
        select(reg);
        return m_io.read(uint16_t(0xcfc + (reg & 3)), width);
    }
    void write(unsigned reg, uint32_t value, unsigned width)
    {
        select(reg);
        m_io.write(uint16_t(0xcfc + (reg & 3)), value, width);
    }

private:
    void select(unsigned reg) { m_io.write(0xcf8, 0x80000000u | uint32_t(m_slot) << 11 | (reg & 0xfc), 4); }

    IoBus m_io;
    PciHost m_host;
    PciHostBridge m_bridge;
    uint8_t m_slot;
};

}  // namespace bootsim::test
