// Fuzz entry point: the virtio-blk device driven by a hostile guest. The
// input is a program of register accesses and writes into guest RAM
// (rings, descriptors, request headers), so the fuzzer can build any
// descriptor chain: loops, chains past the queue, buffers outside RAM,
// sectors past the disk's end. The device must never touch host memory
// outside guest RAM (ASan checks) nor the image file outside its size
// (checked here after every input).
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/guest_memory.h"
#include "devices/disk_image.h"
#include "devices/virtio_blk.h"
#include "fuzz/fuzz_disk.h"
#include "fuzz/fuzz_input.h"

namespace {

constexpr uint64_t ram_size = 1 << 20;        // 1 MiB: 256 pages for rings and buffers
constexpr off_t disk_size = 64 * 1024;       // 128 sectors

class CountingIrq final : public bootsim::IrqLine {
public:
    void set_level(bool high) override { level = high; }
    bool level = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace bootsim;
    static GuestMemory* memory = *GuestMemory::create(ram_size);
    fuzz::FuzzInput in(data, size);
    static constexpr DiskMode modes[] = {DiskMode::ReadWrite, DiskMode::ReadOnly, DiskMode::Snapshot};
    // The image is written by the guest in read-write mode: its size must
    // never change.
    const std::string& path = fuzz::scratch_disk(disk_size);
    auto disk = DiskImage::open(path, modes[in.byte() % 3]);
    if (!disk)
        abort();
    CountingIrq irq;
    VirtioBlk device(*disk, *memory, irq);
    std::memset(memory->host_base(), 0, ram_size);

    for (int step = 0; step < 256 && !in.empty(); ++step) {
        switch (in.byte() % 4) {
        case 0: {  // a register write
            uint64_t offset = in.byte() % VirtioBlk::io_size;
            unsigned width = in.width();
            device.write(offset, uint32_t(in.value(4)), width);
            break;
        }
        case 1: {  // a register read
            uint64_t offset = in.byte() % VirtioBlk::io_size;
            (void)device.read(offset, in.width());
            break;
        }
        case 2: {  // guest stores into RAM
            uint64_t at = in.value(3) % ram_size;
            auto bytes = in.bytes(64);
            (void)memory->write(at, bytes.data(), bytes.size());
            break;
        }
        case 3:  // a kick of queue 0
            device.write(0x10, 0, 2);
            break;
        }
    }
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || st.st_size != disk_size)
        abort();  // the guest changed the image's size
    return 0;
}
