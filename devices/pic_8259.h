#pragma once
// One Intel 8259A programmable interrupt controller: eight request inputs,
// IRR/ISR/IMR, the ICW1-4 initialisation sequence and OCW1-3.
//
// Register offsets (8259A datasheet, "Programming the 8259A"):
//   0  write: ICW1 (bit 4 set), OCW2 (bits 4-3 = 00), OCW3 (bits 4-3 = 01)
//      read:  IRR or ISR as selected by OCW3, or the poll word
//   1  write: ICW2-4 during initialisation, then OCW1 (IMR)
//      read:  IMR
//
// Not modelled: rotating priorities (rotate commands act as plain EOIs;
// Linux never rotates), special fully nested mode, buffered mode.
//
// Edge-triggered inputs latch IRR on the rising edge and keep it until the
// request is acknowledged, even if the input falls first. A real 8259A needs
// the input held until the first INTA pulse; latching is what QEMU and
// TinyEMU do, and it lets a timer signal an interrupt with a short pulse.

#include <cstdint>

#include "core/bus_device.h"

namespace bootsim {

class Pic8259 final : public BusDevice {
public:
    // `int_output` is the chip's INT pin: the CPU's INTR for a master or
    // standalone chip, a master input for a slave.
    explicit Pic8259(IrqLine& int_output);

    const char* name() const override { return "i8259"; }
    // Registers are 8 bits wide; a wider access touches only the register at
    // `offset` and reads its value zero-extended.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    void reset() override;

    // Drives request input `line` (0-7).
    void set_irq(unsigned line, bool level);

    // The INT pin: an unmasked request outranks everything in service.
    bool int_output() const { return pending_line() >= 0; }
    // The line an INTA cycle would acknowledge now, or -1.
    int pending_line() const;
    // Its vector (ICW2 base + line), or -1. For a master's cascade input
    // the real vector comes from the slave: see PicPair::acknowledge().
    int pending_vector() const;
    // The INTA cycle: returns the vector and moves the request from IRR to
    // ISR (IRR stays set for a level-triggered input that is still high;
    // ISR is not set in auto-EOI mode). With no request left, returns the
    // spurious vector base + 7 and sets nothing, as the 8259A does when a
    // request goes away before INTA.
    int acknowledge();

    // The Edge/Level Control Register of PC chipsets (ports 0x4d0/0x4d1 on
    // the board): a set bit makes that input level-triggered.
    void set_elcr(uint8_t elcr);
    uint8_t elcr() const { return m_elcr; }

    uint8_t irr() const { return m_irr; }
    uint8_t isr() const { return m_isr; }
    uint8_t imr() const { return m_imr; }

private:
    enum class InitStep : uint8_t { Ready, Icw2, Icw3, Icw4 };

    void write_icw1(uint8_t value);
    void write_ocw2(uint8_t value);
    void write_ocw3(uint8_t value);
    uint8_t level_mask() const { return m_ltim ? 0xff : m_elcr; }
    void update_irq();

    IrqLine& m_int_output;

    uint8_t m_irr = 0;
    uint8_t m_isr = 0;
    uint8_t m_imr = 0;
    uint8_t m_input = 0;      // present level of each request input
    uint8_t m_elcr = 0;
    uint8_t m_vector_base = 0;
    InitStep m_init_step = InitStep::Ready;
    bool m_icw4_needed = false;
    bool m_single = false;
    bool m_ltim = false;      // ICW1 bit 3: all inputs level-triggered
    bool m_auto_eoi = false;
    bool m_read_isr = false;  // OCW3 RR/RIS: offset 0 reads ISR instead of IRR
    bool m_poll = false;      // OCW3 P: the next offset-0 read is a poll
    bool m_special_mask = false;
    bool m_int_level = false;
};

}  // namespace bootsim
