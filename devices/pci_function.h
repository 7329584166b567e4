#pragma once
// One function of a conventional PCI device: its 256-byte configuration
// space with a type 0 header, I/O BARs the guest sizes and moves, and the
// INTx# pin. Device models derive from it and add their registers.
//
// Header type 0 layout (PCI Local Bus Specification 3.0, figure 6-1):
//   0x00 vendor ID       0x02 device ID        (read-only)
//   0x04 command         0x06 status           (see below)
//   0x08 revision ID     0x09 class code, 3 bytes: prog-if, subclass, base
//   0x0c cache line size 0x0d latency timer    (read/write)
//   0x0e header type     0x0f BIST             (read-only, 0)
//   0x10-0x24 BAR0-BAR5
//   0x2c subsystem vendor ID, 0x2e subsystem ID (read-only)
//   0x30 expansion ROM base (none: reads 0)
//   0x3c interrupt line (read/write, a note for software: firmware writes
//        the IRQ it routed the pin to, and Linux without ACPI believes it)
//   0x3d interrupt pin (read-only: 0 none, 1-4 INTA#-INTD#)
// Everything else reads as zero and ignores writes: no capabilities list
// (status bit 4 clear), so no MSI/MSI-X and no PCI Express.
//
// The command register keeps I/O space (bit 0), memory space (bit 1), bus
// master (bit 2), SERR# enable (bit 8) and interrupt disable (bit 10); the
// status register is read-only apart from bit 3, the interrupt status,
// which shows the device's INTx request whether or not bit 10 masks it.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "core/bus_device.h"

namespace bootsim {

struct PciIdentity {
    uint16_t vendor = 0xffff;
    uint16_t device = 0xffff;
    uint32_t class_code = 0;  // base class << 16 | subclass << 8 | prog-if
    uint8_t revision = 0;
    uint16_t subsystem_vendor = 0;
    uint16_t subsystem = 0;
    uint8_t interrupt_pin = 0;  // 0: none; 1-4: INTA#-INTD#
};

class PciFunction {
public:
    static constexpr int bar_count = 6;
    // Called with the I/O base a BAR now decodes at, or nullopt when it
    // stops decoding (I/O space disabled, BAR moved to 0, sized to all
    // ones, or past the 64 KiB x86 I/O space). Only on changes.
    using BarCallback = std::function<void(int bar, std::optional<uint16_t> io_base)>;

    virtual ~PciFunction() = default;
    PciFunction(const PciFunction&) = delete;
    PciFunction& operator=(const PciFunction&) = delete;

    virtual const char* name() const = 0;

    // Configuration space accesses, as the host bridge delivers them:
    // `offset` 0-255, width 1, 2 or 4, not crossing a dword.
    uint32_t config_read(uint8_t offset, unsigned width) const;
    void config_write(uint8_t offset, uint32_t value, unsigned width);

    void set_bar_callback(BarCallback callback) { m_bar_callback = std::move(callback); }
    // The firmware's part: what the interrupt line register says at reset.
    void set_interrupt_line(uint8_t irq);
    uint8_t interrupt_line() const { return m_config[interrupt_line_offset]; }

    // BAR size in bytes, 0 when the BAR is not implemented.
    uint32_t bar_size(int bar) const { return m_bar_size.at(bar); }
    // Where an I/O BAR decodes now, if it does.
    std::optional<uint16_t> io_window(int bar) const { return m_io_window.at(bar); }
    uint16_t command() const;
    bool bus_master() const { return command() & command_bus_master; }

    // PCI RST#: the function returns to its power-on state. The default
    // resets the header; a device model adds its own registers.
    virtual void pci_reset() { reset_config(); }

protected:
    static constexpr uint16_t command_io = 0x0001;
    static constexpr uint16_t command_memory = 0x0002;
    static constexpr uint16_t command_bus_master = 0x0004;
    static constexpr uint16_t command_serr = 0x0100;
    static constexpr uint16_t command_intx_disable = 0x0400;
    static constexpr uint8_t interrupt_line_offset = 0x3c;

    // `intx` is the line the interrupt pin drives (after the board's
    // routing); nullptr for a function without one.
    PciFunction(const PciIdentity& identity, IrqLine* intx);

    // Power-on state of the header: command 0 (nothing decodes), BARs 0.
    // The interrupt line keeps what the firmware wrote.
    void reset_config();
    // Makes `bar` an I/O BAR of `size` bytes (a power of two, 4-256; the
    // PCI spec limits an I/O BAR to 256 bytes).
    void declare_io_bar(int bar, uint32_t size);
    // The device's interrupt request; the pin is driven while it is set
    // and the command register does not disable INTx.
    void set_intx(bool request);

private:
    void update_io_windows();
    void update_intx();

    std::array<uint8_t, 256> m_config {};
    std::array<uint8_t, 256> m_write_mask {};  // bits the guest may change
    std::array<uint32_t, bar_count> m_bar_size {};
    std::array<std::optional<uint16_t>, bar_count> m_io_window {};
    BarCallback m_bar_callback;
    IrqLine* m_intx;
    bool m_intx_request = false;
    bool m_intx_level = false;
};

}  // namespace bootsim
