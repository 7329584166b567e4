// Reading and validating a bzImage against Documentation/arch/x86/boot.rst.
// Header fields are read through the kernel's own `struct setup_header`
// (asm/bootparam.h from linux-libc-dev), so no offset is copied by hand; the
// static_asserts below check that layout against boot.rst's table.

#include "loader/bzimage.h"

#include <asm/bootparam.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace bootsim {

namespace {

// boot.rst, "The Real-Mode Kernel Header": the setup header starts at 0x1f1
// of the file, where it also sits inside boot_params.
constexpr size_t header_start = offsetof(struct boot_params, hdr);
constexpr size_t at(size_t field_offset) { return header_start + field_offset; }

constexpr size_t boot_flag_at = at(offsetof(struct setup_header, boot_flag));
constexpr size_t jump_at = at(offsetof(struct setup_header, jump));
constexpr size_t magic_at = at(offsetof(struct setup_header, header));
constexpr size_t version_at = at(offsetof(struct setup_header, version));
constexpr size_t header_end_max = header_start + sizeof(struct setup_header);

// Cross-checks against boot.rst's offset table: a different uapi header
// would fail to build rather than misread every kernel.
static_assert(header_start == 0x1f1);
static_assert(boot_flag_at == 0x1fe);
static_assert(jump_at == 0x200);
static_assert(magic_at == 0x202);
static_assert(version_at == 0x206);
static_assert(at(offsetof(struct setup_header, xloadflags)) == 0x236);
static_assert(at(offsetof(struct setup_header, payload_offset)) == 0x248);
static_assert(at(offsetof(struct setup_header, init_size)) == 0x260);
static_assert(header_end_max == 0x26c);
// The fields are little-endian in the file and read by memcpy.
static_assert(std::endian::native == std::endian::little);

constexpr uint16_t min_version = 0x020c;  // 2.12: xloadflags, XLF_KERNEL_64
// Protocol 2.12 headers run at least to the end of handover_offset (0x268).
constexpr size_t header_end_min = at(offsetof(struct setup_header, kernel_info_offset));
constexpr uint16_t boot_flag_value = 0xaa55;
constexpr uint8_t short_jump_opcode = 0xeb;

std::string hex_bytes(std::span<const uint8_t> bytes)
{
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i)
        out += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
    return out;
}

std::string version_text(uint16_t version)
{
    return fmt::format("{}.{:02}", version >> 8, version & 0xff);
}

// boot.rst: "The end of setup header can be calculated as follows:
// 0x0202 + byte value at offset 0x0201". The byte is a signed jump offset.
size_t header_end(std::span<const uint8_t> file)
{
    return magic_at + static_cast<int8_t>(file[jump_at + 1]);
}

// The header as the file holds it: fields past the end the jump gives
// belong to a newer protocol than the kernel's and read as zero.
struct setup_header raw_header(std::span<const uint8_t> file)
{
    struct setup_header h;
    std::memset(&h, 0, sizeof h);
    size_t end = std::min({header_end(file), header_end_max, file.size()});
    if (end > header_start)
        std::memcpy(&h, file.data() + header_start, end - header_start);
    return h;
}

SetupHeader decode(const struct setup_header& h)
{
    SetupHeader s;
    s.setup_sects = h.setup_sects;
    s.version = h.version;
    s.loadflags = h.loadflags;
    s.code32_start = h.code32_start;
    s.initrd_addr_max = h.initrd_addr_max;
    s.kernel_alignment = h.kernel_alignment;
    s.relocatable_kernel = h.relocatable_kernel;
    s.min_alignment = h.min_alignment;
    s.xloadflags = h.xloadflags;
    s.cmdline_size = h.cmdline_size;
    s.payload_offset = h.payload_offset;
    s.payload_length = h.payload_length;
    s.pref_address = h.pref_address;
    s.init_size = h.init_size;
    s.handover_offset = h.handover_offset;
    s.kernel_info_offset = h.kernel_info_offset;
    return s;
}

size_t setup_size_of(uint8_t setup_sects)
{
    // boot.rst, "setup_sects": "If this field is 0, the real value is 4."
    return (size_t(setup_sects ? setup_sects : 4) + 1) * 512;
}

