// Uart16550 driven through its registers, as Linux's 8250 driver drives it.

#include <gtest/gtest.h>

#include <vector>

#include "devices/uart_16550.h"

#include "unit/fake_irq_line.h"

namespace bootsim {
namespace {

using fake::FakeIrqLine;

// Register offsets.
constexpr uint64_t RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
                   MCR = 4, LSR = 5, MSR = 6, SCR = 7;

class UartTest : public ::testing::Test {
protected:
    uint8_t in(uint64_t offset) { return uint8_t(uart.read(offset, 1)); }
    void out(uint64_t offset, uint8_t value) { uart.write(offset, value, 1); }

    FakeIrqLine irq;
    std::vector<uint8_t> sent;
    Uart16550 uart {irq, [this](uint8_t byte) { sent.push_back(byte); }};
};

TEST_F(UartTest, PowerOnState)
{
    EXPECT_EQ(in(IER), 0x00);
    EXPECT_EQ(in(IIR), 0x01);  // no interrupt, FIFOs off
    EXPECT_EQ(in(LCR), 0x00);
    EXPECT_EQ(in(MCR), 0x00);
    EXPECT_EQ(in(LSR), 0x60);  // THRE | TEMT
    EXPECT_EQ(in(MSR), 0xb0);  // DCD | DSR | CTS from the host side
    EXPECT_TRUE(irq.calls().empty());
}

TEST_F(UartTest, ScratchRegisterHoldsAnyByte)
{
    out(SCR, 0x5a);
    EXPECT_EQ(in(SCR), 0x5a);
    out(SCR, 0xa5);
    EXPECT_EQ(in(SCR), 0xa5);
}

TEST_F(UartTest, DivisorLatchSharesOffsetsZeroAndOne)
{
    out(LCR, 0x83);  // DLAB, 8N1
    out(DLL, 0x01);  // 115200 baud
    out(DLM, 0x02);
    EXPECT_EQ(in(DLL), 0x01);
    EXPECT_EQ(in(DLM), 0x02);
    EXPECT_TRUE(sent.empty());  // DLL writes are not data
    out(LCR, 0x03);
    EXPECT_EQ(in(IER), 0x00);   // offset 1 is IER again
    out(THR, 'x');
    out(IER, 0x05);
    out(LCR, 0x83);
    EXPECT_EQ(in(DLL), 0x01);
    EXPECT_EQ(in(DLM), 0x02);
    EXPECT_EQ(in(LCR), 0x83);
}

TEST_F(UartTest, TransmitIsImmediate)
{
    out(THR, 'h');
    out(THR, 'i');
    EXPECT_EQ(sent, (std::vector<uint8_t> {'h', 'i'}));
    EXPECT_EQ(in(LSR) & 0x60, 0x60);
}

TEST_F(UartTest, IerKeepsOnlyLowFourBits)
{
    // Linux's autoconfig existence test and XScale UUE probe.
    out(IER, 0x00);
    EXPECT_EQ(in(IER), 0x00);
    out(IER, 0xff);
    EXPECT_EQ(in(IER), 0x0f);
    out(IER, 0x40);
    EXPECT_EQ(in(IER), 0x00);
}

TEST_F(UartTest, ThreInterruptRaisedOnEnableAndClearedByIirRead)
{
    out(MCR, 0x08);  // OUT2 connects the IRQ
    EXPECT_FALSE(irq.level());
    out(IER, 0x02);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(in(IIR), 0x02);  // reading it clears THRE
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(in(IIR), 0x01);
    EXPECT_EQ(irq.rising_edges(), 1);
}

TEST_F(UartTest, ThrWriteRaisesThreAgain)
{
    out(MCR, 0x08);
    out(IER, 0x02);
    EXPECT_EQ(in(IIR), 0x02);
    EXPECT_FALSE(irq.level());
    out(THR, 'a');  // sent at once: THR empty again, a new edge
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(irq.rising_edges(), 2);
    EXPECT_EQ(in(IIR), 0x02);
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, ReenablingEtbeiReassertsThre)
{
    // serial8250_do_startup's UART_BUG_THRE test: IER=THRI, read IIR,
    // IER=0, IER=THRI, read IIR: a real 16550 reports THRE both times.
    out(IER, 0x02);
    EXPECT_EQ(in(IIR) & 0x01, 0);
    out(IER, 0x00);
    out(IER, 0x02);
    EXPECT_EQ(in(IIR), 0x02);
    out(IER, 0x00);
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, DisablingEtbeiDropsTheInterrupt)
{
    out(MCR, 0x08);
    out(IER, 0x02);
    EXPECT_TRUE(irq.level());
    out(IER, 0x00);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, IrqNeedsOut2)
{
    out(IER, 0x02);
    EXPECT_EQ(uart.read(IIR, 1) & 0x0f, 0x02u);  // pending, and now cleared
    out(THR, 'z');                                // pending again
    EXPECT_FALSE(irq.level());                    // but OUT2 is off
    out(MCR, 0x08);
    EXPECT_TRUE(irq.level());
    out(MCR, 0x00);
    EXPECT_FALSE(irq.level());
}

TEST_F(UartTest, FifoEnableShowsInIirTopBits)
{
    out(FCR, 0x01);
    EXPECT_EQ(in(IIR), 0xc1);
    out(FCR, 0x00);
    EXPECT_EQ(in(IIR), 0x01);
    // Without FCR0 the trigger bits are not programmed.
    out(FCR, 0xc0);
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, ReceiveFifoHoldsSixteenBytesInOrder)
{
    out(FCR, 0x07);  // enable, clear both FIFOs
    EXPECT_EQ(in(LSR), 0x60);
    for (int i = 0; i < 16; ++i) {
        EXPECT_TRUE(uart.can_receive()) << i;
        uart.receive(uint8_t('a' + i));
    }
    EXPECT_FALSE(uart.can_receive());
    EXPECT_EQ(in(LSR), 0x61);  // DR, no overrun yet
    for (int i = 0; i < 16; ++i)
        EXPECT_EQ(in(RBR), 'a' + i) << i;
    EXPECT_EQ(in(LSR), 0x60);
    EXPECT_TRUE(uart.can_receive());
    // Reading an empty RBR repeats the last byte.
    EXPECT_EQ(in(RBR), 'p');
}

TEST_F(UartTest, FifoOverrunLosesTheNewByte)
{
    out(FCR, 0x01);
    for (int i = 0; i < 17; ++i)
        uart.receive(uint8_t(i));
    EXPECT_EQ(in(LSR), 0x63);  // DR | OE
    EXPECT_EQ(in(LSR), 0x61);  // OE clears when read
    for (int i = 0; i < 16; ++i)
        EXPECT_EQ(in(RBR), i);
    EXPECT_EQ(in(LSR), 0x60);
}

TEST_F(UartTest, WithoutFifoOneByteAndOverrunOverwrites)
{
    EXPECT_TRUE(uart.can_receive());
    uart.receive('1');
    EXPECT_FALSE(uart.can_receive());
    uart.receive('2');
    EXPECT_EQ(in(LSR), 0x63);
    EXPECT_EQ(in(RBR), '2');
    EXPECT_EQ(in(LSR), 0x60);
}

TEST_F(UartTest, FcrClearsReceiveFifo)
{
    out(FCR, 0x01);
    uart.receive('a');
    uart.receive('b');
    out(FCR, 0x03);  // keep enabled, clear RX
    EXPECT_EQ(in(LSR), 0x60);
    out(FCR, 0x01);
    uart.receive('c');
    out(FCR, 0x00);  // turning the FIFOs off clears them too
    EXPECT_EQ(in(LSR), 0x60);
}

TEST_F(UartTest, ReceiveInterruptAndTriggerLevel)
{
    out(MCR, 0x08);
    out(FCR, 0x81);  // FIFO on, trigger at 8 bytes (what Linux programs)
    out(IER, 0x01);
    EXPECT_FALSE(irq.level());
    uart.receive('k');
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(in(IIR), 0xcc);  // below the trigger: character timeout
    for (int i = 0; i < 7; ++i)
        uart.receive('k');
    EXPECT_EQ(in(IIR), 0xc4);  // at the trigger: received data available
    for (int i = 0; i < 8; ++i)
        in(RBR);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(in(IIR), 0xc1);
}

TEST_F(UartTest, InterruptPriorities)
{
    out(MCR, 0x08);
    out(FCR, 0x01);  // trigger level 1
    out(IER, 0x0f);
    // THRE pending from the ETBEI edge; modem status delta from loopback.
    out(MCR, 0x18);
    out(MCR, 0x08);
    for (int i = 0; i < 17; ++i)
        uart.receive('r');
    EXPECT_EQ(in(IIR), 0xc6);  // line status (overrun) first
    in(LSR);
    EXPECT_EQ(in(IIR), 0xc4);  // then received data
    for (int i = 0; i < 16; ++i)
        in(RBR);
    EXPECT_EQ(in(IIR), 0xc2);  // then THRE, which the read clears
    EXPECT_EQ(in(IIR), 0xc0);  // then modem status
    in(MSR);
    EXPECT_EQ(in(IIR), 0xc1);
    EXPECT_FALSE(irq.level());
}

TEST_F(UartTest, LoopbackModemLinesAsLinuxTestsThem)
{
    // autoconfig: MCR = LOOP | OUT2 | RTS, expect MSR[7:4] = DCD | CTS.
    out(MCR, 0x1a);
    EXPECT_EQ(in(MSR) & 0xf0, 0x90);
    out(MCR, 0x11);  // DTR -> DSR
    EXPECT_EQ(in(MSR) & 0xf0, 0x20);
    out(MCR, 0x14);  // OUT1 -> RI
    EXPECT_EQ(in(MSR) & 0xf0, 0x40);
    out(MCR, 0x1f);
    EXPECT_EQ(in(MSR) & 0xf0, 0xf0);
    out(MCR, 0x00);
    EXPECT_EQ(in(MSR) & 0xf0, 0xb0);
}

TEST_F(UartTest, ModemStatusDeltas)
{
    out(MCR, 0x10);            // loopback, all outputs off: CTS, DSR, DCD fall
    EXPECT_EQ(in(MSR), 0x0b);  // DCTS | DDSR | DDCD
    EXPECT_EQ(in(MSR), 0x00);  // deltas clear when read
    out(MCR, 0x14);            // RI rises: no TERI
    EXPECT_EQ(in(MSR), 0x40);
    out(MCR, 0x10);            // RI falls: TERI
    EXPECT_EQ(in(MSR), 0x04);
}

TEST_F(UartTest, LoopbackSendsTransmittedBytesToTheReceiver)
{
    out(FCR, 0x01);
    out(MCR, 0x18);  // LOOP | OUT2
    out(IER, 0x01);
    out(THR, 0x42);
    out(THR, 0x43);
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(in(LSR), 0x61);
    EXPECT_EQ(in(IIR), 0xc4);         // the interrupt is pending...
    EXPECT_FALSE(irq.level());        // ...but loopback disconnects the IRQ
    EXPECT_EQ(in(RBR), 0x42);
    EXPECT_EQ(in(RBR), 0x43);
    // The serial input is disconnected in loopback.
    EXPECT_FALSE(uart.can_receive());
    uart.receive('x');
    EXPECT_EQ(in(LSR), 0x60);
    out(MCR, 0x08);
    EXPECT_TRUE(uart.can_receive());
    out(THR, 0x44);
    EXPECT_EQ(sent, (std::vector<uint8_t> {0x44}));
}

TEST_F(UartTest, LinuxAutoconfigIdentifies16550A)
{
    // drivers/tty/serial/8250/8250_port.c, autoconfig().
    uint8_t scratch = in(IER);
    out(IER, 0);
    uint8_t scratch2 = in(IER) & 0x0f;
    out(IER, 0x0f);
    uint8_t scratch3 = in(IER) & 0x0f;
    out(IER, scratch);
    EXPECT_EQ(scratch2, 0);
    EXPECT_EQ(scratch3, 0x0f);

    uint8_t save_mcr = in(MCR);
    out(MCR, 0x10 | 0x0a);
    EXPECT_EQ(in(MSR) & 0xf0, 0x90);
    out(MCR, save_mcr);

    out(LCR, 0xbf);  // UART_LCR_CONF_MODE_B
    out(FCR, 0);     // UART_EFR (no EFR here: this is FCR)
    out(LCR, 0);
    out(FCR, 0x01);  // UART_FCR_ENABLE_FIFO
    EXPECT_EQ(in(IIR) >> 6, 3);

    // autoconfig_16550a: no EFR under either configuration mode...
    out(LCR, 0x80);
    EXPECT_NE(in(IIR), 0);
    out(LCR, 0xbf);
    EXPECT_NE(in(IIR), 0);
    // ...and no 64-byte FIFO (16750) bit.
    out(LCR, 0);
    out(FCR, 0x21);
    EXPECT_EQ(in(IIR) & 0xe0, 0xc0);
    out(LCR, 0x80);
    out(FCR, 0x21);
    EXPECT_EQ(in(IIR) & 0xe0, 0xc0);
}

TEST_F(UartTest, LinuxStartupSeesTransmitInterrupt)
{
    // serial8250_do_startup's UART_BUG_TXEN test: IER=THRI, read LSR and
    // IIR; TEMT with no interrupt would mean a buggy UART.
    out(IER, 0x02);
    uint8_t lsr = in(LSR);
    uint8_t iir = in(IIR);
    out(IER, 0);
    EXPECT_TRUE(lsr & 0x40);
    EXPECT_FALSE(iir & 0x01);
}

TEST_F(UartTest, ResetReturnsToPowerOnAndLowersIrq)
{
    out(MCR, 0x08);
    out(IER, 0x02);
    out(SCR, 0x77);
    EXPECT_TRUE(irq.level());
    uart.reset();
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(in(IER), 0);
    EXPECT_EQ(in(MCR), 0);
    EXPECT_EQ(in(SCR), 0);
    EXPECT_EQ(in(IIR), 0x01);
}

}  // namespace
}  // namespace bootsim
