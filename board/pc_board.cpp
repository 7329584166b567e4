#include "board/pc_board.h"

namespace bootsim {

namespace ports {
// 0x0020 - 0x0021: 8259A PIC 1 (master)
inline constexpr uint16_t pic_master = 0x20;
// 0x0040 - 0x0043: 8254 PIT
inline constexpr uint16_t pit = 0x40;
// 0x0060, 0x0064: i8042 keyboard controller (data, status/command)
inline constexpr uint16_t i8042_data = 0x60;
inline constexpr uint16_t i8042_command = 0x64;
// 0x0061: System Control Port B (PIT channel 2 gate and output)
inline constexpr uint16_t port61 = 0x61;
// 0x0070 - 0x0071: CMOS RTC (index, data)
inline constexpr uint16_t cmos = 0x70;
// 0x00A0 - 0x00A1: 8259A PIC 2 (slave)
inline constexpr uint16_t pic_slave = 0xa0;
// 0x03F8 - 0x03FF: COM1, the console (console=ttyS0)
inline constexpr uint16_t com1 = 0x3f8;
}  // namespace ports

namespace irqs {
inline constexpr unsigned pit = 0;
inline constexpr unsigned com1 = 4;
}  // namespace irqs

void PcBoard::IsaIrq::set_level(bool high)
{
    if (high)
        ++m_board.m_irq_counts[m_irq];
    m_board.m_pic->set_irq(m_irq, high);
}

PcBoard::PcBoard(Machine& machine, const BoardConfig& config) : m_machine(machine), m_intr(machine)
{
    static_assert(irqs::pit == 0 && irqs::com1 == 4, "IsaIrq members are wired to these lines");
    IoBus& io = machine.io();

    m_pic = std::make_unique<PicPair>(m_intr);
    m_pic_interrupts = std::make_unique<PicInterrupts>(*m_pic);
    machine.set_interrupt_controller(*m_pic_interrupts);
    io.attach(ports::pic_master, 2, m_pic->master(), "8259A PIC 1 (master)");
    io.attach(ports::pic_slave, 2, m_pic->slave(), "8259A PIC 2 (slave)");

    m_pit = std::make_unique<Pit8254>(machine, m_irq0);
    machine.add_timed_device(*m_pit);
    io.attach(ports::pit, 4, *m_pit, "8254 PIT");
    m_port61 = std::make_unique<Port61>(*m_pit, machine);
    io.attach(ports::port61, 1, *m_port61, "System Control Port B");

    m_rtc = std::make_unique<CmosRtc>(machine, config.rtc_epoch);
    m_rtc->set_memory_size(config.mem_size);
    io.attach(ports::cmos, 2, *m_rtc, "CMOS RTC");

    m_i8042 = std::make_unique<I8042>([this] {
        m_machine.request_stop(RunEnd::Reset, "the guest reset the machine (i8042 reset line)");
    });
    m_i8042_status = std::make_unique<BusWindow>(*m_i8042, 4);
    io.attach(ports::i8042_data, 1, *m_i8042, "i8042 data");
    io.attach(ports::i8042_command, 1, *m_i8042_status, "i8042 status/command");

    m_com1 = std::make_unique<Uart16550>(m_irq4, [this](uint8_t byte) {
        m_machine.emit({.kind = EventKind::SerialOutput, .text = std::string(1, char(byte))});
    });
    io.attach(ports::com1, 8, *m_com1, "COM1 (16550A UART)");
    // What did not fit in the receive FIFO goes in as the guest drains it.
    machine.add_service([this] {
        if (!m_console_backlog.empty())
            feed_console();
    });
}

PcBoard::~PcBoard() = default;

void PcBoard::type_on_console(const std::string& bytes)
{
    m_console_backlog += bytes;
    feed_console();
}

void PcBoard::feed_console()
{
    size_t n = 0;
    while (n < m_console_backlog.size() && m_com1->can_receive())
        m_com1->receive(uint8_t(m_console_backlog[n++]));
    m_console_backlog.erase(0, n);
}

}  // namespace bootsim
