// VirtioNet driven as Linux's virtio_pci (legacy) and virtio_net drive it
// without offloads or mergeable buffers: the test is the driver, with a
// receive and a transmit ring in a GuestMemory and a recording backend.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "core/guest_memory.h"
#include "devices/virtio_net.h"

#include "unit/fake_irq_line.h"
#include "unit/virtio_driver.h"

namespace bootsim {
namespace {

using Bytes = std::vector<uint8_t>;
using fake::FakeIrqLine;

using namespace test;  // the legacy registers and status bits (virtio_driver.h)
constexpr uint32_t F_MAC = 1u << 5, F_STATUS = 1u << 16;
constexpr uint16_t AVAIL_F_NO_INTERRUPT = 1;
constexpr uint16_t RX = 0, TX = 1;
constexpr uint64_t HDR = 10;  // struct virtio_net_hdr, legacy

// Each queue's ring: 256 descriptors, avail after them, used at the next page.
constexpr uint32_t ring_pfn[2] = {0x10, 0x20};
constexpr uint64_t buffers_at = 0x100000;
constexpr uint64_t outside_ram = 0x10000000;  // RAM is 4 MiB

using test::Desc;

class RecordingBackend final : public NetBackend {
public:
    void send(std::span<const uint8_t> frame) override { frames.emplace_back(frame.begin(), frame.end()); }
    std::vector<Bytes> frames;
};

Bytes frame_of(size_t length, uint8_t seed)
{
    Bytes frame(length);
    for (size_t i = 0; i < length; ++i)
        frame[i] = uint8_t(seed + i * 13);
    return frame;
}

class VirtioNetTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto memory_result = GuestMemory::create(4 << 20);
        ASSERT_TRUE(memory_result.ok());
        memory.reset(*memory_result);
        for (uint16_t q : {RX, TX})
            rings[q].emplace(*memory, ring_pfn[q]);
        device = std::make_unique<VirtioNet>(VirtioNet::Mac {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}, *memory, irq);
        device->set_backend(&backend);
        device->set_frame_observer([this](VirtioNet::Direction d, std::span<const uint8_t> f) {
            observed.emplace_back(d, Bytes(f.begin(), f.end()));
        });
        device->set_ready_observer([this] { ++ready_calls; });
    }

    uint32_t in(uint64_t offset, unsigned width) { return device->read(offset, width); }
    void out(uint64_t offset, uint32_t value, unsigned width) { device->write(offset, value, width); }

    // virtnet_probe(): features, both queues, DRIVER_OK.
    void driver_init()
    {
        out(STATUS, 0, 1);
        out(STATUS, S_ACKNOWLEDGE, 1);
        out(STATUS, S_ACKNOWLEDGE | S_DRIVER, 1);
        out(GUEST_FEATURES, in(HOST_FEATURES, 4) & (F_MAC | F_STATUS), 4);
        for (uint16_t q : {RX, TX}) {
            out(QUEUE_SEL, q, 2);
            ASSERT_EQ(in(QUEUE_NUM, 2), 256u);
            out(QUEUE_PFN, ring_pfn[q], 4);
        }
        out(QUEUE_SEL, 2, 2);
        EXPECT_EQ(in(QUEUE_NUM, 2), 0u);  // no control queue
        out(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_DRIVER_OK, 1);
    }

    uint64_t avail_base(uint16_t q) { return rings[q]->avail_base(); }

    uint16_t submit(uint16_t q, const std::vector<Desc>& chain, bool notify = true)
    {
        uint16_t head = rings[q]->add(chain);
        if (notify)
            out(QUEUE_NOTIFY, q, 2);
        return head;
    }

    // start_xmit(): the header and the frame in two descriptors.
    void transmit(const Bytes& frame, uint64_t at = buffers_at)
    {
        Bytes header(HDR, 0);
        memory->write(at, header.data(), HDR);
        memory->write(at + 0x1000, frame.data(), frame.size());
        submit(TX, {{at, uint32_t(HDR), false}, {at + 0x1000, uint32_t(frame.size()), false}});
    }
    // add_recvbuf_small(): one writable buffer for header and frame.
    uint16_t post_receive_buffer(uint64_t at, uint32_t length = 1518 + HDR, bool notify = true)
    {
        return submit(RX, {{at, length, true}}, notify);
    }

