#pragma once
// The PC around the CPU: which device sits at which port and drives which
// IRQ line. Reads like a schematic; the devices themselves know none of it.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/interrupt_controller.h"
#include "core/machine.h"
#include "devices/bus_window.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/pic_pair.h"
#include "devices/pit_8254.h"
#include "devices/port61.h"
#include "devices/disk_image.h"
#include "devices/pc_bios.h"
#include "devices/pci_host.h"
#include "devices/uart_16550.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"

namespace bootsim {

struct BoardConfig {
    uint64_t mem_size = 0;
    std::optional<int64_t> rtc_epoch;  // the RTC's start time; unset: the host's clock
    std::vector<DiskImage*> disks;     // each becomes a virtio-blk device on PCI
    // A virtio-net card on PCI with this MAC; its backend is set on net().
    std::optional<VirtioNet::Mac> net_mac;
    // The memory map the firmware reports (INT 15h E820h), and whether it
    // lays out its tables (IVT, BIOS data area) as a BIOS does before it
    // starts a real-mode boot.
    std::vector<E820Entry> e820;
    bool firmware_tables = false;
};

class PcBoard final {
public:
    PcBoard(Machine& machine, const BoardConfig& config);
    ~PcBoard();

    Uart16550& com1() { return *m_com1; }
    // Bytes typed for the console: queued, and fed into COM1's receiver as
    // fast as the guest drains it. Call on the CPU thread.
    void type_on_console(const std::string& bytes);
    PicPair& pic() { return *m_pic; }
    // The network card, if the board has one.
    VirtioNet* net() { return m_net.get(); }
    // Interrupts raised per ISA IRQ line, for the report and the GUI.
    const std::array<uint64_t, 16>& irq_counts() const { return m_irq_counts; }
    // What drives each ISA IRQ line on this board ("" for none).
    const std::array<std::string, 16>& irq_owners() const { return m_irq_owners; }

private:
    // An ISA IRQ line into the PIC pair.
    class IsaIrq final : public IrqLine {
    public:
        IsaIrq(PcBoard& board, unsigned irq) : m_board(board), m_irq(irq) {}
        void set_level(bool high) override;
    private:
        PcBoard& m_board;
        unsigned m_irq;
    };
    // The PIC's INT output into the CPU's INTR input.
    class IntrPin final : public IrqLine {
    public:
        explicit IntrPin(Machine& machine) : m_machine(machine) {}
        void set_level(bool high) override
        {
            if (high)
                m_machine.interrupt_line_changed();
        }
    private:
        Machine& m_machine;
    };
    // The CPU's view of the PIC pair.
    class PicInterrupts final : public InterruptController {
    public:
        explicit PicInterrupts(PicPair& pic) : m_pic(pic) {}
        bool has_interrupt() const override { return m_pic.has_interrupt(); }
        int acknowledge() override { return m_pic.acknowledge(); }
    private:
        PicPair& m_pic;
    };

    Machine& m_machine;
    std::array<std::string, 16> m_irq_owners;
    IntrPin m_intr;
    std::unique_ptr<PicPair> m_pic;
    std::unique_ptr<PicInterrupts> m_pic_interrupts;
    IsaIrq m_irq0{*this, 0};
    IsaIrq m_irq4{*this, 4};
    std::unique_ptr<Pit8254> m_pit;
    std::unique_ptr<Port61> m_port61;
    std::unique_ptr<CmosRtc> m_rtc;
    std::unique_ptr<I8042> m_i8042;
    std::unique_ptr<BusWindow> m_i8042_status;
    std::unique_ptr<Uart16550> m_com1;
    std::array<uint64_t, 16> m_irq_counts{};
    std::string m_console_backlog;
    void feed_console();
    void attach_disk(DiskImage& disk, unsigned index);
    void attach_net(const VirtioNet::Mac& mac);
    // Firmware's work for a PCI function at `slot`: its interrupt line,
    // BAR 0 at `io_base` (and wherever the guest moves it), I/O decoding
    // and bus mastering on.
    void place_on_pci(VirtioPciLegacy& function, uint8_t slot, unsigned irq, uint16_t io_base, uint32_t io_size,
                      std::string label);

    std::unique_ptr<PciHost> m_pci;
    std::unique_ptr<PciHostBridge> m_host_bridge;
    std::vector<std::unique_ptr<IsaIrq>> m_pci_irqs;
    std::vector<std::unique_ptr<VirtioBlk>> m_disks;
    std::unique_ptr<VirtioNet> m_net;
    std::unique_ptr<PcBios> m_bios;
};

}  // namespace bootsim
