// KernelSymbols: the kernel's symbol table, recovered from the kallsyms
// tables inside the decompressed image, or read from a System.map.
//
// scripts/kallsyms.c write_src() emits, for a 64-bit kernel, these tables
// into .rodata, each label preceded by ".balign 8" (output_label(): ALGN).
// Up to v6.3, in this order:
//
//   kallsyms_offsets        s32 per symbol, sorted by address
//   kallsyms_relative_base  u64
//   kallsyms_num_syms       u32
//   kallsyms_names          per symbol: a length (ULEB128, 1 or 2 bytes), then that many token codes
//   kallsyms_markers        u32 per 256 symbols: where symbol 256*i starts in kallsyms_names
//   (kallsyms_seqs_of_names  not in v6.1 as released, but in Debian's 6.1.y: see seqs_formats)
//   kallsyms_token_table    256 NUL-terminated strings, one per byte value
//   kallsyms_token_index    256 u16: where each string starts in kallsyms_token_table
//
// From v6.4 (Debian's 6.12) num_syms, names, markers, token_table and
// token_index come first, then kallsyms_offsets, kallsyms_relative_base and
// kallsyms_seqs_of_names. Later kernels (Debian's 7.x) drop the relative
// base: each offset is relative to its own address. Names and addresses are
// therefore read separately: the names stream (num_syms, names, markers,
// token table and index) is found as before, and the address table is tried
// in every place and encoding these eras used (address_tables()); the one
// that decodes in full, sorted, inside the kernel mapping and with _text at
// the image's start is the kernel's. No version number is consulted.
//
// The vmlinux inside a bzImage is stripped, so the tables are found by
// their shape, from the end: kallsyms_token_index is recognisable on its
// own, the token table ends right before it, and for each symbol count the
// space allows, the markers (and the by-name index) have one place. The
// names stream's length is known only by decoding it, so kallsyms_num_syms
// is searched for before the markers. Each candidate is checked in full
// (every token, every marker against the names stream, addresses sorted,
// the base inside the kernel mapping): a table that is almost right is an
// error, never a partial or garbled symbol list.
//
// The image is untrusted bytes: every read is bounds-checked first, with
// arithmetic that cannot wrap.

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <optional>
#include <span>
#include <utility>

#include "loader/kernel_symbols.h"

namespace bootsim {

namespace {

// arch/x86/include/asm/page_64_types.h: the kernel's own mapping starts at
// __START_KERNEL_map and the image must fit in KERNEL_IMAGE_SIZE (1 GiB with
// CONFIG_RANDOMIZE_BASE, the larger of its two values).
constexpr uint64_t kernel_image_size = 1ull << 30;

// scripts/kallsyms.c (v6.1).
constexpr size_t token_count = 256;           // one token per byte value
constexpr uint64_t symbols_per_marker = 256;  // write_src(): markers[i >> 8] = off
// include/linux/kallsyms.h: KSYM_NAME_LEN; read_symbol() rejects names of
// this length or more, so a type letter plus a name is at most this long,
// and so is any token (a piece of one symbol).
constexpr uint64_t ksym_name_len = 512;
// The smallest kallsyms_names entry: a length byte and one token code.
constexpr uint64_t min_entry_size = 2;

// Up to 6.x every table starts at an 8-byte boundary (ALGN); in Debian's
// 7.x builds the tables follow each other unpadded (seen: the token index
// 4-aligned right after the token table, the offsets right after the
// index, the names right after the count). So every seam accepts either:
// the next table right after the previous one, or after zero padding to 8.
// The names stream starts at a 4-byte boundary at least.
constexpr uint64_t name_align = 4;

// Little-endian reads from the image, and what the kernel's word size
// makes of its tables. Callers check holds() first.
class Bytes {
public:
    // `long_size`: BITS_PER_LONG / 8 of the kernel (8 on x86-64, 4 on
    // x86-32); `kernel_map`: the link address of physical 0 (KernelImage).
    Bytes(std::span<const uint8_t> bytes, unsigned long_size, uint64_t kernel_map)
        : m_bytes(bytes), m_long(long_size), m_kernel_map(kernel_map)
    {
    }

    // scripts/kallsyms.c output_label(): ALGN is .balign 8 when
    // BITS_PER_LONG == 64, .balign 4 otherwise; kallsyms_relative_base is
    // a PTR (.quad or .long).
    uint64_t table_align() const { return m_long; }
    uint64_t align_up(uint64_t value) const { return (value + m_long - 1) & ~uint64_t(m_long - 1); }
    // Whether a table ending at `end` is followed by the next one at `next`
    // after at most its alignment padding (4 or 8 bytes, depending on the era).
    bool ends_right_before(uint64_t end, uint64_t next) const { return end <= next && next - end < m_long; }
    uint64_t kernel_map() const { return m_kernel_map; }
    uint64_t ulong(uint64_t at) const { return m_long == 8 ? u64(at) : u32(at); }

