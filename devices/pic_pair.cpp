#include "devices/pic_pair.h"

namespace bootsim {

PicPair::PicPair(IrqLine& intr)
    : m_master(intr)
    , m_cascade(m_master)
    , m_slave(m_cascade)
{
    for (unsigned irq = 0; irq < m_lines.size(); ++irq) {
        m_lines[irq].m_pair = this;
        m_lines[irq].m_irq = irq;
    }
}

void PicPair::set_irq(unsigned irq, bool level)
{
    if (irq < 8) {
        if (irq != cascade_line)
            m_master.set_irq(irq, level);
    } else if (irq < 16) {
        m_slave.set_irq(irq - 8, level);
    }
}

int PicPair::acknowledge()
{
    // The master decides first (it sets ISR bit 2 for a cascaded request,
    // which Linux clears with a specific EOI to the master), then the slave
    // answers the second INTA pulse with its own vector.
    int line = m_master.pending_line();
    int vector = m_master.acknowledge();
    if (line == int(cascade_line))
        vector = m_slave.acknowledge();
    return vector;
}

void PicPair::reset()
{
    m_slave.reset();
    m_master.reset();
}

}  // namespace bootsim
