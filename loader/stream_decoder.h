#pragma once
// One compressed stream decoded the way the kernel's lib/decompress_*.c
// decoders read it: from the start of the input to the end of the first
// stream, whatever follows it (a size trailer, padding, the next initrd
// segment) left unread. Output goes to a sink piece by piece, so a caller
// can cap or parse it without holding it whole. Shared by the bzImage
// payload check (payload_decompress.cpp) and the initrd listing
// (initrd_catalog.cpp), which word the outcomes in their own messages.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace bootsim {

enum class Codec { Gzip, Xz, Lzma, Bzip2, Lz4Legacy, Zstd };

// Receives the output in pieces of any size, in order; returns false to stop
// decoding (an output cap reached, or the consumer has seen enough).
using ByteSink = std::function<bool(std::span<const uint8_t>)>;

enum class StreamOutcome {
    End,             // the stream ended cleanly (see decode_stream for lz4 legacy)
    SinkStopped,     // the sink returned false (unless the library found corrupt data in the same step)
    Truncated,       // the input ran out before the stream's end marker
    Corrupt,         // the library rejected the data: `reason` says why
    BadBlockLength,  // lz4 legacy: the block length at `consumed` is `block_length`, more than an 8 MiB
                     // block compresses to (lz4_legacy_compressed_max) or than the input holds after it
    NoMagic,         // lz4 legacy: the input does not start with lz4_legacy_magic
    InitFailed,      // the library could not start: `reason` is a whole sentence
};

struct StreamResult {
    StreamOutcome outcome = StreamOutcome::End;
    // Input bytes read: through the end of the stream when it ended, else
    // where decoding stopped (for lz4 legacy, the offset of the block
    // length it stopped at, since blocks are read whole).
    uint64_t consumed = 0;
    std::string reason;         // Corrupt and InitFailed
    uint32_t block_length = 0;  // BadBlockLength
};

// The legacy lz4 format (lz4 -l) that the kernel reads: this magic, then
// blocks of [LE32 compressed length][data], each decompressing to at most
// 8 MiB. Callers quote these numbers in their messages.
inline constexpr uint32_t lz4_legacy_magic = 0x184C2102;      // ARCHIVE_MAGICNUMBER
inline constexpr size_t lz4_legacy_block_max = 8 << 20;       // LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE
inline constexpr uint64_t lz4_legacy_compressed_max =         // LZ4_COMPRESSBOUND(8 MiB)
    lz4_legacy_block_max + lz4_legacy_block_max / 255 + 16;

struct StreamOptions {
    // zstd: accept any window libzstd can decode, not just its default limit
    // (2^27). A bzImage built with `zstd -22 --ultra` may need more; the
    // cost is that a hostile frame can claim that much memory.
    bool zstd_largest_window = false;
};

// Decodes the stream at the start of `in`. lz4 legacy has no end marker: as
// in the kernel, its stream ends (End) with the input, with fewer than 4
// bytes left, or at a zero block length; a repeated magic is skipped.
StreamResult decode_stream(Codec codec, std::span<const uint8_t> in, const ByteSink& sink,
                           const StreamOptions& options = {});

}  // namespace bootsim