    uint64_t size() const { return m_bytes.size(); }
    // Whether [at, at + length) lies inside the image.
    bool holds(uint64_t at, uint64_t length) const { return at <= size() && length <= size() - at; }

    uint8_t u8(uint64_t at) const { return m_bytes[at]; }
    uint16_t u16(uint64_t at) const { return uint16_t(m_bytes[at] | m_bytes[at + 1] << 8); }
    uint32_t u32(uint64_t at) const { return uint32_t(u16(at)) | uint32_t(u16(at + 2)) << 16; }
    uint64_t u64(uint64_t at) const { return uint64_t(u32(at)) | uint64_t(u32(at + 4)) << 32; }
    std::string_view chars(uint64_t at, uint64_t length) const
    {
        return {reinterpret_cast<const char*>(m_bytes.data() + at), length};
    }

private:
    std::span<const uint8_t> m_bytes;
    unsigned m_long;
    uint64_t m_kernel_map;
};

// Symbol names and tokens are `nm` output: printable, no spaces.
bool is_symbol_char(uint8_t c) { return c > ' ' && c < 0x7f; }
bool is_type_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct TokenTable {
    uint64_t table_at = 0;  // kallsyms_token_table, image offset
    uint64_t index_at = 0;  // kallsyms_token_index
    std::array<std::string_view, token_count> tokens;
};

struct Markers {
    uint64_t at = 0;  // kallsyms_markers
    std::vector<uint32_t> values;
};

// How far a candidate got before it failed.
enum class Stage { TokenTable, Markers, Seqs, NumSyms, Decode };

// When nothing decodes, the error worth reporting is the one from the
// candidate that matched the most: the most markers validated (the most
// structure in place), then the furthest stage.
class FurthestError {
public:
    void note(uint64_t markers, Stage stage, const Error& error)
    {
        if (!m_error || std::pair(markers, stage) > std::pair(m_markers, m_stage)) {
            m_error = error;
            m_markers = markers;
            m_stage = stage;
        }
    }
    const std::optional<Error>& error() const { return m_error; }

private:
    std::optional<Error> m_error;
    uint64_t m_markers = 0;
    Stage m_stage = Stage::TokenTable;
};

Error kallsyms_error(std::string message)
{
    return Error{ErrorKind::BadFormat, "decompressed kernel: kallsyms: " + std::move(message)};
}

// kallsyms_token_index as write_src() emits it: 256 offsets, the first 0,
// each past the previous token and its NUL, so strictly increasing by at
// most a token's maximum length plus one. A cheap filter, run at every
// 8-aligned offset of the image.
bool looks_like_token_index(const Bytes& image, uint64_t at)
{
    if (!image.holds(at, token_count * 2) || image.u16(at) != 0)
        return false;
    uint32_t previous = 0;
    for (size_t i = 1; i < token_count; i++) {
        uint32_t offset = image.u16(at + 2 * i);
        if (offset <= previous || offset - previous > ksym_name_len + 1)
            return false;
        previous = offset;
    }
    return true;
}

// Checks a kallsyms_token_table at `table_at` against the index at
// `index_at`: each token starts where the index says, is printable and
// NUL-terminated, the next starts right after that NUL, and the table ends
// (after its .balign 8 padding, zeros) exactly at the index. `matched`
// says how many tokens were right, to pick the error worth reporting.
Result<TokenTable> check_token_table(const Bytes& image, uint64_t table_at, uint64_t index_at, size_t& matched)
{
    TokenTable table{.table_at = table_at, .index_at = index_at, .tokens = {}};
    auto offset_of = [&](size_t i) -> uint64_t { return image.u16(index_at + 2 * i); };
    matched = 0;
    uint64_t end = 0;  // the NUL of token i
    for (size_t i = 0; i < token_count; i++) {
        uint64_t start = table_at + offset_of(i);
        for (end = start; end < index_at && image.u8(end) != 0; end++)
            if (!is_symbol_char(image.u8(end)))
                return kallsyms_error(fmt::format(
                    "kallsyms_token_table at image offset 0x{:x}: token {} has byte 0x{:02x} at 0x{:x}, expected "
                    "printable symbol characters",
                    table_at, i, image.u8(end), end));
        if (end >= index_at)
            return kallsyms_error(fmt::format(
                "kallsyms_token_table at image offset 0x{:x}: token {} (at 0x{:x}) has no NUL before "
                "kallsyms_token_index at 0x{:x}",
                table_at, i, start, index_at));
        if (i + 1 < token_count && table_at + offset_of(i + 1) != end + 1)
            return kallsyms_error(fmt::format(
                "kallsyms_token_index[{}] is 0x{:x}, but token {} of the kallsyms_token_table at image offset "
                "0x{:x} ends at table offset 0x{:x}: expected each token to start right after the previous NUL",
                i + 1, offset_of(i + 1), i, table_at, end + 1 - table_at));
        table.tokens[i] = image.chars(start, end - start);
        matched++;
    }
    if (!image.ends_right_before(end + 1, index_at))
        return kallsyms_error(fmt::format(
            "kallsyms_token_table at image offset 0x{:x} ends at 0x{:x}, expected kallsyms_token_index right after "
            "it or at the next 8-byte boundary, found it at 0x{:x}",
            table_at, end + 1, index_at));
    for (uint64_t pad = end + 1; pad < index_at; pad++)
        if (image.u8(pad) != 0)
            return kallsyms_error(fmt::format(
                "kallsyms_token_table at image offset 0x{:x}: padding byte at 0x{:x} is 0x{:02x}, expected 0",
                table_at, pad, image.u8(pad)));
    return table;
}

// Finds the kallsyms_token_table before a candidate kallsyms_token_index.
// Its start is not stored anywhere: the last token is at most KSYM_NAME_LEN
// long and the table ends in the 8 bytes before the index, which leaves a
// few 8-aligned starts to try.
Result<TokenTable> read_token_table(const Bytes& image, uint64_t index_at)
{
    uint64_t last_offset = image.u16(index_at + 2 * (token_count - 1));
    if (index_at < last_offset + 1)
        return kallsyms_error(fmt::format(
            "kallsyms_token_index at image offset 0x{:x} lists a token at table offset 0x{:x}, before the "
            "image starts",
            index_at, last_offset));
    uint64_t highest = index_at - last_offset - 1;
    uint64_t lowest_end = index_at - last_offset;  // start of the last token, at the lowest
    uint64_t span = ksym_name_len + 1 + image.table_align();
    uint64_t lowest = lowest_end > span ? lowest_end - span : 0;

    std::optional<Error> best;
    size_t best_matched = 0;
    // Any byte: the token table follows byte-sized or 3-byte tables.
    for (uint64_t table_at = highest + 1; table_at > lowest;) {
        table_at--;
        size_t matched = 0;
        auto table = check_token_table(image, table_at, index_at, matched);
        if (table.ok())
            return table;
        if (!best || matched > best_matched) {
            best = table.error();
            best_matched = matched;
        }
    }
    return *best;
}

// Decodes one kallsyms_names length (kallsyms_expand_symbol(): "If MSB is 1,
// it is a "big" symbol, so needs an additional byte"). Returns 0 when the
// bytes before `limit` do not hold a valid length.
uint32_t read_length(const Bytes& image, uint64_t& at, uint64_t limit)
{
    if (at >= limit)
        return 0;
    uint32_t length = image.u8(at++);
    if (length & 0x80) {
        if (at >= limit)
            return 0;
        uint32_t high = image.u8(at++);
        // scripts/kallsyms.c encodes lengths up to 0x7f in one byte and the
        // second byte is 7 bits: anything else is not its output.
        if (high == 0 || high > 0x7f)
            return 0;
        length = (length & 0x7f) | high << 7;
    }
    return length;
}

// Skips `count` names from `at`; the position after them, or nullopt if
// they do not fit before `limit`.
std::optional<uint64_t> skip_names(const Bytes& image, uint64_t at, uint64_t count, uint64_t limit)
{
    for (uint64_t i = 0; i < count; i++) {
        uint32_t length = read_length(image, at, limit);
        if (length == 0 || length > limit - at)
            return std::nullopt;
        at += length;
    }
    return at;
}

// The names stream and where kallsyms_num_syms is.
struct Layout {
    uint64_t num_syms_at, names_at;
    uint64_t count;
};

// How kallsyms_offsets encodes addresses (kernel/kallsyms.c
// kallsyms_sym_address() of each era):
//   BaseRelative   v4.6 to v6.x: u32 offsets from kallsyms_relative_base;
//                  with CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP up to
//                  6.14), per-CPU symbols are stored as non-negative
//                  absolute values and all others as relative_base - 1 -
//                  offset, so negative.
//   PlaceRelative  from 6.15-ish: each s32 is relative to its own address
//                  (offset_to_ptr()), and kallsyms_relative_base is gone.
enum class Encoding { BaseRelative, PlaceRelative };

// Where kallsyms_offsets (and kallsyms_relative_base) sit. Up to v6.3
// they precede kallsyms_num_syms; commit 404bad70fcf7 ("scripts/kallsyms:
// change the output order", v6.4) moved them after kallsyms_token_index.
struct AddressTable {
    const char* era;
    Encoding encoding;
    uint64_t offsets_at;
    uint64_t relative_base_at;  // BaseRelative only
};

// The candidate address tables for a names stream of `count` symbols,
// most recent layout first.
std::vector<AddressTable> address_tables(const Bytes& image, const Layout& layout, const TokenTable& tokens)
{
    std::vector<AddressTable> tables;
    const uint64_t offsets_size = image.align_up(4 * layout.count);
    const uint64_t index_end = tokens.index_at + token_count * 2;
    // Distinct candidate starts, in order of preference.
    auto distinct = [](std::initializer_list<uint64_t> starts) {
        std::vector<uint64_t> out;
        for (uint64_t at : starts)
            if (std::find(out.begin(), out.end(), at) == out.end())
                out.push_back(at);
        return out;
    };
    // After the index: right there (7.x), at the next 4-byte boundary (the
    // offsets' own alignment) or at the next 8-byte one (ALGN, up to 6.x).
    const std::vector<uint64_t> after_index = distinct({index_end, (index_end + 3) & ~uint64_t(3), image.align_up(index_end)});
    // Base-relative first: its checks (a base inside the kernel mapping, the
    // first relative symbol exactly at it) are the stronger ones. The base
    // follows the offsets right away or at the next 8-byte boundary.
    for (uint64_t at : after_index)
        for (uint64_t base_at : distinct({at + 4 * layout.count, image.align_up(at + 4 * layout.count)}))
            if (image.holds(at, base_at - at + image.table_align()))
                tables.push_back({"offsets and kallsyms_relative_base after kallsyms_token_index (v6.4+)",
                                  Encoding::BaseRelative, at, base_at});
    if (layout.num_syms_at >= image.table_align() + offsets_size)
        tables.push_back({"offsets and kallsyms_relative_base before kallsyms_num_syms (up to v6.3)",
                          Encoding::BaseRelative, layout.num_syms_at - image.table_align() - offsets_size,
                          layout.num_syms_at - image.table_align()});
    for (uint64_t at : after_index)
        if (image.holds(at, 4 * layout.count))
            tables.push_back({"place-relative offsets after kallsyms_token_index (v6.15+)", Encoding::PlaceRelative,
                              at, 0});
    return tables;
}

// Reads the addresses of `count` symbols from one candidate table: every
// address must lie in the kernel mapping (per-CPU offsets aside) and come
// in sorted order (scripts/kallsyms.c sort_symbols()). `image_address` is
// the link-time address of image offset 0.
Status decode_addresses(const Bytes& image, const AddressTable& table, uint64_t image_address,
                        std::vector<KernelSymbol>& symbols)
{
    const uint64_t count = symbols.size();
    const uint64_t kernel_map = image.kernel_map();
    auto outside = [&](uint64_t address) { return address - kernel_map >= kernel_image_size; };
    const bool place_relative = table.encoding == Encoding::PlaceRelative;
    uint64_t relative_base = 0;
    bool absolute_percpu = false;
    if (!place_relative) {
        relative_base = image.ulong(table.relative_base_at);
        if (outside(relative_base))
            return kallsyms_error(fmt::format(
                "{}: kallsyms_relative_base at image offset 0x{:x} is 0x{:x}, expected an address in the kernel "
                "mapping 0x{:x}-0x{:x}",
                table.era, table.relative_base_at, relative_base, kernel_map, kernel_map + kernel_image_size));
        // An x86-64 kernel spans less than 2 GiB, so a negative offset means
        // the absolute per-CPU encoding.
        for (uint64_t i = 0; i < count && !absolute_percpu; i++)
            absolute_percpu = int32_t(image.u32(table.offsets_at + 4 * i)) < 0;
    }

    bool seen_relative = false;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t at = table.offsets_at + 4 * i;
        int32_t offset = int32_t(image.u32(at));
        bool relative = place_relative || !absolute_percpu || offset < 0;
        uint64_t address = place_relative     ? image_address + at + uint64_t(int64_t(offset))
                           : !absolute_percpu ? relative_base + uint32_t(offset)
                           : offset >= 0      ? uint64_t(offset)
                                              : relative_base - 1 - int64_t(offset);
        // record_relative_base(): the base is the first non-absolute
        // symbol's address, so that symbol's offset is 0 (or -1).
        if (!place_relative && relative && !seen_relative && address != relative_base)
            return kallsyms_error(fmt::format(
                "{}: kallsyms_offsets[{}] at image offset 0x{:x} is {}, expected {} for the first relative symbol "
                "(kallsyms_relative_base is its address)",
                table.era, i, at, offset, absolute_percpu ? -1 : 0));
        if (relative && outside(address))
            return kallsyms_error(fmt::format(
                "{}: kallsyms_offsets[{}] at image offset 0x{:x} is {}: address 0x{:x} is outside the kernel mapping",
                table.era, i, at, offset, address));
        if (i > 0 && address < symbols[i - 1].address)
            return kallsyms_error(fmt::format(
                "{}: kallsyms_offsets[{}] at image offset 0x{:x} gives 0x{:x}, below symbol {}'s 0x{:x}: expected "
                "offsets sorted by address (scripts/kallsyms.c sort_symbols())",
                table.era, i, at, address, i - 1, symbols[i - 1].address));
        seen_relative = seen_relative || relative;
        symbols[i].address = address;
    }
    return Ok{};
}

// A table that decodes into sorted addresses in range could still be read
// with the wrong encoding; the linker's _text (the start of the image,
// arch/x86/kernel/vmlinux.lds.S) pins it: it must be the image's own address.
Status check_text_symbol(const std::vector<KernelSymbol>& symbols, const AddressTable& table, uint64_t image_address)
{
    for (const KernelSymbol& symbol : symbols)
        if (symbol.name == "_text" && symbol.address != image_address)
            return kallsyms_error(fmt::format("{}: _text decodes to 0x{:x}, expected the image's link address 0x{:x}",
                                              table.era, symbol.address, image_address));
    return Ok{};
}

// Reads the names of a complete candidate layout, then the addresses from
// the first address table that holds up, checking everything.
Result<std::vector<KernelSymbol>> decode(const Bytes& image, const Layout& layout, const Markers& markers,
                                         const TokenTable& tokens, uint64_t image_address)
{
    const uint64_t count = layout.count;
    std::vector<KernelSymbol> symbols(count);

    // kallsyms_expand_symbol(): each code stands for its token; the first
    // character of the expansion is the type.
    uint64_t at = layout.names_at;
    std::string expanded;
    for (uint64_t i = 0; i < count; i++) {
        if (i % symbols_per_marker == 0 && markers.values[i / symbols_per_marker] != at - layout.names_at)
            return kallsyms_error(fmt::format(
                "kallsyms_markers[{}] is 0x{:x}, but symbol {} starts at 0x{:x} in kallsyms_names (image offset "
                "0x{:x})",
                i / symbols_per_marker, markers.values[i / symbols_per_marker], i, at - layout.names_at,
                layout.names_at));
        uint64_t entry_at = at;
        uint32_t length = read_length(image, at, markers.at);
        if (length == 0)
            return kallsyms_error(fmt::format(
                "kallsyms_names: symbol {} at image offset 0x{:x} has length byte 0x{:02x}, expected 1-0x7f, or "
                "0x80-0xff and a second byte of 1-0x7f (a \"big\" symbol)",
                i, entry_at, image.u8(entry_at)));
        if (length > markers.at - at)
            return kallsyms_error(fmt::format(
                "kallsyms_names: symbol {} at image offset 0x{:x} has {} token codes, running into kallsyms_markers "
                "at 0x{:x}",
                i, entry_at, length, markers.at));
        expanded.clear();
        for (uint64_t end = at + length; at < end; at++)
            if (expanded.size() <= ksym_name_len)  // past that it is an error anyway
                expanded += tokens.tokens[image.u8(at)];
        if (expanded.size() < 2 || expanded.size() > ksym_name_len || !is_type_letter(expanded[0]))
            return kallsyms_error(fmt::format(
                "kallsyms_names: symbol {} at image offset 0x{:x} expands to \"{}\", expected a type letter and "
                "a name of 1 to {} characters",
                i, entry_at, expanded.substr(0, 80), ksym_name_len - 1));
        symbols[i].type = expanded[0];
        symbols[i].name.assign(expanded, 1);
    }
    if (!image.ends_right_before(at, markers.at))
        return kallsyms_error(fmt::format(
            "kallsyms_names ({} symbols from image offset 0x{:x}) ends at 0x{:x}, expected kallsyms_markers at "
            "the next 4- or 8-byte boundary, found it at 0x{:x}",
            count, layout.names_at, at, markers.at));

    // No table decodes: say why for each, since which era the kernel is
    // from is exactly what is not known.
    std::string why;
    for (const AddressTable& table : address_tables(image, layout, tokens)) {
        auto status = decode_addresses(image, table, image_address, symbols);
        if (status.ok())
            status = check_text_symbol(symbols, table, image_address);
        if (status.ok())
            return symbols;
        std::string message = status.error().message;
        message.erase(0, message.find("kallsyms: ") == std::string::npos ? 0 : message.find("kallsyms: ") + 10);
        why += (why.empty() ? "" : "; ") + message;
    }
    if (!why.empty())
        return kallsyms_error(fmt::format("{} names decoded, but no kallsyms_offsets table fits them: {}", count, why));
    return kallsyms_error(fmt::format("kallsyms_names for {} symbols at image offset 0x{:x}: no room for "
                                      "kallsyms_offsets before kallsyms_num_syms or after kallsyms_token_index",
                                      count, layout.names_at));
}

// kallsyms_markers at `at`, `count` entries: markers[0] is 0 and each
// group of 256 symbols takes at least 512 bytes (2 per symbol). Padded (up
// to 6.x), an odd count is followed by 4 bytes of zeros.
Result<Markers> check_markers(const Bytes& image, uint64_t at, uint64_t count, bool padded)
{
    Markers markers{.at = at, .values = {}};
    markers.values.reserve(count);
    for (uint64_t i = 0; i < count; i++) {
        uint32_t value = image.u32(at + 4 * i);
        if (i == 0 && value != 0)
            return kallsyms_error(fmt::format("kallsyms_markers ({} entries at image offset 0x{:x}): markers[0] is "
                                              "0x{:x}, expected 0",
                                              count, at, value));
        uint64_t least = i == 0 ? 0 : uint64_t(markers.values.back()) + symbols_per_marker * min_entry_size;
        if (value < least)
            return kallsyms_error(fmt::format("kallsyms_markers ({} entries at image offset 0x{:x}): markers[{}] is "
                                              "0x{:x}, expected at least 0x{:x} (256 symbols of 2 bytes or more "
                                              "after the previous marker)",
                                              count, at, i, value, least));
        markers.values.push_back(value);
    }
    if (padded && image.align_up(4 * count) != 4 * count && image.u32(at + 4 * count) != 0)
        return kallsyms_error(fmt::format("kallsyms_markers ({} entries at image offset 0x{:x}): padding at 0x{:x} "
                                          "is 0x{:x}, expected 0",
                                          count, at, at + 4 * count, image.u32(at + 4 * count)));
    return markers;
}

// What sits between kallsyms_markers and kallsyms_token_table. v6.1 as
// released has nothing there. "kallsyms: Improve the performance of
// kallsyms_lookup_name()" added kallsyms_seqs_of_names, the symbol indices
// sorted by name, as one u32 each; commit 19bd8981dc2e ("kallsyms: Reduce
// the memory occupied by kallsyms_seqs_of_names[]") shrank each to 3
// big-endian bytes. Debian's 6.1.y kernels carry that last form, backported.
struct SeqsFormat {
    uint64_t entry_size;  // 0: no table
    const char* description;
};
constexpr SeqsFormat seqs_formats[] = {
    {0, "no kallsyms_seqs_of_names (v6.1)"},
    {3, "3-byte kallsyms_seqs_of_names (6.1.y stable)"},
    {4, "32-bit kallsyms_seqs_of_names"},
};

// kallsyms_seqs_of_names must be a permutation of the symbol indices,
// followed by zero padding up to the token table.
Status check_seqs(const Bytes& image, uint64_t at, const SeqsFormat& format, uint64_t count, uint64_t table_at)
{
    for (uint64_t pad = at + format.entry_size * count; pad < table_at; pad++)
        if (image.u8(pad) != 0)
            return kallsyms_error(fmt::format("{} for {} symbols at image offset 0x{:x}: padding byte at 0x{:x} is "
                                              "0x{:02x}, expected 0",
                                              format.description, count, at, pad, image.u8(pad)));
    std::vector<bool> seen(count);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t entry = at + format.entry_size * i;
        uint32_t seq = format.entry_size == 3
                           ? uint32_t(image.u8(entry)) << 16 | uint32_t(image.u8(entry + 1)) << 8 | image.u8(entry + 2)
                           : image.u32(entry);
        if (seq >= count || seen[seq])
            return kallsyms_error(fmt::format("{} at image offset 0x{:x}: entry {} is {}, expected each symbol "
                                              "index below {} once",
                                              format.description, at, i, seq, count));
        seen[seq] = true;
    }
    return Ok{};
}

