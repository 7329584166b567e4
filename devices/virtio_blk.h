#pragma once
// A virtio block device (virtio device type 2) behind the legacy virtio-pci
// transport (devices/virtio_pci_legacy.h): PCI 1af4:1001, class mass
// storage, BAR0 of 64 bytes whose device configuration is struct
// virtio_blk_config: capacity (u64, sectors), size_max, seg_max, geometry,
// blk_size, ... read-only. One virtqueue of 256 entries.
//
// Requests (virtio 0.9.5 appendix D; Linux's uapi/linux/virtio_blk.h):
// struct virtio_blk_outhdr {le32 type; le32 ioprio; le64 sector} in
// driver-readable buffers, then the data (readable for a write, writable
// for a read), then one writable status byte. The layout across
// descriptors does not matter (VIRTIO_F_ANY_LAYOUT). Supported types: IN
// (0), OUT (1), FLUSH (4), GET_ID (8); others get VIRTIO_BLK_S_UNSUPP.
// Requests are carried out synchronously when the guest writes queue
// notify (the board calls from the CPU thread).
//
// Guest mistakes never reach the host: a buffer outside RAM fails its
// request with VIRTIO_BLK_S_IOERR before any I/O (a write never reaches the
// disk half done); the ring itself is checked by Virtqueue.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "devices/disk_image.h"
#include "devices/virtio_pci_legacy.h"

namespace bootsim {

class VirtioBlk final : public VirtioPciLegacy {
public:
    using Observer = std::function<void(const DiskRequest&)>;

    static constexpr uint32_t io_size = 0x40;      // BAR0
    static constexpr uint16_t queue_size = 256;
    static constexpr uint32_t seg_max = queue_size - 2;  // header and status take two

    // `intx` is the line INTA# is routed to. `serial` answers GET_ID
    // (at most 20 bytes are used).
    VirtioBlk(DiskImage& disk, GuestMemory& memory, IrqLine& intx, std::string serial = "bootsim");

    const char* name() const override { return "virtio-blk"; }
    uint32_t host_features() const override;

    void set_observer(Observer observer) { m_observer = std::move(observer); }

private:
    void queue_notified(uint16_t index) override;
    // Carries out one request; returns the used length (bytes written
    // into the guest's buffers).
    uint32_t process_request(Virtqueue::Chain& chain);

    DiskImage& m_disk;
    std::string m_serial;
    Observer m_observer;
    std::vector<uint8_t> m_bounce;  // data on its way between disk and guest
};

}  // namespace bootsim
