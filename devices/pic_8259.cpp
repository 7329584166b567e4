#include "devices/pic_8259.h"

#include <bit>

namespace bootsim {

namespace {

// Highest priority is the lowest line number (fixed priority, no rotation).
int highest_priority(uint8_t bits)
{
    return bits ? std::countr_zero(bits) : -1;
}

}  // namespace

Pic8259::Pic8259(IrqLine& int_output)
    : m_int_output(int_output)
{
    reset();
}

void Pic8259::reset()
{
    // Power-on state; the request inputs and ELCR belong to the board.
    m_irr = m_input & level_mask();
    m_isr = 0;
    m_imr = 0;
    m_vector_base = 0;
    m_init_step = InitStep::Ready;
    m_icw4_needed = false;
    m_single = false;
    m_ltim = false;
    m_auto_eoi = false;
    m_read_isr = false;
    m_poll = false;
    m_special_mask = false;
    update_irq();
}

uint32_t Pic8259::read(uint64_t offset, unsigned)
{
    uint8_t value = 0xff;
    switch (offset) {
    case 0:
        if (m_poll) {
            // Poll word (datasheet, "The Poll Command"): bit 7 = request
            // present, bits 2-0 = its level; the read acts as an INTA.
            m_poll = false;
            int line = pending_line();
            if (line >= 0) {
                acknowledge();
                value = 0x80 | line;
            } else {
                value = 0;
            }
        } else {
            value = m_read_isr ? m_isr : m_irr;
        }
        break;
    case 1:
        value = m_imr;
        break;
    }
    update_irq();
    return value;
}

void Pic8259::write(uint64_t offset, uint32_t value32, unsigned)
{
    uint8_t value = value32 & 0xff;
    switch (offset) {
    case 0:
        if (value & 0x10)
            write_icw1(value);
        else if (value & 0x08)
            write_ocw3(value);
        else
            write_ocw2(value);
        break;
    case 1:
        switch (m_init_step) {
        case InitStep::Icw2:
            // In 8086 mode only bits 7-3 of ICW2 count; the line fills 2-0.
            m_vector_base = value & 0xf8;
            if (!m_single)
                m_init_step = InitStep::Icw3;
            else
                m_init_step = m_icw4_needed ? InitStep::Icw4 : InitStep::Ready;
            break;
        case InitStep::Icw3:
            // Which lines have slaves (master) or the slave's ID: the
            // cascade is wired by PicPair, so the value is not needed.
            m_init_step = m_icw4_needed ? InitStep::Icw4 : InitStep::Ready;
            break;
        case InitStep::Icw4:
            m_auto_eoi = value & 0x02;
            m_init_step = InitStep::Ready;
            break;
        case InitStep::Ready:
            m_imr = value;  // OCW1
            break;
        }
        break;
    }
    update_irq();
}

void Pic8259::write_icw1(uint8_t value)
{
    // Datasheet, "Initialization Command Words": the edge sense circuit is
    // reset (a high input must go low and high again), IMR is cleared,
    // special mask mode is off, status read is IRR, and without IC4 all
    // ICW4 functions are zero.
    m_icw4_needed = value & 0x01;
    m_single = value & 0x02;
    m_ltim = value & 0x08;
    m_irr = m_input & level_mask();
    m_isr = 0;
    m_imr = 0;
    m_read_isr = false;
    m_poll = false;
    m_special_mask = false;
    m_auto_eoi = false;
    m_init_step = InitStep::Icw2;
}

void Pic8259::write_ocw2(uint8_t value)
{
    switch (value >> 5) {
    case 1:  // non-specific EOI
    case 5:  // rotate on non-specific EOI: rotation not modelled
        if (int line = highest_priority(m_isr); line >= 0)
            m_isr &= ~(1u << line);
        break;
    case 3:  // specific EOI: Linux's mask_and_ack_8259A sends 0x60 + line
    case 7:  // rotate on specific EOI: rotation not modelled
        m_isr &= ~(1u << (value & 7));
        break;
    default:  // rotate in auto-EOI, set priority, no-op
        break;
    }
}

void Pic8259::write_ocw3(uint8_t value)
{
    if (value & 0x04)
        m_poll = true;
    if (value & 0x02)
        m_read_isr = value & 0x01;  // Linux: 0x0a selects IRR, 0x0b ISR
    if (value & 0x40)
        m_special_mask = value & 0x20;
}

void Pic8259::set_irq(unsigned line, bool level)
{
    if (line > 7)
        return;
    uint8_t bit = 1u << line;
    if (level_mask() & bit) {
        m_irr = level ? (m_irr | bit) : (m_irr & ~bit);
    } else if (level && !(m_input & bit)) {
        m_irr |= bit;
    }
    m_input = level ? (m_input | bit) : (m_input & ~bit);
    update_irq();
}

void Pic8259::set_elcr(uint8_t elcr)
{
    m_elcr = elcr;
    // A line turned level-triggered shows its present level at once.
    m_irr = (m_irr & ~level_mask()) | (m_input & level_mask());
    update_irq();
}

int Pic8259::pending_line() const
{
    int line = highest_priority(m_irr & ~m_imr);
    if (line < 0)
        return -1;
    // In special mask mode a masked in-service level no longer blocks lower
    // priorities (datasheet, "Special Mask Mode").
    uint8_t in_service = m_special_mask ? (m_isr & ~m_imr) : m_isr;
    int serving = highest_priority(in_service);
    if (serving >= 0 && serving <= line)
        return -1;
    return line;
}

int Pic8259::pending_vector() const
{
    int line = pending_line();
    return line < 0 ? -1 : m_vector_base + line;
}

int Pic8259::acknowledge()
{
    int line = pending_line();
    if (line < 0) {
        update_irq();
        return m_vector_base + 7;
    }
    uint8_t bit = 1u << line;
    if (!(level_mask() & bit))
        m_irr &= ~bit;
    if (!m_auto_eoi)
        m_isr |= bit;
    update_irq();
    return m_vector_base + line;
}

void Pic8259::update_irq()
{
    bool level = int_output();
    if (level != m_int_level) {
        m_int_level = level;
        m_int_output.set_level(level);
    }
}

}  // namespace bootsim
