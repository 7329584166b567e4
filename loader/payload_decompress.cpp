// decompress_payload(): the host's own decoding of a bzImage payload, with
// the same libraries the kernel's formats come from. Each decoder stops where
// the kernel's does (lib/decompress_*.c): at the end of the first compressed
// stream, before the 4-byte size the build appends (scripts/Makefile.lib,
// size_append). The decoding is stream_decoder's; this file holds the
// payload's own rules: the expected size, and its error messages.

#include <algorithm>
#include <optional>

#include "core/huge_pages.h"
#include "loader/kernel_image.h"
#include "loader/stream_decoder.h"

namespace bootsim {

namespace {

// The decoder's output, grown geometrically as bytes arrive instead of
// allocated up front: the size comes from the payload itself, and a corrupt
// or hostile one must not make us allocate 4 GiB for a few bytes of input.
// It keeps one byte past the expected size, which is enough to tell "too
// long" from "exact" without decoding the rest.
class Output {
public:
    // Decoding stops once `stop_at` bytes have arrived.
    Output(uint32_t expected_size, size_t input_size, uint64_t stop_at)
        : m_limit(uint64_t(expected_size) + 1), m_stop_at(stop_at)
    {
        uint64_t first = std::max<uint64_t>(uint64_t(input_size) * 4, 1 << 20);
        grow_to(size_t(std::min(first, m_limit)));
    }

    bool write(std::span<const uint8_t> data)
    {
        size_t fits = size_t(std::min<uint64_t>(data.size(), m_limit - m_bytes.size()));
        if (m_bytes.size() + fits > m_bytes.capacity())
            grow_to(size_t(std::min<uint64_t>(m_limit, std::max(m_bytes.capacity() * 2, m_bytes.size() + fits))));
        m_bytes.insert(m_bytes.end(), data.begin(), data.begin() + ptrdiff_t(fits));
        return m_bytes.size() < m_stop_at;
    }
    size_t used() const { return m_bytes.size(); }
    bool over_limit() const { return m_bytes.size() >= m_limit; }
    std::vector<uint8_t> take() { return std::move(m_bytes); }

private:
    void grow_to(size_t capacity)
    {
        m_bytes.reserve(capacity);
        advise_huge_pages(m_bytes.data() + m_bytes.size(), m_bytes.capacity() - m_bytes.size());
    }

