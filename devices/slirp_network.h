#pragma once
// User-mode networking through libslirp, as QEMU's `-nic user`: the guest's
// frames go into a small virtual network (10.0.2.0/24; the gateway and the
// host at 10.0.2.2, DNS at 10.0.2.3, DHCP handing out 10.0.2.15 on), whose
// TCP and UDP connections become ordinary sockets of this process, so no
// privileges or host network set-up are needed. 10.0.2.2 reaches the host's
// own loopback; host forwards connect a host port to one of the guest's.
//
// One thread of its own owns the Slirp instance (libslirp is not
// thread-safe): it polls slirp's sockets and timers, feeds it the frames
// send() queued, and hands each frame slirp sends the guest to `deliver`,
// on that thread (the board posts it to the guest's thread). Time is the
// host's monotonic clock: networking is real time even when the guest's
// clock is not.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>

#include "core/result.h"
#include "devices/net_backend.h"

struct Slirp;

namespace bootsim {

struct HostForward {
    bool udp = false;
    uint32_t host_address = 0;  // IPv4, host byte order; 0: any
    uint16_t host_port = 0;
    uint32_t guest_address = 0;  // 0: the address DHCP gives the guest
    uint16_t guest_port = 0;
};

struct SlirpConfig {
    std::vector<HostForward> forwards;
};

class SlirpNetwork final : public NetBackend {
public:
    using Deliver = std::function<void(std::vector<uint8_t> frame)>;

    static Result<std::unique_ptr<SlirpNetwork>> create(const SlirpConfig& config, Deliver deliver);
    ~SlirpNetwork() override;

    // Any thread.
    void send(std::span<const uint8_t> frame) override;
    // Complaints slirp had about the guest's packets (guest_error), counted.
    uint64_t guest_errors() const { return m_guest_errors.load(); }

    // The virtual network's fixed addresses (host byte order).
    static constexpr uint32_t network = 0x0a000200;    // 10.0.2.0/24
    static constexpr uint32_t gateway = 0x0a000202;    // 10.0.2.2, also the host
    static constexpr uint32_t nameserver = 0x0a000203; // 10.0.2.3
    static constexpr uint32_t first_lease = 0x0a00020f; // 10.0.2.15

private:
    struct Timer;
    explicit SlirpNetwork(Deliver deliver);
    void thread_main();
    void fire_timers(int64_t now_ms);
    int64_t next_timer_ms() const;

    // libslirp's callbacks (slirp_network.cpp), which reach the members.
    friend struct SlirpCallbacks;

    Deliver m_deliver;
    Slirp* m_slirp = nullptr;
    int m_wake_fd = -1;  // eventfd: frames queued, or quit
    std::thread m_thread;
    std::atomic<bool> m_quit{false};
    std::atomic<uint64_t> m_guest_errors{0};
    std::mutex m_mutex;  // guards m_outgoing
    std::deque<std::vector<uint8_t>> m_outgoing;
    std::vector<std::unique_ptr<Timer>> m_timers;  // network thread only
    std::vector<struct pollfd> m_pollfds;  // this round's, network thread only
};

}  // namespace bootsim
