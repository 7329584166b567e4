// Listing an initrd the way init/initramfs.c unpacks it. The cpio reader is a
// streaming state machine like the kernel's (do_start, do_header, do_name,
// do_skip, do_reset...), so decompressed data is read as it is produced and
// never held whole: only headers, names and symlink targets are kept. The
// decoders (stream_decoder.h) stop where the kernel's lib/decompress_*.c do,
// at the end of one compressed stream, so the next segment is found after it.

#include "loader/initrd_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <optional>

#include <fmt/format.h>

#include "loader/bzimage.h"  // read_file()
#include "loader/stream_decoder.h"

namespace bootsim {

uint64_t InitrdCatalog::total_files() const
{
    uint64_t total = 0;
    for (const InitrdArchive& archive : archives)
        total += archive.files.size();
    return total;
}

namespace {

constexpr size_t cpio_header_size = 110;  // "070701" and 13 fields of 8 hex digits
constexpr int cpio_fields = 13;
// PATH_MAX: the kernel ignores entries with longer names, and symlinks with
// longer targets (do_header), so they are not listed either.
constexpr uint64_t path_max = 4096;

// N_ALIGN(): bytes from the end of a header to the entry's data, i.e. the
// name padded so that header + name is a multiple of 4.
constexpr uint64_t name_padded(uint64_t name_len)
{
    return ((name_len + 1) & ~uint64_t(3)) + 2;
}

std::optional<uint32_t> parse_hex8(const uint8_t* p)
{
    // Stricter than the kernel's simple_strtoul(), which stops at the first
    // non-hex digit: cpio tools always write 8 digits, so anything else
    // means we are not reading a header.
    uint32_t value = 0;
    for (int i = 0; i < 8; ++i) {
        uint8_t c = p[i];
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return std::nullopt;
        value = value << 4 | digit;
    }
    return value;
}

// Reads cpio entries from a stream of bytes fed in pieces of any size.
// Positions are the kernel's `this_header`: image offsets for uncompressed
// data, offsets into the decompressed data for a compressed stream, and the
// 4-byte alignment checks are made against them as the kernel does.
class CpioReader {
public:
    // `uncompressed`: the bytes come straight from the image, and reading
    // stops (without error) at the end of a cpio archive or before anything
    // that is not cpio, so the caller can go on with the next segment. In a
    // decompressed stream, anything but cpio and zero padding is junk.
    CpioReader(std::vector<InitrdFile>& files, bool uncompressed, uint64_t start)
        : m_files(files), m_uncompressed(uncompressed), m_pos(start), m_archive_end(start)
    {}

    // Consumes bytes and returns how many were used: all of them unless the
    // reader stopped (an error, or the end of an uncompressed archive).
    size_t feed(std::span<const uint8_t> data)
    {
        size_t used = 0;
        while (used < data.size() && m_state != State::Stopped) {
            std::span<const uint8_t> rest = data.subspan(used);
            size_t n = step(rest);
            used += n;
            m_pos += n;
        }
        return used;
    }

    // At the end of the data: the reader must be between entries (the
    // TRAILER!!! itself is optional, as in the kernel).
    void finish()
    {
        if (m_state == State::Between || m_state == State::Stopped)
            return;
        fail(fmt::format("the {} ends inside the cpio entry that starts at {}",
                         m_uncompressed ? "image" : "decompressed data", where(m_entry_start)));
    }

    bool failed() const { return !m_error.empty(); }
    const std::string& error() const { return m_error; }
    // Just past the last complete entry.
    uint64_t archive_end() const { return m_archive_end; }

private:
    enum class State {
        Between,  // do_reset: skipping zero padding, then a header or the end
        Header,   // collecting the 110 header bytes
        Name,     // collecting the padded name
        Symlink,  // collecting the padded name and the link target
        Body,     // a regular file's data (summed for "crc" archives)
        Skip,     // up to the next header (padding, or data not kept)
        Stopped,
    };

    std::string where(uint64_t pos) const
    {
        return m_uncompressed ? fmt::format("image offset {}", pos)
                              : fmt::format("offset {} of the decompressed data", pos);
    }

    void fail(std::string message)
    {
        if (m_error.empty())
            m_error = std::move(message);
        m_state = State::Stopped;
    }

