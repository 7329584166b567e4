#include "devices/virtio_blk.h"

#include <algorithm>
#include <cstring>

namespace bootsim {

namespace {

// Legacy header offsets (Linux's include/uapi/linux/virtio_pci.h).
constexpr uint64_t reg_host_features = 0x00;
constexpr uint64_t reg_guest_features = 0x04;
constexpr uint64_t reg_queue_pfn = 0x08;
constexpr uint64_t reg_queue_num = 0x0c;
constexpr uint64_t reg_queue_sel = 0x0e;
constexpr uint64_t reg_queue_notify = 0x10;
constexpr uint64_t reg_status = 0x12;
constexpr uint64_t reg_isr = 0x13;
constexpr uint64_t reg_config = 0x14;  // without MSI-X (VIRTIO_PCI_CONFIG_OFF(false))

constexpr unsigned queue_pfn_shift = 12;  // VIRTIO_PCI_QUEUE_ADDR_SHIFT
constexpr uint64_t vring_align = 4096;    // VIRTIO_PCI_VRING_ALIGN

// Feature bits offered (uapi/linux/virtio_blk.h, virtio_config.h).
constexpr uint32_t blk_f_seg_max = 1u << 2;
constexpr uint32_t blk_f_ro = 1u << 5;
constexpr uint32_t blk_f_blk_size = 1u << 6;
constexpr uint32_t blk_f_flush = 1u << 9;
constexpr uint32_t f_any_layout = 1u << 27;

constexpr uint8_t isr_queue = 0x01;

// struct vring_desc flags (uapi/linux/virtio_ring.h).
constexpr uint16_t desc_f_next = 1;
constexpr uint16_t desc_f_write = 2;
constexpr uint16_t desc_f_indirect = 4;
constexpr uint16_t avail_f_no_interrupt = 1;

// Request types and status values (uapi/linux/virtio_blk.h).
constexpr uint32_t blk_t_in = 0;
constexpr uint32_t blk_t_out = 1;
constexpr uint32_t blk_t_flush = 4;
constexpr uint32_t blk_t_get_id = 8;
constexpr uint8_t blk_s_ok = 0;
constexpr uint8_t blk_s_ioerr = 1;
constexpr uint8_t blk_s_unsupp = 2;
constexpr uint64_t blk_id_bytes = 20;   // VIRTIO_BLK_ID_BYTES
constexpr uint64_t outhdr_size = 16;    // struct virtio_blk_outhdr

constexpr uint64_t sector_size = DiskImage::sector_size;
constexpr size_t bounce_size = 64 * 1024;

// struct virtio_blk_config offsets used here.
constexpr size_t config_capacity = 0;
constexpr size_t config_seg_max = 12;
constexpr size_t config_blk_size = 20;
constexpr size_t config_size = VirtioBlk::io_size - reg_config;

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

}  // namespace

VirtioBlk::VirtioBlk(DiskImage& disk, GuestMemory& memory, IrqLine& intx, std::string serial)
    : PciFunction(
          PciIdentity {
              .vendor = 0x1af4,        // Red Hat / Qumranet, virtio
              .device = 0x1001,        // transitional virtio-blk: 0x1000 + type - 1
              .class_code = 0x010000,  // mass storage, SCSI (as QEMU's virtio-blk-pci)
              .revision = 0,           // VIRTIO_PCI_ABI_VERSION: vp_legacy_probe() insists
              .subsystem_vendor = 0x1af4,
              .subsystem = 2,          // virtio device type: block
              .interrupt_pin = 1,      // INTA#
          },
          &intx)
    , m_disk(disk)
    , m_memory(memory)
    , m_serial(std::move(serial))
    , m_config(config_size, 0)
{
    declare_io_bar(0, io_size);
    auto put32 = [this](size_t at, uint32_t v) {
        for (size_t i = 0; i < 4; ++i)
            m_config[at + i] = uint8_t(v >> (8 * i));
    };
    uint64_t capacity = m_disk.sectors();
    put32(config_capacity, uint32_t(capacity));
    put32(config_capacity + 4, uint32_t(capacity >> 32));
    // Without indirect descriptors a request's header, data segments and
    // status must all fit in the ring; Linux warns in virtqueue_add_split()
    // otherwise.
    put32(config_seg_max, seg_max);
    put32(config_blk_size, uint32_t(sector_size));
    m_bounce.resize(bounce_size);
    reset_device();
}

uint32_t VirtioBlk::host_features() const
{
    uint32_t features = blk_f_seg_max | blk_f_blk_size | blk_f_flush | f_any_layout;
    if (m_disk.read_only())
        features |= blk_f_ro;
    return features;
}

void VirtioBlk::reset()
{
    reset_config();
    reset_device();
}

void VirtioBlk::reset_device()
{
    m_guest_features = 0;
    m_queue_pfn = 0;
    m_queue_select = 0;
    m_status = 0;
    m_isr = 0;
    m_last_avail = 0;
    m_used_idx = 0;
    m_broken = false;
    update_irq();
}

uint8_t VirtioBlk::register_byte(uint64_t offset) const
{
    auto byte_of = [](uint32_t value, uint64_t index) { return uint8_t(value >> (8 * index)); };
    bool queue0 = m_queue_select == 0;
    if (offset < reg_guest_features)
        return byte_of(host_features(), offset - reg_host_features);
    if (offset < reg_queue_pfn)
        return byte_of(m_guest_features, offset - reg_guest_features);
    if (offset < reg_queue_num)
        return byte_of(queue0 ? m_queue_pfn : 0, offset - reg_queue_pfn);
    if (offset < reg_queue_sel)
        return byte_of(queue0 ? queue_size : 0, offset - reg_queue_num);
    if (offset < reg_queue_notify)
        return byte_of(m_queue_select, offset - reg_queue_sel);
    if (offset < reg_status)
        return 0;
    if (offset == reg_status)
        return m_status;
    if (offset == reg_isr)
        return m_isr;
    if (offset - reg_config < m_config.size())
        return m_config[offset - reg_config];
    return 0xff;
}

uint32_t VirtioBlk::read(uint64_t offset, unsigned width)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < width; ++i)
        value |= uint32_t(register_byte(offset + i)) << (8 * i);
    // Reading ISR acknowledges the interrupt (virtio 0.9.5, "ISR status").
    if (offset <= reg_isr && reg_isr < offset + width) {
        m_isr = 0;
        update_irq();
    }
    return value;
}

