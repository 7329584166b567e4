// --net as a user writes it, QEMU's -nic user syntax: what is accepted,
// and a one-line reason for what is not.

#include <gtest/gtest.h>

#include "run/net_option.h"

namespace bootsim {
namespace {

TEST(NetOption, UserAloneIsACardWithQemusFirstMac)
{
    auto option = parse_net_option("user");
    ASSERT_TRUE(option.ok());
    EXPECT_TRUE(option->slirp.forwards.empty());
    EXPECT_EQ(option->mac, (VirtioNet::Mac {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}));
}

TEST(NetOption, HostForwardsAndMac)
{
    auto option = parse_net_option("user,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:5353-10.0.2.15:53,mac=02:00:00:00:00:01");
    ASSERT_TRUE(option.ok()) << option.error().message;
    ASSERT_EQ(option->slirp.forwards.size(), 2u);
    const auto& ssh = option->slirp.forwards[0];
    EXPECT_FALSE(ssh.udp);
    EXPECT_EQ(ssh.host_address, 0u);
    EXPECT_EQ(ssh.host_port, 2222);
    EXPECT_EQ(ssh.guest_address, 0u);
    EXPECT_EQ(ssh.guest_port, 22);
    const auto& dns = option->slirp.forwards[1];
    EXPECT_TRUE(dns.udp);
    EXPECT_EQ(dns.host_address, 0x7f000001u);
    EXPECT_EQ(dns.guest_address, 0x0a00020fu);
    EXPECT_EQ(option->mac[5], 1);
}

TEST(NetOption, MistakesAreNamed)
{
    struct Case {
        const char* text;
        const char* says;
    } cases[] = {
        {"tap", "'user'"},
        {"user,hostfwd=tcp:2222-:22", "ADDRESS:PORT"},
        {"user,hostfwd=sctp::1-:2", "tcp or udp"},
        {"user,hostfwd=tcp::0-:22", "1 to 65535"},
        {"user,hostfwd=tcp::70000-:22", "1 to 65535"},
        {"user,hostfwd=tcp:1.2.3:22-:22", "IPv4"},
        {"user,hostfwd=tcp::22", "'-'"},
        {"user,mac=01:00:00:00:00:01", "unicast"},
        {"user,mac=52:54:00:12:34", "unicast"},
        {"user,vlan=1", "unknown setting"},
    };
    for (const auto& c : cases) {
        auto option = parse_net_option(c.text);
        ASSERT_FALSE(option.ok()) << c.text;
        EXPECT_NE(option.error().message.find(c.says), std::string::npos) << c.text << ": " << option.error().message;
        EXPECT_EQ(option.error().message.find('\n'), std::string::npos);
    }
}

}  // namespace
}  // namespace bootsim
