// lay_out_kernel() and relocate(): what arch/x86/boot/compressed/misc.c
// (v6.1 to 7.x) does to the decompressed vmlinux, done on the host. parse_elf()
// moves each PT_LOAD segment to output + p_paddr - LOAD_PHYSICAL_ADDR;
// handle_relocations() then walks the table the build appended after the ELF
// (arch/x86/boot/compressed/Makefile: vmlinux.bin + vmlinux.relocs).
// Every field is checked against the buffer before it is used: this parses
// bytes that came out of an untrusted file.

#include <algorithm>
#include <cstring>

#include "core/huge_pages.h"
#include "loader/kernel_image.h"

namespace bootsim {

namespace {

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }
void put_le32(uint8_t* p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = uint8_t(v >> (8 * i));
}
void put_le64(uint8_t* p, uint64_t v)
{
    put_le32(p, uint32_t(v));
    put_le32(p + 4, uint32_t(v >> 32));
}

// include/uapi/linux/elf.h. A 64-bit kernel's vmlinux is ELF64 (x86-64), a
// 32-bit kernel's ELF32 (i386); parse_elf() reads the one its build has.
constexpr uint8_t elfclass32 = 1;
constexpr uint8_t elfclass64 = 2;
constexpr uint8_t elfdata2lsb = 1;
constexpr uint16_t em_386 = 3;
constexpr uint16_t em_x86_64 = 62;
constexpr uint32_t pt_load = 1;

// The sizes of one ELF class's headers.
struct ElfClass {
    bool wide;             // ELF64
    size_t ehdr_size;      // sizeof(ElfN_Ehdr)
    size_t phdr_size;      // sizeof(ElfN_Phdr): parse_elf() steps by it
    uint16_t machine;
    const char* name;      // "ELFCLASS64"
    const char* machine_name;
};
constexpr ElfClass elf64{true, 64, 56, em_x86_64, "ELFCLASS64", "EM_X86_64"};
constexpr ElfClass elf32{false, 52, 32, em_386, "ELFCLASS32", "EM_386"};

// With KASLR the whole image must fit in KERNEL_IMAGE_SIZE (1 GiB on
// x86-64, asm/page_64_types.h); a 32-bit kernel's lowmem is smaller still.
constexpr uint64_t kernel_image_size_max = 1ull << 30;

// extract_kernel() checks the output's alignment against MIN_KERNEL_ALIGN
// (asm/boot.h): PMD_SHIFT on x86-64, PAGE_SHIFT + THREAD_SIZE_ORDER (8 KiB)
// on x86-32.
constexpr uint64_t min_kernel_align_64 = 0x200000;
constexpr uint64_t min_kernel_align_32 = 0x2000;

struct ElfHeader {
    const ElfClass* cls;
    uint64_t entry, phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum;
};

struct ProgramHeader {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

// [begin, end) ranges in bytes.
bool overlap(uint64_t a_begin, uint64_t a_end, uint64_t b_begin, uint64_t b_end)
{
    return a_begin < b_end && b_begin < a_end;
}

// `count` entries of `entry_size` bytes at `offset` must lie inside `size`.
Result<uint64_t> table_end(const char* what, uint64_t offset, uint64_t count, uint64_t entry_size, size_t size)
{
    uint64_t bytes = 0, end = 0;
    if (__builtin_mul_overflow(count, entry_size, &bytes) || __builtin_add_overflow(offset, bytes, &end) ||
        end > size)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel: {} ({} x {} bytes at offset 0x{:x}) runs past the end of the "
                          "{}-byte ELF",
                          what, count, entry_size, offset, size);
    return end;
}

Result<ElfHeader> parse_header(std::span<const uint8_t> elf)
{
    if (elf.size() < elf32.ehdr_size)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel is {} bytes, too short for an ELF header (52 bytes)", elf.size());
    const uint8_t* e = elf.data();
    if (std::memcmp(e, "\x7f" "ELF", 4) != 0)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel: not an ELF file (expected 7f 45 4c 46 at offset 0, found "
                          "{:02x} {:02x} {:02x} {:02x})",
                          e[0], e[1], e[2], e[3]);
    if (e[4] != elfclass64 && e[4] != elfclass32)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel: e_ident[EI_CLASS] is {}, expected {} (ELFCLASS64) or {} (ELFCLASS32)",
                          e[4], elfclass64, elfclass32);
    const ElfClass& cls = e[4] == elfclass64 ? elf64 : elf32;
    if (elf.size() < cls.ehdr_size)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel is {} bytes, too short for an {} header ({} bytes)", elf.size(),
                          cls.name, cls.ehdr_size);
    if (e[5] != elfdata2lsb)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel: e_ident[EI_DATA] is {}, expected {} (little-endian)", e[5],
                          elfdata2lsb);
    if (le16(e + 18) != cls.machine)
        return make_error(ErrorKind::BadFormat, "decompressed kernel: e_machine is {}, expected {} ({} for {})",
                          le16(e + 18), cls.machine, cls.machine_name, cls.name);
    ElfHeader h = cls.wide ? ElfHeader{
        .cls = &cls,
        .entry = le64(e + 24),
        .phoff = le64(e + 32),
        .shoff = le64(e + 40),
        .phentsize = le16(e + 54),
        .phnum = le16(e + 56),
        .shentsize = le16(e + 58),
        .shnum = le16(e + 60),
    } : ElfHeader{
        .cls = &cls,
        .entry = le32(e + 24),
        .phoff = le32(e + 28),
        .shoff = le32(e + 32),
        .phentsize = le16(e + 42),
        .phnum = le16(e + 44),
        .shentsize = le16(e + 46),
        .shnum = le16(e + 48),
    };
    if (h.phentsize != cls.phdr_size)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel: e_phentsize is {}, expected {} (parse_elf() reads "
                          "sizeof(Elf{}_Phdr) per entry)",
                          h.phentsize, cls.phdr_size, cls.wide ? 64 : 32);
    if (h.phnum == 0)
        return make_error(ErrorKind::BadFormat, "decompressed kernel: e_phnum is 0, expected PT_LOAD segments");
    return h;
}

