// VirtioBlk driven as Linux's virtio_pci (legacy) and virtio_blk drive it:
// the test is the driver, building split rings and requests in a
// GuestMemory by hand, with a real image file behind the device.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/guest_memory.h"
#include "core/io_bus.h"
#include "devices/disk_image.h"
#include "devices/pci_host.h"
#include "devices/virtio_blk.h"

#include "unit/fake_irq_line.h"
#include "unit/virtio_driver.h"

namespace bootsim {
namespace {

using Bytes = std::vector<uint8_t>;
using fake::FakeIrqLine;

using namespace test;  // the legacy registers and status bits (virtio_driver.h)
// Features.
constexpr uint32_t F_SEG_MAX = 1u << 2, F_RO = 1u << 5, F_BLK_SIZE = 1u << 6, F_FLUSH = 1u << 9;
// Requests.
constexpr uint32_t T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_SCSI_CMD = 2;
constexpr uint8_t S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
// vring_desc flags.
constexpr uint16_t F_NEXT = 1, F_WRITE = 2;

constexpr uint64_t disk_sectors = 512;  // 256 KiB

// Guest-physical layout of the test driver.
constexpr uint32_t ring_pfn = 0x10;  // ring at 64 KiB
constexpr uint64_t desc_base = uint64_t(ring_pfn) << 12;
constexpr uint64_t avail_base = desc_base + 16 * 256;
constexpr uint64_t used_base = 0x12000;  // (avail_base + 6 + 2 * 256) rounded up to 4 KiB
constexpr uint64_t header_at = 0x20000;
constexpr uint64_t data_at = 0x100000;
constexpr uint64_t status_at = 0x30000;
constexpr uint64_t outside_ram = 0x10000000;  // RAM is 4 MiB

using test::Desc;

uint8_t pattern(uint64_t i) { return uint8_t(i * 7 + i / 512); }
Bytes sector_of(uint64_t sector, uint64_t count = 1)
{
    Bytes bytes(count * 512);
    for (uint64_t i = 0; i < bytes.size(); ++i)
        bytes[i] = pattern(sector * 512 + i);
    return bytes;
}

class VirtioBlkTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string templ = (std::filesystem::temp_directory_path() / "bootsim-vblk-XXXXXX").string();
        ASSERT_NE(mkdtemp(templ.data()), nullptr);
        dir = templ;
        image_path = (dir / "disk.img").string();
        Bytes bytes = sector_of(0, disk_sectors);
        std::ofstream(image_path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));

