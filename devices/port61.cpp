#include "devices/port61.h"

namespace bootsim {

namespace {

constexpr uint8_t timer2_gate = 0x01;
constexpr uint8_t writable_bits = 0x0f;
constexpr uint8_t refresh_toggle = 0x10;
constexpr uint8_t timer2_output = 0x20;

}  // namespace

Port61::Port61(Pit8254& pit, const Clock& clock)
    : m_pit(pit)
    , m_clock(clock)
{
    reset();
}

void Port61::reset()
{
    m_control = 0;
    m_refresh = false;
    m_pit.set_gate2(false);
}

uint32_t Port61::read(uint64_t offset, unsigned)
{
    if (offset != 0)
        return 0xff;
    // The refresh bit toggles every 15 us on real hardware; code that waits
    // for it to change only needs to see it change, so it flips on every
    // read and such a wait always ends, however slowly the guest runs.
    m_refresh = !m_refresh;
    return m_control | (m_refresh ? refresh_toggle : 0) |
           (m_pit.out2(m_clock.now_ns()) ? timer2_output : 0);
}

void Port61::write(uint64_t offset, uint32_t value, unsigned)
{
    if (offset != 0)
        return;
    m_control = value & writable_bits;
    m_pit.set_gate2(m_control & timer2_gate);
}

}  // namespace bootsim
