// decompress_payload(): the host's own decoding of a bzImage payload, with
// the same libraries the kernel's formats come from. Each decoder stops where
// the kernel's does (lib/decompress_*.c): at the end of the first compressed
// stream, before the 4-byte size the build appends (scripts/Makefile.lib,
// size_append).

#include <algorithm>
#include <cstring>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "loader/kernel_image.h"

namespace bootsim {

namespace {

uint32_t le32(const uint8_t* p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// The decoder's output, grown geometrically as bytes arrive instead of
// allocated up front: the size comes from the payload itself, and a corrupt
// or hostile one must not make us allocate 4 GiB for a few bytes of input.
// It stops one byte past the expected size, which is enough to tell "too
// long" from "exact" without decoding the rest.
class Output {
public:
    Output(uint32_t expected_size, size_t input_size)
        : m_limit(uint64_t(expected_size) + 1)
    {
        uint64_t first = std::max<uint64_t>(uint64_t(input_size) * 4, 1 << 20);
        m_bytes.resize(std::min(first, m_limit));
    }

    // Room for the decoder after the bytes produced so far; empty once the
    // limit is reached.
    std::span<uint8_t> room()
    {
        if (m_used == m_bytes.size() && m_used < m_limit)
            m_bytes.resize(std::min<uint64_t>(m_limit, uint64_t(m_bytes.size()) * 2));
        return std::span<uint8_t>(m_bytes).subspan(m_used);
    }
    // At least `n` bytes of room, even past the limit: for decoders that
    // produce whole blocks and cannot stop in the middle of one.
    std::span<uint8_t> room_for_block(size_t n)
    {
        if (m_bytes.size() - m_used < n)
            m_bytes.resize(std::max<uint64_t>(m_used + n, std::min<uint64_t>(m_limit, uint64_t(m_bytes.size()) * 2)));
        return std::span<uint8_t>(m_bytes).subspan(m_used, n);
    }
    void produced(size_t n) { m_used += n; }
    size_t used() const { return m_used; }
    bool over_limit() const { return m_used >= m_limit; }

    std::vector<uint8_t> take()
    {
        m_bytes.resize(m_used);
        return std::move(m_bytes);
    }

private:
    uint64_t m_limit;
    std::vector<uint8_t> m_bytes;
    size_t m_used = 0;
};

Error corrupt(const char* format_name, size_t consumed, size_t total, const char* why)
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

// lib/decompress_inflate.c: the payload is one gzip member (gzip -n -9).
Status inflate_gzip(std::span<const uint8_t> in, Output& out, uint32_t expected)
{
    z_stream s{};
    if (inflateInit2(&s, 15 + 16) != Z_OK)  // 32 KiB window, gzip wrapper only
        return make_error(ErrorKind::Emulator, "gzip payload: zlib failed to initialise");
    s.next_in = const_cast<Bytef*>(in.data());
    s.avail_in = uInt(in.size());
    Status status = Ok{};
    for (;;) {
        std::span<uint8_t> room = out.room();
        if (room.empty())
            break;
        s.next_out = room.data();
        s.avail_out = uInt(std::min<size_t>(room.size(), UINT32_MAX));
        uInt before = s.avail_out;
        int ret = inflate(&s, Z_NO_FLUSH);
        out.produced(before - s.avail_out);
        if (ret == Z_STREAM_END)
            break;
        if (ret == Z_OK || (ret == Z_BUF_ERROR && s.avail_out == 0))
            continue;
        if (ret == Z_BUF_ERROR && s.avail_in == 0)
            status = ends_early("gzip", out.used(), expected);
        else
            status = corrupt("gzip", s.total_in, in.size(), s.msg ? s.msg : zError(ret));
        break;
    }
    inflateEnd(&s);
    return status;
}

const char* lzma_error_name(lzma_ret ret)
{
    switch (ret) {
    case LZMA_FORMAT_ERROR: return "not in the expected container format";
    case LZMA_OPTIONS_ERROR: return "unsupported compression options";
    case LZMA_DATA_ERROR: return "data error";
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
    default: return "liblzma error";
    }
}

// lib/decompress_unxz.c (one .xz stream, CRC32 check) and
// lib/decompress_unlzma.c (the legacy .lzma "alone" format). Neither decoder
// is told to expect concatenated streams, so each stops at its stream's end
// and leaves the size trailer unread.
Status decode_lzma(const char* format_name, bool xz, std::span<const uint8_t> in, Output& out,
                   uint32_t expected)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret init = xz ? lzma_stream_decoder(&s, UINT64_MAX, 0) : lzma_alone_decoder(&s, UINT64_MAX);
    if (init != LZMA_OK)
        return make_error(ErrorKind::Emulator, "{} payload: liblzma failed to initialise ({})", format_name,
                          lzma_error_name(init));
    s.next_in = in.data();
    s.avail_in = in.size();
    Status status = Ok{};
    for (;;) {
        std::span<uint8_t> room = out.room();
        if (room.empty())
            break;
        s.next_out = room.data();
        s.avail_out = room.size();
        // All the input is present, so LZMA_FINISH: running out of it
        // before the end marker is an error (LZMA_BUF_ERROR), not a wait.
        lzma_ret ret = lzma_code(&s, LZMA_FINISH);
        out.produced(room.size() - s.avail_out);
        if (ret == LZMA_STREAM_END)
            break;
        if (ret == LZMA_OK)
            continue;
        if (ret == LZMA_BUF_ERROR)
            status = ends_early(format_name, out.used(), expected);
        else
            status = corrupt(format_name, s.total_in, in.size(), lzma_error_name(ret));
        break;
    }
    lzma_end(&s);
    return status;
}

// lib/decompress_unzstd.c: one zstd frame. `zstd -22 --ultra` may use a
// window beyond libzstd's default limit (2^27), so allow the largest.
Status decode_zstd(std::span<const uint8_t> in, Output& out, uint32_t expected)
{
    ZSTD_DCtx* ctx = ZSTD_createDCtx();
    if (!ctx)
        return make_error(ErrorKind::Emulator, "zstd payload: libzstd failed to initialise");
    ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, ZSTD_dParam_getBounds(ZSTD_d_windowLogMax).upperBound);
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    Status status = Ok{};
    for (;;) {
        std::span<uint8_t> room = out.room();
        if (room.empty())
            break;
        ZSTD_outBuffer dst{room.data(), room.size(), 0};
        size_t ret = ZSTD_decompressStream(ctx, &dst, &src);
        out.produced(dst.pos);
        if (ZSTD_isError(ret)) {
            status = corrupt("zstd", src.pos, in.size(), ZSTD_getErrorName(ret));
            break;
        }
        if (ret == 0)  // the frame is complete and flushed
            break;
        if (src.pos == src.size && dst.pos < dst.size) {
            status = ends_early("zstd", out.used(), expected);
            break;
        }
    }
    ZSTD_freeDCtx(ctx);
    return status;
}

// lib/decompress_unlz4.c: the legacy lz4 format (lz4 -l). A 4-byte magic,
// then blocks of [LE32 compressed size][data], each decompressing to at most
// 8 MiB; a "size" equal to the magic starts a concatenated stream. The
// preboot decompress() passes in_len - 4: the last 4 bytes are the size
// trailer, not a block.
constexpr uint32_t lz4_legacy_magic = 0x184C2102;       // ARCHIVE_MAGICNUMBER
constexpr size_t lz4_legacy_block_max = 8 << 20;         // LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE

Status decode_lz4_legacy(std::span<const uint8_t> payload, Output& out, uint32_t expected)
{
    std::span<const uint8_t> in = payload.first(payload.size() - 4);
    if (in.size() < 4 || le32(in.data()) != lz4_legacy_magic)
        return make_error(ErrorKind::BadFormat, "lz4 payload: not the legacy lz4 format (expected magic "
                                                "02 21 4c 18 at its start)");
    size_t pos = 4;
    while (pos < in.size() && out.used() < expected) {
        if (in.size() - pos < 4)
            return make_error(ErrorKind::Truncated,
                              "lz4 payload: {} stray bytes at offset {} where a 4-byte block size was expected",
                              in.size() - pos, pos);
        uint32_t block = le32(in.data() + pos);
        pos += 4;
        if (block == lz4_legacy_magic)
            continue;
        if (block > in.size() - pos)
            return make_error(ErrorKind::Truncated,
                              "lz4 payload: the block at offset {} claims {} compressed bytes but only {} remain",
                              pos - 4, block, in.size() - pos);
        if (block > size_t(LZ4_compressBound(int(lz4_legacy_block_max))))
            return make_error(ErrorKind::BadFormat,
                              "lz4 payload: the block at offset {} claims {} compressed bytes, more than an "
                              "8 MiB block can need ({})",
                              pos - 4, block, LZ4_compressBound(int(lz4_legacy_block_max)));
        std::span<uint8_t> room = out.room_for_block(lz4_legacy_block_max);
        int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos),
                                    reinterpret_cast<char*>(room.data()), int(block), int(room.size()));
        if (n < 0)
            return corrupt("lz4", pos, payload.size(), "LZ4_decompress_safe failed");
        out.produced(size_t(n));
        pos += block;
    }
    return Ok{};
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
    // payload_length in the setup header is 32 bits, and zlib counts in uInt.
    if (payload.size() > UINT32_MAX)
        return make_error(ErrorKind::BadFormat, "{} payload is {} bytes, more than a bzImage can hold (4 GiB)",
                          name, payload.size());

    Output out(expected_size, payload.size());
    Status status = Ok{};
    switch (format) {
    case Compression::Gzip: status = inflate_gzip(payload, out, expected_size); break;
    case Compression::Xz: status = decode_lzma("xz", true, payload, out, expected_size); break;
    case Compression::Lzma: status = decode_lzma("lzma", false, payload, out, expected_size); break;
    case Compression::Zstd: status = decode_zstd(payload, out, expected_size); break;
    case Compression::Lz4: status = decode_lz4_legacy(payload, out, expected_size); break;
    case Compression::Bzip2:
    case Compression::Lzo:
        return make_error(ErrorKind::Unsupported,
                          "{} payload: bootsim does not decode {} on the host (supported: gzip, xz, lzma, lz4, "
                          "zstd); the guest can still boot it, but the handoff cannot be verified",
                          name, name);
    }
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
