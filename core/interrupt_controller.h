#pragma once
// The CPU's side of an interrupt controller: is an interrupt pending on the
// INTR pin, and which vector does the INTA cycle return. The board adapts
// its chip (an 8259 pair) to this; the machine knows no chip by name.

namespace bootsim {

class InterruptController {
public:
    virtual ~InterruptController() = default;
    virtual bool has_interrupt() const = 0;
    // Acknowledges the highest-priority request and returns its vector
    // (or a spurious vector), as an INTA cycle does.
    virtual int acknowledge() = 0;
};

}  // namespace bootsim
