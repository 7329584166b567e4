#include "devices/uart_16550.h"

#include <utility>

namespace bootsim {

namespace {

// Bit names from the PC16550D datasheet (and Linux's serial_reg.h).
constexpr uint8_t ier_erbfi = 0x01;   // received data available
constexpr uint8_t ier_etbei = 0x02;   // transmitter holding register empty
constexpr uint8_t ier_elsi = 0x04;    // receiver line status
constexpr uint8_t ier_edssi = 0x08;   // modem status

constexpr uint8_t iir_no_interrupt = 0x01;
constexpr uint8_t iir_modem_status = 0x00;
constexpr uint8_t iir_thre = 0x02;
constexpr uint8_t iir_rx_data = 0x04;
constexpr uint8_t iir_line_status = 0x06;
constexpr uint8_t iir_rx_timeout = 0x0c;
constexpr uint8_t iir_fifos_enabled = 0xc0;

constexpr uint8_t fcr_enable = 0x01;
constexpr uint8_t fcr_clear_rx = 0x02;
constexpr uint8_t fcr_kept_bits = 0xc9;  // enable, DMA mode select, RX trigger

constexpr uint8_t lcr_dlab = 0x80;

constexpr uint8_t mcr_dtr = 0x01;
constexpr uint8_t mcr_rts = 0x02;
constexpr uint8_t mcr_out1 = 0x04;
constexpr uint8_t mcr_out2 = 0x08;
constexpr uint8_t mcr_loop = 0x10;

constexpr uint8_t lsr_dr = 0x01;
constexpr uint8_t lsr_oe = 0x02;
constexpr uint8_t lsr_thre = 0x20;
constexpr uint8_t lsr_temt = 0x40;

constexpr uint8_t msr_cts = 0x10;
constexpr uint8_t msr_dsr = 0x20;
constexpr uint8_t msr_ri = 0x40;
constexpr uint8_t msr_dcd = 0x80;

// What the modem inputs show outside loopback: a terminal that is there and
// ready (CTS, DSR and DCD asserted, no ring), as QEMU's serial presents it.
constexpr uint8_t external_modem_status = msr_cts | msr_dsr | msr_dcd;

// FCR bits 7-6: the RX FIFO level that raises "received data available".
constexpr unsigned rx_trigger_levels[4] = {1, 4, 8, 14};

}  // namespace

Uart16550::Uart16550(IrqLine& irq, TransmitFn transmit)
    : m_irq(irq)
    , m_transmit(std::move(transmit))
{
    reset();
}

void Uart16550::reset()
{
    m_rx_head = 0;
    m_rx_count = 0;
    m_rbr = 0;
    m_ier = 0;
    m_fcr = 0;
    m_lcr = 0;
    m_mcr = 0;
    m_lsr_errors = 0;
    m_msr_status = external_modem_status;
    m_msr_delta = 0;
    m_scr = 0;
    // The divisor is undefined at power-on; 12 is 9600 baud from 1.8432 MHz.
    m_dll = 12;
    m_dlm = 0;
    m_thre_pending = false;
    update_irq();
}

uint32_t Uart16550::read(uint64_t offset, unsigned)
{
    uint8_t value = 0xff;
    switch (offset) {
    case 0:
        if (m_lcr & lcr_dlab) {
            value = m_dll;
        } else {
            if (m_rx_count > 0) {
                m_rbr = m_rx_fifo[m_rx_head];
                m_rx_head = (m_rx_head + 1) % m_rx_fifo.size();
                --m_rx_count;
            }
            value = m_rbr;
        }
        break;
    case 1:
        value = (m_lcr & lcr_dlab) ? m_dlm : m_ier;
        break;
    case 2:
        value = interrupt_id();
        // Reading IIR while it reports THRE clears that interrupt
        // (datasheet, table IV: "reading the IIR (if source of interrupt)").
        if ((value & 0x0f) == iir_thre)
            m_thre_pending = false;
        break;
    case 3:
        value = m_lcr;
        break;
    case 4:
        value = m_mcr;
        break;
    case 5:
        // THR and the transmitter are always empty: transmission is instant.
        value = (m_rx_count > 0 ? lsr_dr : 0) | m_lsr_errors | lsr_thre | lsr_temt;
        m_lsr_errors = 0;
        break;
    case 6:
        value = m_msr_status | m_msr_delta;
        m_msr_delta = 0;
        break;
    case 7:
        value = m_scr;
        break;
    }
    update_irq();
    return value;
}

void Uart16550::write(uint64_t offset, uint32_t value32, unsigned)
{
    uint8_t value = value32 & 0xff;
    switch (offset) {
    case 0:
        if (m_lcr & lcr_dlab) {
            m_dll = value;
            break;
        }
        // Writing THR clears the THRE interrupt; the byte then leaves at
        // once, THR is empty again and THRE is pending again, which is the
        // edge the kernel's transmit interrupt handler waits for.
        if (m_mcr & mcr_loop)
            receive_byte(value);
        else if (m_transmit)
            m_transmit(value);
        m_thre_pending = true;
        break;
    case 1: {
        if (m_lcr & lcr_dlab) {
            m_dlm = value;
            break;
        }
        uint8_t old = m_ier;
        // Bits 7-4 read as zero on a 16550; Linux's autoconfig checks that
        // (the XScale "UUE" probe must fail).
        m_ier = value & 0x0f;
        // Enabling ETBEI while THR is empty raises THRE even if an earlier
        // one was cleared by reading IIR. Linux's startup tests for exactly
        // this (UART_BUG_THRE / UART_BUG_TXEN in serial8250_do_startup);
        // QEMU and Bochs sample THRE on the rising edge of ETBEI, as here.
        if ((m_ier ^ old) & ier_etbei)
            m_thre_pending = (m_ier & ier_etbei) != 0;
        break;
    }
    case 2: {
        // FCR. The other bits are programmed only together with FCR0, and
        // changing FCR0 clears both FIFOs (datasheet, "FIFO Control Register").
        uint8_t kept = (value & fcr_enable) ? (value & fcr_kept_bits) : 0;
        if (((kept ^ m_fcr) & fcr_enable) || (value & fcr_clear_rx))
            m_rx_count = 0;
        m_fcr = kept;
        break;
    }
    case 3:
        m_lcr = value;
        break;
    case 4:
        m_mcr = value & 0x1f;
        if (m_mcr & mcr_loop) {
            // Loopback: the modem outputs drive the modem inputs
            // (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD). Linux's autoconfig
            // writes LOOP|OUT2|RTS and expects MSR bits 7-4 to read 0x90.
            set_modem_status(((m_mcr & mcr_dtr) ? msr_dsr : 0) |
                             ((m_mcr & mcr_rts) ? msr_cts : 0) |
                             ((m_mcr & mcr_out1) ? msr_ri : 0) |
                             ((m_mcr & mcr_out2) ? msr_dcd : 0));
        } else {
            set_modem_status(external_modem_status);
        }
        break;
    case 5:
    case 6:
        // LSR and MSR are read-only here (writing them is a factory test).
        break;
    case 7:
        m_scr = value;
        break;
    }
    update_irq();
}

void Uart16550::receive(uint8_t byte)
{
    if (m_mcr & mcr_loop)
        return;
    receive_byte(byte);
    update_irq();
}

bool Uart16550::can_receive() const
{
    return !(m_mcr & mcr_loop) && m_rx_count < rx_capacity();
}

void Uart16550::receive_byte(uint8_t byte)
{
    if (m_rx_count == rx_capacity()) {
        // Overrun (datasheet, LSR bit 1): without FIFOs the new character
        // overwrites RBR; with FIFOs it overwrites the shift register and is
        // lost, the FIFO keeps its contents.
        m_lsr_errors |= lsr_oe;
        if (!fifo_enabled())
            m_rx_fifo[m_rx_head] = byte;
        return;
    }
    m_rx_fifo[(m_rx_head + m_rx_count) % m_rx_fifo.size()] = byte;
    ++m_rx_count;
}

void Uart16550::set_modem_status(uint8_t status)
{
    uint8_t changed = m_msr_status ^ status;
    if (changed & msr_cts)
        m_msr_delta |= 0x01;
    if (changed & msr_dsr)
        m_msr_delta |= 0x02;
    if ((m_msr_status & msr_ri) && !(status & msr_ri))
        m_msr_delta |= 0x04;  // TERI: trailing edge of RI only
    if (changed & msr_dcd)
        m_msr_delta |= 0x08;
    m_msr_status = status;
}

// The highest-priority pending interrupt, as IIR shows it (datasheet,
// table IV): line status, then received data, then THRE, then modem status.
uint8_t Uart16550::interrupt_id() const
{
    uint8_t id = iir_no_interrupt;
    if ((m_ier & ier_elsi) && m_lsr_errors) {
        id = iir_line_status;
    } else if ((m_ier & ier_erbfi) && m_rx_count > 0) {
        // Below the trigger level a real 16550 reports a character timeout
        // after four character times without input. Nothing here paces the
        // line, so the timeout is reported at once: Linux programs a trigger
        // of 8 and would otherwise never hear about a single typed key.
        if (fifo_enabled() && m_rx_count < rx_trigger_levels[m_fcr >> 6])
            id = iir_rx_timeout;
        else
            id = iir_rx_data;
    } else if ((m_ier & ier_etbei) && m_thre_pending) {
        id = iir_thre;
    } else if ((m_ier & ier_edssi) && m_msr_delta) {
        id = iir_modem_status;
    }
    // Bits 7-6 mirror FCR0; Linux's autoconfig identifies a 16550A by 0xc0.
    return id | (fifo_enabled() ? iir_fifos_enabled : 0);
}

void Uart16550::update_irq()
{
    // On PC serial cards the interrupt output reaches the ISA bus through a
    // buffer enabled by OUT2, so the kernel sets OUT2 to use the IRQ. In
    // loopback the OUT2 pin is forced inactive (datasheet, MCR bit 4), which
    // disconnects the IRQ as well.
    bool level = !(interrupt_id() & iir_no_interrupt) && (m_mcr & mcr_out2) &&
                 !(m_mcr & mcr_loop);
    if (level != m_irq_level) {
        m_irq_level = level;
        m_irq.set_level(level);
    }
}

}  // namespace bootsim
