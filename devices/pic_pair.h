#pragma once
// The PC/AT interrupt controller pair: a master 8259A whose input 2 is the
// INT output of a slave 8259A. ISA IRQs 0-7 are the master's inputs and
// 8-15 the slave's. The board attaches master() and slave() to the I/O bus
// (0x20-0x21 and 0xa0-0xa1 on a PC); the CPU side uses set_irq(),
// has_interrupt() and acknowledge().

#include <array>

#include "core/bus_device.h"
#include "devices/pic_8259.h"

namespace bootsim {

class PicPair final {
public:
    // `intr` follows the master's INT pin (the CPU's INTR input). A board
    // that polls has_interrupt() can pass a NullIrqLine.
    explicit PicPair(IrqLine& intr);

    PicPair(const PicPair&) = delete;
    PicPair& operator=(const PicPair&) = delete;

    Pic8259& master() { return m_master; }
    Pic8259& slave() { return m_slave; }

    // Drives ISA IRQ `irq` (0-15). IRQ 2 is the cascade input, not a bus
    // line: requests for it are ignored (the AT routed the bus's IRQ2 pin
    // to IRQ 9; a board that wants that calls set_irq(9)).
    void set_irq(unsigned irq, bool level);
    // ISA IRQ `irq` (0-15) as an IrqLine, for devices that drive one: the
    // board passes irq_line(4) to the COM1 UART, irq_line(0) to the PIT.
    IrqLine& irq_line(unsigned irq) { return m_lines[irq & 15]; }

    bool has_interrupt() const { return m_master.int_output(); }
    // The INTA cycle: the master acknowledges its highest request; when
    // that is the cascade input, the slave supplies the vector. Returns a
    // spurious IRQ 7 (or IRQ 15) vector when the request has gone away.
    int acknowledge();

    void reset();

private:
    static constexpr unsigned cascade_line = 2;

    // The slave's INT pin, wired to the master's cascade input.
    class CascadeLine final : public IrqLine {
    public:
        explicit CascadeLine(Pic8259& master) : m_master(master) {}
        void set_level(bool high) override { m_master.set_irq(cascade_line, high); }
    private:
        Pic8259& m_master;
    };

    // One ISA input, as irq_line() hands it out.
    struct InputLine final : IrqLine {
        void set_level(bool high) override { m_pair->set_irq(m_irq, high); }
        PicPair* m_pair = nullptr;
        unsigned m_irq = 0;
    };

    Pic8259 m_master;
    CascadeLine m_cascade;
    Pic8259 m_slave;
    std::array<InputLine, 16> m_lines;
};

}  // namespace bootsim