    // Handles the start of `rest`; returns the bytes consumed (possibly 0
    // after a state change).
    size_t step(std::span<const uint8_t> rest)
    {
        switch (m_state) {
        case State::Between:
            return between(rest);
        case State::Header:
        case State::Name:
        case State::Symlink:
            return collect(rest);
        case State::Body: {
            size_t n = size_t(std::min<uint64_t>(rest.size(), m_body_left));
            if (m_crc_format)
                for (size_t i = 0; i < n; ++i)
                    m_sum += rest[i];
            m_body_left -= n;
            if (m_body_left == 0)
                end_of_body(n);
            return n;
        }
        case State::Skip: {
            size_t n = size_t(std::min<uint64_t>(rest.size(), m_next_header - m_pos));
            if (m_pos + n == m_next_header)
                end_of_entry(m_pos + n);
            return n;
        }
        case State::Stopped:
            break;
        }
        return 0;
    }

    size_t between(std::span<const uint8_t> rest)
    {
        // do_reset(): zero bytes between entries are padding.
        size_t zeros = 0;
        while (zeros < rest.size() && rest[zeros] == 0)
            ++zeros;
        if (zeros > 0)
            return zeros;
        if (m_pos % 4 != 0) {
            fail(fmt::format("broken padding: data resumes at {}, not a multiple of 4", where(m_pos)));
            return 0;
        }
        if (rest[0] != '0' || (m_uncompressed && m_after_trailer)) {
            if (m_uncompressed) {
                // Another segment starts here: the caller's business.
                m_state = State::Stopped;
            } else {
                fail(fmt::format("junk in compressed archive at {} (byte {:#04x} where a cpio header or "
                                 "zero padding should be)",
                                 where(m_pos), rest[0]));
            }
            return 0;
        }
        m_entry_start = m_pos;
        start_collecting(State::Header, cpio_header_size);
        return 0;
    }

    void start_collecting(State state, size_t size)
    {
        m_state = state;
        m_collected.clear();
        m_collect_size = size;
    }

    size_t collect(std::span<const uint8_t> rest)
    {
        size_t n = std::min(rest.size(), m_collect_size - m_collected.size());
        m_collected.append(reinterpret_cast<const char*>(rest.data()), n);
        if (m_collected.size() == m_collect_size) {
            uint64_t end = m_pos + n;
            switch (m_state) {
            case State::Header: got_header(end); break;
            case State::Name: got_name(end); break;
            case State::Symlink: got_symlink(end); break;
            default: break;
            }
        }
        return n;
    }

    // do_header(). `end` is the position just past the header.
    void got_header(uint64_t end)
    {
        const auto* h = reinterpret_cast<const uint8_t*>(m_collected.data());
        if (std::memcmp(h, "070707", 6) == 0) {
            fail(fmt::format("old-style cpio archive at {}: the kernel reads only \"newc\" archives "
                             "(cpio -H newc)",
                             where(m_entry_start)));
            return;
        }
        bool newc = std::memcmp(h, "070701", 6) == 0;
        bool crc = std::memcmp(h, "070702", 6) == 0;
        if (!newc && !crc) {
            fail(fmt::format("no cpio magic at {} (expected 070701 or 070702)", where(m_entry_start)));
            return;
        }
        uint32_t field[cpio_fields];
        for (int i = 0; i < cpio_fields; ++i) {
            std::optional<uint32_t> value = parse_hex8(h + 6 + 8 * i);
            if (!value) {
                fail(fmt::format("cpio header at {}: field {} is not 8 hexadecimal digits", where(m_entry_start),
                                 i + 1));
                return;
            }
            field[i] = *value;
        }
        m_crc_format = crc;
        m_mode = field[1];
        m_body_len = field[6];
        m_name_len = field[11];
        m_checksum = field[12];
        m_sum = 0;
        m_next_header = (end + name_padded(m_name_len) + m_body_len + 3) & ~uint64_t(3);

        // As do_header(): what the kernel would not create is skipped whole.
        bool named = m_name_len > 0 && m_name_len <= path_max;
        if (named && S_ISLNK(m_mode) && m_body_len <= path_max)
            start_collecting(State::Symlink, size_t(name_padded(m_name_len) + m_body_len));
        else if (named && !S_ISLNK(m_mode) && (S_ISREG(m_mode) || m_body_len == 0))
            start_collecting(State::Name, size_t(name_padded(m_name_len)));
        else
            skip_to_next_header(end);
    }

    // The name from the collected bytes, or nullopt (after failing) when it
    // is not NUL-terminated, which recent kernels reject as malformed.
    std::optional<std::string> collected_name()
    {
        if (m_collected[m_name_len - 1] != '\0') {
            fail(fmt::format("malformed archive: the name of the entry at {} is not NUL-terminated",
                             where(m_entry_start)));
            return std::nullopt;
        }
        return std::string(m_collected.c_str());  // up to the first NUL, as the kernel uses it
    }

