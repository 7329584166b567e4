#pragma once
// A virtio block device behind the legacy (virtio 0.9.5) PCI interface,
// the one Linux's virtio_pci module drives through its legacy path
// (CONFIG_VIRTIO_PCI_LEGACY): PCI 1af4:1001, revision 0, subsystem 1af4:0002
// (virtio device type 2, block), one I/O BAR, INTA#, no capabilities (so
// virtio_pci's modern probe finds no VIRTIO_PCI_CAP_COMMON_CFG and falls
// back to legacy) and no MSI-X.
//
// BAR0, I/O, 64 bytes (Virtio PCI Card Specification 0.9.5, "Virtio
// header"; Linux's include/uapi/linux/virtio_pci.h):
//   0x00 host features, 32-bit, read-only
//   0x04 guest features, 32-bit
//   0x08 queue PFN, 32-bit: the selected queue's ring at PFN * 4096; 0 stops it
//   0x0c queue size, 16-bit, read-only (0: no such queue)
//   0x0e queue select, 16-bit
//   0x10 queue notify, 16-bit: the guest wrote a queue index
//   0x12 device status, 8-bit; writing 0 resets the device
//   0x13 ISR status, 8-bit: reading returns and clears it, lowering INTx
//   0x14 device configuration (struct virtio_blk_config): capacity (u64,
//        sectors), size_max, seg_max, geometry, blk_size, ... read-only
//
// One virtqueue, split ring in the legacy layout: descriptors at PFN *
// 4096, the available ring right after them, the used ring at the next
// 4096-byte boundary (VIRTIO_PCI_VRING_ALIGN).
//
// Requests (virtio 0.9.5 appendix D; Linux's uapi/linux/virtio_blk.h):
// struct virtio_blk_outhdr {le32 type; le32 ioprio; le64 sector} in
// driver-readable buffers, then the data (readable for a write, writable
// for a read), then one writable status byte. The layout across
// descriptors does not matter (VIRTIO_F_ANY_LAYOUT). Supported types: IN
// (0), OUT (1), FLUSH (4), GET_ID (8); others get VIRTIO_BLK_S_UNSUPP.
//
// Requests are carried out synchronously when the guest writes queue
// notify (the board calls from the CPU thread), then ISR bit 0 is set and
// INTx asserted, unless the driver set VRING_AVAIL_F_NO_INTERRUPT. INTx is
// level-triggered: it stays asserted until the guest reads ISR. A notify
// is honoured whatever the device status and the PCI bus master bit say,
// as QEMU does for legacy drivers that kick before DRIVER_OK.
// Not thread-safe: all calls come from the thread that runs the guest.
//
// Guest mistakes never reach the host: every guest address goes through
// GuestMemory's bounds checks (a buffer outside RAM fails its request with
// VIRTIO_BLK_S_IOERR), descriptor chains are cut at the queue size (a loop
// ends there), and a ring the device cannot read, or an available index
// that runs more than a queue ahead, stops the queue until reset, as
// QEMU's virtio_error() does.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/bus_device.h"
#include "core/guest_memory.h"
#include "devices/disk_image.h"
#include "devices/pci_function.h"

namespace bootsim {

class VirtioBlk final : public PciFunction, public BusDevice {
public:
    using Observer = std::function<void(const DiskRequest&)>;

    static constexpr uint32_t io_size = 0x40;      // BAR0
    static constexpr uint16_t queue_size = 256;
    static constexpr uint32_t seg_max = queue_size - 2;  // header and status take two

    // `intx` is the line INTA# is routed to. `serial` answers GET_ID
    // (at most 20 bytes are used).
    VirtioBlk(DiskImage& disk, GuestMemory& memory, IrqLine& intx, std::string serial = "bootsim");

    const char* name() const override { return "virtio-blk"; }
    // BAR0 registers.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    // Power-on state: the virtio device reset and PCI RST# both.
    void reset() override;
    void pci_reset() override { reset(); }

    void set_observer(Observer observer) { m_observer = std::move(observer); }

    uint32_t host_features() const;
    uint32_t guest_features() const { return m_guest_features; }
    uint8_t status() const { return m_status; }
    // The queue stopped on a ring it could not use (see above).
    bool broken() const { return m_broken; }

private:
    // One guest buffer of a descriptor chain.
    struct Segment {
        uint64_t address;
        uint32_t length;
        bool writable;
    };
    // Where a request's bytes are, once the chain is walked.
    struct Chain {
        std::vector<Segment> readable;
        std::vector<Segment> writable;
        bool valid = true;  // false: loop, bad index, bad order, or outside RAM
    };

    void reset_device();
    uint8_t register_byte(uint64_t offset) const;
    void process_queue();
    // Carries out the request whose chain starts at `head`; returns the
    // used length (bytes written into the guest's buffers).
    uint32_t process_request(uint16_t head);
    Chain walk_chain(uint16_t head) const;
    // Copies between a list of guest buffers, seen as one byte stream
    // from `skip` on, and host bytes. False if a buffer is outside RAM.
    bool gather(const std::vector<Segment>& segments, uint64_t skip, uint8_t* out, uint64_t length) const;
    bool scatter(const std::vector<Segment>& segments, uint64_t skip, const uint8_t* in, uint64_t length);
    void update_irq();

    uint64_t desc_address() const { return uint64_t(m_queue_pfn) << 12; }
    uint64_t avail_address() const { return desc_address() + 16 * uint64_t(queue_size); }
    uint64_t used_address() const;

    DiskImage& m_disk;
    GuestMemory& m_memory;
    std::string m_serial;
    Observer m_observer;
    std::vector<uint8_t> m_config;  // struct virtio_blk_config, little-endian

    uint32_t m_guest_features = 0;
    uint32_t m_queue_pfn = 0;
    uint16_t m_queue_select = 0;
    uint8_t m_status = 0;
    uint8_t m_isr = 0;
    uint16_t m_last_avail = 0;  // next available-ring entry to take
    uint16_t m_used_idx = 0;    // the used ring's idx, which only the device writes
    bool m_broken = false;
    std::vector<uint8_t> m_bounce;  // data on its way between disk and guest
};

}  // namespace bootsim
