#include "devices/virtqueue.h"

#include <algorithm>

namespace bootsim {

namespace {

constexpr uint64_t vring_align = 4096;  // VIRTIO_PCI_VRING_ALIGN

// struct vring_desc flags and struct vring_avail flags (uapi/linux/virtio_ring.h).
constexpr uint16_t desc_f_next = 1;
constexpr uint16_t desc_f_write = 2;
constexpr uint16_t desc_f_indirect = 4;
constexpr uint16_t avail_f_no_interrupt = 1;

struct VringDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(VringDesc) == 16);

struct VringUsedElem {
    uint32_t id;
    uint32_t len;
};
static_assert(sizeof(VringUsedElem) == 8);

uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

uint64_t total_length(const std::vector<Virtqueue::Segment>& segments)
{
    uint64_t bytes = 0;
    for (const auto& segment : segments)
        bytes += segment.length;
    return bytes;
}

// Calls `copy(guest_address, offset_in_data, n)` for each piece of the
// `length` bytes that start `skip` bytes into the segments' concatenation;
// false if the segments are too short or a copy fails.
template <typename Copy>
bool for_each_piece(const std::vector<Virtqueue::Segment>& segments, uint64_t skip, uint64_t length, Copy copy)
{
    uint64_t done = 0;
    for (const auto& segment : segments) {
        if (done == length)
            break;
        if (skip >= segment.length) {
            skip -= segment.length;
            continue;
        }
        uint64_t n = std::min<uint64_t>(segment.length - skip, length - done);
        if (!copy(segment.address + skip, done, n))
            return false;
        done += n;
        skip = 0;
    }
    return done == length;
}

}  // namespace

uint64_t Virtqueue::Chain::readable_bytes() const
{
    return total_length(readable);
}

uint64_t Virtqueue::Chain::writable_bytes() const
{
    return total_length(writable);
}

void Virtqueue::set_pfn(uint32_t pfn)
{
    m_pfn = pfn;
    m_last_avail = 0;
    m_used_idx = 0;
    m_broken = false;
}

uint64_t Virtqueue::used_address() const
{
    // struct vring_avail: flags, idx, ring[num], used_event.
    return align_up(avail_address() + 2 * (3 + uint64_t(m_size)), vring_align);
}

std::optional<Virtqueue::Chain> Virtqueue::pop()
{
    if (!ready())
        return std::nullopt;
    uint64_t ring_end = used_address() + 2 * 3 + sizeof(VringUsedElem) * uint64_t(m_size);
    uint16_t avail_idx = 0;
    if (!m_memory.contains(desc_address(), ring_end - desc_address()) ||
        !m_memory.read_value(avail_address() + 2, avail_idx) || uint16_t(avail_idx - m_last_avail) > m_size) {
        m_broken = true;
        return std::nullopt;
    }
    if (avail_idx == m_last_avail)
        return std::nullopt;
    uint16_t head = 0;
    m_memory.read_value(avail_address() + 4 + 2 * uint64_t(m_last_avail % m_size), head);
    if (head >= m_size) {
        m_broken = true;
        return std::nullopt;
    }
    ++m_last_avail;
    return walk_chain(head);
}

void Virtqueue::push(uint16_t head, uint32_t length)
{
    if (!ready())
        return;
    uint64_t elem = used_address() + 4 + sizeof(VringUsedElem) * uint64_t(m_used_idx % m_size);
    m_memory.write_value(elem, VringUsedElem {head, length});
    ++m_used_idx;
    m_memory.write_value(used_address() + 2, m_used_idx);
}

bool Virtqueue::interrupts_wanted() const
{
    uint16_t avail_flags = 0;
    m_memory.read_value(avail_address(), avail_flags);
    return !(avail_flags & avail_f_no_interrupt);
}

Virtqueue::Chain Virtqueue::walk_chain(uint16_t head) const
{
    Chain chain;
    chain.head = head;
    uint16_t index = head;
    // A chain has at most size() descriptors (each is used once); one that
    // goes on is a loop.
    for (unsigned count = 0;; ++count) {
        VringDesc desc {};
        if (count == m_size || !m_memory.read_value(desc_address() + 16 * uint64_t(index), desc) ||
            (desc.flags & desc_f_indirect)) {  // VIRTIO_RING_F_INDIRECT_DESC is not offered
            chain.valid = false;
            break;
        }
        Segment segment {desc.addr, desc.len, (desc.flags & desc_f_write) != 0};
        // Keep walking past a bad buffer: a status byte at the end may
        // still be reachable to report the error.
        if (!m_memory.contains(segment.address, segment.length))
            chain.valid = false;
        if (segment.writable) {
            chain.writable.push_back(segment);
        } else {
            // Device-readable buffers come first, as virtqueue_add_split()
            // lays them out and the spec requires.
            if (!chain.writable.empty())
                chain.valid = false;
            chain.readable.push_back(segment);
        }
        if (!(desc.flags & desc_f_next))
            break;
        index = desc.next;
        if (index >= m_size) {
            chain.valid = false;
            break;
        }
    }
    return chain;
}

bool Virtqueue::gather(const std::vector<Segment>& segments, uint64_t skip, uint8_t* out, uint64_t length) const
{
    return for_each_piece(segments, skip, length, [&](uint64_t address, uint64_t offset, uint64_t n) {
        return m_memory.read(address, out + offset, n);
    });
}

bool Virtqueue::scatter(const std::vector<Segment>& segments, uint64_t skip, const uint8_t* in, uint64_t length)
{
    return for_each_piece(segments, skip, length, [&](uint64_t address, uint64_t offset, uint64_t n) {
        return m_memory.write(address, in + offset, n);
    });
}

}  // namespace bootsim