    // do_name().
    void got_name(uint64_t end)
    {
        std::optional<std::string> name = collected_name();
        if (!name)
            return;
        if (*name == "TRAILER!!!") {
            m_trailer_pending = true;
            skip_to_next_header(end);
            return;
        }
        m_files.push_back(InitrdFile{std::move(*name), m_mode, m_body_len, {}});
        if (S_ISREG(m_mode) && m_body_len > 0) {
            m_state = State::Body;
            m_body_left = m_body_len;
        } else {
            end_of_body(0, end);
        }
    }

    // do_symlink(): the target is the data after the padded name.
    void got_symlink(uint64_t end)
    {
        std::optional<std::string> name = collected_name();
        if (!name)
            return;
        std::string target = m_collected.substr(size_t(name_padded(m_name_len)));
        target.resize(std::strlen(target.c_str()));  // the kernel reads it as a C string
        m_files.push_back(InitrdFile{std::move(*name), m_mode, m_body_len, std::move(target)});
        skip_to_next_header(end);
    }

    // End of a regular file's data (do_copy()): `n` bytes of the current
    // piece were its last, or `end` is given when there was no data.
    void end_of_body(size_t n, std::optional<uint64_t> end = std::nullopt)
    {
        uint64_t at = end ? *end : m_pos + n;
        if (m_crc_format && S_ISREG(m_mode) && m_sum != m_checksum) {
            fail(fmt::format("bad data checksum for \"{}\" (the entry at {}): header says {:#010x}, data sums "
                             "to {:#010x}",
                             m_files.back().path, where(m_entry_start), m_checksum, m_sum));
            return;
        }
        skip_to_next_header(at);
    }

    void skip_to_next_header(uint64_t at)
    {
        m_state = State::Skip;
        if (at == m_next_header)
            end_of_entry(at);
    }

    void end_of_entry(uint64_t at)
    {
        m_archive_end = at;
        m_after_trailer = m_trailer_pending;
        m_trailer_pending = false;
        m_state = State::Between;
    }

    std::vector<InitrdFile>& m_files;
    bool m_uncompressed;
    uint64_t m_pos;
    uint64_t m_archive_end;
    State m_state = State::Between;
    std::string m_error;

    std::string m_collected;
    size_t m_collect_size = 0;

    // The entry being read.
    uint64_t m_entry_start = 0;
    uint64_t m_next_header = 0;
    bool m_crc_format = false;
    uint32_t m_mode = 0;
    uint64_t m_body_len = 0;
    uint64_t m_name_len = 0;
    uint32_t m_checksum = 0;
    uint64_t m_body_left = 0;
    uint32_t m_sum = 0;  // "crc" archives: the byte sum of the data, mod 2^32
    bool m_trailer_pending = false;
    bool m_after_trailer = false;
};

// Where decoders put their output: counted against the output limit, then
// read as cpio. write() returns false once reading should stop.
class Sink {
public:
    Sink(CpioReader& reader, uint64_t& budget, uint64_t limit)
        : m_reader(reader), m_budget(budget), m_limit(limit)
    {}

    bool write(std::span<const uint8_t> data)
    {
        size_t fits = size_t(std::min<uint64_t>(data.size(), m_budget));
        m_budget -= fits;
        m_reader.feed(data.first(fits));
        if (m_reader.failed())
            return false;
        if (fits < data.size()) {
            m_error = fmt::format("the decompressed data exceeds the limit of {} bytes", m_limit);
            return false;
        }
        return true;
    }

