// decode_stream(): one loop per library. Each stops where the kernel's
// decoder does, at the end of the first stream; none is told to expect
// concatenated streams.

#include "loader/stream_decoder.h"

#include <algorithm>
#include <vector>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>

namespace bootsim {

namespace {

static_assert(lz4_legacy_compressed_max == LZ4_COMPRESSBOUND(lz4_legacy_block_max));

constexpr size_t output_chunk = 256 << 10;
// zlib and libbz2 count input in 32-bit unsigned ints: larger inputs are
// handed over in pieces.
constexpr size_t input_piece = size_t(1) << 30;

uint32_t le32(const uint8_t* p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Where and why a decoder stopped.
StreamResult stopped(StreamOutcome outcome, uint64_t consumed, std::string reason = {})
{
    return StreamResult{outcome, consumed, std::move(reason), 0};
}

// What one call into a library did.
struct Step {
    size_t produced = 0;          // bytes written at the start of the room
    bool ended = false;           // the stream's end
    const char* error = nullptr;  // corrupt data: the library's reason
    bool starved = false;         // it wants more input, and there is none
};

// After a call whose output the sink has seen (`wanted`: it asked for more),
// settles how decoding ended, or returns false to go on. An error found in
// the same call wins over the sink's stop: the payload check reports a
// corrupt stream even when its output also reached the expected size. The
// sink's stop wins over running out of input: what it saw is all it wanted.
bool settle(StreamResult& result, const Step& step, bool wanted)
{
    if (step.ended) {
        result.outcome = StreamOutcome::End;
    } else if (step.error) {
        result.outcome = StreamOutcome::Corrupt;
        result.reason = step.error;
    } else if (!wanted) {
        result.outcome = StreamOutcome::SinkStopped;
    } else if (step.starved) {
        result.outcome = StreamOutcome::Truncated;
    } else {
        return false;
    }
    return true;
}

// Calls `call` (one call into a library, writing into the room it is given)
// and hands its output to the sink until decoding is over. `consumed` is
// left to the caller, which reads it from the library.
template <typename Call>
StreamResult pump(const ByteSink& sink, Call call)
{
    std::vector<uint8_t> out(output_chunk);
    StreamResult result;
    for (;;) {
        Step step = call(std::span<uint8_t>(out));
        bool wanted = step.produced == 0 || sink(std::span<const uint8_t>(out.data(), step.produced));
        if (settle(result, step, wanted))
            return result;
    }
}

// For the libraries that count input in 32-bit unsigned ints (zlib, libbz2):
// the next piece of `in` once the last one is used up, else an empty span.
std::span<const uint8_t> next_piece(std::span<const uint8_t> in, size_t& fed, unsigned left_in_library)
{
    if (left_in_library > 0 || fed == in.size())
        return {};
    std::span<const uint8_t> piece = in.subspan(fed, std::min(in.size() - fed, input_piece));
    fed += piece.size();
    return piece;
}

// lib/decompress_inflate.c. zlib parses the gzip header and trailer itself
// (the kernel skips only FNAME and ignores the CRC; checking them is
// stricter, never looser).
StreamResult decode_gzip(std::span<const uint8_t> in, const ByteSink& sink)
{
    z_stream s{};
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)  // 32 KiB window, gzip wrapper only
        return stopped(StreamOutcome::InitFailed, 0, "zlib failed to initialise");
    size_t fed = 0;
    StreamResult result = pump(sink, [&](std::span<uint8_t> room) {
        if (std::span<const uint8_t> piece = next_piece(in, fed, s.avail_in); !piece.empty()) {
            s.next_in = const_cast<Bytef*>(piece.data());
            s.avail_in = uInt(piece.size());
        }
        s.next_out = room.data();
        s.avail_out = uInt(room.size());
        int ret = inflate(&s, Z_NO_FLUSH);
        bool failed = ret != Z_OK && ret != Z_BUF_ERROR && ret != Z_STREAM_END;
        return Step{
            .produced = room.size() - s.avail_out,
            .ended = ret == Z_STREAM_END,
            .error = failed ? (s.msg ? s.msg : zError(ret)) : nullptr,
            // Z_BUF_ERROR: no progress was possible. Room left over with all
            // the input read: zlib wants more input.
            .starved = ret == Z_BUF_ERROR || (s.avail_in == 0 && fed == in.size() && s.avail_out > 0),
        };
    });
    result.consumed = s.total_in;
    inflateEnd(&s);
    return result;
}

const char* lzma_error_name(lzma_ret ret)
{
    switch (ret) {
    case LZMA_FORMAT_ERROR: return "not in the expected container format";
    case LZMA_OPTIONS_ERROR: return "unsupported compression options";
    case LZMA_DATA_ERROR: return "data error";
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_MEMLIMIT_ERROR: return "its header asks for a dictionary over the 1 GiB memory limit";
    case LZMA_UNSUPPORTED_CHECK: return "unsupported integrity check";
    default: return "liblzma error";
    }
}

// lib/decompress_unxz.c (one .xz stream) and lib/decompress_unlzma.c (the
// legacy .lzma "alone" format). Without LZMA_CONCATENATED the decoder stops
// at the end of its stream; the zero padding an .xz stream may carry is
// the caller's business, as in the kernel.
//
// The decoder allocates the dictionary its header names, up to 4 GiB for
// the .lzma format, before it has read a byte of data: a 20-byte hostile
// file must not make us allocate that (found by fuzzing). Real kernels and
// initrds use dictionaries of 8 to 64 MiB (xz -9: 64 MiB); 1 GiB is far
// above them and below what a host can spare without thought.
constexpr uint64_t lzma_memory_limit = uint64_t(1) << 30;

StreamResult decode_lzma(bool xz, std::span<const uint8_t> in, const ByteSink& sink)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret init = xz ? lzma_stream_decoder(&s, lzma_memory_limit, 0) : lzma_alone_decoder(&s, lzma_memory_limit);
    if (init != LZMA_OK)
        return stopped(StreamOutcome::InitFailed, 0,
                       fmt::format("liblzma failed to initialise ({})", lzma_error_name(init)));
    s.next_in = in.data();
    s.avail_in = in.size();
    StreamResult result = pump(sink, [&](std::span<uint8_t> room) {
        s.next_out = room.data();
        s.avail_out = room.size();
        lzma_ret ret = lzma_code(&s, LZMA_RUN);
        bool failed = ret != LZMA_OK && ret != LZMA_BUF_ERROR && ret != LZMA_STREAM_END;
        return Step{
            .produced = room.size() - s.avail_out,
            .ended = ret == LZMA_STREAM_END,
            .error = failed ? lzma_error_name(ret) : nullptr,
            .starved = ret == LZMA_BUF_ERROR || (s.avail_in == 0 && s.avail_out > 0),
        };
    });
    result.consumed = s.total_in;
    lzma_end(&s);
    return result;
}

const char* bzip2_error_name(int ret)
{
    switch (ret) {
    case BZ_DATA_ERROR_MAGIC: return "no bzip2 magic";
    case BZ_DATA_ERROR: return "data error";
    case BZ_MEM_ERROR: return "out of memory";
    default: return "libbz2 error";
    }
}

// lib/decompress_bunzip2.c: one bzip2 stream.
StreamResult decode_bzip2(std::span<const uint8_t> in, const ByteSink& sink)
{
    bz_stream s{};
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
        return stopped(StreamOutcome::InitFailed, 0, "libbz2 failed to initialise");
    size_t fed = 0;
    StreamResult result = pump(sink, [&](std::span<uint8_t> room) {
        if (std::span<const uint8_t> piece = next_piece(in, fed, s.avail_in); !piece.empty()) {
            s.next_in = const_cast<char*>(reinterpret_cast<const char*>(piece.data()));
            s.avail_in = unsigned(piece.size());
        }
        s.next_out = reinterpret_cast<char*>(room.data());
        s.avail_out = unsigned(room.size());
        int ret = BZ2_bzDecompress(&s);
        return Step{
            .produced = room.size() - s.avail_out,
            .ended = ret == BZ_STREAM_END,
            .error = ret != BZ_OK && ret != BZ_STREAM_END ? bzip2_error_name(ret) : nullptr,
            // libbz2 returns BZ_OK, not an error, when it runs out of input.
            .starved = s.avail_in == 0 && fed == in.size() && s.avail_out > 0,
        };
    });
    result.consumed = uint64_t(s.total_in_hi32) << 32 | s.total_in_lo32;
    BZ2_bzDecompressEnd(&s);
    return result;
}

// lib/decompress_unzstd.c: one zstd frame.
StreamResult decode_zstd(std::span<const uint8_t> in, const ByteSink& sink, bool largest_window)
{
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    if (!dctx)
        return stopped(StreamOutcome::InitFailed, 0, "libzstd failed to initialise");
    if (largest_window)
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_dParam_getBounds(ZSTD_d_windowLogMax).upperBound);
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    StreamResult result = pump(sink, [&](std::span<uint8_t> room) {
        ZSTD_outBuffer output{room.data(), room.size(), 0};
        size_t ret = ZSTD_decompressStream(dctx, &output, &input);
        bool failed = ZSTD_isError(ret);
        return Step{
            // The output of a call that failed is not passed on: it is not
            // known to be good.
            .produced = failed ? 0 : output.pos,
            .ended = !failed && ret == 0,  // the frame is complete and flushed
            .error = failed ? ZSTD_getErrorName(ret) : nullptr,
            .starved = input.pos == input.size && output.pos < output.size,
        };
    });
    result.consumed = input.pos;
    ZSTD_freeDCtx(dctx);
    return result;
}

