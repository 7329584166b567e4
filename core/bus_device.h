#pragma once
// What a device looks like to a bus: register reads and writes at offsets
// within its own range. A device does not care where it sits in the address
// space; the board decides that.

#include <cstdint>

namespace bootsim {

class BusDevice {
public:
    virtual ~BusDevice() = default;
    virtual const char* name() const = 0;
    // width is 1, 2 or 4 bytes.
    virtual uint32_t read(uint64_t offset, unsigned width) = 0;
    virtual void write(uint64_t offset, uint32_t value, unsigned width) = 0;
    virtual void reset() {}
};

// An interrupt request line as a device sees it (TinyEMU's IRQSignal).
class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void set_level(bool high) = 0;
};

// A line connected to nothing.
class NullIrqLine final : public IrqLine {
public:
    void set_level(bool) override {}
};

}  // namespace bootsim
