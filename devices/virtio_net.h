#pragma once
// A virtio network device (virtio device type 1) behind the legacy
// virtio-pci transport (devices/virtio_pci_legacy.h): PCI 1af4:1000, class
// Ethernet controller, the device configuration struct virtio_net_config
// (mac[6], status u16). Two virtqueues: 0 receive, 1 transmit.
//
// Features offered: VIRTIO_NET_F_MAC (the MAC above), VIRTIO_NET_F_STATUS
// (link up), VIRTIO_F_ANY_LAYOUT; no checksum or segmentation offloads and
// no mergeable receive buffers, so every frame carries the 10-byte legacy
// struct virtio_net_hdr (all zero) in front of it, and Linux posts one
// receive buffer per frame ("small" buffers: header + 1518 bytes).
//
// Transmit: on a notify of queue 1 each chain's readable bytes are the
// header and one frame, which goes to the backend. Receive: a frame from
// the backend goes into the next receive buffer; while the driver has none
// posted, frames wait (up to pending_limit of them, then the oldest is
// dropped, as a NIC's full ring drops) and go in at its next notify of
// queue 0. Not thread-safe: call on the thread that runs the guest.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "devices/net_backend.h"
#include "devices/virtio_pci_legacy.h"

namespace bootsim {

class VirtioNet final : public VirtioPciLegacy {
public:
    using Mac = std::array<uint8_t, 6>;
    enum class Direction { ToGuest, FromGuest };
    // Every frame that crosses the device, and the driver becoming ready
    // (frame empty, direction ToGuest) for the board's events.
    using FrameObserver = std::function<void(Direction, std::span<const uint8_t>)>;
    using ReadyObserver = std::function<void()>;

    static constexpr uint16_t queue_size = 256;
    static constexpr uint64_t header_size = 10;       // struct virtio_net_hdr, legacy
    static constexpr uint64_t max_frame = 65536;       // anything longer is dropped
    static constexpr size_t pending_limit = 256;

    VirtioNet(const Mac& mac, GuestMemory& memory, IrqLine& intx);

    const char* name() const override { return "virtio-net"; }
    uint32_t host_features() const override;
    uint32_t io_size() const { return io_bar_size(); }
    const Mac& mac() const { return m_mac; }

    void set_backend(NetBackend* backend) { m_backend = backend; }
    void set_frame_observer(FrameObserver observer) { m_frame_observer = std::move(observer); }
    void set_ready_observer(ReadyObserver observer) { m_ready_observer = std::move(observer); }

    // A frame for the guest (from the backend, on the guest's thread).
    void receive(std::span<const uint8_t> frame);
    size_t frames_waiting() const { return m_pending.size(); }
    uint64_t frames_dropped() const { return m_dropped; }

private:
    void queue_notified(uint16_t index) override;
    void status_written(uint8_t status) override;
    void device_reset() override;
    void transmit();
    void deliver_pending();

    Mac m_mac;
    NetBackend* m_backend = nullptr;
    FrameObserver m_frame_observer;
    ReadyObserver m_ready_observer;
    std::deque<std::vector<uint8_t>> m_pending;
    uint64_t m_dropped = 0;
    bool m_driver_ok = false;
    std::vector<uint8_t> m_frame;  // transmit buffer
};

}  // namespace bootsim