// lib/decompress_unlz4.c: the legacy format, read block by block. Each block
// is checked against what is left of the input before it is decoded.
StreamResult decode_lz4_legacy(std::span<const uint8_t> in, const ByteSink& sink)
{
    if (in.size() < 4 || le32(in.data()) != lz4_legacy_magic)
        return stopped(StreamOutcome::NoMagic, 0);
    std::vector<uint8_t> out(lz4_legacy_block_max);
    size_t pos = 4;
    while (in.size() - pos >= 4) {
        uint32_t length = le32(in.data() + pos);
        if (length == lz4_legacy_magic) {  // a concatenated stream starts
            pos += 4;
            continue;
        }
        if (length == 0)  // zero padding
            break;
        if (length > lz4_legacy_compressed_max || length > in.size() - pos - 4) {
            StreamResult result = stopped(StreamOutcome::BadBlockLength, pos);
            result.block_length = length;
            return result;
        }
        int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos + 4),
                                    reinterpret_cast<char*>(out.data()), int(length), int(out.size()));
        if (n < 0)
            return stopped(StreamOutcome::Corrupt, pos, "LZ4_decompress_safe failed");
        pos += 4 + size_t(length);
        if (n > 0 && !sink(std::span<const uint8_t>(out.data(), size_t(n))))
            return stopped(StreamOutcome::SinkStopped, pos);
    }
    return stopped(StreamOutcome::End, pos);
}

}  // namespace

StreamResult decode_stream(Codec codec, std::span<const uint8_t> in, const ByteSink& sink,
                           const StreamOptions& options)
{
    switch (codec) {
    case Codec::Gzip: return decode_gzip(in, sink);
    case Codec::Xz: return decode_lzma(true, in, sink);
    case Codec::Lzma: return decode_lzma(false, in, sink);
    case Codec::Bzip2: return decode_bzip2(in, sink);
    case Codec::Lz4Legacy: return decode_lz4_legacy(in, sink);
    case Codec::Zstd: return decode_zstd(in, sink, options.zstd_largest_window);
    }
    return stopped(StreamOutcome::InitFailed, 0, "unknown codec");
}

}  // namespace bootsim
