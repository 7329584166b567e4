// Fuzz entry point: PCI configuration space through mechanism #1, as a
// guest sees it: any sequence of accesses to CONFIG_ADDRESS and
// CONFIG_DATA at any width, with the host bridge and a virtio-blk
// function on bus 0. A BAR the guest moves must decode inside the 64 KiB
// I/O space and only while I/O decoding is on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "core/guest_memory.h"
#include "devices/disk_image.h"
#include "devices/pci_host.h"
#include "devices/virtio_blk.h"
#include "fuzz/fuzz_disk.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace bootsim;
    static GuestMemory* memory = *GuestMemory::create(1 << 16);
    static DiskImage* disk = [] {
        auto d = DiskImage::open(fuzz::scratch_disk(4096), DiskMode::ReadOnly);
        return d ? new DiskImage(std::move(*d)) : nullptr;
    }();
    fuzz::FuzzInput in(data, size);
    PciHost host;
    PciHostBridge bridge;
    NullIrqLine irq;
    std::optional<VirtioBlk> blk;
    host.attach(0, bridge);
    if (disk) {
        blk.emplace(*disk, *memory, irq);
        host.attach(1, *blk);
        blk->set_bar_callback([&](int bar, std::optional<uint16_t> base) {
            if (bar != 0 || (base && uint32_t(*base) + VirtioBlk::io_size > 0x10000))
                abort();
            if (base && !(blk->command() & 1))
                abort();  // decoding while I/O space is off
        });
    }
    for (int step = 0; step < 512 && !in.empty(); ++step) {
        uint8_t op = in.byte();
        unsigned port = op & 7;
        unsigned width = in.width();
        if (port + width > 8)
            width = 1;
        if (op & 0x80)
            (void)host.read(port, width);
        else
            host.write(port, uint32_t(in.value(4)), width);
        if (op == 0x40)
            host.reset();
    }
    return 0;
}