    uint16_t used_idx(uint16_t q) { return rings[q]->used_idx(); }
    uint32_t used_id(uint16_t q, uint16_t i) { return rings[q]->used_id(i); }
    uint32_t used_len(uint16_t q, uint16_t i) { return rings[q]->used_len(i); }
    Bytes guest_bytes(uint64_t at, uint64_t length)
    {
        Bytes bytes(length);
        EXPECT_TRUE(memory->read(at, bytes.data(), length));
        return bytes;
    }

    std::unique_ptr<GuestMemory> memory;
    FakeIrqLine irq;
    RecordingBackend backend;
    std::unique_ptr<VirtioNet> device;
    std::vector<std::pair<VirtioNet::Direction, Bytes>> observed;
    int ready_calls = 0;
    std::optional<test::DriverRing> rings[2];  // receive, transmit
};

TEST_F(VirtioNetTest, PciIdentityAndConfigurationAreWhatVirtioNetProbes)
{
    test::PciConfigSpace pci(*device, 5);
    auto conf = [&](unsigned reg, unsigned width) { return pci.read(reg, width); };
    EXPECT_EQ(conf(0x00, 4), 0x10001af4u);  // transitional virtio-net
    EXPECT_EQ(conf(0x08, 1), 0u);
    EXPECT_EQ(conf(0x0a, 2), 0x0200u);      // network, Ethernet
    EXPECT_EQ(conf(0x2e, 2), 1u);           // virtio network
    EXPECT_EQ(conf(0x3d, 1), 1u);
    EXPECT_EQ(device->bar_size(0), 0x20u);  // header + mac + status, to a power of two

    uint32_t features = in(HOST_FEATURES, 4);
    EXPECT_EQ(features & (F_MAC | F_STATUS), F_MAC | F_STATUS);
    EXPECT_EQ(features & ~(F_MAC | F_STATUS | (1u << 27)), 0u);  // no offloads, no mergeable buffers
    Bytes mac;
    for (unsigned i = 0; i < 6; ++i)
        mac.push_back(uint8_t(in(CONFIG + i, 1)));
    EXPECT_EQ(mac, (Bytes {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}));
    EXPECT_EQ(in(CONFIG + 6, 2), 1u);  // VIRTIO_NET_S_LINK_UP
}

TEST_F(VirtioNetTest, TransmitSendsTheFrameWithoutItsHeaderAndInterrupts)
{
    driver_init();
    EXPECT_EQ(ready_calls, 1);
    Bytes frame = frame_of(60, 1);
    transmit(frame);
    ASSERT_EQ(backend.frames.size(), 1u);
    EXPECT_EQ(backend.frames[0], frame);
    EXPECT_EQ(used_idx(TX), 1);
    EXPECT_EQ(used_id(TX, 0), 0u);
    EXPECT_EQ(used_len(TX, 0), 0u);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(in(ISR, 1), 1u);
    EXPECT_FALSE(irq.level());  // reading ISR acknowledges
    ASSERT_EQ(observed.size(), 1u);
    EXPECT_EQ(observed[0].first, VirtioNet::Direction::FromGuest);
}

TEST_F(VirtioNetTest, AHeaderAndFrameInOneBufferAreSplitTheSame)
{
    driver_init();
    Bytes frame = frame_of(1514, 7);
    Bytes buffer(HDR, 0);
    buffer.insert(buffer.end(), frame.begin(), frame.end());
    memory->write(buffers_at, buffer.data(), buffer.size());
    submit(TX, {{buffers_at, uint32_t(buffer.size()), false}});
    ASSERT_EQ(backend.frames.size(), 1u);
    EXPECT_EQ(backend.frames[0], frame);
}

TEST_F(VirtioNetTest, ReceiveFillsThePostedBufferWithAZeroHeaderAndTheFrame)
{
    driver_init();
    post_receive_buffer(buffers_at);
    EXPECT_FALSE(irq.level());
    Bytes frame = frame_of(342, 3);
    device->receive(frame);
    ASSERT_EQ(used_idx(RX), 1);
    EXPECT_EQ(used_len(RX, 0), HDR + frame.size());
    EXPECT_EQ(guest_bytes(buffers_at, HDR), Bytes(HDR, 0));
    EXPECT_EQ(guest_bytes(buffers_at + HDR, frame.size()), frame);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(device->frames_waiting(), 0u);
}

