#include "board/pc_board.h"

#include <fmt/format.h>

#include "devices/dhcp_lease.h"

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
// 0x0CF8 - 0x0CFF: PCI configuration mechanism #1 (CONFIG_ADDRESS, CONFIG_DATA)
inline constexpr uint16_t pci_conf1 = 0xcf8;
// 0xC000 - : the I/O BARs of PCI devices, as firmware would assign them
inline constexpr uint16_t pci_io_window = 0xc000;
}  // namespace ports

namespace pci {
// Bus 0: the host bridge at device 0, disks from device 1 on.
inline constexpr uint8_t first_disk_slot = 1;
// INTA# of each disk, routed to these ISA IRQs. With no $PIR table (and no
// ACPI) Linux takes a device's IRQ from the Interrupt Line register the
// firmware programmed (pirq_enable_irq in arch/x86/pci/irq.c), so the board
// programs it as a BIOS would.
inline constexpr unsigned disk_irqs[] = {11, 10, 9, 5};
// The network card after the disks' slots, on an ISA IRQ nothing else of
// this board drives (no IDE controller claims 15).
inline constexpr uint8_t net_slot = first_disk_slot + std::size(disk_irqs);
inline constexpr unsigned net_irq = 15;
// How long after a frame leaves the guest an idle guest waits in real time
// for the answer (user-mode networking and a host server answer within
// milliseconds; a slow disk behind an NFS server may take longer).
inline constexpr uint64_t net_answer_wait_ns = 500'000'000;
// PCI command register bits firmware sets: I/O space decoding, bus master.
inline constexpr uint16_t command_io = 0x0001;
inline constexpr uint16_t command_bus_master = 0x0004;
}  // namespace pci

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

    m_irq_owners[irqs::pit] = "timer (PIT 8254 channel 0)";
    m_irq_owners[2] = "cascade from the second 8259";
    m_irq_owners[irqs::com1] = "COM1 (16550 UART)";
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

    m_pci = std::make_unique<PciHost>();
    m_host_bridge = std::make_unique<PciHostBridge>();
    m_pci->attach(0, *m_host_bridge);
    io.attach(ports::pci_conf1, 8, *m_pci, "PCI configuration mechanism #1");
    for (unsigned i = 0; i < config.disks.size() && i < std::size(pci::disk_irqs); ++i)
        attach_disk(*config.disks[i], i);
    if (config.net_mac)
        attach_net(*config.net_mac);

    m_bios = std::make_unique<PcBios>(config.e820);
    machine.set_firmware(*m_bios);
    if (config.firmware_tables) {
        m_bios->write_tables(machine.memory());
        machine.emit({.kind = EventKind::RegionPlaced, .address = PcBios::tables_base, .size = PcBios::tables_size,
                      .value = uint64_t(RegionRole::Firmware), .text = "BIOS tables (interrupt vector table, BIOS data area)"});
    }
}

void PcBoard::place_on_pci(VirtioPciLegacy& function, uint8_t slot, unsigned irq, uint16_t io_base, uint32_t io_size,
                           std::string label)
{
    // Where the guest (or we, as firmware) put BAR 0, the registers follow.
    function.set_bar_callback([this, &function, io_size, label](int bar, std::optional<uint16_t> base) {
        if (bar != 0)
            return;
        for (const auto& m : m_machine.io().mappings()) {
            if (m.device == &function) {
                m_machine.io().detach(m.base, function);
                break;
            }
        }
        if (base)
            m_machine.io().attach(*base, io_size, function, label + " (PCI BAR 0)");
    });
    function.set_interrupt_line(uint8_t(irq));
    function.config_write(0x10, io_base | 1, 4);
    function.config_write(0x04, pci::command_io | pci::command_bus_master, 2);
    m_pci->attach(slot, function);
}

void PcBoard::attach_disk(DiskImage& disk, unsigned index)
{
    unsigned irq = pci::disk_irqs[index];
    m_irq_owners[irq] = fmt::format("virtio-blk {} (PCI 00:{:02x}.0 INTA#)", index, pci::first_disk_slot + index);
    m_pci_irqs.push_back(std::make_unique<IsaIrq>(*this, irq));
    auto device = std::make_unique<VirtioBlk>(disk, m_machine.memory(), *m_pci_irqs.back());
    VirtioBlk& blk = *device;
    blk.set_observer([this](const DiskRequest& r) {
        static const char* kinds[] = {"read", "write", "flush", "get-id", "unsupported"};
        m_machine.emit({.kind = EventKind::DiskIo, .address = r.sector, .size = r.bytes, .value = r.ok ? 1u : 0u,
                        .text = kinds[size_t(r.kind)]});
    });
    place_on_pci(blk, uint8_t(pci::first_disk_slot + index), irq, uint16_t(ports::pci_io_window + index * 0x100),
                 VirtioBlk::io_size, fmt::format("virtio-blk {}", index));
    m_disks.push_back(std::move(device));
}

void PcBoard::attach_net(const VirtioNet::Mac& mac)
{
    m_irq_owners[pci::net_irq] = fmt::format("virtio-net (PCI 00:{:02x}.0 INTA#)", pci::net_slot);
    m_pci_irqs.push_back(std::make_unique<IsaIrq>(*this, pci::net_irq));
    m_net = std::make_unique<VirtioNet>(mac, m_machine.memory(), *m_pci_irqs.back());
    VirtioNet& net = *m_net;
    net.set_ready_observer([this, &net] {
        const auto& m = net.mac();
        m_machine.emit({.kind = EventKind::BootStep,
                        .value = uint64_t(BootStepKind::NetworkDevice),
                        .text = fmt::format("network card virtio-net {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} "
                                            "(PCI 00:{:02x}.0) ready",
                                            m[0], m[1], m[2], m[3], m[4], m[5], pci::net_slot)});
    });
    net.set_frame_observer([this](VirtioNet::Direction direction, std::span<const uint8_t> frame) {
        if (direction == VirtioNet::Direction::FromGuest) {
            // The peer answers in host time: keep the guest's clock from
            // skipping past the answer (a DHCP retry, an RPC timeout).
            m_machine.hold_real_time(pci::net_answer_wait_ns);
            return;
        }
        if (auto lease = dhcp_ack_in(frame))
            m_machine.emit({.kind = EventKind::BootStep, .value = uint64_t(BootStepKind::DhcpLease),
                            .text = describe(*lease)});
    });
    place_on_pci(net, pci::net_slot, pci::net_irq, uint16_t(ports::pci_io_window + std::size(pci::disk_irqs) * 0x100),
                 net.io_size(), "virtio-net");
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
