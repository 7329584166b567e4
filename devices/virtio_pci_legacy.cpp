#include "devices/virtio_pci_legacy.h"

#include <bit>

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

constexpr uint8_t isr_queue = 0x01;

}  // namespace

VirtioPciLegacy::VirtioPciLegacy(uint16_t type, uint32_t class_code, GuestMemory& memory, IrqLine& intx,
                                 std::vector<uint16_t> queue_sizes, size_t config_size)
    : PciFunction(
          PciIdentity {
              .vendor = 0x1af4,                  // Red Hat / Qumranet, virtio
              .device = uint16_t(0x1000 + type - 1),  // transitional device ID
              .class_code = class_code,
              .revision = 0,                     // VIRTIO_PCI_ABI_VERSION: vp_legacy_probe() insists
              .subsystem_vendor = 0x1af4,
              .subsystem = type,                 // the virtio device type
              .interrupt_pin = 1,                // INTA#
          },
          &intx)
    , m_memory(memory)
    , m_config(config_size, 0)
{
    for (uint16_t size : queue_sizes)
        m_queues.emplace_back(memory, size);
    declare_io_bar(0, io_bar_size());
}

uint32_t VirtioPciLegacy::io_bar_size() const
{
    return std::bit_ceil(uint32_t(config_offset + m_config.size()));
}

bool VirtioPciLegacy::broken() const
{
    for (const Virtqueue& queue : m_queues)
        if (queue.broken())
            return true;
    return false;
}

void VirtioPciLegacy::reset()
{
    reset_config();
    reset_transport();
}

void VirtioPciLegacy::reset_transport()
{
    m_guest_features = 0;
    m_queue_select = 0;
    m_status = 0;
    m_isr = 0;
    for (Virtqueue& queue : m_queues)
        queue.reset();
    device_reset();
    update_irq();
}

const Virtqueue* VirtioPciLegacy::selected() const
{
    return m_queue_select < m_queues.size() ? &m_queues[m_queue_select] : nullptr;
}

uint8_t VirtioPciLegacy::register_byte(uint64_t offset) const
{
    auto byte_of = [](uint32_t value, uint64_t index) { return uint8_t(value >> (8 * index)); };
    const Virtqueue* queue = selected();
    if (offset < reg_guest_features)
        return byte_of(host_features(), offset - reg_host_features);
    if (offset < reg_queue_pfn)
        return byte_of(m_guest_features, offset - reg_guest_features);
    if (offset < reg_queue_num)
        return byte_of(queue ? queue->pfn() : 0, offset - reg_queue_pfn);
    if (offset < reg_queue_sel)
        return byte_of(queue ? queue->size() : 0, offset - reg_queue_num);
    if (offset < reg_queue_notify)
        return byte_of(m_queue_select, offset - reg_queue_sel);
    if (offset < reg_status)
        return 0;
    if (offset == reg_status)
        return m_status;
    if (offset == reg_isr)
        return m_isr;
    if (offset - config_offset < m_config.size())
        return m_config[offset - config_offset];
    return 0xff;
}

uint32_t VirtioPciLegacy::read(uint64_t offset, unsigned width)
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

void VirtioPciLegacy::write(uint64_t offset, uint32_t value, unsigned)
{
    // The driver writes each register at its own offset and width; other
    // writes (to read-only registers, the middle of a register, the
    // device configuration) are ignored.
    switch (offset) {
    case reg_guest_features:
        m_guest_features = value & host_features();
        break;
    case reg_queue_pfn:
        if (m_queue_select < m_queues.size())
            m_queues[m_queue_select].set_pfn(value);
        break;
    case reg_queue_sel:
        m_queue_select = uint16_t(value);
        break;
    case reg_queue_notify:
        if (uint16_t(value) < m_queues.size())
            queue_notified(uint16_t(value));
        break;
    case reg_status:
        m_status = uint8_t(value);
        if (m_status == 0)
            reset_transport();
        else
            status_written(m_status);
        break;
    default:
        break;
    }
}

void VirtioPciLegacy::used_buffers(const Virtqueue& queue)
{
    if (!queue.interrupts_wanted())
        return;
    m_isr |= isr_queue;
    update_irq();
}

void VirtioPciLegacy::update_irq()
{
    set_intx(m_isr != 0);
}

}  // namespace bootsim