TEST_F(VirtioNetTest, FramesWaitForBuffersAndGoInAtTheNextReceiveNotify)
{
    driver_init();
    device->receive(frame_of(60, 1));
    device->receive(frame_of(70, 2));
    EXPECT_EQ(device->frames_waiting(), 2u);
    EXPECT_EQ(used_idx(RX), 0);
    post_receive_buffer(buffers_at, 1528, false);
    post_receive_buffer(buffers_at + 0x1000, 1528, true);  // one kick for both, as try_fill_recv does
    EXPECT_EQ(device->frames_waiting(), 0u);
    ASSERT_EQ(used_idx(RX), 2);
    EXPECT_EQ(used_len(RX, 0), HDR + 60);
    EXPECT_EQ(used_len(RX, 1), HDR + 70);
    EXPECT_EQ(guest_bytes(buffers_at + 0x1000 + HDR, 70), frame_of(70, 2));  // in order
}

TEST_F(VirtioNetTest, TooManyWaitingFramesDropTheOldest)
{
    driver_init();
    for (size_t i = 0; i < VirtioNet::pending_limit + 3; ++i)
        device->receive(frame_of(60, uint8_t(i)));
    EXPECT_EQ(device->frames_waiting(), VirtioNet::pending_limit);
    EXPECT_EQ(device->frames_dropped(), 3u);
    post_receive_buffer(buffers_at);
    EXPECT_EQ(guest_bytes(buffers_at + HDR, 60), frame_of(60, 3));  // frames 0-2 are gone
}

TEST_F(VirtioNetTest, ABufferTooSmallOrOutsideRamLosesTheFrameButComesBack)
{
    driver_init();
    post_receive_buffer(buffers_at, 100);
    device->receive(frame_of(200, 1));
    ASSERT_EQ(used_idx(RX), 1);
    EXPECT_EQ(used_len(RX, 0), 0u);
    post_receive_buffer(outside_ram);
    device->receive(frame_of(60, 1));
    ASSERT_EQ(used_idx(RX), 2);
    EXPECT_EQ(used_len(RX, 1), 0u);
    EXPECT_EQ(device->frames_dropped(), 2u);
    EXPECT_TRUE(observed.empty());  // nothing reached the guest
}

TEST_F(VirtioNetTest, AChainWithoutAFrameIsNotSentButGivenBack)
{
    driver_init();
    submit(TX, {{buffers_at, uint32_t(HDR), false}});                // header only
    submit(TX, {{buffers_at, uint32_t(HDR), false}, {buffers_at + 0x1000, 60, true}});  // writable: not a frame
    submit(TX, {{outside_ram, 100, false}});
    EXPECT_TRUE(backend.frames.empty());
    EXPECT_EQ(used_idx(TX), 3);
}

TEST_F(VirtioNetTest, NoInterruptWhenTheDriverPolls)
{
    driver_init();
    memory->write_value(avail_base(TX), AVAIL_F_NO_INTERRUPT);
    transmit(frame_of(60, 1));
    EXPECT_EQ(backend.frames.size(), 1u);
    EXPECT_FALSE(irq.level());
}

TEST_F(VirtioNetTest, ResetForgetsWaitingFramesAndTheRings)
{
    driver_init();
    device->receive(frame_of(60, 1));
    out(STATUS, 0, 1);
    EXPECT_EQ(device->frames_waiting(), 0u);
    out(QUEUE_SEL, RX, 2);
    EXPECT_EQ(in(QUEUE_PFN, 4), 0u);
    driver_init();
    EXPECT_EQ(ready_calls, 2);  // ready again after the reset
}

TEST_F(VirtioNetTest, ARunawayAvailableIndexStopsTheQueue)
{
    driver_init();
    memory->write_value(avail_base(TX) + 2, uint16_t(300));  // more than a queue ahead
    out(QUEUE_NOTIFY, TX, 2);
    EXPECT_TRUE(device->broken());
    EXPECT_TRUE(backend.frames.empty());
}

}  // namespace
}  // namespace bootsim
