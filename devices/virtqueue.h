#pragma once
// One virtqueue in guest RAM, split ring in the legacy (virtio 0.9.5)
// layout: descriptors at PFN * 4096, the available ring right after them,
// the used ring at the next 4096-byte boundary (VIRTIO_PCI_VRING_ALIGN).
// The device side only: take the chains the driver made available, give
// them back through the used ring. Shared by every virtio device.
//
// Guest mistakes never reach the host: every guest address goes through
// GuestMemory's bounds checks, a descriptor chain is cut at the queue size
// (a loop ends there), and a ring the device cannot read, a head index past
// the queue, or an available index that runs more than a queue ahead stops
// the queue until it is set up again, as QEMU's virtio_error() does.
// Not thread-safe: the thread that runs the guest uses it.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/guest_memory.h"

namespace bootsim {

class Virtqueue final {
public:
    // One guest buffer of a descriptor chain.
    struct Segment {
        uint64_t address;
        uint32_t length;
        bool writable;
    };
    // A request, as the chain that starts at `head` describes it.
    struct Chain {
        uint16_t head = 0;
        std::vector<Segment> readable;  // device-readable buffers, in order
        std::vector<Segment> writable;  // then the device-writable ones
        // false: a loop, a bad index, a readable buffer after a writable
        // one, an indirect descriptor, or a buffer outside RAM
        bool valid = true;

        uint64_t readable_bytes() const;
        uint64_t writable_bytes() const;
    };

    Virtqueue(GuestMemory& memory, uint16_t size) : m_memory(memory), m_size(size) {}

    uint16_t size() const { return m_size; }
    uint32_t pfn() const { return m_pfn; }
    // A new ring at `pfn` * 4096, or none (0): start from its beginning.
    void set_pfn(uint32_t pfn);
    void reset() { set_pfn(0); }
    // The ring is set up and usable.
    bool ready() const { return m_pfn != 0 && !m_broken; }
    // The queue stopped on a ring it could not use.
    bool broken() const { return m_broken; }

    // The next chain the driver made available, or nothing (none waiting,
    // no ring, or the ring broke just now).
    std::optional<Chain> pop();
    // Hands the chain that started at `head` back, `length` bytes written
    // into its writable buffers.
    void push(uint16_t head, uint32_t length);
    // Whether the driver wants an interrupt for used buffers (it has not
    // set VRING_AVAIL_F_NO_INTERRUPT).
    bool interrupts_wanted() const;

    // Copies between a list of guest buffers, seen as one byte stream from
    // `skip` on, and host bytes. False if a buffer is outside RAM or the
    // buffers are too short.
    bool gather(const std::vector<Segment>& segments, uint64_t skip, uint8_t* out, uint64_t length) const;
    bool scatter(const std::vector<Segment>& segments, uint64_t skip, const uint8_t* in, uint64_t length);

private:
    Chain walk_chain(uint16_t head) const;
    uint64_t desc_address() const { return uint64_t(m_pfn) << 12; }
    uint64_t avail_address() const { return desc_address() + 16 * uint64_t(m_size); }
    uint64_t used_address() const;

    GuestMemory& m_memory;
    uint16_t m_size;
    uint32_t m_pfn = 0;
    uint16_t m_last_avail = 0;  // next available-ring entry to take
    uint16_t m_used_idx = 0;    // the used ring's idx, which only the device writes
    bool m_broken = false;
};

}  // namespace bootsim
