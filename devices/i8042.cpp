#include "devices/i8042.h"

#include <utility>

namespace bootsim {

namespace {

// Status register bits (Linux's i8042.h names).
constexpr uint8_t str_obf = 0x01;      // output buffer full
constexpr uint8_t str_sys = 0x04;      // system flag, from the command byte
constexpr uint8_t str_cmddat = 0x08;   // last write was a command
constexpr uint8_t str_keylock = 0x10;  // set: keyboard not inhibited

// Command byte bits.
constexpr uint8_t ctr_sys = 0x04;
constexpr uint8_t ctr_kbddis = 0x10;
constexpr uint8_t ctr_auxdis = 0x20;

// What a PC BIOS leaves in the command byte on a machine without a PS/2
// mouse: keyboard interrupt enabled, system flag set (POST passed),
// auxiliary port disabled, scan code translation on.
constexpr uint8_t default_command_byte = 0x65;
// Output port: bit 0 RESET inactive (high), bit 1 A20 enabled, and the
// bits QEMU reports as ones.
constexpr uint8_t default_output_port = 0xcf;

}  // namespace

I8042::I8042(std::function<void()> on_reset)
    : m_on_reset(std::move(on_reset))
{
    reset();
}

void I8042::reset()
{
    m_command_byte = default_command_byte;
    m_output_port = default_output_port;
    m_output = 0;
    m_output_full = false;
    m_last_was_command = false;
    m_pending = 0;
}

uint32_t I8042::read(uint64_t offset, unsigned)
{
    switch (offset) {
    case 0:
        m_output_full = false;
        return m_output;
    case 4:
        // The input buffer is never full: commands complete on the write.
        // KEYLOCK set, or Linux warns "Keylock active".
        return (m_output_full ? str_obf : 0) | ((m_command_byte & ctr_sys) ? str_sys : 0) |
               (m_last_was_command ? str_cmddat : 0) | str_keylock;
    }
    return 0xff;
}

void I8042::write(uint64_t offset, uint32_t value32, unsigned)
{
    uint8_t value = value32 & 0xff;
    switch (offset) {
    case 0:
        m_last_was_command = false;
        parameter(value);
        break;
    case 4:
        m_last_was_command = true;
        command(value);
        break;
    }
}

void I8042::command(uint8_t value)
{
    m_pending = 0;
    switch (value) {
    case 0x20:
        respond(m_command_byte);
        break;
    case 0x60:  // write command byte
    case 0xd1:  // write output port
    case 0xd2:  // write keyboard output buffer
    case 0xd3:  // write auxiliary output buffer
    case 0xd4:  // write to auxiliary device
        m_pending = value;
        break;
    case 0xa7:
        m_command_byte |= ctr_auxdis;
        break;
    case 0xa8:
        m_command_byte &= ~ctr_auxdis;
        break;
    case 0xa9:
        // Auxiliary interface test: 0x01, "clock line stuck low". With
        // 0xd3 below, this is how Linux's i8042_check_aux learns at once
        // that there is no auxiliary port, instead of after its 500 ms
        // command timeout.
        respond(0x01);
        break;
    case 0xaa:
        // Controller self test passed; the system flag is set as after POST.
        m_command_byte |= ctr_sys;
        respond(0x55);
        break;
    case 0xab:
        respond(0x00);  // keyboard interface test: no error
        break;
    case 0xad:
        m_command_byte |= ctr_kbddis;
        break;
    case 0xae:
        m_command_byte &= ~ctr_kbddis;
        break;
    case 0xd0:
        respond(m_output_port);
        break;
    default:
        // 0xf0-0xff pulse the output port lines whose bits (3-0) are clear;
        // line 0 is the CPU's RESET. Linux's reboot (BOOT_KBD) sends 0xfe.
        if (value >= 0xf0 && !(value & 0x01) && m_on_reset)
            m_on_reset();
        break;
    }
}

void I8042::parameter(uint8_t value)
{
    uint8_t pending = std::exchange(m_pending, 0);
    switch (pending) {
    case 0x60:
        m_command_byte = value;
        break;
    case 0xd1:
        write_output_port(value);
        break;
    case 0xd2:
        respond(value);
        break;
    case 0xd3:
        // No auxiliary port: the byte comes back as keyboard data (status
        // bit 5 clear), which Linux's AUX loop test takes as a failure.
        respond(value);
        break;
    default:
        // 0xd4 with no auxiliary device, or a byte for the keyboard, which
        // is not there: dropped.
        break;
    }
}

void I8042::respond(uint8_t value)
{
    // A new response replaces one the guest did not read.
    m_output = value;
    m_output_full = true;
}

void I8042::write_output_port(uint8_t value)
{
    m_output_port = value;
    if (!(value & 0x01) && m_on_reset)
        m_on_reset();
}

}  // namespace bootsim