    const std::string& error() const { return m_error; }

private:
    CpioReader& m_reader;
    uint64_t& m_budget;
    uint64_t m_limit;
    std::string m_error;
};

// The decoder's own error, for the archive that starts `in`; empty when the
// stream ended or the sink stopped it (the sink and the reader hold their
// own errors).
std::string stream_error(const StreamResult& r, std::span<const uint8_t> in)
{
    switch (r.outcome) {
    case StreamOutcome::End:
    case StreamOutcome::SinkStopped: return {};
    case StreamOutcome::Truncated:
        return fmt::format("truncated: the compressed stream ends after {} bytes, before its end marker",
                           r.consumed);
    case StreamOutcome::Corrupt:
        return fmt::format("corrupt compressed data near byte {} of the stream ({})", r.consumed, r.reason);
    case StreamOutcome::BadBlockLength:
        if (r.block_length > lz4_legacy_compressed_max)
            return fmt::format("corrupt: a block at byte {} claims {} compressed bytes, more than an 8 MiB block "
                               "can take",
                               r.consumed, r.block_length);
        return fmt::format("truncated: the block at byte {} needs {} bytes, {} are left", r.consumed,
                           r.block_length, in.size() - r.consumed - 4);
    case StreamOutcome::NoMagic:
        return "invalid header: not the LZ4 legacy format the kernel reads (magic 0x184C2102)";
    case StreamOutcome::InitFailed: return r.reason;
    }
    return r.reason;
}

// init/initramfs.c relies on decompress_method() (lib/decompress.c), which
// looks at the first two bytes only; each decoder checks the rest of its
// magic.
struct Method {
    uint8_t magic[2];
    const char* name;
    std::optional<Codec> codec;  // none for lzo, which is recognised but not decoded
};
const Method methods[] = {
    {{0x1f, 0x8b}, "gzip", Codec::Gzip},       {{0x1f, 0x9e}, "gzip", Codec::Gzip},
    {{0x42, 0x5a}, "bzip2", Codec::Bzip2},     {{0x5d, 0x00}, "lzma", Codec::Lzma},
    {{0xfd, 0x37}, "xz", Codec::Xz},           {{0x89, 0x4c}, "lzo", std::nullopt},
    {{0x02, 0x21}, "lz4", Codec::Lz4Legacy},   {{0x28, 0xb5}, "zstd", Codec::Zstd},
};

const Method* detect(std::span<const uint8_t> rest)
{
    if (rest.size() < 2)
        return nullptr;
    for (const Method& m : methods)
        if (rest[0] == m.magic[0] && rest[1] == m.magic[1])
            return &m;
    return nullptr;
}

std::string hex_prefix(std::span<const uint8_t> bytes)
{
    std::string out;
    for (size_t i = 0; i < std::min<size_t>(bytes.size(), 4); ++i)
        out += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
    return out;
}

// unpack_to_rootfs(): zero bytes are skipped, an aligned '0' starts cpio
// data, anything else must be a compressed stream. Returns at the first error.
void read_segments(std::span<const uint8_t> image, uint64_t output_limit, InitrdCatalog& catalog)
{
    uint64_t budget = output_limit;
    size_t pos = 0;
    while (pos < image.size()) {
        std::span<const uint8_t> rest = image.subspan(pos);
        if (rest[0] == 0) {
            ++pos;
            continue;
        }
        InitrdArchive& archive = catalog.archives.emplace_back();
        archive.offset = pos;

        if (rest[0] == '0') {
            archive.format = "uncompressed";
            if (pos % 4 != 0) {
                // The kernel only looks for cpio at aligned offsets; here it
                // finds no compression magic either and gives up.
                archive.error = fmt::format("cpio data at image offset {}, which is not a multiple of 4: the "
                                            "kernel rejects it as junk",
                                            pos);
                return;
            }
            CpioReader reader(archive.files, true, pos);
            size_t used = reader.feed(rest);
            if (used == rest.size())
                reader.finish();
            archive.compressed_size = reader.archive_end() - pos;
            if (reader.failed()) {
                archive.error = reader.error();
                return;
            }
            pos += used;
            continue;
        }

        const Method* method = detect(rest);
        if (!method) {
            archive.format = "unknown";
            archive.error = fmt::format("junk at image offset {} (bytes {}): neither cpio nor a known "
                                        "compression magic",
                                        pos, hex_prefix(rest));
            return;
        }
        archive.format = method->name;
        if (!method->codec) {
            archive.error = "LZO archives are not decoded";
            return;
        }
        CpioReader reader(archive.files, false, 0);
        Sink sink(reader, budget, output_limit);
        StreamResult decoded = decode_stream(
            *method->codec, rest, [&](std::span<const uint8_t> data) { return sink.write(data); });
        archive.compressed_size = decoded.consumed;
        std::string decoder_error = stream_error(decoded, rest);
        if (reader.failed())
            archive.error = reader.error();
        else if (!sink.error().empty())
            archive.error = sink.error();
        else if (!decoder_error.empty())
            archive.error = decoder_error;
        else {
            reader.finish();  // the kernel: "junk in compressed archive" when state != Reset
            archive.error = reader.error();
        }
        if (!archive.error.empty() || decoded.consumed == 0)
            return;
        pos += size_t(decoded.consumed);
    }
}

}  // namespace

InitrdCatalog read_initrd_catalog(std::span<const uint8_t> image, uint64_t output_limit)
{
    InitrdCatalog catalog;
    try {
        read_segments(image, output_limit, catalog);
    } catch (const std::exception& e) {
        // Allocation failures (a huge listing): keep what was read.
        if (catalog.archives.empty())
            catalog.archives.push_back(InitrdArchive{0, 0, "unknown", {}, {}});
        catalog.archives.back().error = fmt::format("out of memory while reading ({})", e.what());
    }
    return catalog;
}

Result<InitrdCatalog> read_initrd_catalog_file(const std::string& path)
{
    std::vector<uint8_t> bytes = TRY(read_file(path, "initrd"));
    return read_initrd_catalog(bytes);
}

}  // namespace bootsim