        auto memory_result = GuestMemory::create(4 << 20);
        ASSERT_TRUE(memory_result.ok());
        memory.reset(*memory_result);
        ring.emplace(*memory, ring_pfn);
        open_device(DiskMode::ReadWrite);
    }
    void TearDown() override
    {
        device.reset();
        disk.reset();
        std::filesystem::remove_all(dir);
    }

    void open_device(DiskMode mode)
    {
        device.reset();
        disk.reset();
        auto image = DiskImage::open(image_path, mode);
        ASSERT_TRUE(image.ok()) << image.error().message;
        disk = std::make_unique<DiskImage>(std::move(*image));
        device = std::make_unique<VirtioBlk>(*disk, *memory, irq);
        device->set_observer([this](const DiskRequest& request) { requests.push_back(request); });
    }

    uint32_t in(uint64_t offset, unsigned width) { return device->read(offset, width); }
    void out(uint64_t offset, uint32_t value, unsigned width) { device->write(offset, value, width); }

    // virtio_dev_probe() and vp_setup_vq() for a legacy device.
    void driver_init()
    {
        out(STATUS, 0, 1);  // reset
        out(STATUS, S_ACKNOWLEDGE, 1);
        out(STATUS, S_ACKNOWLEDGE | S_DRIVER, 1);
        uint32_t features = in(HOST_FEATURES, 4);
        out(GUEST_FEATURES, features & (F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_RO), 4);
        out(QUEUE_SEL, 0, 2);
        ASSERT_EQ(in(QUEUE_NUM, 2), 256u);
        ASSERT_EQ(in(QUEUE_PFN, 4), 0u);  // not active yet
        out(QUEUE_PFN, ring_pfn, 4);
        out(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_DRIVER_OK, 1);
    }

    // virtqueue_add_split() + virtqueue_kick(): descriptors from next_desc
    // on, linked in order, head published in the available ring.
    uint16_t submit(const std::vector<Desc>& chain, bool notify = true)
    {
        uint16_t head = ring->add(chain);
        if (notify)
            out(QUEUE_NOTIFY, 0, 2);
        return head;
    }

    // A request with its header at header_at and its status at status_at.
    uint16_t request(uint32_t type, uint64_t sector, const std::vector<Desc>& data)
    {
        memory->write_value(header_at, type);
        memory->write_value(header_at + 4, uint32_t(0));
        memory->write_value(header_at + 8, sector);
        memory->write_value(status_at, uint8_t(0xee));
        std::vector<Desc> chain {{header_at, 16, false}};
        chain.insert(chain.end(), data.begin(), data.end());
        chain.push_back({status_at, 1, true});
        return submit(chain);
    }

    uint16_t used_idx() { return ring->used_idx(); }
    uint32_t used_id(uint16_t i) { return ring->used_id(i); }
    uint32_t used_len(uint16_t i) { return ring->used_len(i); }
    uint8_t status_byte() { return read8(status_at); }
    uint8_t read8(uint64_t at) { uint8_t v = 0; memory->read_value(at, v); return v; }
    uint16_t read16(uint64_t at) { uint16_t v = 0; memory->read_value(at, v); return v; }
    uint32_t read32(uint64_t at) { uint32_t v = 0; memory->read_value(at, v); return v; }
    Bytes guest_bytes(uint64_t at, uint64_t length)
    {
        Bytes bytes(length);
        EXPECT_TRUE(memory->read(at, bytes.data(), length));
        return bytes;
    }
    Bytes file_bytes()
    {
        std::ifstream in(image_path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), {});
    }

    std::filesystem::path dir;
    std::string image_path;
    std::unique_ptr<GuestMemory> memory;
    std::unique_ptr<DiskImage> disk;
    FakeIrqLine irq;
    std::unique_ptr<VirtioBlk> device;
    std::vector<DiskRequest> requests;
    std::optional<test::DriverRing> ring;  // on `memory`, once SetUp made it
};

TEST_F(VirtioBlkTest, PciIdentityIsWhatVirtioPciLegacyProbes)
{
    test::PciConfigSpace pci(*device, 1);
    auto conf = [&](unsigned reg, unsigned width) { return pci.read(reg, width); };
    EXPECT_EQ(conf(0x00, 4), 0x10011af4u);
    EXPECT_EQ(conf(0x08, 1), 0u);            // revision: VIRTIO_PCI_ABI_VERSION
    EXPECT_EQ(conf(0x0a, 2), 0x0100u);       // mass storage
    EXPECT_EQ(conf(0x2c, 2), 0x1af4u);
    EXPECT_EQ(conf(0x2e, 2), 2u);            // virtio block
    EXPECT_EQ(conf(0x3d, 1), 1u);            // INTA#
    EXPECT_EQ(conf(0x06, 2) & 0x10, 0u);     // no capabilities: not modern
    // BAR0: I/O, 64 bytes.
    pci.write(0x10, 0xffffffff, 4);
    EXPECT_EQ(pci.read(0x10, 4), 0xffffffc1u);
    EXPECT_EQ(device->bar_size(0), VirtioBlk::io_size);
}

TEST_F(VirtioBlkTest, PciBarProgrammingReachesTheBoardCallback)
{
    // What the board does: attach the register window where the BAR says.
    IoBus io;
    device->set_bar_callback([&](int bar, std::optional<uint16_t> base) {
        ASSERT_EQ(bar, 0);
        ASSERT_TRUE(base.has_value());
        ASSERT_TRUE(io.attach(*base, uint16_t(device->bar_size(0)), *device, "virtio-blk"));
    });
    device->config_write(0x10, 0xc000, 4);
    device->config_write(0x04, 0x0001, 2);
    EXPECT_EQ(io.read(0xc000 + QUEUE_NUM, 2), 256u);
    EXPECT_EQ(io.read(0xc000 + CONFIG, 4), uint32_t(disk_sectors));
}