ProgramHeader read_phdr(const ElfClass& cls, const uint8_t* p)
{
    if (!cls.wide)
        return ProgramHeader{
            .type = le32(p),
            .offset = le32(p + 4),
            .vaddr = le32(p + 8),
            .paddr = le32(p + 12),
            .filesz = le32(p + 16),
            .memsz = le32(p + 20),
        };
    return ProgramHeader{
        .type = le32(p),
        .offset = le64(p + 8),
        .vaddr = le64(p + 16),
        .paddr = le64(p + 24),
        .filesz = le64(p + 32),
        .memsz = le64(p + 40),
    };
}

// handle_relocations() reads the table backwards from the end of the
// decompressed buffer, one 32-bit word at a time, and never below `floor`
// (the end of the ELF proper).
class RelocReader {
public:
    // `kernel_map`: the link-time virtual address of physical 0
    // (__START_KERNEL_map, or PAGE_OFFSET on x86-32); `sign_extend`: the
    // entries are 32-bit values sign-extended to 64 bits (x86-64).
    RelocReader(std::span<const uint8_t> bytes, uint64_t floor, uint64_t kernel_map, bool sign_extend)
        : m_bytes(bytes), m_pos(bytes.size()), m_floor(floor), m_kernel_map(kernel_map), m_sign_extend(sign_extend)
    {
    }

    // Reads one list up to its zero terminator, turning each entry (a kernel
    // virtual address truncated to 32 bits) into an offset in the image.
    Status read_list(const char* kind, unsigned width, uint64_t load_physical_addr, uint64_t image_size,
                     std::vector<uint32_t>& sites)
    {
        for (;;) {
            if (m_pos < m_floor + 4)
                return make_error(ErrorKind::BadFormat,
                                  "decompressed kernel: the {} relocation list has no zero terminator before the "
                                  "ELF's end at 0x{:x} (is the relocation table missing?)",
                                  kind, m_floor);
            m_pos -= 4;
            uint32_t word = le32(m_bytes.data() + m_pos);
            if (word == 0)
                return Ok{};
            // "stored as a 32-bit value which is sign extended to 64 bits"
            uint64_t address = m_sign_extend ? uint64_t(int64_t(int32_t(word))) : word;
            uint64_t offset = address - m_kernel_map - load_physical_addr;
            if (image_size < width || offset > image_size - width)
                return make_error(ErrorKind::BadFormat,
                                  "decompressed kernel: {} relocation #{} at 0x{:x} is 0x{:08x} (kernel address "
                                  "0x{:x}), outside the kernel image 0x{:x}-0x{:x}",
                                  kind, sites.size() + 1, m_pos, word, address,
                                  m_kernel_map + load_physical_addr,
                                  m_kernel_map + load_physical_addr + image_size);
            sites.push_back(uint32_t(offset));
        }
    }

    uint64_t position() const { return m_pos; }

private:
    std::span<const uint8_t> m_bytes;
    uint64_t m_pos;
    uint64_t m_floor;
    uint64_t m_kernel_map;
    bool m_sign_extend;
};

}  // namespace