// The protected-mode code is syssize 16-byte paragraphs (boot.rst,
// "syssize"; trustworthy from protocol 2.04). Signed distribution kernels
// carry an Authenticode signature after it, which is not kernel code.
size_t protected_mode_size(std::span<const uint8_t> file)
{
    size_t setup = setup_size_of(file[header_start]);
    size_t rest = file.size() > setup ? file.size() - setup : 0;
    uint64_t syssize = uint64_t(raw_header(file).syssize) * 16;
    return syssize ? syssize : rest;
}

struct Magic {
    Compression compression;
    std::array<uint8_t, 6> bytes;
    size_t length;
};

// The formats arch/x86/boot/compressed can decompress, by the magic their
// compressors write (the kernel's Makefile.lib cmd_gzip, cmd_xzkern, ...).
constexpr Magic magics[] = {
    {Compression::Gzip, {0x1f, 0x8b}, 2},
    {Compression::Bzip2, {'B', 'Z', 'h'}, 3},
    {Compression::Lzma, {0x5d, 0x00, 0x00}, 3},
    {Compression::Xz, {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
    {Compression::Lzo, {0x89, 'L', 'Z', 'O'}, 4},
    {Compression::Lz4, {0x02, 0x21, 0x4c, 0x18}, 4},  // legacy format, 0x184C2102 LE
    {Compression::Zstd, {0x28, 0xb5, 0x2f, 0xfd}, 4},
};

uint32_t read_le32(std::span<const uint8_t> bytes)
{
    uint32_t value;
    std::memcpy(&value, bytes.data(), sizeof value);
    return value;
}

// Checks everything up to and including the header fields themselves.
Status check_header(const std::string& name, std::span<const uint8_t> file)
{
    if (file.empty())
        return make_error(ErrorKind::FileEmpty, "{}: empty file, expected a bzImage", name);

    static constexpr uint8_t elf_magic[] = {0x7f, 'E', 'L', 'F'};
    if (file.size() >= 4 && std::equal(elf_magic, elf_magic + 4, file.begin()))
        return make_error(ErrorKind::BadFormat,
                          "{}: this is an ELF file (vmlinux?), not a bzImage (boot "
                          "arch/x86/boot/bzImage or /boot/vmlinuz-* instead)", name);

    static constexpr uint8_t hdrs[] = {'H', 'd', 'r', 'S'};
    if (file.size() >= magic_at + 4 && !std::equal(hdrs, hdrs + 4, file.begin() + magic_at))
        return make_error(ErrorKind::BadFormat,
                          "{}: not a bzImage (expected \"HdrS\" at 0x202, found {})", name,
                          hex_bytes(file.subspan(magic_at, 4)));

    if (file.size() < header_end_max)
        return make_error(ErrorKind::Truncated,
                          "{}: truncated: {} bytes, too short for a bzImage (the setup header "
                          "alone runs to 0x{:x}, {} bytes)", name, file.size(), header_end_max,
                          header_end_max);

    uint16_t boot_flag = uint16_t(file[boot_flag_at] | file[boot_flag_at + 1] << 8);
    if (boot_flag != boot_flag_value)
        return make_error(ErrorKind::BadFormat,
                          "{}: not a bzImage (expected boot_flag 0xaa55 at 0x1fe, found 0x{:04x})",
                          name, boot_flag);

    SetupHeader h = decode(raw_header(file));
    if (h.version < min_version)
        return make_error(ErrorKind::Unsupported,
                          "{}: boot protocol {} is too old: 2.12 or later needed (xloadflags, "
                          "which say whether the kernel has a 64-bit entry)", name, version_text(h.version));

    size_t end = header_end(file);
    if (file[jump_at] != short_jump_opcode || end < header_end_min)
        return make_error(ErrorKind::BadFormat,
                          "{}: bad setup header: the jump at 0x200 ({}) puts its end at 0x{:x}, "
                          "expected a short jump (eb) to 0x{:x} or later for protocol {}",
                          name, hex_bytes(file.subspan(jump_at, 2)), end, header_end_min,
                          version_text(h.version));

    // boot.rst, "loadflags": a zImage (bit 0 clear) loads at 0x10000 and
    // has no 64-bit entry.
    if (!(h.loadflags & LOADED_HIGH))
        return make_error(ErrorKind::Unsupported,
                          "{}: a zImage (loadflags 0x{:02x}, LOADED_HIGH clear): only a bzImage "
                          "loaded at 1 MiB or above is supported", name, h.loadflags);
    return Ok{};
}

// Checks that what the header promises lies inside the file and makes sense.
Status check_layout(const std::string& name, std::span<const uint8_t> file)
{
    SetupHeader h = decode(raw_header(file));
    uint32_t syssize = raw_header(file).syssize;
    uint64_t setup = setup_size_of(h.setup_sects);
    if (setup > file.size())
        return make_error(ErrorKind::Truncated,
                          "{}: truncated: setup_sects {} promises {} bytes of setup code, the "
                          "file has {} bytes", name, h.setup_sects, setup, file.size());

    uint64_t code = protected_mode_size(file);
    if (setup + code > file.size())
        return make_error(ErrorKind::Truncated,
                          "{}: truncated: the header promises {} bytes (setup {} + syssize 0x{:x} "
                          "paragraphs), the file has {} bytes", name, setup + code, setup,
                          syssize, file.size());

    uint64_t payload_end = uint64_t(h.payload_offset) + h.payload_length;
    if (setup + payload_end > file.size())
        return make_error(ErrorKind::Truncated,
                          "{}: truncated: the header promises {} bytes (setup {} + payload_offset "
                          "0x{:x} + payload_length 0x{:x}), the file has {} bytes",
                          name, setup + payload_end, setup, h.payload_offset, h.payload_length,
                          file.size());
    if (h.init_size == 0)
        return make_error(ErrorKind::BadFormat,
                          "{}: init_size is 0: the header does not say how much memory the "
                          "kernel needs to decompress", name);

    if (h.relocatable_kernel && !std::has_single_bit(h.kernel_alignment))
        return make_error(ErrorKind::BadFormat,
                          "{}: kernel_alignment 0x{:x} is not a power of two", name,
                          h.kernel_alignment);

    // boot.rst, "pref_address": where a non-relocatable kernel must go; it
    // has to be above the first MiB the loader's own structures use.
    if (h.pref_address < 0x100000)
        return make_error(ErrorKind::BadFormat,
                          "{}: pref_address 0x{:x} is below 1 MiB, expected 0x100000 or above",
                          name, h.pref_address);
    return Ok{};
}

}  // namespace

const char* compression_name(Compression c)
{
    switch (c) {
    case Compression::Gzip: return "gzip";
    case Compression::Bzip2: return "bzip2";
    case Compression::Lzma: return "lzma";
    case Compression::Xz: return "xz";
    case Compression::Lzo: return "lzo";
    case Compression::Lz4: return "lz4";
    case Compression::Zstd: return "zstd";
    case Compression::Unknown: return "unknown";
    }
    return "unknown";
}

std::span<const uint8_t> BzImage::setup_header_bytes() const
{
    size_t end = std::min(header_end(file), file.size());
    return std::span<const uint8_t>(file).subspan(header_start, end - header_start);
}

size_t BzImage::setup_size() const
{
    return setup_size_of(header.setup_sects);
}

std::span<const uint8_t> BzImage::protected_mode_code() const
{
    return std::span<const uint8_t>(file).subspan(setup_size(), protected_mode_size(file));
}

std::span<const uint8_t> BzImage::payload() const
{
    if (!payload_problem.empty())
        return {};
    return protected_mode_code().subspan(header.payload_offset, header.payload_length);
}

Result<Compression> identify_compression(std::span<const uint8_t> payload)
{
    for (const Magic& m : magics) {
        if (payload.size() >= m.length &&
            std::equal(m.bytes.begin(), m.bytes.begin() + m.length, payload.begin()))
            return m.compression;
    }
    return make_error(ErrorKind::BadFormat,
                      "unknown payload compression (found {}; expected the magic of gzip, "
                      "bzip2, lzma, xz, lzo, lz4 or zstd)",
                      hex_bytes(payload.first(std::min<size_t>(payload.size(), 6))));
}

Result<BzImage> parse_bzimage(std::string name, std::vector<uint8_t> bytes)
{
    TRY(check_header(name, bytes));
    TRY(check_layout(name, bytes));

    BzImage bz;
    bz.path = std::move(name);
    bz.file = std::move(bytes);
    bz.header = decode(raw_header(bz.file));

    uint64_t payload_end = uint64_t(bz.header.payload_offset) + bz.header.payload_length;
    uint64_t code = bz.protected_mode_code().size();
    if (payload_end > code) {
        bz.payload_problem = fmt::format("the payload (payload_offset 0x{:x} + payload_length 0x{:x}) runs past the "
                                         "protected-mode code ({} bytes)",
                                         bz.header.payload_offset, bz.header.payload_length, code);
        return bz;
    }
    // The compressed kernel ends with its decompressed size (4 bytes).
    if (bz.header.payload_length < 8) {
        bz.payload_problem =
            fmt::format("payload_length {} is too small for a compressed kernel", bz.header.payload_length);
        return bz;
    }
    std::span<const uint8_t> payload = bz.payload();
    auto compression = identify_compression(payload);
    if (!compression) {
        bz.payload_problem = fmt::format("payload at 0x{:x}: {}", bz.setup_size() + bz.header.payload_offset,
                                         compression.error().message);
        return bz;
    }
    bz.compression = *compression;
    // Every compressor the kernel build uses appends the decompressed size
    // (scripts/Makefile.lib, size_append; gzip's own ISIZE is the same).
    bz.decompressed_size = read_le32(payload.last(4));
    return bz;
}

Result<BzImage> load_bzimage(const std::string& path)
{
    auto bytes = TRY(read_file(path, "kernel"));
    return parse_bzimage(path, std::move(bytes));
}

namespace {

// Nothing bootsim loads can be larger than the most guest RAM it gives.
constexpr uint64_t max_input = uint64_t(4) << 30;

// Opens `path` for reading if it is a regular file of a size bootsim can
// load; the descriptor is the caller's to close.
Result<int> open_input(const std::string& path, const char* what, struct stat& st)
{
    // Non-blocking, so that opening a FIFO with no writer does not wait
    // for one; only regular files are read (below).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return make_error(ErrorKind::FileMissing, "{}: cannot open: {}", path,
                          std::generic_category().message(errno));

    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return make_error(ErrorKind::FileMissing, "{}: cannot read the {}: {}", path, what,
                          std::generic_category().message(err));
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        return make_error(ErrorKind::FileMissing, "{}: is a directory, expected the {} file",
                          path, what);
    }
    // A device, FIFO or socket never ends (/dev/zero, /dev/urandom) or
    // waits for a writer: refuse it rather than read without end.
    if (!S_ISREG(st.st_mode)) {
        const char* kind = S_ISCHR(st.st_mode)    ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                           : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "not a file";
        ::close(fd);
        return make_error(ErrorKind::BadFormat, "{}: not a regular file ({}), expected the {} file", path, kind,
                          what);
    }
    if (uint64_t(st.st_size) > max_input) {
        ::close(fd);
        return make_error(ErrorKind::DoesNotFit, "{}: {} bytes, larger than any {} bootsim can load (4 GiB)", path,
                          uint64_t(st.st_size), what);
    }
    return fd;
}

}  // namespace

Status check_input_file(const std::string& path, const char* what)
{
    struct stat st;
    int fd = TRY(open_input(path, what, st));
    ::close(fd);
    return Ok{};
}

Result<std::vector<uint8_t>> read_file(const std::string& path, const char* what)
{
    struct stat st;
    int fd = TRY(open_input(path, what, st));

    // Read to end of file rather than trusting st_size: /proc-style files
    // report 0.
    std::vector<uint8_t> bytes;
    bytes.reserve(size_t(st.st_size));
    std::array<uint8_t, 1 << 16> chunk;
    for (;;) {
        ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return make_error(ErrorKind::FileMissing, "{}: cannot read the {}: {}", path, what,
                              std::generic_category().message(err));
        }
        if (n == 0)
            break;
        bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
        if (bytes.size() > max_input) {  // a file that grows while read
            ::close(fd);
            return make_error(ErrorKind::DoesNotFit, "{}: larger than any {} bootsim can load (4 GiB)", path, what);
        }
    }
    ::close(fd);

    if (bytes.empty())
        return make_error(ErrorKind::FileEmpty, "{}: empty file (0 bytes), expected the {}",
                          path, what);
    return bytes;
}

}  // namespace bootsim
