#pragma once
// The PC's PCI host bridge as software sees it through configuration
// mechanism #1 (PCI Local Bus Specification 3.0, section 3.2.2.3.2), mapped
// by the board at 0xcf8, 8 ports:
//   0-3  CONFIG_ADDRESS, 32-bit accesses only: bit 31 enable, bits 23-16
//        bus, 15-11 device, 10-8 function, 7-2 register (bits 30-24 and
//        1-0 read as 0)
//   4-7  CONFIG_DATA: the addressed dword; a byte or word access at port
//        0xcfc + n reaches register + n, as Linux's pci_conf1_read() does it
//
// Byte and word accesses to 0xcf8-0xcfb do not touch CONFIG_ADDRESS (on a
// PIIX, 0xcf9 is the reset control register, not modelled here): writes are
// ignored and reads float to all ones. Linux's pci_check_type1() relies on
// the first half (it writes a byte to 0xcfb before the dword probe).
//
// One bus (0), single-function devices only. An absent device, another
// bus, a function other than 0, or the enable bit clear reads all ones
// (a master abort) and ignores writes.

#include <array>
#include <cstdint>

#include "core/bus_device.h"
#include "devices/pci_function.h"

namespace bootsim {

class PciHost final : public BusDevice {
public:
    static constexpr unsigned device_count = 32;

    const char* name() const override { return "pci-conf1"; }
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    // PCI RST#: CONFIG_ADDRESS clears and every function resets.
    void reset() override;

    // Puts `function` at bus 0, device `device`, function 0. False if the
    // device number is taken or not below 32.
    bool attach(uint8_t device, PciFunction& function);

    uint32_t config_address() const { return m_address; }

private:
    PciFunction* selected() const;

    std::array<PciFunction*, device_count> m_devices {};
    uint32_t m_address = 0;
};

// The Intel 82441FX PCI and memory controller of the 440FX chipset, the
// host bridge QEMU's "pc" machine shows at 00:00.0. It is here because
// Linux's pci_sanity_check() (arch/x86/pci/direct.c) accepts mechanism #1
// only when bus 0 has a host bridge or VGA class device (or an Intel or
// Compaq vendor ID), unless the DMI BIOS date is 2001 or later, and there
// is no DMI without firmware. The chipset registers (PAM, SMRAM...) are
// not modelled: with no BIOS to shadow, nothing reads them.
class PciHostBridge final : public PciFunction {
public:
    PciHostBridge();
    const char* name() const override { return "i440fx-host-bridge"; }
};

}  // namespace bootsim