Result<KernelImage> lay_out_kernel(std::span<const uint8_t> elf)
{
    ElfHeader h = TRY(parse_header(elf));
    uint64_t elf_end = TRY(table_end("the program header table (e_phoff, e_phnum)", h.phoff, h.phnum,
                                     h.cls->phdr_size, elf.size()));
    elf_end = std::max<uint64_t>(elf_end, h.cls->ehdr_size);
    if (h.shoff != 0 && h.shnum != 0)
        elf_end = std::max(elf_end, TRY(table_end("the section header table (e_shoff, e_shnum)", h.shoff,
                                                  h.shnum, h.shentsize, elf.size())));

    std::vector<ProgramHeader> loads;
    for (uint16_t i = 0; i < h.phnum; i++) {
        ProgramHeader p = read_phdr(*h.cls, elf.data() + h.phoff + i * h.cls->phdr_size);
        if (p.type != pt_load)
            continue;  // parse_elf(): "Ignore other PT_*"
        uint64_t end = 0;
        if (__builtin_add_overflow(p.offset, p.filesz, &end) || end > elf.size())
            return make_error(ErrorKind::BadFormat,
                              "decompressed kernel: program header {}: p_offset 0x{:x} + p_filesz 0x{:x} runs past "
                              "the end of the {}-byte ELF",
                              i, p.offset, p.filesz, elf.size());
        if (p.filesz > p.memsz)
            return make_error(ErrorKind::BadFormat,
                              "decompressed kernel: program header {}: p_filesz 0x{:x} is larger than p_memsz 0x{:x}",
                              i, p.filesz, p.memsz);
        elf_end = std::max(elf_end, end);
        loads.push_back(p);
    }
    if (loads.empty())
        return make_error(ErrorKind::BadFormat, "decompressed kernel: none of its {} program headers is PT_LOAD",
                          h.phnum);

    KernelImage k;
    // LOAD_PHYSICAL_ADDR is CONFIG_PHYSICAL_START rounded up to
    // CONFIG_PHYSICAL_ALIGN (asm/boot.h); vmlinux.lds.S places the first
    // segment there, so the lowest p_paddr is that constant.
    const ProgramHeader& lowest = *std::min_element(loads.begin(), loads.end(), [](auto& a, auto& b) {
        return a.paddr < b.paddr;
    });
    k.load_physical_addr = lowest.paddr;
    // The kernel's text segment is linked at its physical address plus the
    // start of the kernel mapping: __START_KERNEL_map on x86-64, PAGE_OFFSET
    // (CONFIG_PAGE_OFFSET, the user/kernel split) on x86-32.
    k.kernel_map = lowest.vaddr - lowest.paddr;
    k.wide = h.cls->wide;
    k.min_kernel_align = k.wide ? min_kernel_align_64 : min_kernel_align_32;
    uint64_t image_size = 0;
    for (const ProgramHeader& p : loads) {
        uint64_t offset = p.paddr - k.load_physical_addr;
        uint64_t end = 0;
        if (__builtin_add_overflow(offset, p.filesz, &end) || end > kernel_image_size_max)
            return make_error(ErrorKind::BadFormat,
                              "decompressed kernel: the PT_LOAD segment at p_paddr 0x{:x} (0x{:x} bytes) ends more "
                              "than 1 GiB (KERNEL_IMAGE_SIZE) above LOAD_PHYSICAL_ADDR 0x{:x}",
                              p.paddr, p.filesz, k.load_physical_addr);
        image_size = std::max(image_size, end);
        k.segments.push_back(LoadSegment{.offset = offset, .file_size = p.filesz, .mem_size = p.memsz});
    }
    if (h.entry < k.load_physical_addr || h.entry - k.load_physical_addr >= image_size)
        return make_error(ErrorKind::BadFormat,
                          "decompressed kernel: e_entry 0x{:x} lies outside its PT_LOAD segments (0x{:x}-0x{:x})",
                          h.entry, k.load_physical_addr, k.load_physical_addr + image_size);
    k.entry_offset = h.entry - k.load_physical_addr;

    // The lists, in the order handle_relocations() walks them, from the end
    // of the buffer down. arch/x86/tools/relocs.c writes the table right
    // after the stripped ELF, so it ends at the ELF's end exactly. A 32-bit
    // kernel has one list (32-bit sites, the physical offset added). A
    // 64-bit one up to 6.x has three (32-bit, inverse 32-bit, 64-bit); once
    // per-CPU data stopped being zero-based (Debian's 7.x) there are no
    // inverse 32-bit relocations and the table holds two (32-bit, 64-bit).
    // Which one it is shows in where the second list ends, not in a
    // version number.
    RelocReader reader(elf, elf_end, k.kernel_map, k.wide);
    TRY(reader.read_list("32-bit", 4, k.load_physical_addr, image_size, k.relocs32));
    if (!k.wide) {
        if (reader.position() != elf_end)
            return make_error(ErrorKind::BadFormat,
                              "decompressed kernel: 0x{:x} bytes between the ELF's end at 0x{:x} and the 32-bit "
                              "relocation list, expected none (a 32-bit kernel's table has one list)",
                              reader.position() - elf_end, elf_end);
    } else {
        std::vector<uint32_t> second;
        TRY(reader.read_list("second (64-bit or inverse 32-bit)", 4, k.load_physical_addr, image_size, second));
        if (reader.position() == elf_end) {
            // Two lists: the second holds 64-bit sites, so they must leave room for 8 bytes.
            for (uint32_t site : second)
                if (image_size < 8 || site > image_size - 8)
                    return make_error(ErrorKind::BadFormat,
                                      "decompressed kernel: 64-bit relocation at image offset 0x{:x} runs past the "
                                      "kernel image (0x{:x} bytes)",
                                      site, image_size);
            k.relocs64 = std::move(second);
        } else {
            k.relocs32_inverse = std::move(second);
            TRY(reader.read_list("64-bit", 8, k.load_physical_addr, image_size, k.relocs64));
        }
    }
    uint64_t relocs_begin = reader.position();

    // parse_elf() moves the segments in place, in program-header order, and
    // handle_relocations() reads the table afterwards from the same buffer.
    // Copying from the untouched buffer gives the same bytes only if no
    // segment lands on the file bytes of a later one or on the table; the
    // kernel's linker script guarantees it, and a kernel that broke it could
    // not boot, so say so rather than model a clobbered copy.
    for (size_t i = 0; i < loads.size(); i++) {
        const LoadSegment& s = k.segments[i];
        uint64_t dest_end = s.offset + s.file_size;
        for (size_t j = i + 1; j < loads.size(); j++)
            if (overlap(s.offset, dest_end, loads[j].offset, loads[j].offset + loads[j].filesz))
                return make_error(ErrorKind::Unsupported,
                                  "decompressed kernel: PT_LOAD segment {} moves to 0x{:x}-0x{:x}, over the file "
                                  "bytes of segment {} (0x{:x}-0x{:x}) before parse_elf() has moved them",
                                  i, s.offset, dest_end, j, loads[j].offset, loads[j].offset + loads[j].filesz);
        if (overlap(s.offset, dest_end, relocs_begin, elf.size()))
            return make_error(ErrorKind::Unsupported,
                              "decompressed kernel: PT_LOAD segment {} moves to 0x{:x}-0x{:x}, over the relocation "
                              "table (0x{:x}-0x{:x}) before handle_relocations() reads it",
                              i, s.offset, dest_end, relocs_begin, elf.size());
    }

    // Bytes between segments are left as they were in the guest; here they
    // are zero, and check_handoff() compares only the segments' file bytes.
    k.image.reserve(image_size);
    advise_huge_pages(k.image.data(), image_size);
    k.image.resize(image_size);
    for (size_t i = 0; i < loads.size(); i++)
        std::memcpy(k.image.data() + k.segments[i].offset, elf.data() + loads[i].offset, loads[i].filesz);
    return k;
}