TEST_F(VirtioBlkTest, FeaturesOffered)
{
    uint32_t features = in(HOST_FEATURES, 4);
    EXPECT_EQ(features & (F_SEG_MAX | F_BLK_SIZE | F_FLUSH), F_SEG_MAX | F_BLK_SIZE | F_FLUSH);
    EXPECT_EQ(features & F_RO, 0u);
    EXPECT_EQ(features & (1u << 28), 0u);  // no indirect descriptors
    // The guest cannot accept what is not offered.
    out(GUEST_FEATURES, 0xffffffff, 4);
    EXPECT_EQ(in(GUEST_FEATURES, 4), features);
    out(HOST_FEATURES, 0, 4);
    EXPECT_EQ(in(HOST_FEATURES, 4), features);

    open_device(DiskMode::ReadOnly);
    EXPECT_EQ(in(HOST_FEATURES, 4) & F_RO, F_RO);
    open_device(DiskMode::Snapshot);
    EXPECT_EQ(in(HOST_FEATURES, 4) & F_RO, 0u);
}

TEST_F(VirtioBlkTest, DeviceConfiguration)
{
    // virtblk_probe(): capacity always, seg_max and blk_size by feature.
    EXPECT_EQ(in(CONFIG + 0, 4), uint32_t(disk_sectors));
    EXPECT_EQ(in(CONFIG + 4, 4), 0u);
    EXPECT_EQ(in(CONFIG + 0, 1), disk_sectors & 0xff);
    EXPECT_EQ(in(CONFIG + 1, 1), disk_sectors >> 8);
    EXPECT_EQ(in(CONFIG + 12, 4), 254u);  // seg_max
    EXPECT_EQ(in(CONFIG + 20, 4), 512u);  // blk_size
    out(CONFIG, 0, 4);                    // read-only
    EXPECT_EQ(in(CONFIG + 0, 4), uint32_t(disk_sectors));
}

TEST_F(VirtioBlkTest, QueueRegistersAndReset)
{
    out(QUEUE_SEL, 1, 2);
    EXPECT_EQ(in(QUEUE_SEL, 2), 1u);
    EXPECT_EQ(in(QUEUE_NUM, 2), 0u);  // only queue 0 exists
    out(QUEUE_PFN, 0x99, 4);
    EXPECT_EQ(in(QUEUE_PFN, 4), 0u);
    driver_init();
    EXPECT_EQ(in(QUEUE_PFN, 4), ring_pfn);
    EXPECT_EQ(in(STATUS, 1), S_ACKNOWLEDGE | S_DRIVER | S_DRIVER_OK);
    EXPECT_NE(in(GUEST_FEATURES, 4), 0u);
    out(STATUS, 0, 1);
    EXPECT_EQ(in(STATUS, 1), 0u);
    EXPECT_EQ(in(QUEUE_PFN, 4), 0u);
    EXPECT_EQ(in(GUEST_FEATURES, 4), 0u);
}

TEST_F(VirtioBlkTest, ReadSectorZero)
{
    driver_init();
    uint16_t head = request(T_IN, 0, {{data_at, 512, true}});
    EXPECT_EQ(used_idx(), 1u);
    EXPECT_EQ(used_id(0), head);
    EXPECT_EQ(used_len(0), 513u);  // data and status
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(guest_bytes(data_at, 512), sector_of(0));

    // Level-triggered INTx: high until the guest reads ISR.
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(irq.rising_edges(), 1);
    EXPECT_EQ(in(ISR, 1), 1u);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(in(ISR, 1), 0u);

    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].kind, DiskRequest::Kind::Read);
    EXPECT_EQ(requests[0].sector, 0u);
    EXPECT_EQ(requests[0].bytes, 512u);
    EXPECT_TRUE(requests[0].ok);
}

TEST_F(VirtioBlkTest, WriteThenReadBack)
{
    driver_init();
    Bytes data(1024);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = uint8_t(0xa0 ^ i);
    memory->write(data_at, data.data(), data.size());
    // Two data buffers, split mid-sector.
    request(T_OUT, 5, {{data_at, 300, false}, {data_at + 300, 724, false}});
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(used_len(0), 1u);  // only the status was written
    Bytes file = file_bytes();
    EXPECT_EQ(Bytes(file.begin() + 5 * 512, file.begin() + 7 * 512), data);
    EXPECT_EQ(Bytes(file.begin() + 7 * 512, file.begin() + 8 * 512), sector_of(7));

    in(ISR, 1);
    uint64_t back = data_at + 0x10000;
    request(T_IN, 5, {{back, 1024, true}});
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(guest_bytes(back, 1024), data);
    EXPECT_EQ(used_idx(), 2u);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(irq.rising_edges(), 2);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].kind, DiskRequest::Kind::Write);
    EXPECT_EQ(requests[0].sector, 5u);
    EXPECT_EQ(requests[0].bytes, 1024u);
}

