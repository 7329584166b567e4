#pragma once
// The PC/AT CMOS and real-time clock (a Motorola MC146818 and its
// successors): 128 bytes behind an index port and a data port, the first 14
// of them the clock and its status registers.
//
//   offset 0  index (write only): bits 6-0 select a byte, bit 7 masks NMI
//   offset 1  data: the selected byte
//
// The clock counts in UTC, as Linux expects of a PC's RTC by default.
// Time registers (0x00-0x09, century at 0x32) are computed from the time
// source when read and move it when written. No interrupts (status C stays
// 0; the alarm and periodic bits are stored only).

#include <array>
#include <cstdint>
#include <optional>

#include "core/bus_device.h"
#include "core/clock.h"

namespace bootsim {

class CmosRtc final : public BusDevice {
public:
    // The clock reads `start_epoch` (seconds since 1970, UTC) when `clock`
    // reads its present value, and advances with `clock`: a fixed start
    // makes runs repeatable. Without one, the host's wall clock is read once,
    // here; later time comes from `clock` so that the RTC agrees with the
    // guest's other timers when the machine skips idle time.
    explicit CmosRtc(const Clock& clock, std::optional<int64_t> start_epoch = std::nullopt);

    const char* name() const override { return "cmos-rtc"; }
    // Registers are 8 bits wide; a wider access touches only the register at
    // `offset` and reads its value zero-extended.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    // The RESET pin: clears the interrupt enables and flags. Time and
    // memory contents are battery-backed and stay.
    void reset() override;

    // Fills the memory size bytes a PC BIOS leaves (and that QEMU sets):
    // 0x15-0x16 base memory in KiB (at most 640), 0x17-0x18 and 0x30-0x31
    // memory above 1 MiB in KiB, 0x34-0x35 memory above 16 MiB in 64 KiB
    // units, each capped at 0xffff.
    void set_memory_size(uint64_t bytes);

    bool nmi_masked() const { return m_nmi_masked; }
    // The clock's present time in seconds since 1970 (UTC).
    int64_t time() const;

private:
    uint8_t read_register(uint8_t index);
    void write_register(uint8_t index, uint8_t value);
    void set_time(int64_t seconds);
    int64_t epoch_ns() const;
    bool update_in_progress() const;
    uint8_t encode(unsigned value) const;
    std::optional<unsigned> decode(uint8_t value) const;

    const Clock& m_clock;
    std::array<uint8_t, 128> m_ram {};
    uint8_t m_index = 0;
    bool m_nmi_masked = false;
    // The time source: epoch time m_base_epoch_ns at clock time m_base_clock_ns.
    int64_t m_base_epoch_ns = 0;
    uint64_t m_base_clock_ns = 0;
    // While status B's SET bit is on, the clock is stopped at this second.
    int64_t m_frozen_seconds = 0;
};

}  // namespace bootsim
