#pragma once
// A National Semiconductor PC16550D UART (the "16550A" Linux detects): eight
// byte-wide registers, a 16-byte receive FIFO, and one interrupt output.
// Transmission is instantaneous: a byte written to THR goes to the transmit
// callback at once, so THR and the shift register are always empty.
//
// Register offsets (PC16550D datasheet, table II):
//   0  RBR (read) / THR (write) / DLL when LCR.DLAB=1
//   1  IER / DLM when LCR.DLAB=1
//   2  IIR (read) / FCR (write)
//   3  LCR   4 MCR   5 LSR   6 MSR   7 SCR
//
// Not thread-safe: receive() must be called from the thread that runs the
// guest's I/O accesses.

#include <array>
#include <cstdint>
#include <functional>

#include "core/bus_device.h"

namespace bootsim {

class Uart16550 final : public BusDevice {
public:
    using TransmitFn = std::function<void(uint8_t)>;

    Uart16550(IrqLine& irq, TransmitFn transmit);

    const char* name() const override { return "uart-16550a"; }
    // Registers are 8 bits wide; a wider access touches only the register at
    // `offset` and reads its value zero-extended.
    uint32_t read(uint64_t offset, unsigned width) override;
    void write(uint64_t offset, uint32_t value, unsigned width) override;
    void reset() override;

    // Host input: one byte arriving on the serial line. When the receiver
    // is full it is an overrun (LSR.OE), as on the wire; ask can_receive()
    // first to apply back-pressure instead. In loopback mode the serial
    // input is disconnected (datasheet, MCR bit 4) and the byte is dropped.
    void receive(uint8_t byte);
    bool can_receive() const;

private:
    void receive_byte(uint8_t byte);
    void set_modem_status(uint8_t status);
    uint8_t interrupt_id() const;
    bool fifo_enabled() const { return m_fcr & 0x01; }
    unsigned rx_capacity() const { return fifo_enabled() ? m_rx_fifo.size() : 1; }
    void update_irq();

    IrqLine& m_irq;
    TransmitFn m_transmit;

    std::array<uint8_t, 16> m_rx_fifo {};
    unsigned m_rx_head = 0;   // index of the oldest byte
    unsigned m_rx_count = 0;
    uint8_t m_rbr = 0;        // last byte read: what RBR shows when empty

    uint8_t m_ier = 0;
    uint8_t m_fcr = 0;        // the bits that stick: enable, DMA mode, trigger
    uint8_t m_lcr = 0;
    uint8_t m_mcr = 0;
    uint8_t m_lsr_errors = 0; // OE; cleared by reading LSR
    uint8_t m_msr_status = 0; // MSR bits 7-4: DCD, RI, DSR, CTS
    uint8_t m_msr_delta = 0;  // MSR bits 3-0: DDCD, TERI, DDSR, DCTS
    uint8_t m_scr = 0;
    uint8_t m_dll = 0;
    uint8_t m_dlm = 0;
    bool m_thre_pending = false;  // the THRE interrupt, see write(IER)
    bool m_irq_level = false;
};

}  // namespace bootsim
