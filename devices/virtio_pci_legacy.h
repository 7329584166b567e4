#pragma once
// The legacy (virtio 0.9.5) PCI transport every virtio device of the board
// sits behind, the one Linux's virtio_pci module drives through its legacy
// path (CONFIG_VIRTIO_PCI_LEGACY): vendor 1af4, device 0x1000 + type - 1,
// revision 0, subsystem 1af4:type, one I/O BAR, INTA#, no capabilities (so
// virtio_pci's modern probe finds no VIRTIO_PCI_CAP_COMMON_CFG and falls
// back to legacy) and no MSI-X.
//
// BAR0, I/O (Virtio PCI Card Specification 0.9.5, "Virtio header"; Linux's
// include/uapi/linux/virtio_pci.h):
//   0x00 host features, 32-bit, read-only
//   0x04 guest features, 32-bit
//   0x08 queue PFN, 32-bit: the selected queue's ring at PFN * 4096; 0 stops it
//   0x0c queue size, 16-bit, read-only (0: no such queue)
//   0x0e queue select, 16-bit
//   0x10 queue notify, 16-bit: the guest wrote a queue index
//   0x12 device status, 8-bit; writing 0 resets the device
//   0x13 ISR status, 8-bit: reading returns and clears it, lowering INTx
//   0x14 device configuration, read-only here, the device's own layout
//
// A device says what it offers (features, queues, configuration bytes) and
// what a notify on one of its queues does; used buffers raise ISR bit 0 and
// INTx unless the driver asked for no interrupt. INTx is level-triggered:
// it stays asserted until the guest reads ISR. A notify is honoured
// whatever the device status and the PCI bus master bit say, as QEMU does
// for legacy drivers that kick before DRIVER_OK.
// Not thread-safe: all calls come from the thread that runs the guest.

#include <cstdint>
#include <vector>

#include "core/bus_device.h"
#include "core/guest_memory.h"
#include "devices/pci_function.h"
#include "devices/virtqueue.h"

namespace bootsim {

class VirtioPciLegacy : public PciFunction, public BusDevice {
public:
    // Where the device configuration starts in BAR0 (without MSI-X:
    // VIRTIO_PCI_CONFIG_OFF(false)).
    static constexpr uint32_t config_offset = 0x14;

    // BAR0 registers.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    // Power-on state: the virtio device reset and PCI RST# both.
    void reset() override;
    void pci_reset() override { reset(); }

    virtual uint32_t host_features() const = 0;
    uint32_t guest_features() const { return m_guest_features; }
    uint8_t status() const { return m_status; }
    // Some queue stopped on a ring it could not use.
    bool broken() const;

protected:
    // `type` is the virtio device type (1 network, 2 block); `queue_sizes`
    // one entry per queue; `config_size` bytes of device configuration,
    // which the device fills through config().
    VirtioPciLegacy(uint16_t type, uint32_t class_code, GuestMemory& memory, IrqLine& intx,
                    std::vector<uint16_t> queue_sizes, size_t config_size);

    GuestMemory& memory() { return m_memory; }
    Virtqueue& queue(uint16_t index) { return m_queues[index]; }
    std::vector<uint8_t>& config() { return m_config; }
    // The size BAR0 needs: the header and the configuration, to a power of two.
    uint32_t io_bar_size() const;

    // The driver wrote queue `index` (valid) to queue notify.
    virtual void queue_notified(uint16_t index) = 0;
    // The driver wrote a status; DRIVER_OK is bit 2.
    virtual void status_written(uint8_t) {}
    // The device was reset (status 0, or power-on): forget requests in flight.
    virtual void device_reset() {}

    // Used buffers went into `queue`: interrupt the driver if it wants.
    void used_buffers(const Virtqueue& queue);

private:
    void reset_transport();
    uint8_t register_byte(uint64_t offset) const;
    void update_irq();
    const Virtqueue* selected() const;

    GuestMemory& m_memory;
    std::vector<Virtqueue> m_queues;
    std::vector<uint8_t> m_config;  // the device configuration, little-endian
    uint32_t m_guest_features = 0;
    uint16_t m_queue_select = 0;
    uint8_t m_status = 0;
    uint8_t m_isr = 0;
};

}  // namespace bootsim
