#pragma once
// Where a network device's transmitted frames go: the other end of its
// cable (user-mode networking, a tap, a test). Frames for the guest come
// back through the device's own receive().

#include <cstdint>
#include <span>

namespace bootsim {

class NetBackend {
public:
    virtual ~NetBackend() = default;
    // One Ethernet frame from the guest, without FCS. Called on the thread
    // that runs the guest; the backend copies what it keeps.
    virtual void send(std::span<const uint8_t> frame) = 0;
};

}  // namespace bootsim