TEST_F(VirtioBlkTest, AnyLayoutHeaderAndDataInOneBuffer)
{
    driver_init();
    memory->write_value(header_at, T_OUT);
    memory->write_value(header_at + 8, uint64_t(2));
    Bytes data(512, 0x5a);
    memory->write(header_at + 16, data.data(), data.size());
    submit({{header_at, 16 + 512, false}, {status_at, 1, true}});
    EXPECT_EQ(status_byte(), S_OK);
    Bytes file = file_bytes();
    EXPECT_EQ(Bytes(file.begin() + 2 * 512, file.begin() + 3 * 512), data);
    // Read data and status in one writable buffer.
    memory->write_value(header_at, T_IN);
    submit({{header_at, 16, false}, {data_at, 513, true}});
    EXPECT_EQ(guest_bytes(data_at, 512), data);
    EXPECT_EQ(read8(data_at + 512), S_OK);
}

TEST_F(VirtioBlkTest, LargeReadAcrossManyBuffers)
{
    driver_init();
    // 160 sectors (80 KiB, more than one bounce chunk) in uneven pieces.
    request(T_IN, 100, {{data_at, 1000, true}, {data_at + 0x8000, 70000, true}, {data_at + 0x30000, 10920, true}});
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(used_len(0), 81921u);
    Bytes expected = sector_of(100, 160);
    Bytes got = guest_bytes(data_at, 1000);
    Bytes part = guest_bytes(data_at + 0x8000, 70000);
    got.insert(got.end(), part.begin(), part.end());
    part = guest_bytes(data_at + 0x30000, 10920);
    got.insert(got.end(), part.begin(), part.end());
    EXPECT_EQ(got, expected);
}

TEST_F(VirtioBlkTest, FlushReachesFsync)
{
    driver_init();
    EXPECT_EQ(disk->sync_count(), 0u);
    request(T_FLUSH, 0, {});
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(disk->sync_count(), 1u);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].kind, DiskRequest::Kind::Flush);
    EXPECT_TRUE(requests[0].ok);
}

TEST_F(VirtioBlkTest, GetIdReturnsTheSerial)
{
    driver_init();
    memory->write(data_at, std::string(20, 'x').data(), 20);
    request(T_GET_ID, 0, {{data_at, 20, true}});
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(used_len(0), 21u);
    Bytes expected(20, 0);
    std::memcpy(expected.data(), "bootsim", 7);
    EXPECT_EQ(guest_bytes(data_at, 20), expected);
}

TEST_F(VirtioBlkTest, UnknownRequestTypeIsUnsupported)
{
    driver_init();
    request(T_SCSI_CMD, 0, {{data_at, 512, true}});
    EXPECT_EQ(status_byte(), S_UNSUPP);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].kind, DiskRequest::Kind::Unsupported);
    EXPECT_FALSE(requests[0].ok);
    EXPECT_EQ(used_idx(), 1u);
}

TEST_F(VirtioBlkTest, ReadPastTheEndIsAnIoError)
{
    driver_init();
    memory->write(data_at, Bytes(1024, 0xcc).data(), 1024);
    request(T_IN, disk_sectors - 1, {{data_at, 1024, true}});
    EXPECT_EQ(status_byte(), S_IOERR);
    EXPECT_EQ(guest_bytes(data_at, 1024), Bytes(1024, 0xcc));  // nothing read
    EXPECT_EQ(used_idx(), 1u);
    EXPECT_TRUE(irq.level());
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].kind, DiskRequest::Kind::Read);
    EXPECT_FALSE(requests[0].ok);

    request(T_IN, ~uint64_t(0), {{data_at, 512, true}});
    EXPECT_EQ(status_byte(), S_IOERR);
    request(T_OUT, disk_sectors, {{data_at, 512, false}});
    EXPECT_EQ(status_byte(), S_IOERR);
    EXPECT_EQ(file_bytes().size(), disk_sectors * 512);
    // Not a whole number of sectors.
    request(T_IN, 0, {{data_at, 100, true}});
    EXPECT_EQ(status_byte(), S_IOERR);
}

