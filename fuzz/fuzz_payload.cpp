// Fuzz entry point: recognising a bzImage payload's compression by its
// magic and decoding it with each codec the kernel's decompressor knows,
// the way the loader decompresses a kernel for the handoff check.
#include <cstddef>
#include <cstdint>
#include <span>

#include "loader/bzimage.h"
#include "loader/kernel_image.h"
#include "loader/stream_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace bootsim;
    std::span<const uint8_t> in(data, size);
    // The expected size is the payload's last 4 bytes (the build appends
    // it); what the decoder may produce is capped at 16 MiB here.
    if (auto format = identify_compression(in); format && size >= 4) {
        uint32_t expected = uint32_t(data[size - 4]) | uint32_t(data[size - 3]) << 8 |
                            uint32_t(data[size - 2]) << 16 | uint32_t(data[size - 1]) << 24;
        (void)decompress_payload(*format, in.first(size - 4), expected % (16u << 20));
    }
    // Every codec on the same bytes, whatever the magic says, output capped.
    if (size > 0) {
        static constexpr Codec codecs[] = {Codec::Gzip, Codec::Xz, Codec::Lzma, Codec::Bzip2, Codec::Lz4Legacy,
                                           Codec::Zstd};
        Codec codec = codecs[data[0] % 6];
        uint64_t produced = 0;
        (void)decode_stream(codec, in.subspan(1), [&](std::span<const uint8_t> out) {
            produced += out.size();
            return produced < (16u << 20);
        });
    }
    return 0;
}
