#pragma once
// Virtual time, as devices see it. Guest time follows the host's monotonic
// clock plus the idle time the machine skipped; devices never read the host
// clock themselves, so tests drive them with a fake clock.

#include <cstdint>
#include <limits>

namespace bootsim {

class Clock {
public:
    virtual ~Clock() = default;
    virtual uint64_t now_ns() const = 0;
};

// A device with time-driven behaviour (a timer, a UART's transmit pacing).
// The machine calls advance() when the deadline it reported has passed and,
// when the guest idles, jumps the clock straight to the earliest deadline.
class TimedDevice {
public:
    virtual ~TimedDevice() = default;
    static constexpr uint64_t never = std::numeric_limits<uint64_t>::max();
    // The next virtual time at which the device has something to do, or never.
    virtual uint64_t next_deadline_ns() const = 0;
    // Brings the device's state up to `now_ns` (raising IRQ lines as due).
    virtual void advance(uint64_t now_ns) = 0;
};

// A clock a test (or a paused machine) sets by hand.
class ManualClock final : public Clock {
public:
    uint64_t now_ns() const override { return m_now; }
    void set(uint64_t ns) { m_now = ns; }
    void add(uint64_t ns) { m_now += ns; }
private:
    uint64_t m_now = 0;
};

}  // namespace bootsim