void VirtioBlk::write(uint64_t offset, uint32_t value, unsigned)
{
    // The driver writes each register at its own offset and width; other
    // writes (to read-only registers, the middle of a register, the
    // device configuration) are ignored.
    switch (offset) {
    case reg_guest_features:
        m_guest_features = value & host_features();
        break;
    case reg_queue_pfn:
        if (m_queue_select != 0)
            break;
        // A new ring, or none: start from its beginning.
        m_queue_pfn = value;
        m_last_avail = 0;
        m_used_idx = 0;
        m_broken = false;
        break;
    case reg_queue_sel:
        m_queue_select = uint16_t(value);
        break;
    case reg_queue_notify:
        if (uint16_t(value) == 0)
            process_queue();
        break;
    case reg_status:
        m_status = uint8_t(value);
        if (m_status == 0)
            reset_device();
        break;
    default:
        break;
    }
}

uint64_t VirtioBlk::used_address() const
{
    // struct vring_avail: flags, idx, ring[num], used_event.
    return align_up(avail_address() + 2 * (3 + uint64_t(queue_size)), vring_align);
}

void VirtioBlk::process_queue()
{
    if (m_queue_pfn == 0 || m_broken)
        return;
    uint64_t ring_end = used_address() + 2 * 3 + sizeof(VringUsedElem) * uint64_t(queue_size);
    uint16_t avail_idx = 0;
    if (!m_memory.contains(desc_address(), ring_end - desc_address()) ||
        !m_memory.read_value(avail_address() + 2, avail_idx) ||
        uint16_t(avail_idx - m_last_avail) > queue_size) {
        m_broken = true;
        return;
    }

    bool completed = false;
    while (m_last_avail != avail_idx) {
        uint16_t head = 0;
        m_memory.read_value(avail_address() + 4 + 2 * uint64_t(m_last_avail % queue_size), head);
        if (head >= queue_size) {
            m_broken = true;
            break;
        }
        uint32_t used_length = process_request(head);
        uint64_t elem = used_address() + 4 + sizeof(VringUsedElem) * uint64_t(m_used_idx % queue_size);
        m_memory.write_value(elem, VringUsedElem {head, used_length});
        ++m_used_idx;
        m_memory.write_value(used_address() + 2, m_used_idx);
        ++m_last_avail;
        completed = true;
    }

    uint16_t avail_flags = 0;
    m_memory.read_value(avail_address(), avail_flags);
    if (completed && !(avail_flags & avail_f_no_interrupt)) {
        m_isr |= isr_queue;
        update_irq();
    }
}

VirtioBlk::Chain VirtioBlk::walk_chain(uint16_t head) const
{
    Chain chain;
    uint16_t index = head;
    // A chain has at most queue_size descriptors (each is used once); one
    // that goes on is a loop.
    for (unsigned count = 0;; ++count) {
        VringDesc desc {};
        if (count == queue_size || !m_memory.read_value(desc_address() + 16 * uint64_t(index), desc) ||
            (desc.flags & desc_f_indirect)) {  // VIRTIO_RING_F_INDIRECT_DESC is not offered
            chain.valid = false;
            break;
        }
        Segment segment {desc.addr, desc.len, (desc.flags & desc_f_write) != 0};
        // Keep walking past a bad buffer: the status byte at the end may
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
        if (index >= queue_size) {
            chain.valid = false;
            break;
        }
    }
    return chain;
}

// Calls `copy(guest_address, offset_in_data, n)` for each piece of the
// `length` bytes that start `skip` bytes into the segments' concatenation;
// false if the segments are too short or a copy fails.
template <typename Segments, typename Copy>
static bool for_each_piece(const Segments& segments, uint64_t skip, uint64_t length, Copy copy)
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