TEST_F(VirtioBlkTest, BufferOutsideRamIsAnIoError)
{
    driver_init();
    request(T_IN, 0, {{outside_ram, 512, true}});
    EXPECT_EQ(status_byte(), S_IOERR);
    EXPECT_EQ(used_idx(), 1u);

    // A write whose bad buffer comes after more good data than the device
    // moves at once still writes nothing.
    Bytes before = file_bytes();
    memory->write(data_at, Bytes(0x20000, 0x77).data(), 0x20000);
    request(T_OUT, 0, {{data_at, 0x20000, false}, {memory->size() - 256, 512, false}});
    EXPECT_EQ(status_byte(), S_IOERR);
    EXPECT_EQ(file_bytes(), before);

    // A header outside RAM.
    submit({{outside_ram, 16, false}, {status_at, 1, true}});
    EXPECT_EQ(status_byte(), S_IOERR);
    // The status byte itself outside RAM: completed with nothing written.
    memory->write_value(header_at, T_IN);
    submit({{header_at, 16, false}, {data_at, 512, true}, {outside_ram, 1, true}});
    EXPECT_EQ(used_idx(), 4u);
    EXPECT_EQ(used_len(3), 0u);
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_FALSE(requests[0].ok);
    EXPECT_FALSE(requests[1].ok);
    EXPECT_EQ(requests[1].kind, DiskRequest::Kind::Write);
}

TEST_F(VirtioBlkTest, DescriptorLoopIsCutShort)
{
    driver_init();
    memory->write_value(header_at, T_IN);
    memory->write_value(header_at + 8, uint64_t(0));
    memory->write_value(status_at, uint8_t(0xee));
    // desc 0 (status, writable) -> desc 1 (data, writable) -> desc 0 ...
    auto put = [&](uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
        uint64_t at = desc_base + 16 * uint64_t(index);
        memory->write_value(at, addr);
        memory->write_value(at + 8, len);
        memory->write_value(at + 12, flags);
        memory->write_value(at + 14, next);
    };
    put(0, header_at, 16, F_NEXT, 1);
    put(1, status_at, 1, F_NEXT | F_WRITE, 0);
    memory->write_value(avail_base + 4, uint16_t(0));
    memory->write_value(avail_base + 2, uint16_t(1));
    out(QUEUE_NOTIFY, 0, 2);
    EXPECT_EQ(used_idx(), 1u);
    EXPECT_EQ(status_byte(), S_IOERR);
    EXPECT_FALSE(device->broken());

    // A next index past the table.
    put(2, header_at, 16, F_NEXT, 999);
    memory->write_value(avail_base + 6, uint16_t(2));
    memory->write_value(avail_base + 2, uint16_t(2));
    out(QUEUE_NOTIFY, 0, 2);
    EXPECT_EQ(used_idx(), 2u);
}

TEST_F(VirtioBlkTest, ChainAsLongAsTheRing)
{
    // seg_max data buffers plus header and status: all 256 descriptors.
    driver_init();
    std::vector<Desc> data;
    for (uint32_t i = 0; i < VirtioBlk::seg_max; ++i)
        data.push_back({data_at + 512 * uint64_t(i), 512, true});
    request(T_IN, 0, data);
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(used_len(0), 254u * 512 + 1);
    EXPECT_EQ(guest_bytes(data_at, 254 * 512), sector_of(0, 254));
    // The same chain with its last descriptor linked back to the first
    // data buffer: a loop of writable buffers, ended by the length bound.
    uint64_t last = desc_base + 16 * 255;
    memory->write_value(last + 12, uint16_t(F_NEXT | F_WRITE));
    memory->write_value(last + 14, uint16_t(1));
    memory->write_value(avail_base + 4 + 2, uint16_t(0));
    memory->write_value(avail_base + 2, uint16_t(2));
    out(QUEUE_NOTIFY, 0, 2);
    EXPECT_EQ(used_idx(), 2u);
    EXPECT_FALSE(device->broken());
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_FALSE(requests[1].ok);
}

