#include "devices/slirp_network.h"

#include <chrono>
#include <cstring>

#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <slirp/libslirp.h>

namespace bootsim {

struct SlirpNetwork::Timer {
    SlirpTimerId id;
    void* cb_opaque;
    int64_t expire_ms = -1;  // -1: not armed
};

namespace {

in_addr ipv4(uint32_t host_order)
{
    in_addr address {};
    address.s_addr = htonl(host_order);
    return address;
}

int64_t monotonic_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

short poll_events(int slirp_events)
{
    short events = 0;
    if (slirp_events & SLIRP_POLL_IN)
        events |= POLLIN;
    if (slirp_events & SLIRP_POLL_OUT)
        events |= POLLOUT;
    if (slirp_events & SLIRP_POLL_PRI)
        events |= POLLPRI;
    return events;
}

int slirp_revents(short revents)
{
    int events = 0;
    if (revents & POLLIN)
        events |= SLIRP_POLL_IN;
    if (revents & POLLOUT)
        events |= SLIRP_POLL_OUT;
    if (revents & POLLPRI)
        events |= SLIRP_POLL_PRI;
    if (revents & (POLLERR | POLLNVAL))
        events |= SLIRP_POLL_ERR;
    if (revents & POLLHUP)
        events |= SLIRP_POLL_HUP;
    return events;
}

}  // namespace

struct SlirpCallbacks {
    static SlirpNetwork& self(void* opaque) { return *static_cast<SlirpNetwork*>(opaque); }

    static ssize_t send_packet(const void* buffer, size_t length, void* opaque)
    {
        auto bytes = static_cast<const uint8_t*>(buffer);
        self(opaque).m_deliver(std::vector<uint8_t>(bytes, bytes + length));
        return ssize_t(length);
    }
    static void guest_error(const char*, void* opaque) { ++self(opaque).m_guest_errors; }
    static int64_t clock_get_ns(void*) { return monotonic_ns(); }
    static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque)
    {
        auto timer = std::make_unique<SlirpNetwork::Timer>(SlirpNetwork::Timer {id, cb_opaque});
        auto raw = timer.get();
        self(opaque).m_timers.push_back(std::move(timer));
        return raw;
    }
    static void timer_free(void* timer, void* opaque)
    {
        auto& timers = self(opaque).m_timers;
        std::erase_if(timers, [&](const auto& t) { return t.get() == timer; });
    }
    static void timer_mod(void* timer, int64_t expire_ms, void*)
    {
        static_cast<SlirpNetwork::Timer*>(timer)->expire_ms = expire_ms;
    }
    static void register_poll_fd(int, void*) {}
    static void unregister_poll_fd(int, void*) {}
    static void notify(void* opaque)
    {
        uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(self(opaque).m_wake_fd, &one, sizeof one);
    }
    static int add_poll(int fd, int events, void* opaque)
    {
        auto& fds = self(opaque).m_pollfds;
        fds.push_back(pollfd {fd, poll_events(events), 0});
        return int(fds.size() - 1);
    }
    static int get_revents(int index, void* opaque)
    {
        auto& fds = self(opaque).m_pollfds;
        return index >= 0 && size_t(index) < fds.size() ? slirp_revents(fds[size_t(index)].revents) : 0;
    }

    static constexpr SlirpCb table = {
        .send_packet = send_packet,
        .guest_error = guest_error,
        .clock_get_ns = clock_get_ns,
        .timer_new = nullptr,
        .timer_free = timer_free,
        .timer_mod = timer_mod,
        .register_poll_fd = register_poll_fd,
        .unregister_poll_fd = unregister_poll_fd,
        .notify = notify,
        .init_completed = nullptr,
        .timer_new_opaque = timer_new_opaque,
    };
};

SlirpNetwork::SlirpNetwork(Deliver deliver) : m_deliver(std::move(deliver)) {}

