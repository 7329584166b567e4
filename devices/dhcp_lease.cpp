#include "devices/dhcp_lease.h"

#include <bit>

#include <fmt/format.h>

namespace bootsim {

namespace {

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint8_t ip_proto_udp = 17;
constexpr uint16_t bootp_server_port = 67;
constexpr uint16_t bootp_client_port = 68;
constexpr uint8_t bootp_reply = 2;
constexpr uint32_t dhcp_magic = 0x63825363;
constexpr size_t ethernet_header = 14;
constexpr size_t udp_header = 8;
constexpr size_t bootp_fixed = 236;  // up to the options' magic cookie

// DHCP options (RFC 2132).
constexpr uint8_t option_pad = 0;
constexpr uint8_t option_netmask = 1;
constexpr uint8_t option_router = 3;
constexpr uint8_t option_lease_time = 51;
constexpr uint8_t option_message_type = 53;
constexpr uint8_t option_server_id = 54;
constexpr uint8_t option_end = 255;
constexpr uint8_t message_ack = 5;

uint16_t be16(std::span<const uint8_t> b, size_t at)
{
    return uint16_t(b[at] << 8 | b[at + 1]);
}

uint32_t be32(std::span<const uint8_t> b, size_t at)
{
    return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
}

}  // namespace

std::optional<DhcpLease> dhcp_ack_in(std::span<const uint8_t> frame)
{
    if (frame.size() < ethernet_header + 20 || be16(frame, 12) != ethertype_ipv4)
        return std::nullopt;
    auto ip = frame.subspan(ethernet_header);
    size_t ihl = size_t(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != ip_proto_udp || ip.size() < ihl + udp_header)
        return std::nullopt;
    size_t total = be16(ip, 2);
    if (total < ihl + udp_header || total > ip.size())
        return std::nullopt;
    auto udp = ip.subspan(ihl, total - ihl);
    if (be16(udp, 0) != bootp_server_port || be16(udp, 2) != bootp_client_port)
        return std::nullopt;
    size_t udp_length = be16(udp, 4);
    if (udp_length < udp_header || udp_length > udp.size())
        return std::nullopt;
    auto bootp = udp.subspan(udp_header, udp_length - udp_header);
    if (bootp.size() < bootp_fixed + 4 || bootp[0] != bootp_reply || be32(bootp, bootp_fixed) != dhcp_magic)
        return std::nullopt;

    DhcpLease lease;
    lease.address = be32(bootp, 16);  // yiaddr
    bool ack = false;
    for (size_t at = bootp_fixed + 4; at < bootp.size();) {
        uint8_t code = bootp[at];
        if (code == option_end)
            break;
        if (code == option_pad) {
            ++at;
            continue;
        }
        if (at + 2 > bootp.size() || at + 2 + bootp[at + 1] > bootp.size())
            break;
        size_t length = bootp[at + 1];
        size_t value = at + 2;
        if (code == option_message_type && length >= 1)
            ack = bootp[value] == message_ack;
        else if (code == option_netmask && length >= 4)
            lease.netmask = be32(bootp, value);
        else if (code == option_router && length >= 4)
            lease.router = be32(bootp, value);
        else if (code == option_server_id && length >= 4)
            lease.server = be32(bootp, value);
        else if (code == option_lease_time && length >= 4)
            lease.seconds = be32(bootp, value);
        at = value + length;
    }
    if (!ack)
        return std::nullopt;
    return lease;
}

std::string ipv4_text(uint32_t address)
{
    return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
}

std::string describe(const DhcpLease& lease)
{
    std::string text = "DHCP lease " + ipv4_text(lease.address);
    if (lease.netmask)
        text += fmt::format("/{}", std::popcount(lease.netmask));
    if (lease.router)
        text += " router " + ipv4_text(lease.router);
    if (lease.server)
        text += " from " + ipv4_text(lease.server);
    if (lease.seconds)
        text += fmt::format(" for {} s", lease.seconds);
    return text;
}

}  // namespace bootsim
