#pragma once
// System Control Port B of the PC/AT (port 0x61): the gate of PIT counter 2,
// the speaker data enable, and status bits the kernel polls.
//
//   bit 0  counter 2 gate (read/write)
//   bit 1  speaker data enable (read/write; no sound is produced)
//   bit 2  parity check disable, bit 3 channel check disable (read/write,
//          stored only: nothing here raises NMIs)
//   bit 4  refresh request toggle (read only)
//   bit 5  counter 2 output (read only)
//   bits 7-6  parity / channel check status (read only, always 0)
//
// Linux calibrates the TSC through this port (pit_calibrate_tsc,
// quick_pit_calibrate in arch/x86/kernel/tsc.c): it sets bit 0, programs
// counter 2 in mode 0 and polls bit 5 until it goes high.

#include <cstdint>

#include "core/bus_device.h"
#include "core/clock.h"
#include "devices/pit_8254.h"

namespace bootsim {

class Port61 final : public BusDevice {
public:
    // Drives the PIT's counter 2 gate low, as at power-on.
    Port61(Pit8254& pit, const Clock& clock);

    const char* name() const override { return "port61"; }
    // One byte-wide register at offset 0.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    void reset() override;

private:
    Pit8254& m_pit;
    const Clock& m_clock;
    uint8_t m_control = 0;       // bits 3-0 as written
    bool m_refresh = false;
};

}  // namespace bootsim
