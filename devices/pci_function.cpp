#include "devices/pci_function.h"

#include <cassert>

namespace bootsim {

namespace {

// Header offsets (PCI Local Bus Specification 3.0, section 6.1).
constexpr uint8_t vendor_id = 0x00;
constexpr uint8_t device_id = 0x02;
constexpr uint8_t command_reg = 0x04;
constexpr uint8_t status_reg = 0x06;
constexpr uint8_t revision_id = 0x08;
constexpr uint8_t class_prog_if = 0x09;
constexpr uint8_t cache_line_size = 0x0c;
constexpr uint8_t latency_timer = 0x0d;
constexpr uint8_t bar0 = 0x10;
constexpr uint8_t subsystem_vendor_id = 0x2c;
constexpr uint8_t subsystem_id = 0x2e;
constexpr uint8_t interrupt_pin = 0x3d;

constexpr uint16_t command_writable = 0x0001 | 0x0002 | 0x0004 | 0x0100 | 0x0400;
constexpr uint8_t status_interrupt = 0x08;  // status bit 3, in the low byte
constexpr uint32_t bar_io_space = 0x1;      // BAR bit 0: I/O space indicator

constexpr uint8_t bar_offset(int bar) { return uint8_t(bar0 + 4 * bar); }

}  // namespace

PciFunction::PciFunction(const PciIdentity& identity, IrqLine* intx)
    : m_intx(intx)
{
    auto put16 = [this](uint8_t at, uint16_t v) {
        m_config[at] = uint8_t(v);
        m_config[at + 1] = uint8_t(v >> 8);
    };
    put16(vendor_id, identity.vendor);
    put16(device_id, identity.device);
    m_config[revision_id] = identity.revision;
    m_config[class_prog_if] = uint8_t(identity.class_code);
    m_config[class_prog_if + 1] = uint8_t(identity.class_code >> 8);
    m_config[class_prog_if + 2] = uint8_t(identity.class_code >> 16);
    put16(subsystem_vendor_id, identity.subsystem_vendor);
    put16(subsystem_id, identity.subsystem);
    m_config[interrupt_pin] = identity.interrupt_pin;

    m_write_mask[command_reg] = uint8_t(command_writable);
    m_write_mask[command_reg + 1] = uint8_t(command_writable >> 8);
    m_write_mask[cache_line_size] = 0xff;
    m_write_mask[latency_timer] = 0xff;
    m_write_mask[interrupt_line_offset] = 0xff;
}

void PciFunction::declare_io_bar(int bar, uint32_t size)
{
    assert(bar >= 0 && bar < bar_count);
    assert(size >= 4 && size <= 256 && (size & (size - 1)) == 0);
    m_bar_size[bar] = size;
    // The address bits above the size are the guest's; writing all ones
    // and reading back gives ~(size - 1) | 1, the size to the kernel's
    // __pci_read_base(). Bit 1 is reserved and reads 0.
    uint32_t writable = ~(size - 1) & ~uint32_t(3);
    uint8_t at = bar_offset(bar);
    for (int i = 0; i < 4; ++i) {
        m_write_mask[at + i] = uint8_t(writable >> (8 * i));
        m_config[at + i] = 0;
    }
    m_config[at] = bar_io_space;
}

uint32_t PciFunction::config_read(uint8_t offset, unsigned width) const
{
    uint32_t value = 0;
    for (unsigned i = 0; i < width && offset + i < m_config.size(); ++i)
        value |= uint32_t(m_config[offset + i]) << (8 * i);
    return value;
}

void PciFunction::config_write(uint8_t offset, uint32_t value, unsigned width)
{
    bool touches_decode = false;
    bool touches_intx_disable = false;
    for (unsigned i = 0; i < width && offset + i < m_config.size(); ++i) {
        unsigned at = offset + i;
        uint8_t mask = m_write_mask[at];
        m_config[at] = uint8_t((m_config[at] & ~mask) | (uint8_t(value >> (8 * i)) & mask));
        if (at == command_reg || (at >= bar0 && at < bar_offset(bar_count)))
            touches_decode = true;
        if (at == command_reg + 1)
            touches_intx_disable = true;  // command bit 10
    }
    if (touches_decode)
        update_io_windows();
    if (touches_intx_disable)
        update_intx();
}

uint16_t PciFunction::command() const
{
    return uint16_t(config_read(command_reg, 2));
}

void PciFunction::set_interrupt_line(uint8_t irq)
{
    m_config[interrupt_line_offset] = irq;
}

void PciFunction::reset_config()
{
    m_config[command_reg] = 0;
    m_config[command_reg + 1] = 0;
    m_config[cache_line_size] = 0;
    m_config[latency_timer] = 0;
    for (int bar = 0; bar < bar_count; ++bar) {
        if (m_bar_size[bar] == 0)
            continue;
        uint8_t at = bar_offset(bar);
        for (int i = 0; i < 4; ++i)
            m_config[at + i] = 0;
        m_config[at] = bar_io_space;
    }
    update_io_windows();
    update_intx();
}

void PciFunction::update_io_windows()
{
    bool io_enabled = command() & command_io;
    for (int bar = 0; bar < bar_count; ++bar) {
        if (m_bar_size[bar] == 0)
            continue;
        std::optional<uint16_t> window;
        uint32_t base = config_read(bar_offset(bar), 4) & ~uint32_t(3);
        // Base 0 is where an unprogrammed BAR sits, not a place to decode
        // (QEMU's pci_bar_address() agrees); an address past 0xffff is
        // out of the CPU's reach, which is where BAR sizing leaves it.
        if (io_enabled && base != 0 && uint64_t(base) + m_bar_size[bar] <= 0x10000)
            window = uint16_t(base);
        if (window == m_io_window[bar])
            continue;
        m_io_window[bar] = window;
        if (m_bar_callback)
            m_bar_callback(bar, window);
    }
}

void PciFunction::set_intx(bool request)
{
    m_intx_request = request;
    update_intx();
}

void PciFunction::update_intx()
{
    if (m_intx_request)
        m_config[status_reg] |= status_interrupt;
    else
        m_config[status_reg] &= uint8_t(~status_interrupt);
    bool level = m_intx_request && !(command() & command_intx_disable) && m_config[interrupt_pin] != 0;
    if (level == m_intx_level || !m_intx)
        return;
    m_intx_level = level;
    m_intx->set_level(level);
}

}  // namespace bootsim
