#pragma once
// The GDB remote serial protocol's framing: "$payload#xx" packets with a
// two-digit checksum, '}' escapes, '+'/'-' acknowledgements and the lone
// 0x03 byte gdb sends to interrupt a running target. No sockets here: the
// reader takes bytes however they arrived.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bootsim::gdb {

// "$payload#cs", with '$', '#', '}' and '*' escaped ('}' then the byte XOR 0x20).
std::string frame(std::string_view payload);

struct Incoming {
    enum class Kind { Packet, Interrupt, BadChecksum } kind;
    std::string payload;  // Packet: unescaped
};

class PacketReader final {
public:
    void feed(const char* bytes, size_t size);
    std::optional<Incoming> next();

private:
    std::string m_buffer;
    std::deque<Incoming> m_ready;
    void parse();
};

std::string to_hex(const uint8_t* bytes, size_t size);
inline std::string to_hex(std::string_view text)
{
    return to_hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}
// Hex digits pairwise to bytes; nullopt on an odd count or a non-hex digit.
std::optional<std::vector<uint8_t>> from_hex(std::string_view hex);
// A hex number ("1f", at most 16 digits); nullopt if empty or not hex.
std::optional<uint64_t> parse_hex(std::string_view hex);
// The binary data of an X packet: '}' escapes undone.
std::string unescape(std::string_view data);

}  // namespace bootsim::gdb
