#include "devices/pci_host.h"

namespace bootsim {

namespace {

constexpr uint32_t address_enable = 0x80000000;
// Enable, bus, device, function, register; bits 30-24 and 1-0 read 0.
constexpr uint32_t address_writable = 0x80fffffc;
constexpr uint64_t data_port = 4;

constexpr uint32_t all_ones(unsigned width)
{
    return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

}  // namespace

bool PciHost::attach(uint8_t device, PciFunction& function)
{
    if (device >= device_count || m_devices[device])
        return false;
    m_devices[device] = &function;
    return true;
}

PciFunction* PciHost::selected() const
{
    if (!(m_address & address_enable))
        return nullptr;
    unsigned bus = (m_address >> 16) & 0xff;
    unsigned device = (m_address >> 11) & 0x1f;
    unsigned function = (m_address >> 8) & 0x7;
    if (bus != 0 || function != 0)
        return nullptr;
    return m_devices[device];
}

uint32_t PciHost::read(uint64_t offset, unsigned width)
{
    if (offset < data_port)
        return (offset == 0 && width == 4) ? m_address : all_ones(width);
    unsigned byte = unsigned(offset - data_port);
    PciFunction* function = selected();
    // An access straddling the end of CONFIG_DATA is no configuration
    // cycle Linux ever makes; it floats.
    if (!function || byte + width > 4)
        return all_ones(width);
    return function->config_read(uint8_t((m_address & 0xfc) + byte), width);
}

void PciHost::write(uint64_t offset, uint32_t value, unsigned width)
{
    if (offset < data_port) {
        if (offset == 0 && width == 4)
            m_address = value & address_writable;
        return;
    }
    unsigned byte = unsigned(offset - data_port);
    PciFunction* function = selected();
    if (!function || byte + width > 4)
        return;
    function->config_write(uint8_t((m_address & 0xfc) + byte), value, width);
}

void PciHost::reset()
{
    m_address = 0;
    for (PciFunction* function : m_devices) {
        if (function)
            function->pci_reset();
    }
}

PciHostBridge::PciHostBridge()
    : PciFunction(
          PciIdentity {
              .vendor = 0x8086,        // Intel
              .device = 0x1237,        // 82441FX PMC (440FX)
              .class_code = 0x060000,  // bridge, host bridge
              .revision = 0x02,        // as QEMU's i440FX
          },
          nullptr)
{
}

}  // namespace bootsim