// kallsyms_num_syms is the u32 (then 4 bytes of padding) 8 bytes before
// kallsyms_names. Each 8-aligned slot the names stream could start after
// is tried, nearest first: the count there must be in [first, last], and
// the last 256-symbol group, walked from the last marker, must end at the
// markers. A slot that passes is decoded in full.
std::optional<std::vector<KernelSymbol>> read_symbols(const Bytes& image, const Markers& markers,
                                                      const TokenTable& tokens, uint64_t first, uint64_t last,
                                                      uint64_t image_address, FurthestError& failures)
{
    const uint64_t marker_count = markers.values.size();
    const uint64_t last_group = (marker_count - 1) * symbols_per_marker;
    // The last group starts inside the stream and holds at most 256 names
    // of at most 2 + 0x3fff bytes: that bounds where the stream starts.
    const uint64_t last_group_offset = markers.values.back();
    const uint64_t max_group_size = symbols_per_marker * (2 + 0x3fff);
    bool decoded_any = false;
    if (markers.at > last_group_offset + image.table_align()) {
        uint64_t highest = (markers.at - last_group_offset - 1) & ~(name_align - 1);
        uint64_t lowest = markers.at > last_group_offset + max_group_size + 2 * image.table_align()
                              ? markers.at - last_group_offset - max_group_size - image.table_align()
                              : 2 * image.table_align();
        for (uint64_t names_at = highest; names_at >= lowest; names_at -= name_align) {
            // The u32 count then 4 bytes of padding up to an 8-aligned
            // kallsyms_names (up to 6.x), or the names right after the
            // count (7.x; and a 32-bit kernel, whose tables are 4-aligned).
            for (uint64_t gap : {uint64_t(8), uint64_t(4)}) {
                if (gap > image.table_align())
                    continue;
                uint64_t num_syms_at = names_at - gap;
                if (gap == 8 && (names_at % 8 != 0 || image.u32(num_syms_at + 4) != 0))
                    continue;
                uint64_t count = image.u32(num_syms_at);
                if (count < first || count > last)
                    continue;
                auto end = skip_names(image, names_at + last_group_offset, count - last_group, markers.at);
                if (!end || !image.ends_right_before(*end, markers.at))
                    continue;
                decoded_any = true;
                Layout layout{.num_syms_at = num_syms_at, .names_at = names_at, .count = count};
                auto symbols = decode(image, layout, markers, tokens, image_address);
                if (symbols.ok())
                    return std::move(symbols.value());
                failures.note(marker_count, Stage::Decode, symbols.error());
            }
        }
    }
    if (!decoded_any)
        failures.note(marker_count, Stage::NumSyms,
                      kallsyms_error(fmt::format(
                          "no kallsyms_num_syms before kallsyms_markers at image offset 0x{:x} ({} markers): expected "
                          "a count of {} to {} symbols whose names, from right after it, end at the markers",
                          markers.at, marker_count, first, last)));
    return std::nullopt;
}

