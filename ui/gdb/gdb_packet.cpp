#include "ui/gdb/gdb_packet.h"

#include <fmt/format.h>

namespace bootsim::gdb {

namespace {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string frame(std::string_view payload)
{
    std::string out = "$";
    uint8_t sum = 0;
    for (char c : payload) {
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            out += '}';
            sum = uint8_t(sum + '}');
            c = char(c ^ 0x20);
        }
        out += c;
        sum = uint8_t(sum + uint8_t(c));
    }
    return out + fmt::format("#{:02x}", sum);
}

void PacketReader::feed(const char* bytes, size_t size)
{
    m_buffer.append(bytes, size);
    parse();
}

std::optional<Incoming> PacketReader::next()
{
    if (m_ready.empty())
        return std::nullopt;
    Incoming item = std::move(m_ready.front());
    m_ready.pop_front();
    return item;
}

void PacketReader::parse()
{
    size_t at = 0;
    while (at < m_buffer.size()) {
        char c = m_buffer[at];
        if (c == '\x03') {
            m_ready.push_back({Incoming::Kind::Interrupt, {}});
            ++at;
            continue;
        }
        if (c != '$') {  // acknowledgements and noise between packets
            ++at;
            continue;
        }
        size_t hash = m_buffer.find('#', at + 1);
        if (hash == std::string::npos || hash + 2 >= m_buffer.size())
            break;  // not all here yet
        std::string_view body(m_buffer.data() + at + 1, hash - at - 1);
        uint8_t sum = 0;
        for (char b : body)
            sum = uint8_t(sum + uint8_t(b));
        int hi = hex_digit(m_buffer[hash + 1]), lo = hex_digit(m_buffer[hash + 2]);
        if (hi < 0 || lo < 0 || uint8_t(hi * 16 + lo) != sum)
            m_ready.push_back({Incoming::Kind::BadChecksum, {}});
        else
            m_ready.push_back({Incoming::Kind::Packet, unescape(body)});
        at = hash + 3;
    }
    m_buffer.erase(0, at);
}

std::string to_hex(const uint8_t* bytes, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    return out;
}

std::optional<std::vector<uint8_t>> from_hex(std::string_view hex)
{
    if (hex.size() % 2)
        return std::nullopt;
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out[i] = uint8_t(hi * 16 + lo);
    }
    return out;
}

std::optional<uint64_t> parse_hex(std::string_view hex)
{
    if (hex.empty() || hex.size() > 16)
        return std::nullopt;
    uint64_t v = 0;
    for (char c : hex) {
        int d = hex_digit(c);
        if (d < 0)
            return std::nullopt;
        v = v << 4 | uint64_t(d);
    }
    return v;
}

std::string unescape(std::string_view data)
{
    std::string out;
    out.reserve(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '}' && i + 1 < data.size())
            out += char(data[++i] ^ 0x20);
        else
            out += data[i];
    }
    return out;
}

}  // namespace bootsim::gdb
