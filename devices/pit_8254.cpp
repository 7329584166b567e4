#include "devices/pit_8254.h"

namespace bootsim {

namespace {

constexpr uint64_t ns_per_s = 1'000'000'000;

// Whole input clocks in `ns` nanoseconds.
uint64_t ns_to_clocks(uint64_t ns)
{
    return uint64_t((unsigned __int128)ns * Pit8254::input_hz / ns_per_s);
}

// The first time, in nanoseconds from the start, at which ns_to_clocks()
// reaches `clocks`.
uint64_t clocks_to_ns(uint64_t clocks)
{
    return uint64_t(((unsigned __int128)clocks * ns_per_s + Pit8254::input_hz - 1) /
                    Pit8254::input_hz);
}

uint16_t to_bcd(uint32_t value)
{
    return uint16_t((value / 1000 % 10) << 12 | (value / 100 % 10) << 8 |
                    (value / 10 % 10) << 4 | value % 10);
}

uint32_t from_bcd(uint16_t raw)
{
    return (raw >> 12 & 0xf) * 1000 + (raw >> 8 & 0xf) * 100 + (raw >> 4 & 0xf) * 10 +
           (raw & 0xf);
}

bool periodic(uint8_t mode)
{
    return mode == 2 || mode == 3;
}

bool gate_triggered(uint8_t mode)
{
    return mode == 1 || mode == 5;
}

}  // namespace

Pit8254::Pit8254(const Clock& clock, IrqLine& irq0)
    : m_clock(clock)
    , m_irq0(irq0)
    , m_advanced_to(clock.now_ns())
{
}

void Pit8254::reset()
{
    for (Channel& channel : m_channels) {
        bool gate = channel.gate;
        channel = Channel {};
        channel.gate = gate;
    }
    m_advanced_to = now();
}

uint32_t Pit8254::read(uint64_t offset, unsigned)
{
    if (offset < 3)
        return read_count(m_channels[offset]);
    return 0xff;  // the control word register cannot be read (3-state)
}

void Pit8254::write(uint64_t offset, uint32_t value32, unsigned)
{
    // Deliver counter 0's edges that fell due before this access, so
    // reprogramming cannot swallow one the machine has not advanced to yet.
    advance(now());
    uint8_t value = value32 & 0xff;
    switch (offset) {
    case 0:
    case 1:
    case 2:
        write_count(m_channels[offset], value);
        break;
    case 3:
        write_control(value);
        break;
    }
}

void Pit8254::write_control(uint8_t value)
{
    unsigned select = value >> 6;
    if (select == 3) {
        // Read-back command (datasheet, "Read-Back Command"): bit 5 clear
        // latches the counts, bit 4 clear the status, of the counters
        // selected by bits 3-1. A second latch before the first is read is
        // ignored.
        for (unsigned i = 0; i < 3; ++i) {
            if (!(value & (2u << i)))
                continue;
            Channel& channel = m_channels[i];
            if (!(value & 0x20))
                latch_count(channel);
            if (!(value & 0x10) && !channel.status_latched) {
                channel.latched_status = status(channel);
                channel.status_latched = true;
            }
        }
        return;
    }
    Channel& channel = m_channels[select];
    Access access = Access((value >> 4) & 3);
    if (access == Access::Latch) {
        // Counter latch command: what Linux's i8253 clocksource and
        // delay code use before reading counter 0.
        latch_count(channel);
        return;
    }
    // A control word resets the counter's logic and sets OUT to the mode's
    // initial level; counting waits for a new count.
    channel.access = access;
    channel.mode = (value >> 1) & 7;
    if (channel.mode > 5)
        channel.mode -= 4;  // modes 6 and 7 are 2 and 3
    channel.bcd = value & 1;
    channel.loaded = false;
    channel.triggered = false;
    channel.null_count = true;
    channel.write_high_next = false;
    channel.read_high_next = false;
    channel.count_latched = false;
    channel.status_latched = false;
}

void Pit8254::write_count(Channel& channel, uint8_t value)
{
    switch (channel.access) {
    case Access::Low:
        load_count(channel, value);
        break;
    case Access::High:
        load_count(channel, uint16_t(value << 8));
        break;
    case Access::LowHigh:
    case Access::Latch:
        if (!channel.write_high_next) {
            channel.write_low = value;
            channel.write_high_next = true;
        } else {
            channel.write_high_next = false;
            load_count(channel, uint16_t(channel.write_low | value << 8));
        }
        break;
    }
}

void Pit8254::load_count(Channel& channel, uint16_t raw)
{
    // 0 stands for the largest count: 2^16 in binary, 10^4 in BCD.
    uint32_t reload = channel.bcd ? from_bcd(raw) % 10000 : raw;
    if (reload == 0)
        reload = channel.bcd ? 10000 : 65536;
    // A count of 1 is illegal in modes 2 and 3 (datasheet); 2 keeps the
    // output toggling instead of stuck.
    if (periodic(channel.mode) && reload == 1)
        reload = 2;
    // A new count restarts counting at once, in every mode. In modes 2 and
    // 3 the 8254 would finish the current period first; Linux always writes
    // the control word before a new periodic count, which makes that moot.
    channel.reload = reload;
    channel.loaded = true;
    channel.triggered = false;
    channel.null_count = false;
    channel.clocks_before = 0;
    channel.run_start_ns = now();
}

uint8_t Pit8254::read_count(Channel& channel)
{
    if (channel.status_latched) {
        channel.status_latched = false;
        return channel.latched_status;
    }
    uint16_t value = channel.count_latched ? channel.latched_count : count_register(channel, now());
    uint8_t byte = 0;
    bool last = true;
    switch (channel.access) {
    case Access::Low:
        byte = value & 0xff;
        break;
    case Access::High:
        byte = value >> 8;
        break;
    case Access::LowHigh:
    case Access::Latch:
        byte = channel.read_high_next ? value >> 8 : value & 0xff;
        last = channel.read_high_next;
        channel.read_high_next = !channel.read_high_next;
        break;
    }
    // A latched count holds until it has been read in full.
    if (last)
        channel.count_latched = false;
    return byte;
}

void Pit8254::latch_count(Channel& channel)
{
    if (channel.count_latched)
        return;
    channel.latched_count = count_register(channel, now());
    channel.count_latched = true;
    channel.read_high_next = false;
}

uint8_t Pit8254::status(const Channel& channel) const
{
    // Status byte (datasheet, figure 9): OUT, NULL COUNT, RW1-0, M2-0, BCD.
    return uint8_t((output(channel, now()) ? 0x80 : 0) | (channel.null_count ? 0x40 : 0) |
                   uint8_t(channel.access) << 4 | channel.mode << 1 | (channel.bcd ? 1 : 0));
}

void Pit8254::set_gate(Channel& channel, bool level)
{
    if (level == channel.gate)
        return;
    // Close the current counting stretch and start a new one now.
    uint64_t t = now();
    channel.clocks_before = clocks(channel, t);
    channel.run_start_ns = t;
    channel.gate = level;
    if (level && channel.loaded) {
        // A rising gate reloads the count in modes 2 and 3 and triggers
        // modes 1 and 5; in modes 0 and 4 counting simply resumes.
        if (periodic(channel.mode))
            channel.clocks_before = 0;
        if (gate_triggered(channel.mode)) {
            channel.clocks_before = 0;
            channel.triggered = true;
        }
    }
}

void Pit8254::set_gate2(bool level)
{
    set_gate(m_channels[2], level);
}

bool Pit8254::out2(uint64_t now_ns) const
{
    return output(m_channels[2], now_ns);
}

uint64_t Pit8254::next_deadline_ns() const
{
    return next_rising_edge_ns(m_channels[0], m_advanced_to);
}

void Pit8254::advance(uint64_t now_ns)
{
    if (now_ns <= m_advanced_to)
        return;
    uint64_t edge = next_rising_edge_ns(m_channels[0], m_advanced_to);
    m_advanced_to = now_ns;
    if (edge <= now_ns) {
        m_irq0.set_level(true);
        m_irq0.set_level(false);
    }
}

bool Pit8254::counting(const Channel& channel)
{
    if (!channel.loaded)
        return false;
    // Modes 1 and 5 count from a gate trigger regardless of the gate's
    // level; the others count while the gate is high.
    return gate_triggered(channel.mode) ? channel.triggered : channel.gate;
}

uint64_t Pit8254::clocks(const Channel& channel, uint64_t now_ns)
{
    uint64_t counted = channel.clocks_before;
    if (counting(channel) && now_ns > channel.run_start_ns)
        counted += ns_to_clocks(now_ns - channel.run_start_ns);
    return counted;
}

uint16_t Pit8254::count_register(const Channel& channel, uint64_t now_ns)
{
    if (!channel.loaded)
        return 0;
    uint64_t d = clocks(channel, now_ns);
    uint64_t reload = channel.reload;
    uint64_t modulus = channel.bcd ? 10000 : 65536;
    uint64_t value = 0;
    switch (channel.mode) {
    case 2:
        // N, N-1, ..., 1, then N again.
        value = reload - d % reload;
        break;
    case 3: {
        // Decrements by two through each half period: N, N-2, ..., for
        // the high half and again for the low half (an odd N counts from
        // N-1 and its high half lasts one clock longer).
        uint64_t phase = d % reload;
        uint64_t high_half = (reload + 1) / 2;
        if (phase >= high_half)
            phase -= high_half;
        value = (reload & ~uint64_t(1)) - 2 * phase;
        break;
    }
    default:
        // Modes 0, 1, 4, 5: count down through zero and wrap.
        value = (reload + modulus - d % modulus) % modulus;
        break;
    }
    value %= modulus;
    return channel.bcd ? to_bcd(uint32_t(value)) : uint16_t(value);
}

bool Pit8254::output(const Channel& channel, uint64_t now_ns)
{
    // Modes 2 and 3: a low gate forces OUT high at once.
    if (periodic(channel.mode) && !channel.gate)
        return true;
    // Before its first count, OUT is low in mode 0 and high otherwise.
    if (!channel.loaded)
        return channel.mode != 0;
    uint64_t d = clocks(channel, now_ns);
    uint64_t reload = channel.reload;
    switch (channel.mode) {
    case 0:
        return d >= reload;
    case 1:
        return !channel.triggered || d >= reload;
    case 2:
        return d % reload != reload - 1;  // low for the clock at count 1
    case 3:
        return d % reload < (reload + 1) / 2;
    case 4:
        return d != reload;  // low for the clock at count 0
    case 5:
        return !channel.triggered || d != reload;
    }
    return true;
}

uint64_t Pit8254::next_rising_edge_ns(const Channel& channel, uint64_t after_ns)
{
    if (!counting(channel))
        return never;
    uint64_t d = clocks(channel, after_ns);
    uint64_t reload = channel.reload;
    uint64_t edge = 0;
    switch (channel.mode) {
    case 0:
    case 1:
        edge = reload;
        break;
    case 4:
    case 5:
        edge = reload + 1;
        break;
    default:
        edge = (d / reload + 1) * reload;
        break;
    }
    if (edge <= d)
        return never;
    return channel.run_start_ns + clocks_to_ns(edge - channel.clocks_before);
}

}  // namespace bootsim