// Tries each symbol count the space before the token table leaves room
// for, in one layout. Without kallsyms_seqs_of_names the markers' place
// depends only on their number, so counts go 256 at a time.
std::optional<std::vector<KernelSymbol>> read_layout(const Bytes& image, const TokenTable& tokens,
                                                     const SeqsFormat& format, uint64_t image_address,
                                                     FurthestError& failures)
{
    // A symbol takes at least 4 bytes of offsets, 2 of names and its entry
    // in kallsyms_seqs_of_names.
    const uint64_t max_count = tokens.table_at / (4 + min_entry_size + format.entry_size);
    const uint64_t step = format.entry_size == 0 ? symbols_per_marker : 1;
    bool any_markers = false;
    for (uint64_t first = 1; first <= max_count; first += step) {
        uint64_t last = first + step - 1;
        uint64_t marker_count = (first + symbols_per_marker - 1) / symbols_per_marker;
        uint64_t seqs_size = image.align_up(format.entry_size * last);
        if (tokens.table_at < seqs_size + 4 * marker_count)
            break;
        // Without seqs the markers end right at the token table (7.x) or
        // are padded to 8 bytes before it (6.x).
        for (bool padded : {true, false}) {
            if (!padded && (format.entry_size != 0 || marker_count % 2 == 0))
                continue;  // no seqs between, and only an odd count differs
            uint64_t markers_size = padded ? image.align_up(4 * marker_count) : 4 * marker_count;
            if (tokens.table_at < seqs_size + markers_size)
                continue;
            uint64_t seqs_at = tokens.table_at - seqs_size;
            uint64_t markers_at = seqs_at - markers_size;
            if (image.u32(markers_at) != 0)
                continue;  // markers[0] is always 0: the cheap test first
            any_markers = true;
            auto markers = check_markers(image, markers_at, marker_count, padded);
            if (!markers.ok()) {
                failures.note(0, Stage::Markers, markers.error());
                continue;
            }
            if (format.entry_size != 0) {
                auto seqs = check_seqs(image, seqs_at, format, last, tokens.table_at);
                if (!seqs.ok()) {
                    failures.note(marker_count, Stage::Seqs, seqs.error());
                    continue;
                }
            }
            if (auto symbols = read_symbols(image, *markers, tokens, first, last, image_address, failures))
                return symbols;
        }
    }
    if (!any_markers)
        failures.note(0, Stage::Markers,
                      kallsyms_error(fmt::format("no kallsyms_markers (0, then increasing offsets) before the "
                                                 "kallsyms_token_table at image offset 0x{:x}, with {}",
                                                 tokens.table_at, format.description)));
    return std::nullopt;
}

