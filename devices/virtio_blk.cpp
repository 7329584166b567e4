#include "devices/virtio_blk.h"

#include <algorithm>
#include <cstring>

namespace bootsim {

namespace {

constexpr uint16_t virtio_type_block = 2;
constexpr uint32_t class_mass_storage_scsi = 0x010000;  // as QEMU's virtio-blk-pci

// Feature bits offered (uapi/linux/virtio_blk.h, virtio_config.h).
constexpr uint32_t blk_f_seg_max = 1u << 2;
constexpr uint32_t blk_f_ro = 1u << 5;
constexpr uint32_t blk_f_blk_size = 1u << 6;
constexpr uint32_t blk_f_flush = 1u << 9;
constexpr uint32_t f_any_layout = 1u << 27;

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
constexpr size_t config_size = VirtioBlk::io_size - VirtioPciLegacy::config_offset;

}  // namespace

VirtioBlk::VirtioBlk(DiskImage& disk, GuestMemory& memory, IrqLine& intx, std::string serial)
    : VirtioPciLegacy(virtio_type_block, class_mass_storage_scsi, memory, intx, {queue_size}, config_size)
    , m_disk(disk)
    , m_serial(std::move(serial))
{
    auto put32 = [this](size_t at, uint32_t v) {
        for (size_t i = 0; i < 4; ++i)
            config()[at + i] = uint8_t(v >> (8 * i));
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
}

uint32_t VirtioBlk::host_features() const
{
    uint32_t features = blk_f_seg_max | blk_f_blk_size | blk_f_flush | f_any_layout;
    if (m_disk.read_only())
        features |= blk_f_ro;
    return features;
}

void VirtioBlk::queue_notified(uint16_t)
{
    Virtqueue& ring = queue(0);
    bool completed = false;
    while (auto chain = ring.pop()) {
        uint32_t used_length = process_request(*chain);
        ring.push(chain->head, used_length);
        completed = true;
    }
    if (completed)
        used_buffers(ring);
}

uint32_t VirtioBlk::process_request(Virtqueue::Chain& chain)
{
    Virtqueue& ring = queue(0);

    // The status byte is the last byte of the last writable buffer; the
    // writable bytes before it are the data a read returns.
    if (chain.writable.empty() || chain.writable.back().length == 0) {
        if (m_observer)
            m_observer(DiskRequest {.kind = DiskRequest::Kind::Unsupported});
        return 0;  // nowhere to report anything
    }
    Virtqueue::Segment& last = chain.writable.back();
    uint64_t status_address = last.address + last.length - 1;
    last.length -= 1;
    std::vector<Virtqueue::Segment>& data_in = chain.writable;

    uint64_t readable_bytes = chain.readable_bytes();
    uint64_t writable_bytes = chain.writable_bytes();

    struct {
        uint32_t type;
        uint32_t ioprio;
        uint64_t sector;
    } header {};
    static_assert(sizeof(header) == outhdr_size);
    bool have_header = readable_bytes >= outhdr_size &&
                       ring.gather(chain.readable, 0, reinterpret_cast<uint8_t*>(&header), outhdr_size);

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
                     ring.scatter(data_in, written, chunk.data(), n);
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
                ok = ring.gather(chain.readable, outhdr_size + done, m_bounce.data(), n) &&
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
            if (chain.valid && ring.scatter(data_in, 0, id, n)) {
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
    if (!memory().write_value(status_address, status))
        return uint32_t(written);
    return uint32_t(written + 1);
}

}  // namespace bootsim
