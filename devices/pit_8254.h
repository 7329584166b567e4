#pragma once
// An Intel 8254 programmable interval timer: three 16-bit down-counters fed
// by the PC's 1.193182 MHz clock.
//
// Register offsets (8254 datasheet, table 1):
//   0-2  counter 0-2: count writes, count / status reads
//   3    control word (write only; reads float to 0xff)
//
// Counters are not ticked. Each remembers when it started counting and how
// many clocks it had counted before (the gate can pause it), and its count
// and output are computed from the injected clock whenever asked. Counting
// is taken to start at the count write itself; the real chip loads the
// count on the next clock edge, up to 838 ns later.
//
// PC wiring the board provides: counter 0's output is ISA IRQ 0 (the
// `irq0` line), the gates of counters 0 and 1 are tied high, and counter 2's
// gate and output belong to System Control Port B (see Port61), through
// set_gate2() and out2().
//
// IRQ 0 is signalled with a pulse: at each rising edge of counter 0's
// output, advance() calls set_level(true) then set_level(false). The PC's
// IRQ 0 input is edge-triggered and Pic8259 latches edges, so a pulse is
// all it needs, and it costs one deadline per period instead of two.
// Rising edges (in clocks after the count write, count N):
//   mode 0 (and 1): N, once, when the count reaches zero
//   mode 2 and 3:   N, 2N, 3N, ... (the end of each period)
//   mode 4 (and 5): N + 1, once, at the end of the one-clock strobe
// Edges that fall due between two advance() calls give one pulse, as the
// PIC's single IRR bit would.

#include <array>
#include <cstdint>

#include "core/bus_device.h"
#include "core/clock.h"

namespace bootsim {

class Pit8254 final : public BusDevice, public TimedDevice {
public:
    static constexpr uint64_t input_hz = 1'193'182;

    Pit8254(const Clock& clock, IrqLine& irq0);

    const char* name() const override { return "i8254"; }
    // Registers are 8 bits wide; a wider access touches only the register at
    // `offset` and reads its value zero-extended.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    // Channels return to their power-on state: no count loaded (no IRQ 0
    // until the guest programs counter 0; there is no BIOS to do it). The
    // gates are inputs driven by the board and keep their levels.
    void reset() override;

    // The next rising edge of counter 0's output, or never.
    uint64_t next_deadline_ns() const override;
    void advance(uint64_t now_ns) override;

    // Counter 2's gate input and output (port 0x61 bits 0 and 5 on a PC).
    void set_gate2(bool level);
    bool out2(uint64_t now_ns) const;

private:
    enum class Access : uint8_t { Latch = 0, Low = 1, High = 2, LowHigh = 3 };

    struct Channel {
        uint8_t mode = 0;             // 0-5 (6 and 7 are aliases of 2 and 3)
        Access access = Access::LowHigh;
        bool bcd = false;
        bool gate = true;
        bool loaded = false;          // a whole count has been written
        bool triggered = false;       // modes 1 and 5: a gate edge since then
        bool null_count = true;       // status bit 6
        uint32_t reload = 0;          // N in clocks: 1-65536 (1-10000 in BCD)
        uint64_t run_start_ns = 0;    // start of the current counting stretch
        uint64_t clocks_before = 0;   // clocks counted before run_start_ns
        uint8_t write_low = 0;        // first byte of a LowHigh count
        bool write_high_next = false;
        bool read_high_next = false;
        bool count_latched = false;
        uint16_t latched_count = 0;
        bool status_latched = false;
        uint8_t latched_status = 0;
    };

    void write_control(uint8_t value);
    void write_count(Channel& channel, uint8_t value);
    void load_count(Channel& channel, uint16_t raw);
    uint8_t read_count(Channel& channel);
    void latch_count(Channel& channel);
    void set_gate(Channel& channel, bool level);
    uint8_t status(const Channel& channel) const;
    uint64_t now() const { return m_clock.now_ns(); }

    // The time model, all pure functions of a channel and a time.
    static bool counting(const Channel& channel);
    static uint64_t clocks(const Channel& channel, uint64_t now_ns);
    static uint16_t count_register(const Channel& channel, uint64_t now_ns);
    static bool output(const Channel& channel, uint64_t now_ns);
    static uint64_t next_rising_edge_ns(const Channel& channel, uint64_t after_ns);

    const Clock& m_clock;
    IrqLine& m_irq0;
    std::array<Channel, 3> m_channels {};
    uint64_t m_advanced_to = 0;  // counter 0's edges up to here are delivered
};

}  // namespace bootsim