TEST_F(VirtioBlkTest, NoInterruptFlagSuppressesTheInterrupt)
{
    driver_init();
    memory->write_value(avail_base, uint16_t(1));  // VRING_AVAIL_F_NO_INTERRUPT
    request(T_IN, 0, {{data_at, 512, true}});
    EXPECT_EQ(used_idx(), 1u);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(in(ISR, 1), 0u);
    memory->write_value(avail_base, uint16_t(0));
    request(T_IN, 1, {{data_at, 512, true}});
    EXPECT_TRUE(irq.level());
}

TEST_F(VirtioBlkTest, InterruptDisableBitMasksTheLine)
{
    driver_init();
    device->config_write(0x04, 0x0400, 2);  // PCI_COMMAND_INTX_DISABLE
    request(T_IN, 0, {{data_at, 512, true}});
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(device->config_read(0x06, 2) & 0x08, 0x08u);  // but pending
    device->config_write(0x04, 0x0000, 2);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(in(ISR, 1), 1u);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(device->config_read(0x06, 2) & 0x08, 0u);
}

TEST_F(VirtioBlkTest, ReadOnlyDiskFailsWrites)
{
    open_device(DiskMode::ReadOnly);
    driver_init();
    Bytes before = file_bytes();
    request(T_OUT, 0, {{data_at, 512, false}});
    EXPECT_EQ(status_byte(), S_IOERR);
    EXPECT_EQ(file_bytes(), before);
    request(T_IN, 0, {{data_at, 512, true}});
    EXPECT_EQ(status_byte(), S_OK);
}

TEST_F(VirtioBlkTest, RingOutsideRamStopsTheQueue)
{
    driver_init();
    out(QUEUE_PFN, 0xfffff, 4);  // 4 GiB - 4 KiB: far past 4 MiB of RAM
    out(QUEUE_NOTIFY, 0, 2);
    EXPECT_TRUE(device->broken());
    EXPECT_FALSE(irq.level());
    // A reset brings it back.
    driver_init();
    EXPECT_FALSE(device->broken());
    request(T_IN, 0, {{data_at, 512, true}});
    EXPECT_EQ(status_byte(), S_OK);
}

TEST_F(VirtioBlkTest, AvailableIndexTooFarAheadStopsTheQueue)
{
    driver_init();
    memory->write_value(avail_base + 2, uint16_t(300));
    out(QUEUE_NOTIFY, 0, 2);
    EXPECT_TRUE(device->broken());
    EXPECT_EQ(used_idx(), 0u);
    EXPECT_TRUE(requests.empty());
}

TEST_F(VirtioBlkTest, HeadIndexOutOfRangeStopsTheQueue)
{
    driver_init();
    memory->write_value(avail_base + 4, uint16_t(256));
    memory->write_value(avail_base + 2, uint16_t(1));
    out(QUEUE_NOTIFY, 0, 2);
    EXPECT_TRUE(device->broken());
    EXPECT_EQ(used_idx(), 0u);
}

TEST_F(VirtioBlkTest, RingWrapsAround)
{
    driver_init();
    // 300 requests through a 256-entry ring, one at a time.
    for (int i = 0; i < 300; ++i) {
        request(T_IN, uint64_t(i % disk_sectors), {{data_at, 512, true}});
        ASSERT_EQ(status_byte(), S_OK) << i;
        ASSERT_EQ(used_idx(), uint16_t(i + 1));
        in(ISR, 1);
    }
    EXPECT_EQ(guest_bytes(data_at, 512), sector_of(299));
}

TEST_F(VirtioBlkTest, SnapshotDiskKeepsWritesInMemory)
{
    open_device(DiskMode::Snapshot);
    driver_init();
    Bytes before = file_bytes();
    memory->write(data_at, Bytes(512, 0x42).data(), 512);
    request(T_OUT, 9, {{data_at, 512, false}});
    EXPECT_EQ(status_byte(), S_OK);
    request(T_IN, 9, {{data_at + 4096, 512, true}});
    EXPECT_EQ(guest_bytes(data_at + 4096, 512), Bytes(512, 0x42));
    EXPECT_EQ(file_bytes(), before);
    request(T_FLUSH, 0, {});
    EXPECT_EQ(status_byte(), S_OK);
    EXPECT_EQ(disk->sync_count(), 0u);
}

}  // namespace
}  // namespace bootsim
