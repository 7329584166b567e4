// KernelSymbols: kallsyms tables built byte by byte the way
// scripts/kallsyms.c write_src() lays them out (v6.1, v6.4+, 7.x), recovered
// from a fake kernel image; one corruption per case, each an error;
// System.map parsing.

#include <gtest/gtest.h>

#include "unit/le_bytes.h"
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <numeric>
#include <string>

#include "loader/kernel_symbols.h"

namespace bootsim {
namespace {

using fake::Bytes;
using fake::get32;
using fake::put16;
using fake::put32;

constexpr uint64_t text = 0xffffffff81000000;  // _text: __START_KERNEL_map + LOAD_PHYSICAL_ADDR

struct Symbol {
    uint64_t address;
    char type;
    std::string name;
};

// Which write_src() wrote the tables.
enum class Layout {
    V61,  // offsets, relative_base, num_syms, names, markers, (seqs), token_table, token_index
    V64,  // num_syms, names, markers, token_table, token_index, offsets, relative_base, seqs (Debian's 6.12)
    V7,   // as V64, but names right after the count, place-relative offsets, no relative_base (Debian's 7.x)
};

struct Options {
    unsigned seqs_entry_size = 0;  // 0: v6.1 as released; 3: Debian's 6.1.y; 4: 32-bit
    bool drop_last_name = false;   // kallsyms_names one entry short of kallsyms_num_syms
    Layout layout = Layout::V61;
};

struct Built {
    Bytes image;
    size_t offsets_at = 0, relative_base_at = 0, num_syms_at = 0, names_at = 0, markers_at = 0, seqs_at = 0,
           token_table_at = 0, token_index_at = 0;
    std::vector<size_t> name_entry_at;  // image offset of each kallsyms_names entry
    std::array<uint16_t, 256> token_index{};
};

void append(Bytes& b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b.push_back(uint8_t(v >> (8 * i)));
}
// output_label(): ".balign 8" before every table; gas pads data with zeros.
void align8(Bytes& b)
{
    while (b.size() % 8 != 0)
        b.push_back(0);
}

// Bytes that are nothing in particular (an LCG), around the tables.
void junk(Bytes& b, size_t count, uint32_t seed)
{
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1103515245 + 12345;
        b.push_back(uint8_t(seed >> 16));
    }
}

// The token table: every printable character stands for itself (as
// insert_real_symbols_in_table() does for the characters symbols use), a
// few unused codes stand for longer strings, and the other unused codes
// are empty (optimize_result() ran out of profitable pairs).
std::array<std::string, 256> make_tokens()
{
    std::array<std::string, 256> tokens;
    for (int c = 0x21; c < 0x7f; c++)
        tokens[c] = std::string(1, char(c));
    const char* longer[] = {"start", "_64", "populate_", "rootfs", "tsym_", "kernel", "init", "_text", "do_", "x86"};
    int code = 0x80;
    for (const char* token : longer)
        tokens[code++] = token;
    tokens[0x01] = "cpu";
    return tokens;
}

// Greedy longest-match compression of "<type><name>" into token codes.
Bytes compress(const std::string& symbol, const std::array<std::string, 256>& tokens)
{
    Bytes codes;
    for (size_t at = 0; at < symbol.size();) {
        int best = -1;
        for (int c = 0; c < 256; c++)
            if (!tokens[c].empty() && symbol.compare(at, tokens[c].size(), tokens[c]) == 0 &&
                (best < 0 || tokens[c].size() > tokens[best].size()))
                best = c;
        codes.push_back(uint8_t(best));
        at += tokens[best].size();
    }
    return codes;
}

// Lays out kallsyms for `symbols` (sorted by address; 'A' ones are per-CPU)
// after some junk, as an x86-64 SMP kernel has them
// (CONFIG_KALLSYMS_ABSOLUTE_PERCPU when any symbol is 'A').
Built build(const std::vector<Symbol>& symbols, Options options = {})
{
    Built b;
    auto tokens = make_tokens();
    bool absolute_percpu = std::any_of(symbols.begin(), symbols.end(), [](const Symbol& s) { return s.type == 'A'; });
    // record_relative_base(): the first non-absolute symbol's address.
    uint64_t relative_base = 0;
    for (const Symbol& s : symbols)
        if (s.type != 'A') {
            relative_base = s.address;
            break;
        }

    junk(b.image, 0x1234, 1);
    align8(b.image);
    // Up to 6.x every table is 8-aligned (ALGN); Debian's 7.x packs them,
    // each at its natural alignment (4 bytes here).
    auto pad = [&] {
        if (options.layout != Layout::V7)
            align8(b.image);
        else
            while (b.image.size() % 4 != 0)
                b.image.push_back(0);
    };
    auto emit_offsets = [&] {
        b.offsets_at = b.image.size();
        for (const Symbol& s : symbols) {
            // Place-relative: from the entry's own link address (image offset 0 is _text).
            int64_t offset = options.layout == Layout::V7 ? int64_t(s.address - (text + b.image.size()))
                             : !absolute_percpu            ? int64_t(s.address - relative_base)
                             : s.type == 'A'               ? int64_t(s.address)
                                                           : int64_t(relative_base - s.address) - 1;
            append(b.image, uint32_t(offset), 4);
        }
        pad();
        if (options.layout != Layout::V7) {
            b.relative_base_at = b.image.size();
            append(b.image, relative_base, 8);
        }
    };
    auto emit_names = [&] {
        b.num_syms_at = b.image.size();
        append(b.image, symbols.size(), 4);
        if (options.layout != Layout::V7)
            pad();
        b.names_at = b.image.size();
        std::vector<uint32_t> markers;
        for (size_t i = 0; i < symbols.size(); i++) {
            if (i % 256 == 0)
                markers.push_back(uint32_t(b.image.size() - b.names_at));
            b.name_entry_at.push_back(b.image.size());
            if (options.drop_last_name && i + 1 == symbols.size())
                break;
            Bytes codes = compress(std::string(1, symbols[i].type) + symbols[i].name, tokens);
            if (codes.size() <= 0x7f) {
                b.image.push_back(uint8_t(codes.size()));
            } else {  // a "big" symbol: two-byte ULEB128 length
                b.image.push_back(uint8_t((codes.size() & 0x7f) | 0x80));
                b.image.push_back(uint8_t(codes.size() >> 7));
            }
            b.image.insert(b.image.end(), codes.begin(), codes.end());
        }
        pad();
        b.markers_at = b.image.size();
        for (uint32_t m : markers)
            append(b.image, m, 4);
        pad();
    };
    auto emit_seqs = [&] {
        if (options.seqs_entry_size == 0)
            return;
        // kallsyms_seqs_of_names: symbol indices sorted by name.
        std::vector<uint32_t> seqs(symbols.size());
        std::iota(seqs.begin(), seqs.end(), 0u);
        std::stable_sort(seqs.begin(), seqs.end(),
                         [&](uint32_t a, uint32_t c) { return symbols[a].name < symbols[c].name; });
        b.seqs_at = b.image.size();
        for (uint32_t seq : seqs) {
            if (options.seqs_entry_size == 3) {  // big-endian, 3 bytes
                b.image.push_back(uint8_t(seq >> 16));
                b.image.push_back(uint8_t(seq >> 8));
                b.image.push_back(uint8_t(seq));
            } else {
                append(b.image, seq, 4);
            }
        }
        pad();
    };
    auto emit_tokens = [&] {
        b.token_table_at = b.image.size();
        for (int c = 0; c < 256; c++) {
            b.token_index[c] = uint16_t(b.image.size() - b.token_table_at);
            b.image.insert(b.image.end(), tokens[c].begin(), tokens[c].end());
            b.image.push_back(0);
        }
        if (options.layout != Layout::V7)
            pad();
        else if (b.image.size() % 2 != 0)  // u16s: right after the table, 2-aligned
            b.image.push_back(0);
        b.token_index_at = b.image.size();
        for (uint16_t offset : b.token_index)
            append(b.image, offset, 2);
        pad();
    };
    if (options.layout == Layout::V61) {
        emit_offsets();
        emit_names();
        emit_seqs();
        emit_tokens();
    } else {
        emit_names();
        emit_tokens();
        emit_offsets();
        emit_seqs();
    }
    junk(b.image, 0x777, 2);
    return b;
}

KernelImage kernel_of(Bytes image)
{
    KernelImage k;
    k.load_physical_addr = 0x1000000;
    k.segments.push_back(LoadSegment{.offset = 0, .file_size = image.size(), .mem_size = image.size()});
    k.image = std::move(image);
    return k;
}

// A kernel's worth of symbols: per-CPU ones first (their values are
// offsets), aliases at _text in compare_symbols() order (fewer leading
// underscores first), a static name used twice, a name too long for a
// one-byte length, and `fillers` more to need several markers.
std::vector<Symbol> kernel_symbols(int fillers)
{
    std::vector<Symbol> s = {
        {0x0, 'A', "fixed_percpu_data"},
        {0x1000, 'A', "cpu_number"},
        {0x35000, 'A', "__per_cpu_end"},
        {text, 'T', "startup_64"},
        {text, 'T', "_text"},
        {text + 0x100, 't', "cleanup"},
        {text + 0x2000, 'T', "do_one_initcall"},
    };
    for (int i = 0; i < fillers; i++)
        s.push_back({text + 0x100000 + 0x40 * uint64_t(i), 't', "sym_" + std::to_string(i)});
    s.push_back({0xffffffff82000000, 'D', "init_task"});
    s.push_back({0xffffffff83079e46, 'T', "start_kernel"});
    s.push_back({0xffffffff8307be7d, 't', "populate_rootfs"});
    s.push_back({0xffffffff8307c180, 't', "do_populate_rootfs"});
    s.push_back({0xffffffff83080000, 't', "cleanup"});
    s.push_back({0xffffffff83100000, 'T', "rust_" + std::string(200, 'q')});
    s.push_back({0xffffffff84430000, 'B', "_end"});
    return s;
}

// The same symbols as a kernel without absolute per-CPU symbols has them
// (no CONFIG_KALLSYMS_ABSOLUTE_PERCPU; every 7.x kernel).
std::vector<Symbol> without_percpu(const std::vector<Symbol>& symbols)
{
    std::vector<Symbol> out;
    for (const Symbol& s : symbols)
        if (s.type != 'A')
            out.push_back(s);
    return out;
}

Error kallsyms_error(const Bytes& image)
{
    auto result = KernelSymbols::from_kallsyms(kernel_of(image));
    EXPECT_FALSE(result.ok());
    if (result.ok())
        return Error{ErrorKind::Emulator, "decoded unexpectedly"};
    EXPECT_EQ(result.error().kind, ErrorKind::BadFormat);
    return result.error();
}

void expect_recovers(const std::vector<Symbol>& expected, const Built& built)
{
    auto symbols = KernelSymbols::from_kallsyms(kernel_of(built.image));
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    EXPECT_STREQ(symbols->source(), "kallsyms");
    ASSERT_EQ(symbols->size(), expected.size());
    for (size_t i = 0; i < expected.size(); i++) {
        const KernelSymbol& got = symbols->symbols()[i];
        EXPECT_EQ(got.address, expected[i].address) << i;
        EXPECT_EQ(got.type, expected[i].type) << i;
        EXPECT_EQ(got.name, expected[i].name) << i;
    }
}

TEST(KernelSymbolsKallsyms, RecoversEverySymbolWithThreeMarkers)
{
    auto expected = kernel_symbols(600);  // 614 symbols: 3 markers, then 4 bytes of padding
    Built built = build(expected);
    ASSERT_EQ((built.token_table_at - built.markers_at), 16u);
    expect_recovers(expected, built);
}

TEST(KernelSymbolsKallsyms, RecoversEverySymbolWithTwoMarkers)
{
    auto expected = kernel_symbols(300);  // 314 symbols: 2 markers, no padding
    expect_recovers(expected, build(expected));
}

TEST(KernelSymbolsKallsyms, RecoversAFewSymbolsWithOneMarker)
{
    auto expected = kernel_symbols(0);
    expect_recovers(expected, build(expected));
}

TEST(KernelSymbolsKallsyms, RecoversTheDebian61StableLayoutWithThreeByteSeqs)
{
    auto expected = kernel_symbols(600);
    Built built = build(expected, {.seqs_entry_size = 3});
    ASSERT_GT(built.token_table_at - built.markers_at, 3 * expected.size());
    expect_recovers(expected, built);
}

TEST(KernelSymbolsKallsyms, RecoversTheLayoutWith32BitSeqs)
{
    auto expected = kernel_symbols(300);
    expect_recovers(expected, build(expected, {.seqs_entry_size = 4}));
}

TEST(KernelSymbolsKallsyms, RecoversUnsignedOffsetsWithoutAbsolutePercpu)
{
    // A kernel without CONFIG_KALLSYMS_ABSOLUTE_PERCPU: every offset is
    // unsigned from the lowest address.
    auto expected = without_percpu(kernel_symbols(260));
    Built built = build(expected);
    EXPECT_EQ(get32(built.image, built.offsets_at), 0u);
    expect_recovers(expected, built);
}

TEST(KernelSymbolsKallsyms, LooksUpByNameAndAddress)
{
    auto symbols = KernelSymbols::from_kallsyms(kernel_of(build(kernel_symbols(600)).image));
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;

    EXPECT_EQ(symbols->address_of("_text"), text);
    EXPECT_EQ(symbols->address_of("startup_64"), text);
    EXPECT_EQ(symbols->address_of("start_kernel"), 0xffffffff83079e46u);
    EXPECT_EQ(symbols->address_of("sym_599"), text + 0x100000 + 0x40 * 599);
    EXPECT_EQ(symbols->address_of("cleanup"), text + 0x100);  // the lower of two
    EXPECT_EQ(symbols->address_of("cpu_number"), 0x1000u);
    EXPECT_EQ(symbols->address_of("start"), std::nullopt);
    EXPECT_EQ(symbols->address_of(""), std::nullopt);

    // Aliases: the first in table order, as get_symbol_pos() picks.
    ASSERT_NE(symbols->at_or_below(text), nullptr);
    EXPECT_EQ(symbols->at_or_below(text)->name, "startup_64");
    EXPECT_EQ(symbols->at_or_below(text + 0xff)->name, "startup_64");
    EXPECT_EQ(symbols->at_or_below(text + 0x100)->name, "cleanup");
    EXPECT_EQ(symbols->at_or_below(0xffffffff8307be7d + 0x1c)->name, "populate_rootfs");
    EXPECT_EQ(symbols->at_or_below(0xffffffff8307c17f)->name, "populate_rootfs");
    EXPECT_EQ(symbols->at_or_below(0xffffffff8307c180)->name, "do_populate_rootfs");
    EXPECT_EQ(symbols->at_or_below(~0ull)->name, "_end");
    EXPECT_EQ(symbols->at_or_below(0)->name, "fixed_percpu_data");

    EXPECT_EQ(symbols->describe(0xffffffff8307be7d + 0x1c), "populate_rootfs+0x1c");
    EXPECT_EQ(symbols->describe(0xffffffff83079e46), "start_kernel");
    EXPECT_EQ(symbols->describe(text + 5), "startup_64+0x5");
    EXPECT_EQ(symbols->describe(0x1000), "cpu_number");
    // Past the last symbol, and in the gap after the per-CPU area (a
    // physical address, say): nothing covers them.
    EXPECT_EQ(symbols->describe(0xffffffff84430001), "0xffffffff84430001");
    EXPECT_EQ(symbols->describe(0x1000000), "0x1000000");
}

TEST(KernelSymbolsKallsyms, ImageWithoutTablesIsAnError)
{
    Bytes image;
    junk(image, 0x10000, 7);
    Error e = kallsyms_error(image);
    EXPECT_NE(e.message.find("no kallsyms tables"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("CONFIG_KALLSYMS"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, TokenIndexPointingInsideATokenIsAnError)
{
    Built built = build(kernel_symbols(600));
    // Token 'a' is one character: its index entry + 1 still increases, but
    // points at its NUL.
    put16(built.image, built.token_index_at + 2 * 'a', uint16_t(built.token_index['a'] + 1));
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("kallsyms_token_"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, TokenIndexOutOfOrderIsAnError)
{
    Built built = build(kernel_symbols(600));
    put16(built.image, built.token_index_at + 2 * 'b', built.token_index['a']);
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("no kallsyms tables"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, UnprintableTokenIsAnError)
{
    Built built = build(kernel_symbols(600));
    built.image[built.token_table_at + built.token_index['q']] = 0x07;
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("kallsyms_token_table"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, WrongNameLengthIsAnError)
{
    Built built = build(kernel_symbols(600));
    built.image[built.name_entry_at[10]]++;  // symbol 10 swallows the next one's length byte
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("kallsyms_names"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, TruncatedNamesAreAnError)
{
    Error e = kallsyms_error(build(kernel_symbols(600), {.drop_last_name = true}).image);
    EXPECT_NE(e.message.find("kallsyms_num_syms"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, NumSymsTooLargeIsAnError)
{
    for (uint32_t wrong : {615u, 700u, 0x7fffffffu}) {
        Built built = build(kernel_symbols(600));
        ASSERT_EQ(get32(built.image, built.num_syms_at), 614u);
        put32(built.image, built.num_syms_at, wrong);
        Error e = kallsyms_error(built.image);
        EXPECT_NE(e.message.find("kallsyms_num_syms"), std::string::npos) << wrong << ": " << e.message;
    }
}

TEST(KernelSymbolsKallsyms, WrongMarkerIsAnError)
{
    Built built = build(kernel_symbols(600));
    put32(built.image, built.markers_at + 4, get32(built.image, built.markers_at + 4) + 2);
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("kallsyms_markers[1]"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, UnsortedOffsetsAreAnError)
{
    Built built = build(kernel_symbols(600));
    // Symbols 10 and 11 (fillers, increasing) swapped.
    uint32_t a = get32(built.image, built.offsets_at + 4 * 10), b = get32(built.image, built.offsets_at + 4 * 11);
    put32(built.image, built.offsets_at + 4 * 10, b);
    put32(built.image, built.offsets_at + 4 * 11, a);
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("sorted by address"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, RelativeBaseOutsideTheKernelIsAnError)
{
    Built built = build(kernel_symbols(600));
    put32(built.image, built.relative_base_at + 4, 0);  // 0x0000000081000000
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("kallsyms_relative_base"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, DuplicateSeqIsAnError)
{
    Built built = build(kernel_symbols(600), {.seqs_entry_size = 3});
    for (int i = 0; i < 3; i++)
        built.image[built.seqs_at + 3 + i] = built.image[built.seqs_at + i];
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("kallsyms_seqs_of_names"), std::string::npos) << e.message;
}

TEST(KernelSymbolsKallsyms, TruncatedImageIsAnError)
{
    Built built = build(kernel_symbols(600));
    built.image.resize(built.token_index_at + 100);  // the index cut short
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("no kallsyms tables"), std::string::npos) << e.message;
}

// System.map

class SystemMap : public ::testing::Test {
protected:
    std::string write(const std::string& text)
    {
        // ctest runs each test in its own process, in parallel: one file each.
        m_path = ::testing::TempDir() + "bootsim_System.map." + std::to_string(getpid()) + "." +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::ofstream(m_path, std::ios::binary) << text;
        return m_path;
    }
    void TearDown() override
    {
        if (!m_path.empty())
            std::remove(m_path.c_str());
    }

private:
    std::string m_path;
};

TEST_F(SystemMap, ParsesNmOutput)
{
    std::string path = write("0000000000000000 D __per_cpu_start\n"
                             "ffffffff81000000 T _text\n"
                             "ffffffff81000000 T startup_64\n"
                             "ffffffff810001f0 t verify_cpu\r\n"
                             "\n"
                             "ffffffff8307be7d t populate_rootfs\n"
                             "ffffffff83079e46 T start_kernel\n"
                             "ffffffff84430000 B _end");  // no final newline
    auto symbols = KernelSymbols::from_system_map(path);
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    EXPECT_STREQ(symbols->source(), "System.map");
    ASSERT_EQ(symbols->size(), 7u);
    // Sorted by address; the two at _text keep their file order.
    EXPECT_EQ(symbols->symbols()[1].name, "_text");
    EXPECT_EQ(symbols->symbols()[2].name, "startup_64");
    EXPECT_EQ(symbols->symbols()[4].name, "start_kernel");
    EXPECT_EQ(symbols->symbols()[5].name, "populate_rootfs");
    EXPECT_EQ(symbols->symbols()[3].type, 't');
    EXPECT_EQ(symbols->symbols()[3].name, "verify_cpu");

    EXPECT_EQ(symbols->address_of("verify_cpu"), 0xffffffff810001f0u);
    EXPECT_EQ(symbols->address_of("__per_cpu_start"), 0u);
    EXPECT_EQ(symbols->address_of("missing"), std::nullopt);
    EXPECT_EQ(symbols->at_or_below(text + 0x10)->name, "_text");
    EXPECT_EQ(symbols->describe(0xffffffff8307be7d + 0x1c), "populate_rootfs+0x1c");
    EXPECT_EQ(symbols->describe(0xffffffff84430000), "_end");
    EXPECT_EQ(symbols->describe(0xffffffff84430001), "0xffffffff84430001");
}

TEST_F(SystemMap, AddressBelowEverySymbolHasNone)
{
    auto symbols = KernelSymbols::parse_system_map("ffffffff81000000 T _text\n", "System.map");
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    EXPECT_EQ(symbols->at_or_below(text - 1), nullptr);
    EXPECT_EQ(symbols->describe(0x1000), "0x1000");
}

TEST_F(SystemMap, MalformedLineNamesItsNumber)
{
    const char* bad_lines[] = {
        "ffffffff8100000g T bad_hex",
        "ffffffff81000000T no_space",
        "ffffffff81000000 T",
        "ffffffff81000000 T ",
        "ffffffff81000000 1 digit_type",
        "ffffffff81000000  T two_spaces",
        "1ffffffff81000000 T seventeen_digits",
        "0xffffffff81000000 T prefixed",
        "ffffffff81000000 T name with spaces",
        " ffffffff81000000 T leading_space",
    };
    for (const char* bad : bad_lines) {
        std::string path = write(std::string("ffffffff81000000 T _text\n\nffffffff81000010 T ok\n") + bad + "\n");
        auto symbols = KernelSymbols::from_system_map(path);
        ASSERT_FALSE(symbols.ok()) << bad;
        EXPECT_EQ(symbols.error().kind, ErrorKind::BadFormat) << bad;
        EXPECT_NE(symbols.error().message.find(path + ":4:"), std::string::npos) << symbols.error().message;
    }
}

TEST_F(SystemMap, MissingEmptyAndBlankFilesAreErrors)
{
    auto missing = KernelSymbols::from_system_map(::testing::TempDir() + "bootsim_no_such_System.map");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, ErrorKind::FileMissing);

    auto empty = KernelSymbols::from_system_map(write(""));
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().kind, ErrorKind::FileEmpty);

    auto blank = KernelSymbols::from_system_map(write("\n\n"));
    ASSERT_FALSE(blank.ok());
    EXPECT_EQ(blank.error().kind, ErrorKind::BadFormat);
    EXPECT_NE(blank.error().message.find("no symbols"), std::string::npos) << blank.error().message;
}

}  // namespace
}  // namespace bootsim

namespace bootsim {
namespace {

// Debian's 6.12: the names first, then the token tables, then the offsets
// with their relative base and kallsyms_seqs_of_names (scripts/kallsyms.c
// since v6.4).
TEST(KernelSymbolsKallsyms, RecoversTheV64LayoutWithOffsetsAfterTheTokenIndex)
{
    auto expected = kernel_symbols(600);
    Built built = build(expected, {.seqs_entry_size = 4, .layout = Layout::V64});
    ASSERT_EQ(built.offsets_at, built.token_index_at + 512);
    ASSERT_LT(built.names_at, built.token_table_at);
    expect_recovers(expected, built);
}

// Debian's 7.x: the tables packed (no padding between kallsyms_num_syms and
// kallsyms_names, the token index right after the token table, the offsets
// right after it), each offset relative to its own address (no relative
// base, no absolute per-CPU symbols).
TEST(KernelSymbolsKallsyms, RecoversThe7xLayoutWithPlaceRelativeOffsets)
{
    auto expected = without_percpu(kernel_symbols(600));
    Built built = build(expected, {.seqs_entry_size = 3, .layout = Layout::V7});
    ASSERT_EQ(built.names_at, built.num_syms_at + 4);
    ASSERT_NE(built.token_index_at % 8, 0u) << "the packed seams this test is about";
    ASSERT_NE(built.offsets_at % 8, 0u);
    ASSERT_EQ(built.relative_base_at, 0u);
    expect_recovers(expected, built);
}

TEST(KernelSymbolsKallsyms, PlaceRelativeOffsetOutsideTheKernelIsAnError)
{
    Built built = build(without_percpu(kernel_symbols(300)), {.layout = Layout::V7});
    put32(built.image, built.offsets_at + 4 * 5, 0x7fffffff);
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("place-relative"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("kallsyms_offsets[5]"), std::string::npos) << e.message;
}

// A base-relative table read as place-relative can decode into sorted
// addresses in range; _text pins the right reading.
TEST(KernelSymbolsKallsyms, TextSymbolMustSitAtTheImageStart)
{
    auto expected = kernel_symbols(300);
    Built built = build(expected, {.layout = Layout::V64});
    // Move every relative symbol by one page: still sorted, still in range.
    uint64_t base = fake::get32(built.image, built.relative_base_at) |
                    uint64_t(fake::get32(built.image, built.relative_base_at + 4)) << 32;
    base += 0x1000;
    put32(built.image, built.relative_base_at, uint32_t(base));
    put32(built.image, built.relative_base_at + 4, uint32_t(base >> 32));
    Error e = kallsyms_error(built.image);
    EXPECT_NE(e.message.find("_text decodes to 0xffffffff81001000"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace bootsim