bool VirtioBlk::gather(const std::vector<Segment>& segments, uint64_t skip, uint8_t* out, uint64_t length) const
{
    return for_each_piece(segments, skip, length, [&](uint64_t address, uint64_t offset, uint64_t n) {
        return m_memory.read(address, out + offset, n);
    });
}

bool VirtioBlk::scatter(const std::vector<Segment>& segments, uint64_t skip, const uint8_t* in, uint64_t length)
{
    return for_each_piece(segments, skip, length, [&](uint64_t address, uint64_t offset, uint64_t n) {
        return m_memory.write(address, in + offset, n);
    });
}

uint32_t VirtioBlk::process_request(uint16_t head)
{
    Chain chain = walk_chain(head);

    // The status byte is the last byte of the last writable buffer; the
    // writable bytes before it are the data a read returns.
    if (chain.writable.empty() || chain.writable.back().length == 0) {
        if (m_observer)
            m_observer(DiskRequest {.kind = DiskRequest::Kind::Unsupported});
        return 0;  // nowhere to report anything
    }
    Segment& last = chain.writable.back();
    uint64_t status_address = last.address + last.length - 1;
    last.length -= 1;
    std::vector<Segment>& data_in = chain.writable;

    uint64_t readable_bytes = 0;
    for (const Segment& segment : chain.readable)
        readable_bytes += segment.length;
    uint64_t writable_bytes = 0;
    for (const Segment& segment : data_in)
        writable_bytes += segment.length;

    struct {
        uint32_t type;
        uint32_t ioprio;
        uint64_t sector;
    } header {};
    static_assert(sizeof(header) == outhdr_size);
    bool have_header = readable_bytes >= outhdr_size &&
                       gather(chain.readable, 0, reinterpret_cast<uint8_t*>(&header), outhdr_size);

    DiskRequest request {.kind = DiskRequest::Kind::Unsupported, .sector = header.sector};
    uint8_t status = blk_s_ioerr;
    uint64_t written = 0;  // data bytes placed in the guest's buffers

    auto in_range = [this](uint64_t sector, uint64_t bytes) {
        return bytes % sector_size == 0 && sector <= m_disk.sectors() &&
               bytes / sector_size <= m_disk.sectors() - sector;
    };

    // A chain with a buffer outside RAM (or malformed) fails as a whole,
    // before any I/O: a write never reaches the disk half done.
    if (have_header) {
        switch (header.type) {
        case blk_t_in: {
            request.kind = DiskRequest::Kind::Read;
            request.bytes = writable_bytes;
            if (!chain.valid || !in_range(header.sector, writable_bytes))
                break;
            bool ok = true;
            while (ok && written < writable_bytes) {
                uint64_t n = std::min<uint64_t>(writable_bytes - written, m_bounce.size());
                std::span<uint8_t> chunk(m_bounce.data(), n);
                ok = m_disk.read(header.sector + written / sector_size, chunk).ok() &&
                     scatter(data_in, written, chunk.data(), n);
                if (ok)
                    written += n;
            }
            if (ok)
                status = blk_s_ok;
            break;
        }
        case blk_t_out: {
            request.kind = DiskRequest::Kind::Write;
            uint64_t bytes = readable_bytes - outhdr_size;
            request.bytes = bytes;
            if (!chain.valid || !in_range(header.sector, bytes))
                break;
            bool ok = true;
            for (uint64_t done = 0; ok && done < bytes;) {
                uint64_t n = std::min<uint64_t>(bytes - done, m_bounce.size());
                std::span<const uint8_t> chunk(m_bounce.data(), n);
                ok = gather(chain.readable, outhdr_size + done, m_bounce.data(), n) &&
                     m_disk.write(header.sector + done / sector_size, chunk).ok();
                done += n;
            }
            if (ok)
                status = blk_s_ok;
            break;
        }
        case blk_t_flush:
            request.kind = DiskRequest::Kind::Flush;
            request.sector = 0;
            if (chain.valid && m_disk.flush().ok())
                status = blk_s_ok;
            break;
        case blk_t_get_id: {
            // The serial number, NUL-padded to 20 bytes, as much as fits.
            request.kind = DiskRequest::Kind::GetId;
            request.sector = 0;
            uint8_t id[blk_id_bytes] = {};
            std::memcpy(id, m_serial.data(), std::min<size_t>(m_serial.size(), blk_id_bytes));
            uint64_t n = std::min<uint64_t>(writable_bytes, blk_id_bytes);
            request.bytes = n;
            if (chain.valid && scatter(data_in, 0, id, n)) {
                written = n;
                status = blk_s_ok;
            }
            break;
        }
        default:
            request.sector = 0;
            status = chain.valid ? blk_s_unsupp : blk_s_ioerr;
            break;
        }
    }

    request.ok = status == blk_s_ok;
    if (m_observer)
        m_observer(request);
    if (!m_memory.write_value(status_address, status))
        return uint32_t(written);
    return uint32_t(written + 1);
}

void VirtioBlk::update_irq()
{
    set_intx(m_isr != 0);
}

}  // namespace bootsim
