#include "devices/virtio_net.h"

#include <algorithm>

namespace bootsim {

namespace {

constexpr uint16_t virtio_type_net = 1;
constexpr uint32_t class_ethernet = 0x020000;

// Feature bits offered (uapi/linux/virtio_net.h, virtio_config.h).
constexpr uint32_t net_f_mac = 1u << 5;
constexpr uint32_t net_f_status = 1u << 16;
constexpr uint32_t f_any_layout = 1u << 27;

constexpr uint16_t net_s_link_up = 1;  // VIRTIO_NET_S_LINK_UP
constexpr uint8_t status_driver_ok = 4;  // VIRTIO_CONFIG_S_DRIVER_OK

constexpr uint16_t rx_queue = 0;
constexpr uint16_t tx_queue = 1;

// struct virtio_net_config: mac[6], status (le16).
constexpr size_t config_size = 8;
constexpr size_t config_status = 6;

}  // namespace

VirtioNet::VirtioNet(const Mac& mac, GuestMemory& memory, IrqLine& intx)
    : VirtioPciLegacy(virtio_type_net, class_ethernet, memory, intx, {queue_size, queue_size}, config_size)
    , m_mac(mac)
{
    std::copy(mac.begin(), mac.end(), config().begin());
    config()[config_status] = uint8_t(net_s_link_up);
    config()[config_status + 1] = uint8_t(net_s_link_up >> 8);
}

uint32_t VirtioNet::host_features() const
{
    return net_f_mac | net_f_status | f_any_layout;
}

void VirtioNet::device_reset()
{
    // Frames waiting belong to a driver that is gone.
    m_pending.clear();
    m_driver_ok = false;
}

void VirtioNet::status_written(uint8_t status)
{
    bool ok = (status & status_driver_ok) != 0;
    if (ok && !m_driver_ok && m_ready_observer)
        m_ready_observer();
    m_driver_ok = ok;
}

void VirtioNet::queue_notified(uint16_t index)
{
    if (index == tx_queue)
        transmit();
    else if (index == rx_queue)
        deliver_pending();
}

void VirtioNet::transmit()
{
    Virtqueue& ring = queue(tx_queue);
    bool completed = false;
    while (auto chain = ring.pop()) {
        uint64_t bytes = chain->readable_bytes();
        // The header, then the frame; a chain that is not that is dropped,
        // and given back all the same so the driver can reuse its buffers.
        if (chain->valid && bytes > header_size && bytes - header_size <= max_frame) {
            m_frame.resize(bytes - header_size);
            if (ring.gather(chain->readable, header_size, m_frame.data(), m_frame.size())) {
                if (m_frame_observer)
                    m_frame_observer(Direction::FromGuest, m_frame);
                if (m_backend)
                    m_backend->send(m_frame);
            }
        }
        ring.push(chain->head, 0);
        completed = true;
    }
    if (completed)
        used_buffers(ring);
}

void VirtioNet::receive(std::span<const uint8_t> frame)
{
    if (frame.empty() || frame.size() > max_frame)
        return;
    if (m_pending.size() == pending_limit) {
        m_pending.pop_front();
        ++m_dropped;
    }
    m_pending.emplace_back(frame.begin(), frame.end());
    deliver_pending();
}

void VirtioNet::deliver_pending()
{
    Virtqueue& ring = queue(rx_queue);
    bool completed = false;
    while (!m_pending.empty()) {
        auto chain = ring.pop();
        if (!chain)
            break;  // no buffer posted: the frames wait for the next notify
        const std::vector<uint8_t>& frame = m_pending.front();
        uint32_t used = 0;
        const uint8_t header[header_size] = {};  // no flags, no GSO
        if (chain->valid && chain->writable_bytes() >= header_size + frame.size() &&
            ring.scatter(chain->writable, 0, header, header_size) &&
            ring.scatter(chain->writable, header_size, frame.data(), frame.size())) {
            used = uint32_t(header_size + frame.size());
            if (m_frame_observer)
                m_frame_observer(Direction::ToGuest, frame);
        } else {
            ++m_dropped;  // a buffer too small or outside RAM: the frame is lost
        }
        m_pending.pop_front();
        ring.push(chain->head, used);
        completed = true;
    }
    if (completed)
        used_buffers(ring);
}

}  // namespace bootsim
