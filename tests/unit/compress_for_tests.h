#pragma once
// Compressors for the loader's tests, run with the same libraries and in the
// same formats the kernel's build uses (scripts/Makefile.lib), so a test
// knows exactly what each decoder is given. Shared by the payload tests
// (test_kernel_image.cpp) and the initrd tests (test_initrd_catalog.cpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "unit/le_bytes.h"

namespace bootsim::fake {

inline void append32(Bytes& out, uint32_t v)
{
    out.resize(out.size() + 4);
    put32(out, out.size() - 4, v);
}

// gzip -9 -n: one member, no file name (zlib writes none).
inline Bytes gzip(const Bytes& in)
{
    z_stream s{};
    EXPECT_EQ(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);  // gzip wrapper
    Bytes out(deflateBound(&s, uLong(in.size())));
    s.next_in = const_cast<Bytef*>(in.data());
    s.avail_in = uInt(in.size());
    s.next_out = out.data();
    s.avail_out = uInt(out.size());
    EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    out.resize(s.total_out);
    deflateEnd(&s);
    return out;
}

// One .xz stream with a CRC32 check, as `xz --check=crc32` writes it.
inline Bytes xz(const Bytes& in)
{
    Bytes out(lzma_stream_buffer_bound(in.size()));
    size_t used = 0;
    EXPECT_EQ(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(), &used,
                                      out.size()),
              LZMA_OK);
    out.resize(used);
    return out;
}

// The legacy .lzma format (xz --format=lzma): 5d 00 00 ... header.
inline Bytes lzma_alone(const Bytes& in)
{
    lzma_options_lzma options;
    EXPECT_FALSE(lzma_lzma_preset(&options, 1));
    lzma_stream s = LZMA_STREAM_INIT;
    EXPECT_EQ(lzma_alone_encoder(&s, &options), LZMA_OK);
    Bytes out(in.size() + in.size() / 2 + 4096);
    s.next_in = in.data();
    s.avail_in = in.size();
    s.next_out = out.data();
    s.avail_out = out.size();
    EXPECT_EQ(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    out.resize(s.total_out);
    lzma_end(&s);
    return out;
}

inline Bytes bzip2(const Bytes& in)
{
    Bytes out(in.size() + in.size() / 100 + 600);
    unsigned size = unsigned(out.size());
    EXPECT_EQ(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &size,
                                       const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                       unsigned(in.size()), 9, 0, 0),
              BZ_OK);
    out.resize(size);
    return out;
}

// The kernel uses -22; the level does not change the format.
inline Bytes zstd(const Bytes& in)
{
    Bytes out(ZSTD_compressBound(in.size()));
    size_t size = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
    EXPECT_FALSE(ZSTD_isError(size));
    out.resize(size);
    return out;
}

// lz4 -l, the legacy format the kernel reads: magic 0x184C2102, then
// [LE32 compressed size][block] for each `block` bytes of input (8 MiB, as
// lz4 -l writes it). `restart_after` inserts the magic again after that many
// blocks, as a concatenated stream has it.
inline Bytes lz4_legacy(const Bytes& in, size_t block = 8 << 20, size_t restart_after = SIZE_MAX)
{
    Bytes out;
    append32(out, 0x184C2102);
    size_t blocks = 0;
    for (size_t at = 0; at < in.size(); at += block, blocks++) {
        if (blocks == restart_after)
            append32(out, 0x184C2102);
        int n = int(std::min(block, in.size() - at));
        Bytes compressed(size_t(LZ4_compressBound(n)));
        int c = LZ4_compress_default(reinterpret_cast<const char*>(in.data() + at),
                                     reinterpret_cast<char*>(compressed.data()), n, int(compressed.size()));
        EXPECT_GT(c, 0);
        append32(out, uint32_t(c));
        out.insert(out.end(), compressed.begin(), compressed.begin() + c);
    }
    return out;
}

}  // namespace bootsim::fake