Result<std::unique_ptr<SlirpNetwork>> SlirpNetwork::create(const SlirpConfig& config, Deliver deliver)
{
    std::unique_ptr<SlirpNetwork> net(new SlirpNetwork(std::move(deliver)));
    net->m_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (net->m_wake_fd < 0)
        return make_error(ErrorKind::Emulator, "user-mode network: eventfd failed: {}", std::strerror(errno));

    ::SlirpConfig cfg {};
    cfg.version = 4;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    cfg.vnetwork = ipv4(network);
    cfg.vnetmask = ipv4(0xffffff00);
    cfg.vhost = ipv4(gateway);
    cfg.in6_enabled = false;
    cfg.vhostname = "bootsim";
    cfg.vdhcp_start = ipv4(first_lease);
    cfg.vnameserver = ipv4(nameserver);
    net->m_slirp = slirp_new(&cfg, &SlirpCallbacks::table, net.get());
    if (!net->m_slirp)
        return make_error(ErrorKind::Emulator, "user-mode network: libslirp could not start");

    for (const HostForward& f : config.forwards) {
        in_addr guest = ipv4(f.guest_address ? f.guest_address : first_lease);
        if (slirp_add_hostfwd(net->m_slirp, f.udp, ipv4(f.host_address), f.host_port, guest, f.guest_port) < 0)
            return make_error(ErrorKind::BadUsage, "--net: cannot forward host {} port {}: {}", f.udp ? "UDP" : "TCP",
                              f.host_port, std::strerror(errno ? errno : EADDRINUSE));
    }
    net->m_thread = std::thread([n = net.get()] { n->thread_main(); });
    return net;
}

SlirpNetwork::~SlirpNetwork()
{
    m_quit = true;
    if (m_thread.joinable()) {
        SlirpCallbacks::notify(this);
        m_thread.join();
    }
    if (m_slirp)
        slirp_cleanup(m_slirp);
    if (m_wake_fd >= 0)
        ::close(m_wake_fd);
}

void SlirpNetwork::send(std::span<const uint8_t> frame)
{
    {
        std::lock_guard lock(m_mutex);
        m_outgoing.emplace_back(frame.begin(), frame.end());
    }
    SlirpCallbacks::notify(this);
}

int64_t SlirpNetwork::next_timer_ms() const
{
    int64_t next = -1;
    for (const auto& timer : m_timers)
        if (timer->expire_ms >= 0 && (next < 0 || timer->expire_ms < next))
            next = timer->expire_ms;
    return next;
}

void SlirpNetwork::fire_timers(int64_t now_ms)
{
    // A handler may arm, free or make timers: collect first.
    std::vector<std::pair<SlirpTimerId, void*>> due;
    for (const auto& timer : m_timers) {
        if (timer->expire_ms >= 0 && timer->expire_ms <= now_ms) {
            timer->expire_ms = -1;
            due.emplace_back(timer->id, timer->cb_opaque);
        }
    }
    for (auto [id, cb_opaque] : due)
        slirp_handle_timer(m_slirp, id, cb_opaque);
}

void SlirpNetwork::thread_main()
{
    while (!m_quit.load()) {
        std::deque<std::vector<uint8_t>> frames;
        {
            std::lock_guard lock(m_mutex);
            frames.swap(m_outgoing);
        }
        for (const auto& frame : frames)
            slirp_input(m_slirp, frame.data(), int(frame.size()));

        m_pollfds.clear();
        m_pollfds.push_back(pollfd {m_wake_fd, POLLIN, 0});
        uint32_t timeout_ms = 1000;  // a bound: slirp's own timeouts shorten it
        slirp_pollfds_fill(m_slirp, &timeout_ms, SlirpCallbacks::add_poll, this);
        int64_t now_ms = monotonic_ns() / 1000000;
        int64_t next = next_timer_ms();
        if (next >= 0)
            timeout_ms = uint32_t(std::min<int64_t>(timeout_ms, std::max<int64_t>(0, next - now_ms)));
        int ready = ::poll(m_pollfds.data(), m_pollfds.size(), int(timeout_ms));
        if (ready > 0 && (m_pollfds[0].revents & POLLIN)) {
            uint64_t count = 0;
            [[maybe_unused]] auto n = ::read(m_wake_fd, &count, sizeof count);
        }
        slirp_pollfds_poll(m_slirp, ready < 0, SlirpCallbacks::get_revents, this);
        fire_timers(monotonic_ns() / 1000000);
    }
}

}  // namespace bootsim
