#pragma once
// An IRQ line for device tests: records the level, its rising edges and
// every level the device drove.

#include <vector>

#include "core/bus_device.h"

namespace bootsim::fake {

class FakeIrqLine final : public IrqLine {
public:
    void set_level(bool high) override
    {
        if (high && !m_level)
            ++m_rising_edges;
        m_level = high;
        m_calls.push_back(high);
    }
    bool level() const { return m_level; }
    int rising_edges() const { return m_rising_edges; }
    const std::vector<bool>& calls() const { return m_calls; }

private:
    bool m_level = false;
    int m_rising_edges = 0;
    std::vector<bool> m_calls;
};

}  // namespace bootsim::fake
