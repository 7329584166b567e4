#include "run/net_option.h"

#include <charconv>
#include <vector>

#include <arpa/inet.h>

namespace bootsim {

namespace {

std::vector<std::string> split(const std::string& text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t at = text.find(separator, start);
        parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos)
            return parts;
        start = at + 1;
    }
}

std::optional<uint16_t> port_number(const std::string& text)
{
    unsigned value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return std::nullopt;
    return uint16_t(value);
}

// "" is 0 (any / the guest's own address).
std::optional<uint32_t> ipv4_address(const std::string& text)
{
    if (text.empty())
        return 0;
    in_addr address {};
    if (inet_pton(AF_INET, text.c_str(), &address) != 1)
        return std::nullopt;
    return ntohl(address.s_addr);
}

Result<HostForward> parse_hostfwd(const std::string& rule)
{
    auto bad = [&](const char* what) {
        return make_error(ErrorKind::BadUsage,
                          "--net: hostfwd={}: {} (expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)", rule,
                          what);
    };
    HostForward forward;
    std::string rest = rule;
    if (rest.rfind("tcp:", 0) == 0) {
        rest = rest.substr(4);
    } else if (rest.rfind("udp:", 0) == 0) {
        forward.udp = true;
        rest = rest.substr(4);
    } else if (!rest.empty() && rest[0] == ':') {
        rest = rest.substr(1);
    } else {
        return bad("the protocol is tcp or udp");
    }
    auto sides = split(rest, '-');
    if (sides.size() != 2)
        return bad("one '-' separates the host side from the guest's");
    auto host = split(sides[0], ':');
    auto guest = split(sides[1], ':');
    if (host.size() != 2 || guest.size() != 2)
        return bad("each side is ADDRESS:PORT (the address may be empty)");
    auto host_address = ipv4_address(host[0]);
    auto guest_address = ipv4_address(guest[0]);
    if (!host_address || !guest_address)
        return bad("not an IPv4 address");
    auto host_port = port_number(host[1]);
    auto guest_port = port_number(guest[1]);
    if (!host_port || !guest_port)
        return bad("a port is a number from 1 to 65535");
    forward.host_address = *host_address;
    forward.host_port = *host_port;
    forward.guest_address = *guest_address;
    forward.guest_port = *guest_port;
    return forward;
}

std::optional<VirtioNet::Mac> mac_address(const std::string& text)
{
    auto bytes = split(text, ':');
    if (bytes.size() != 6)
        return std::nullopt;
    VirtioNet::Mac mac {};
    for (size_t i = 0; i < 6; ++i) {
        unsigned value = 0;
        const std::string& b = bytes[i];
        auto [end, error] = std::from_chars(b.data(), b.data() + b.size(), value, 16);
        if (b.size() != 2 || error != std::errc() || end != b.data() + b.size())
            return std::nullopt;
        mac[i] = uint8_t(value);
    }
    if (mac[0] & 1)
        return std::nullopt;  // a multicast address cannot be a card's
    return mac;
}

}  // namespace

Result<NetOption> parse_net_option(const std::string& text)
{
    auto parts = split(text, ',');
    if (parts[0] != "user")
        return make_error(ErrorKind::BadUsage, "--net {}: the network kind is 'user' (user-mode networking)", text);
    NetOption option;
    for (size_t i = 1; i < parts.size(); ++i) {
        const std::string& part = parts[i];
        if (part.rfind("hostfwd=", 0) == 0) {
            auto forward = parse_hostfwd(part.substr(8));
            if (!forward)
                return forward.error();
            option.slirp.forwards.push_back(*forward);
        } else if (part.rfind("mac=", 0) == 0) {
            auto mac = mac_address(part.substr(4));
            if (!mac)
                return make_error(ErrorKind::BadUsage, "--net: mac={}: not a unicast MAC address like 52:54:00:12:34:56",
                                  part.substr(4));
            option.mac = *mac;
        } else {
            return make_error(ErrorKind::BadUsage, "--net: unknown setting '{}' (hostfwd=..., mac=...)", part);
        }
    }
    return option;
}

}  // namespace bootsim