Result<KernelImage> decompress_kernel(const BzImage& bz)
{
    auto prefixed = [&](const Error& e) { return Error{e.kind, bz.path + ": " + e.message}; };
    if (!bz.payload_problem.empty())
        return prefixed(Error{ErrorKind::Unsupported, bz.payload_problem});
    auto bytes = decompress_payload(bz.compression, bz.payload(), bz.decompressed_size);
    if (!bytes)
        return prefixed(bytes.error());
    auto kernel = lay_out_kernel(*bytes);
    if (!kernel)
        return prefixed(kernel.error());
    return kernel;
}

std::vector<uint8_t> relocate(const KernelImage& kernel, int64_t delta)
{
    std::vector<uint8_t> out = kernel.image;
    uint8_t* base = out.data();
    // Offsets were validated against the image in lay_out_kernel(). The
    // arithmetic wraps like the kernel's: *(uint32_t *)ptr += delta,
    // *(int32_t *)ptr -= delta, *(uint64_t *)ptr += delta.
    uint32_t d32 = uint32_t(uint64_t(delta));
    for (uint32_t site : kernel.relocs32)
        put_le32(base + site, le32(base + site) + d32);
    for (uint32_t site : kernel.relocs32_inverse)
        put_le32(base + site, le32(base + site) - d32);
    for (uint32_t site : kernel.relocs64)
        put_le64(base + site, le64(base + site) + uint64_t(delta));
    return out;
}

}  // namespace bootsim