// `image_address`: the link-time virtual address of the image's first byte.
Result<std::vector<KernelSymbol>> find_kallsyms(const Bytes& image, uint64_t image_address)
{
    FurthestError failures;
    // Every 2 bytes: kallsyms_token_index is u16s, 8-aligned up to 6.x only.
    for (uint64_t index_at = 0; image.holds(index_at, token_count * 2); index_at += 2) {
        if (!looks_like_token_index(image, index_at))
            continue;
        auto tokens = read_token_table(image, index_at);
        if (!tokens.ok()) {
            failures.note(0, Stage::TokenTable, tokens.error());
            continue;
        }
        for (const SeqsFormat& format : seqs_formats)
            if (auto symbols = read_layout(image, *tokens, format, image_address, failures))
                return std::move(*symbols);
    }
    if (failures.error())
        return *failures.error();
    return make_error(ErrorKind::BadFormat,
                      "decompressed kernel: no kallsyms tables in the {}-byte image (expected a kallsyms_token_index: "
                      "256 increasing 16-bit offsets from 0; is the kernel built with CONFIG_KALLSYMS?)",
                      image.size());
}

// What a System.map line looked like, for an error message.
std::string quote(std::string_view line)
{
    std::string shown;
    for (char c : line.substr(0, 80))
        shown += (c >= ' ' && c < 0x7f) ? c : '?';
    return line.size() > 80 ? shown + "..." : shown;
}

}  // namespace

