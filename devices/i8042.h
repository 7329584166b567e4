#pragma once
// An Intel 8042 keyboard controller with no keyboard and no auxiliary
// (mouse) port: enough for Linux's i8042 probe to find a controller and for
// its reboot path to reset the machine.
//
//   offset 0  data: command responses (read), command parameters (write)
//   offset 4  status (read), controller command (write)
//
// On a PC these are ports 0x60 and 0x64. Port 0x61 between them is System
// Control Port B (Port61), so the board cannot map 0x60-0x64 as one range:
// it maps this device at 0x60 (length 1) and a BusWindow onto offset 4 at
// 0x64 (length 1).
//
// Commands (IBM PS/2 technical reference, "Keyboard/Auxiliary Device
// Controller"): 0x20 read and 0x60 write the command byte, 0xaa self test
// (0x55), 0xab keyboard interface test (0x00), 0xad/0xae disable/enable the
// keyboard, 0xa7/0xa8 disable/enable the auxiliary port, 0xd0/0xd1 read and
// write the output port, 0xd2 write the keyboard output buffer, 0xf0-0xff
// pulse output port lines (0xfe pulses RESET). 0xa9 and 0xd3 answer as a
// controller without an auxiliary port (see i8042.cpp); 0xd4 and bytes
// for the keyboard are dropped. Anything else is ignored.
//
// No interrupts: with no devices behind it the controller never has
// unsolicited data, and the kernel polls for command responses.

#include <cstdint>
#include <functional>

#include "core/bus_device.h"

namespace bootsim {

class I8042 final : public BusDevice {
public:
    // `on_reset` runs, from inside write(), when the guest pulses the CPU
    // reset line (command 0xfe, or bit 0 of the output port cleared). It
    // should make the machine stop or reset; the controller carries on.
    explicit I8042(std::function<void()> on_reset);

    const char* name() const override { return "i8042"; }
    // Registers are 8 bits wide; a wider access touches only the register at
    // `offset` and reads its value zero-extended.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    void reset() override;

private:
    void command(uint8_t value);
    void parameter(uint8_t value);
    void respond(uint8_t value);
    void write_output_port(uint8_t value);

    std::function<void()> m_on_reset;
    uint8_t m_command_byte = 0;
    uint8_t m_output_port = 0;
    uint8_t m_output = 0;         // the output buffer; stays readable once read
    bool m_output_full = false;   // status OBF
    bool m_last_was_command = false;  // status bit 3
    uint8_t m_pending = 0;        // command waiting for its parameter, or 0
};

}  // namespace bootsim
