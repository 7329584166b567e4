#pragma once
// Reads a DHCP server's acknowledgement out of an Ethernet frame on its way
// to the guest (RFC 2131/2132 over UDP/IPv4): the lease the guest is about
// to take, for the boot's steps. Anything else, or a frame too short for
// what it claims, is not a lease.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace bootsim {

struct DhcpLease {
    uint32_t address = 0;  // yiaddr, host byte order
    uint32_t netmask = 0;  // option 1 (0: none given)
    uint32_t router = 0;   // option 3, the first (0: none given)
    uint32_t server = 0;   // option 54 (0: none given)
    uint32_t seconds = 0;  // option 51
};

std::optional<DhcpLease> dhcp_ack_in(std::span<const uint8_t> frame);

std::string ipv4_text(uint32_t address);
// "DHCP lease 10.0.2.15/24 router 10.0.2.2 from 10.0.2.2 for 86400 s"
std::string describe(const DhcpLease& lease);

}  // namespace bootsim