KernelSymbols::KernelSymbols(std::vector<KernelSymbol> symbols, const char* source)
    : m_symbols(std::move(symbols)), m_source(source)
{
    // Stable, so symbols at one address keep the order the table gave them
    // (scripts/kallsyms.c compare_symbols() puts the most telling first).
    // Both sources come sorted already.
    auto by_address = [](const KernelSymbol& a, const KernelSymbol& b) { return a.address < b.address; };
    if (!std::is_sorted(m_symbols.begin(), m_symbols.end(), by_address))
        std::stable_sort(m_symbols.begin(), m_symbols.end(), by_address);
    // The name index: open addressing with linear probing, at most half
    // full. Symbols go in by address and a name already present keeps its
    // slot, so address_of() finds the lowest. (Sorting 90,000 names took
    // longer than decoding them; hashing takes a few milliseconds.)
    size_t slots = 16;
    while (slots < 2 * m_symbols.size())
        slots *= 2;
    m_name_slots.assign(slots, 0);
    for (uint32_t i = 0; i < m_symbols.size(); i++) {
        size_t slot = name_slot(m_symbols[i].name);
        if (m_name_slots[slot] == 0)
            m_name_slots[slot] = i + 1;
    }
}

Result<KernelSymbols> KernelSymbols::from_kallsyms(const KernelImage& kernel)
{
    // The image starts at LOAD_PHYSICAL_ADDR, linked at __START_KERNEL_map
    // (PAGE_OFFSET on x86-32) plus it.
    Bytes image(kernel.image, kernel.wide ? 8 : 4, kernel.kernel_map);
    auto symbols = TRY(find_kallsyms(image, kernel.link_address()));
    return KernelSymbols(std::move(symbols), "kallsyms");
}