    uint64_t m_limit;
    uint64_t m_stop_at;
    std::vector<uint8_t> m_bytes;
};

Error corrupt(const char* format_name, size_t consumed, size_t total, const std::string& why)
{
    return make_error(ErrorKind::BadFormat, "{} payload: corrupt compressed data at byte {} of {} ({})",
                      format_name, consumed, total, why);
}

Error ends_early(const char* format_name, size_t decoded, uint32_t expected)
{
    return make_error(ErrorKind::Truncated,
                      "{} payload: the compressed stream ends after {} decompressed bytes, before its end "
                      "marker (expected {} bytes)",
                      format_name, decoded, expected);
}

// lib/decompress_unlz4.c as the preboot decompress() calls it: `in` is the
// payload without its size trailer, every byte of it blocks. Reading stops
// once the expected size has been produced (see decompress_payload), so
// whatever stopped the decoder earlier is an error here, even what ends an
// initrd's stream (a zero length, a few stray bytes).
Status lz4_status(const StreamResult& r, std::span<const uint8_t> in, size_t payload_size)
{
    switch (r.outcome) {
    case StreamOutcome::SinkStopped: return Ok{};
    case StreamOutcome::End:
        if (r.consumed == in.size())
            return Ok{};
        if (in.size() - r.consumed < 4)
            return make_error(ErrorKind::Truncated,
                              "lz4 payload: {} stray bytes at offset {} where a 4-byte block size was expected",
                              in.size() - r.consumed, r.consumed);
        // A zero block length: not a block LZ4_decompress_safe accepts.
        return corrupt("lz4", r.consumed + 4, payload_size, "LZ4_decompress_safe failed");
    case StreamOutcome::BadBlockLength: {
        uint64_t left = in.size() - r.consumed - 4;
        if (r.block_length > left)
            return make_error(ErrorKind::Truncated,
                              "lz4 payload: the block at offset {} claims {} compressed bytes but only {} remain",
                              r.consumed, r.block_length, left);
        return make_error(ErrorKind::BadFormat,
                          "lz4 payload: the block at offset {} claims {} compressed bytes, more than an 8 MiB "
                          "block can need ({})",
                          r.consumed, r.block_length, lz4_legacy_compressed_max);
    }
    case StreamOutcome::NoMagic:
        return make_error(ErrorKind::BadFormat, "lz4 payload: not the legacy lz4 format (expected magic "
                                                "02 21 4c 18 at its start)");
    case StreamOutcome::Corrupt:  // `consumed` is the block's length field; the message points at its data
        return corrupt("lz4", r.consumed + 4, payload_size, r.reason);
    case StreamOutcome::Truncated:
    case StreamOutcome::InitFailed:
        break;
    }
    return make_error(ErrorKind::Emulator, "lz4 payload: {}", r.reason);
}

Status stream_status(const char* name, const StreamResult& r, std::span<const uint8_t> payload,
                     size_t decoded, uint32_t expected)
{
    switch (r.outcome) {
    case StreamOutcome::End:
    case StreamOutcome::SinkStopped: return Ok{};
    case StreamOutcome::Truncated: return ends_early(name, decoded, expected);
    case StreamOutcome::Corrupt: return corrupt(name, r.consumed, payload.size(), r.reason);
    case StreamOutcome::InitFailed:
    case StreamOutcome::BadBlockLength:  // lz4 legacy only
    case StreamOutcome::NoMagic:
        break;
    }
    return make_error(ErrorKind::Emulator, "{} payload: {}", name, r.reason);
}

// The formats decoded on the host: bzip2 and LZO are identified only.
std::optional<Codec> host_codec(Compression format)
{
    switch (format) {
    case Compression::Gzip: return Codec::Gzip;
    case Compression::Xz: return Codec::Xz;
    case Compression::Lzma: return Codec::Lzma;
    case Compression::Zstd: return Codec::Zstd;
    case Compression::Lz4: return Codec::Lz4Legacy;
    case Compression::Bzip2:
    case Compression::Lzo:
    case Compression::Unknown: break;
    }
    return std::nullopt;
}

}  // namespace

Result<std::vector<uint8_t>> decompress_payload(Compression format, std::span<const uint8_t> payload,
                                                uint32_t expected_size)
{
    const char* name = compression_name(format);
    if (payload.size() < 4)
        return make_error(ErrorKind::Truncated,
                          "{} payload is {} bytes, too short even for its 4-byte decompressed-size trailer", name,
                          payload.size());
    // payload_length in the setup header is 32 bits.
    if (payload.size() > UINT32_MAX)
        return make_error(ErrorKind::BadFormat, "{} payload is {} bytes, more than a bzImage can hold (4 GiB)",
                          name, payload.size());

    std::optional<Codec> codec = host_codec(format);
    if (!codec)
        return make_error(ErrorKind::Unsupported,
                          "{} payload: bootsim does not decode {} on the host (supported: gzip, xz, lzma, lz4, "
                          "zstd); the guest can still boot it, but the handoff cannot be verified",
                          name, name);

    // Streams with an end marker are decoded one byte past the expected size,
    // to tell "too long" from "exact". lz4 legacy has none: its blocks are
    // read until the expected size is reached, and the rest is not looked at.
    bool lz4 = *codec == Codec::Lz4Legacy;
    Output out(expected_size, payload.size(), lz4 ? uint64_t(expected_size) : uint64_t(expected_size) + 1);
    // The preboot decompress() passes in_len - 4 to unlz4: the last 4 bytes
    // are the size trailer, not a block. The other decoders stop at their
    // stream's end, before it.
    std::span<const uint8_t> in = lz4 ? payload.first(payload.size() - 4) : payload;
    // With nothing expected, no lz4 block is read: only the magic is checked.
    if (lz4 && expected_size == 0)
        in = in.first(std::min<size_t>(in.size(), 4));
    // The kernel's own build (`zstd -22 --ultra`) may use a window beyond
    // libzstd's default limit.
    StreamResult r = decode_stream(
        *codec, in, [&](std::span<const uint8_t> data) { return out.write(data); },
        StreamOptions{.zstd_largest_window = true});
    Status status =
        lz4 ? lz4_status(r, in, payload.size()) : stream_status(name, r, payload, out.used(), expected_size);
    if (!status)
        return status.error();

    if (out.over_limit())
        return make_error(ErrorKind::BadFormat,
                          "{} payload decompresses to more than {} bytes, the size its last 4 bytes give", name,
                          expected_size);
    if (out.used() != expected_size)
        return make_error(ErrorKind::BadFormat,
                          "{} payload decompresses to {} bytes, but its last 4 bytes give {}", name, out.used(),
                          expected_size);
    return out.take();
}

}  // namespace bootsim
