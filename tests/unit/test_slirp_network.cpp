// The user-mode network glue, against the real libslirp: a DHCP exchange
// as a guest's client does it (DISCOVER, OFFER, REQUEST, ACK), the lease
// read back out of the ACK frame, a host forward that reaches the guest,
// and the lease decoder's refusal of anything cut short.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/dhcp_lease.h"
#include "devices/slirp_network.h"

namespace bootsim {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// What the network hands the guest, as the board's queue would.
class Inbox {
public:
    void put(Bytes frame)
    {
        std::lock_guard lock(m_mutex);
        m_frames.push_back(std::move(frame));
        m_cv.notify_all();
    }
    // The first frame `wanted` accepts within five seconds (others are skipped).
    template <typename Wanted>
    std::optional<Bytes> wait_for(Wanted wanted)
    {
        std::unique_lock lock(m_mutex);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            while (!m_frames.empty()) {
                Bytes frame = std::move(m_frames.front());
                m_frames.pop_front();
                if (wanted(frame))
                    return frame;
            }
            if (m_cv.wait_until(lock, deadline) == std::cv_status::timeout && m_frames.empty())
                return std::nullopt;
        }
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Bytes> m_frames;
};

void put16(Bytes& b, size_t at, uint16_t v)
{
    b[at] = uint8_t(v >> 8);
    b[at + 1] = uint8_t(v);
}
void put32(Bytes& b, size_t at, uint32_t v)
{
    put16(b, at, uint16_t(v >> 16));
    put16(b, at + 2, uint16_t(v));
}
uint16_t get16(const Bytes& b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }

// A DHCP client message (RFC 2131) from 0.0.0.0:68 to 255.255.255.255:67,
// broadcast, with the IPv4 header checksum slirp checks and no UDP checksum.
Bytes dhcp_client_message(uint8_t type, std::optional<uint32_t> requested = {})
{
    Bytes options = {0x63, 0x82, 0x53, 0x63, 53, 1, type};
    if (requested) {
        options.insert(options.end(), {50, 4, 0, 0, 0, 0});
        put32(options, options.size() - 4, *requested);
    }
    options.push_back(255);
    size_t bootp_size = 236 + options.size();
    Bytes frame(14 + 20 + 8 + bootp_size, 0);
    std::fill(frame.begin(), frame.begin() + 6, 0xff);
    std::copy(guest_mac, guest_mac + 6, frame.begin() + 6);
    put16(frame, 12, 0x0800);
    size_t ip = 14;
    frame[ip] = 0x45;
    put16(frame, ip + 2, uint16_t(20 + 8 + bootp_size));
    frame[ip + 8] = 64;  // TTL
    frame[ip + 9] = 17;  // UDP
    put32(frame, ip + 12, 0);
    put32(frame, ip + 16, 0xffffffff);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2)
        sum += get16(frame, ip + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(frame, ip + 10, uint16_t(~sum));
    size_t udp = ip + 20;
    put16(frame, udp, 68);
    put16(frame, udp + 2, 67);
    put16(frame, udp + 4, uint16_t(8 + bootp_size));
    size_t bootp = udp + 8;
    frame[bootp] = 1;      // BOOTREQUEST
    frame[bootp + 1] = 1;  // Ethernet
    frame[bootp + 2] = 6;
    put32(frame, bootp + 4, 0x1234abcd);  // xid
    std::copy(guest_mac, guest_mac + 6, frame.begin() + long(bootp + 28));
    std::copy(options.begin(), options.end(), frame.begin() + long(bootp + 236));
    return frame;
}

// The DHCP message type of a server's reply to the guest, if it is one.
std::optional<uint8_t> dhcp_reply_type(const Bytes& frame)
{
    if (frame.size() < 14 + 20 + 8 + 240 || get16(frame, 12) != 0x0800 || frame[23] != 17)
        return std::nullopt;
    size_t udp = 14 + size_t(frame[14] & 0xf) * 4;
    if (get16(frame, udp) != 67 || get16(frame, udp + 2) != 68)
        return std::nullopt;
    for (size_t at = udp + 8 + 240; at + 2 < frame.size() && frame[at] != 255; at += 2 + frame[at + 1])
        if (frame[at] == 53)
            return frame[at + 2];
    return std::nullopt;
}

// A TCP socket bound to a free port on 127.0.0.1; the port comes back in `address`.
int bound_loopback_socket(sockaddr_in& address)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t size = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    return fd;
}