Result<KernelSymbols> KernelSymbols::from_system_map(const std::string& path)
{
    auto bytes = TRY(read_file(path, "System.map"));
    return parse_system_map(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

Result<KernelSymbols> KernelSymbols::parse_system_map(std::string_view text, const std::string& name)
{
    // scripts/mksysmap: `nm -n` output, "<address> <type> <name>" a line,
    // separated by single spaces.
    std::vector<KernelSymbol> symbols;
    size_t line_number = 0;
    while (!text.empty()) {
        size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        line_number++;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;

        auto malformed = [&](const char* what) {
            return make_error(ErrorKind::BadFormat,
                              "{}:{}: {}, expected \"<hex address> <type letter> <name>\", found \"{}\"", name,
                              line_number, what, quote(line));
        };
        size_t space = line.find(' ');
        if (space == std::string_view::npos || space == 0 || space > 16)
            return malformed("no address of 1 to 16 hex digits");
        uint64_t address = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + space, address, 16);
        if (ec != std::errc() || end != line.data() + space)
            return malformed("the address is not hexadecimal");
        if (line.size() < space + 4 || !is_type_letter(line[space + 1]) || line[space + 2] != ' ')
            return malformed("no type letter after the address");
        std::string_view symbol = line.substr(space + 3);
        if (!std::all_of(symbol.begin(), symbol.end(), [](char c) { return is_symbol_char(uint8_t(c)); }))
            return malformed("the name has spaces or unprintable characters");
        if (symbols.size() == UINT32_MAX - 1)  // the name index holds 32-bit indices
            return malformed("too many symbols");
        symbols.push_back(KernelSymbol{.address = address, .type = line[space + 1], .name = std::string(symbol)});
    }
    if (symbols.empty())
        return make_error(ErrorKind::BadFormat,
                          "{}: no symbols ({} lines), expected \"<hex address> <type letter> <name>\" lines", name,
                          line_number);
    return KernelSymbols(std::move(symbols), "System.map");
}

size_t KernelSymbols::name_slot(std::string_view name) const
{
    size_t mask = m_name_slots.size() - 1;
    size_t slot = std::hash<std::string_view>{}(name) & mask;
    while (m_name_slots[slot] != 0 && m_symbols[m_name_slots[slot] - 1].name != name)
        slot = (slot + 1) & mask;
    return slot;
}

std::optional<uint64_t> KernelSymbols::address_of(std::string_view name) const
{
    uint32_t entry = m_name_slots[name_slot(name)];
    if (entry == 0)
        return std::nullopt;
    return m_symbols[entry - 1].address;
}

const KernelSymbol* KernelSymbols::at_or_below(uint64_t address) const
{
    auto by_address = [](const KernelSymbol& s, uint64_t a) { return s.address < a; };
    auto above = std::upper_bound(m_symbols.begin(), m_symbols.end(), address,
                                  [](uint64_t a, const KernelSymbol& s) { return a < s.address; });
    if (above == m_symbols.begin())
        return nullptr;
    // The first of the symbols at that address.
    return &*std::lower_bound(m_symbols.begin(), above, std::prev(above)->address, by_address);
}

std::string KernelSymbols::describe(uint64_t address) const
{
    const KernelSymbol* symbol = at_or_below(address);
    // Past the last symbol nothing says where the address belongs; and an
    // absolute (per-CPU) symbol's value is an offset into each CPU's area,
    // so the addresses above it (up to the kernel text) are not inside it.
    if (!symbol || address > m_symbols.back().address ||
        ((symbol->type == 'A' || symbol->type == 'a') && address != symbol->address))
        return fmt::format("0x{:x}", address);
    if (address == symbol->address)
        return symbol->name;
    return fmt::format("{}+0x{:x}", symbol->name, address - symbol->address);
}

}  // namespace bootsim