class SlirpNetworkTest : public ::testing::Test {
protected:
    void start(SlirpConfig config = {})
    {
        auto net = SlirpNetwork::create(config, [this](Bytes frame) { inbox.put(std::move(frame)); });
        ASSERT_TRUE(net.ok()) << net.error().message;
        network = std::move(*net);
    }
    // DISCOVER, OFFER, REQUEST, ACK; returns the ACK frame.
    Bytes lease()
    {
        network->send(dhcp_client_message(1));
        auto offer = inbox.wait_for([](const Bytes& f) { return dhcp_reply_type(f) == 2; });
        EXPECT_TRUE(offer) << "no DHCPOFFER";
        network->send(dhcp_client_message(3, SlirpNetwork::first_lease));
        auto ack = inbox.wait_for([](const Bytes& f) { return dhcp_reply_type(f) == 5; });
        EXPECT_TRUE(ack) << "no DHCPACK";
        return ack.value_or(Bytes {});
    }

    Inbox inbox;
    std::unique_ptr<SlirpNetwork> network;
};

TEST_F(SlirpNetworkTest, DhcpLeasesTheFirstAddressAndTheAckSaysSo)
{
    start();
    Bytes ack = lease();
    auto decoded = dhcp_ack_in(ack);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->address, SlirpNetwork::first_lease);
    EXPECT_EQ(decoded->router, SlirpNetwork::gateway);
    EXPECT_EQ(decoded->server, SlirpNetwork::gateway);
    EXPECT_EQ(decoded->netmask, 0xffffff00u);
    EXPECT_GT(decoded->seconds, 0u);
    EXPECT_EQ(describe(*decoded).rfind("DHCP lease 10.0.2.15/24 router 10.0.2.2 from 10.0.2.2", 0), 0u);
    // An OFFER is not a lease.
    network->send(dhcp_client_message(1));
    auto offer = inbox.wait_for([](const Bytes& f) { return dhcp_reply_type(f) == 2; });
    ASSERT_TRUE(offer);
    EXPECT_FALSE(dhcp_ack_in(*offer));
}

TEST_F(SlirpNetworkTest, ALeaseCutShortAnywhereIsNoLease)
{
    start();
    Bytes ack = lease();
    ASSERT_TRUE(dhcp_ack_in(ack));
    for (size_t length = 0; length < ack.size(); ++length) {
        // The IP header's total length no longer fits: never read past the end.
        std::span<const uint8_t> cut(ack.data(), length);
        EXPECT_FALSE(dhcp_ack_in(cut)) << "at length " << length;
    }
}

TEST_F(SlirpNetworkTest, AHostForwardReachesTheGuestPort)
{
    // Pick a free host port, then forward it to the guest's 22.
    sockaddr_in address;
    ::close(bound_loopback_socket(address));
    uint16_t port = ntohs(address.sin_port);

    SlirpConfig config;
    config.forwards.push_back(HostForward {.udp = false, .host_address = INADDR_LOOPBACK, .host_port = port,
                                           .guest_address = 0, .guest_port = 22});
    start(config);
    lease();  // slirp learns the guest's MAC

    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
    // The connection arrives at the guest as a TCP SYN to 10.0.2.15:22.
    auto syn = inbox.wait_for([](const Bytes& f) {
        if (f.size() < 14 + 20 + 20 || get16(f, 12) != 0x0800 || f[23] != 6)
            return false;
        size_t tcp = 14 + size_t(f[14] & 0xf) * 4;
        return get16(f, 30) == 0x0a00 && get16(f, 32) == 0x020f && get16(f, tcp + 2) == 22 && (f[tcp + 13] & 0x02);
    });
    ::close(client);
    EXPECT_TRUE(syn) << "no SYN for the guest's port 22";
}

TEST_F(SlirpNetworkTest, AForwardOfAPortInUseIsRefusedWithItsNumber)
{
    sockaddr_in address;
    int busy = bound_loopback_socket(address);
    ASSERT_EQ(::listen(busy, 1), 0);
    uint16_t port = ntohs(address.sin_port);

    SlirpConfig config;
    config.forwards.push_back(HostForward {.host_address = INADDR_LOOPBACK, .host_port = port, .guest_port = 22});
    auto net = SlirpNetwork::create(config, [](Bytes) {});
    ::close(busy);
    ASSERT_FALSE(net.ok());
    EXPECT_NE(net.error().message.find(std::to_string(port)), std::string::npos) << net.error().message;
}

}  // namespace
}  // namespace bootsim
