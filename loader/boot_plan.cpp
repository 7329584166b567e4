// Turning a validated bzImage into a BootPlan for the 64-bit or the 32-bit
// entry (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol", "32-bit
// Boot Protocol"): where each piece goes, the zero page, the e820 map, the
// GDT, the identity page tables (64-bit entry), and the CPU state at
// startup_64 or startup_32. Plain data only; core/ writes it.

#include "loader/boot_plan.h"

#include <asm/bootparam.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "loader/guest_layout.h"

namespace bootsim {

// The zero page's layout is the kernel's own struct; boot.rst, "The
// Real-Mode Kernel Header", puts the setup header at 0x1f1 in it.
static_assert(sizeof(struct boot_params) == 4096);
static_assert(offsetof(struct boot_params, hdr) == 0x1f1);
static_assert(offsetof(struct boot_params, e820_table) == 0x2d0);
static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0);

namespace {

constexpr uint64_t KiB = 1ull << 10;
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t GiB = 1ull << 30;
constexpr uint64_t page_size = 4 * KiB;
constexpr uint64_t large_page_size = 2 * MiB;

// RAM limits --mem accepts. Below 16 MiB no kernel decompresses (the stock
// ones load at 16 MiB). Above 3 GiB RAM would run into the 32-bit PCI/MMIO
// hole, which the machine does not model.
constexpr uint64_t min_mem = 16 * MiB;
constexpr uint64_t max_mem = 3 * GiB;

// boot.rst, "initrd_addr_max": absent before 2.03, "the maximum address is
// 0x37FFFFFF" then. boot.rst, "cmdline_size": 255 before 2.06.
constexpr uint32_t default_initrd_addr_max = 0x37ffffff;
constexpr uint32_t default_cmdline_size = 255;

// boot.rst, "type_of_loader": "If your boot loader does not have an
// assigned id ... enter 0xFF here." vid_mode 0xffff is "normal" (NORMAL_VGA).
constexpr uint8_t loader_type_undefined = 0xff;
constexpr uint16_t vid_mode_normal = 0xffff;

// 64-bit code (L=1, D=0), 32-bit code (D=1) and flat data descriptors,
// base 0, limit 4 GiB.
constexpr uint64_t gdt_code64 = 0x00af9b000000ffff;
constexpr uint64_t gdt_code32 = 0x00cf9b000000ffff;
constexpr uint64_t gdt_data = 0x00cf93000000ffff;
constexpr size_t gdt_entries = 4;  // null, unused, __BOOT_CS, __BOOT_DS
static_assert(layout::boot_cs == 2 * 8 && layout::boot_ds == 3 * 8);

constexpr uint64_t pte_present = 1 << 0;
constexpr uint64_t pte_writable = 1 << 1;
constexpr uint64_t pte_large = 1 << 7;  // PS: a 2 MiB page in a page directory
constexpr uint64_t max_page_directories =
    (layout::page_tables_end - layout::page_directories) / page_size;
static_assert(layout::pdpt == layout::pml4 + page_size &&
              layout::page_directories == layout::pdpt + page_size,
              "the page tables are built as one contiguous block");
static_assert(max_page_directories * GiB >= max_mem);

constexpr uint64_t cr0_pe = 1 << 0, cr0_mp = 1 << 1, cr0_et = 1 << 4, cr0_ne = 1 << 5;
constexpr uint64_t cr0_wp = 1 << 16, cr0_pg = 1ull << 31;
constexpr uint64_t cr4_pae = 1 << 5;
constexpr uint64_t efer_lme = 1 << 8, efer_lma = 1 << 10;

// boot.rst, "64-bit Boot Protocol": the 64-bit entry is at the load
// address plus 0x200 (startup_64 in arch/x86/boot/compressed/head_64.S).
constexpr uint64_t startup_64_offset = 0x200;

uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) / alignment * alignment;
}

uint64_t mib_rounded_up(uint64_t bytes)
{
    return (bytes + MiB - 1) / MiB;
}

// A size the way --mem takes it: "512M", "2G", or plain bytes.
std::string mem_text(uint64_t bytes)
{
    if (bytes % GiB == 0)
        return fmt::format("{}G", bytes / GiB);
    if (bytes % MiB == 0)
        return fmt::format("{}M", bytes / MiB);
    return fmt::format("{}", bytes);
}

// The --mem to suggest when `needed` bytes of RAM do not fit: the next
// power of two, so the kernel has room to run as well as to unpack.
std::string mem_suggestion(uint64_t needed)
{
    if (needed > max_mem)
        return fmt::format("it needs more than the {} this machine supports", mem_text(max_mem));
    uint64_t suggested = std::max(min_mem, std::bit_ceil(align_up(needed, MiB)));
    if (suggested > max_mem)
        return fmt::format("it needs more than the {} this machine supports", mem_text(max_mem));
    return fmt::format("try --mem {}", mem_text(suggested));
}

Status check_mem_range(uint64_t bytes, const std::string& text)
{
    if (bytes < min_mem)
        return make_error(ErrorKind::BadUsage,
                          "--mem {} is too small: at least {} is needed to decompress a kernel",
                          text, mem_text(min_mem));
    if (bytes > max_mem)
        return make_error(ErrorKind::BadUsage,
                          "--mem {} is too large: at most {} is supported (RAM above it would "
                          "overlap the PCI hole, which is not modelled)", text, mem_text(max_mem));
    if (bytes % MiB != 0)
        return make_error(ErrorKind::BadUsage, "--mem {}: expected a whole number of MiB", text);
    return Ok{};
}

template <typename T>
void append_le(std::vector<uint8_t>& out, T value)
{
    for (size_t i = 0; i < sizeof(T); ++i)
        out.push_back(uint8_t(value >> (8 * i)));
}

void store_le64(std::vector<uint8_t>& out, uint64_t offset, uint64_t value)
{
    for (size_t i = 0; i < 8; ++i)
        out[offset + i] = uint8_t(value >> (8 * i));
}

// __BOOT_CS is the code segment of the entry's mode: 64-bit for the 64-bit
// entry, 32-bit (boot.rst: "4G flat segment ... execute/read permission")
// for the 32-bit one.
Region gdt_region(EntryMode mode)
{
    Region r{RegionRole::Gdt, "GDT (__BOOT_CS 0x10, __BOOT_DS 0x18)", layout::gdt, 0, {}};
    uint64_t code = mode == EntryMode::Long64 ? gdt_code64 : gdt_code32;
    for (uint64_t descriptor : {uint64_t(0), uint64_t(0), code, gdt_data})
        append_le(r.bytes, descriptor);
    r.size = r.bytes.size();
    return r;
}

// Identity map of [0, directories GiB) with 2 MiB pages: boot.rst asks for
// the kernel, boot_params and the command line to be identity mapped.
Region page_table_region(uint64_t mem_size)
{
    uint64_t directories = align_up(mem_size, GiB) / GiB;
    Region r{RegionRole::PageTables,
             fmt::format("page tables (identity map of 0-{} GiB, 2 MiB pages)", directories),
             layout::pml4, (2 + directories) * page_size, {}};
    r.bytes.assign(r.size, 0);
    constexpr uint64_t table_flags = pte_present | pte_writable;
    store_le64(r.bytes, 0, layout::pdpt | table_flags);
    for (uint64_t d = 0; d < directories; ++d) {
        uint64_t directory = layout::page_directories + d * page_size;
        store_le64(r.bytes, layout::pdpt - layout::pml4 + d * 8, directory | table_flags);
        for (uint64_t e = 0; e < 512; ++e) {
            uint64_t address = d * GiB + e * large_page_size;
            store_le64(r.bytes, directory - layout::pml4 + e * 8,
                       address | table_flags | pte_large);
        }
    }
    return r;
}

struct ZeroPageInputs {
    uint64_t load_address;
    uint64_t initrd_address;
    uint64_t initrd_size;
    const std::vector<E820Entry>* e820;
};

// boot.rst, "64-bit Boot Protocol": "the boot loader ... fill setup_header
// and copy from the kernel image from offset 0x01f1" into a zeroed
// boot_params, then set the write fields ("Details of Header Fields").
Region boot_params_region(const BzImage& kernel, const ZeroPageInputs& in)
{
    struct boot_params bp;
    std::memset(&bp, 0, sizeof bp);
    std::span<const uint8_t> header = kernel.setup_header_bytes();
    static_assert(0x290 - offsetof(struct boot_params, hdr) >= 0x202 + 0x7f - 0x1f1,
                  "the longest header a jump at 0x200 can give fits before edd_mbr_sig_buffer");
    std::memcpy(&bp.hdr, header.data(), header.size());

    bp.hdr.type_of_loader = loader_type_undefined;
    bp.hdr.vid_mode = vid_mode_normal;
    // Keep LOADED_HIGH; CAN_USE_HEAP needs a real-mode heap the 64-bit entry
    // does not have, QUIET_FLAG and KASLR_FLAG are not ours to set, and
    // KEEP_SEGMENTS means nothing to the 64-bit entry.
    bp.hdr.loadflags &= LOADED_HIGH;
    bp.hdr.code32_start = uint32_t(in.load_address);
    bp.hdr.cmd_line_ptr = uint32_t(layout::cmdline);
    bp.ext_cmd_line_ptr = uint32_t(layout::cmdline >> 32);
    bp.hdr.ramdisk_image = uint32_t(in.initrd_address);
    bp.hdr.ramdisk_size = uint32_t(in.initrd_size);
    bp.ext_ramdisk_image = uint32_t(in.initrd_address >> 32);
    bp.ext_ramdisk_size = uint32_t(in.initrd_size >> 32);

    bp.e820_entries = uint8_t(in.e820->size());
    for (size_t i = 0; i < in.e820->size(); ++i) {
        const E820Entry& e = (*in.e820)[i];
        bp.e820_table[i].addr = e.address;
        bp.e820_table[i].size = e.size;
        bp.e820_table[i].type = uint32_t(e.type);
    }

    Region r{RegionRole::BootParams, "boot_params (zero page)", layout::boot_params,
             sizeof bp, std::vector<uint8_t>(sizeof bp)};
    std::memcpy(r.bytes.data(), &bp, sizeof bp);
    return r;
}

// boot.rst, "32-bit Boot Protocol": protected mode with paging off, flat
// __BOOT_CS/__BOOT_DS, interrupts off, ESI = boot_params, EBP, EDI and EBX
// zero, at code32_start (the protected-mode kernel's first byte,
// startup_32). The decompressor builds its own page tables and enters long
// mode itself.
EntryState entry_state_32(uint64_t load_address)
{
    EntryState s;
    s.mode = EntryMode::Protected32;
    s.rip = load_address;
    s.rsi = layout::boot_params;
    s.rsp = layout::boot_stack_top;
    s.cr0 = cr0_pe | cr0_et;
    s.gdt_base = layout::gdt;
    s.gdt_limit = gdt_entries * 8 - 1;
    s.cs = layout::boot_cs;
    s.ds = layout::boot_ds;
    return s;
}

// boot.rst, "Running the Kernel": "jump to the kernel entry point, which is
// located at segment offset 0x20 from the start of the real mode kernel ...
// ds = es = ss should point to the start of the real-mode kernel code ...
// sp should be set up properly, normally pointing to the top of the heap,
// and interrupts should be disabled."
EntryState entry_state_real()
{
    EntryState s;
    s.mode = EntryMode::Real16;
    s.rip = 0;
    s.rsp = layout::real_mode_heap_end;
    s.cs = uint16_t(layout::real_mode_segment + 0x20);
    s.ds = layout::real_mode_segment;
    s.cr0 = cr0_et;
    return s;
}

// The setup sectors as a boot loader leaves them for the real-mode entry:
// the file's first (setup_sects + 1) * 512 bytes with the header's write
// fields filled in (boot.rst, "Details of Header Fields"); the setup code
// builds boot_params from this header itself.
Region setup_region(const BzImage& kernel, const ZeroPageInputs& in)
{
    std::vector<uint8_t> bytes(kernel.file.begin(), kernel.file.begin() + long(kernel.setup_size()));
    struct boot_params bp;
    std::memset(&bp, 0, sizeof bp);
    std::span<const uint8_t> header = kernel.setup_header_bytes();
    std::memcpy(&bp.hdr, header.data(), header.size());
    bp.hdr.type_of_loader = loader_type_undefined;
    bp.hdr.vid_mode = vid_mode_normal;
    // CAN_USE_HEAP: the heap up to heap_end_ptr is the setup code's to use.
    bp.hdr.loadflags = uint8_t((bp.hdr.loadflags & LOADED_HIGH) | CAN_USE_HEAP);
    bp.hdr.heap_end_ptr = layout::real_mode_heap_end - 0x200;
    bp.hdr.code32_start = uint32_t(in.load_address);
    bp.hdr.cmd_line_ptr = uint32_t(layout::cmdline);
    bp.hdr.ramdisk_image = uint32_t(in.initrd_address);
    bp.hdr.ramdisk_size = uint32_t(in.initrd_size);
    std::memcpy(bytes.data() + offsetof(struct boot_params, hdr), &bp.hdr, header.size());
    return Region{RegionRole::Setup,
                  fmt::format("setup (real-mode code, {} sectors)", kernel.setup_size() / 512 - 1),
                  layout::real_mode_base, bytes.size(), std::move(bytes)};
}

// The 64-bit entry: the 32-bit entry's segments, GDT, stack and RSI, in
// long mode with paging on through the identity map, at startup_64.
EntryState entry_state(uint64_t load_address)
{
    EntryState s = entry_state_32(load_address);
    s.mode = EntryMode::Long64;
    s.rip = load_address + startup_64_offset;
    s.cr0 = cr0_pe | cr0_mp | cr0_et | cr0_ne | cr0_wp | cr0_pg;
    s.cr3 = layout::pml4;
    s.cr4 = cr4_pae;
    s.efer = efer_lme | efer_lma;
    return s;
}

// boot.rst, "cmdline_size": "the command line can contain at most
// cmdline_size characters" (the terminating zero not counted).
Result<Region> cmdline_region(const BzImage& kernel, const std::string& cmdline)
{
    uint64_t limit = kernel.header.cmdline_size ? kernel.header.cmdline_size : default_cmdline_size;
    limit = std::min(limit, layout::cmdline_max - 1);
    if (cmdline.size() > limit)
        return make_error(ErrorKind::BadUsage,
                          "command line is {} characters; {} accepts at most {} (cmdline_size)",
                          cmdline.size(), kernel.path, limit);
    if (cmdline.find('\0') != std::string::npos)
        return make_error(ErrorKind::BadUsage, "command line contains a NUL character");
    Region r{RegionRole::Cmdline, "command line", layout::cmdline, cmdline.size() + 1,
             std::vector<uint8_t>(cmdline.begin(), cmdline.end())};
    r.bytes.push_back(0);
    return r;
}

}  // namespace

std::vector<E820Entry> build_e820(uint64_t mem_size)
{
    std::vector<E820Entry> map;
    // Conventional memory up to the EBDA, which the kernel leaves alone.
    map.push_back({0, std::min(mem_size, layout::ebda_start), E820Type::Ram});
    if (mem_size <= layout::ebda_start)
        return map;
    map.push_back({layout::ebda_start, layout::legacy_hole_start - layout::ebda_start,
                   E820Type::Reserved});
    // The system BIOS area; 0xa0000-0xf0000 (VGA, option ROMs) is a gap, as
    // on a PC whose firmware leaves it out of the map.
    constexpr uint64_t bios_start = 0xf0000;
    map.push_back({bios_start, layout::high_memory_start - bios_start, E820Type::Reserved});
    if (mem_size > layout::high_memory_start)
        map.push_back({layout::high_memory_start, mem_size - layout::high_memory_start,
                       E820Type::Ram});
    return map;
}

std::optional<uint64_t> place_initrd(uint64_t initrd_size, uint64_t mem_size,
                                     uint32_t initrd_addr_max, uint64_t lowest)
{
    // initrd_addr_max is the highest address the initrd may occupy, so its
    // last byte may sit there: the limit on the end is one more.
    uint64_t max_last = initrd_addr_max ? initrd_addr_max : default_initrd_addr_max;
    uint64_t top = std::min(mem_size, max_last + 1);
    if (initrd_size > top)
        return std::nullopt;
    // Highest page-aligned fit, as kvmtool and QEMU do: it keeps the initrd
    // clear of the kernel's buffer and of whatever the kernel allocates low.
    uint64_t address = (top - initrd_size) & ~(page_size - 1);
    if (address < lowest)
        return std::nullopt;
    return address;
}

Result<uint64_t> parse_mem_size(const std::string& text)
{
    auto malformed = [&] {
        return make_error(ErrorKind::BadUsage,
                          "--mem: expected a size like 512M or 2G, found \"{}\"", text);
    };
    uint64_t number = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [rest, ec] = std::from_chars(begin, end, number);
    if (ec == std::errc::invalid_argument || rest == begin)
        return malformed();
    if (ec == std::errc::result_out_of_range)
        return make_error(ErrorKind::BadUsage, "--mem {} is too large: at most {} is supported",
                          text, mem_text(max_mem));

    std::string unit(rest, end);
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    // Binary units whichever way they are spelled (k, K, KB, KiB): memory
    // sizes are powers of two, as in QEMU's -m.
    uint64_t multiplier;
    if (unit.empty() || unit == "b")
        multiplier = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib")
        multiplier = KiB;
    else if (unit == "m" || unit == "mb" || unit == "mib")
        multiplier = MiB;
    else if (unit == "g" || unit == "gb" || unit == "gib")
        multiplier = GiB;
    else
        return malformed();

    if (number > std::numeric_limits<uint64_t>::max() / multiplier)
        return make_error(ErrorKind::BadUsage, "--mem {} is too large: at most {} is supported",
                          text, mem_text(max_mem));
    uint64_t bytes = number * multiplier;
    TRY(check_mem_range(bytes, text));
    return bytes;
}

Result<BootPlan> make_boot_plan(const BzImage& kernel, const std::vector<uint8_t>* initrd,
                                const BootConfig& config)
{
    const SetupHeader& h = kernel.header;
    const uint64_t mem = config.mem_size;
    TRY(check_mem_range(mem, mem_text(mem)));
    if (config.entry == EntryMode::Long64 && !kernel.has_64bit_entry())
        return make_error(ErrorKind::Unsupported,
                          "{}: a 32-bit kernel has no 64-bit entry (xloadflags 0x{:04x}, XLF_KERNEL_64 "
                          "clear): boot it through --entry real or --entry 32", kernel.path,
                          h.xloadflags);

    // boot.rst, "Loading the rest of the kernel" / "pref_address": a
    // relocatable kernel may go anywhere aligned to kernel_alignment; the
    // preferred address avoids a relocation by the decompressor.
    uint64_t load = h.pref_address;
    if (load > max_mem)
        return make_error(ErrorKind::DoesNotFit,
                          "not enough RAM: {} asks to be loaded at pref_address 0x{:x}, above the "
                          "{} this machine supports", kernel.path, load, mem_text(max_mem));
    if (h.relocatable_kernel)
        load = align_up(load, h.kernel_alignment);
    std::span<const uint8_t> code = kernel.protected_mode_code();
    // boot.rst, "init_size": the kernel needs this much contiguous memory
    // from its load address to decompress in place.
    uint64_t buffer = std::max<uint64_t>(h.init_size, code.size());
    uint64_t initrd_size = initrd ? initrd->size() : 0;
    if (load + buffer > mem)
        return make_error(ErrorKind::DoesNotFit,
                          "not enough RAM: {} needs {} MiB from 0x{:x} to decompress{}; --mem {} "
                          "given ({})", kernel.path, mib_rounded_up(buffer), load,
                          initrd ? fmt::format(", and {} {} MiB more", config.initrd_path,
                                               mib_rounded_up(initrd_size))
                                 : std::string(),
                          mem_text(mem),
                          mem_suggestion(load + buffer + align_up(initrd_size, page_size)));

    BootPlan plan;
    plan.mem_size = mem;
    plan.load_address = load;
    plan.loaded_size = code.size();
    plan.init_size = h.init_size;
    plan.kernel_alignment = h.kernel_alignment;
    plan.kernel_64bit = kernel.has_64bit_entry();
    plan.cmdline = config.cmdline;
    plan.e820 = build_e820(mem);
    switch (config.entry) {
    case EntryMode::Real16: plan.entry = entry_state_real(); break;
    case EntryMode::Protected32: plan.entry = entry_state_32(load); break;
    case EntryMode::Long64: plan.entry = entry_state(load); break;
    }

    uint64_t initrd_address = 0;
    if (initrd) {
        uint64_t lowest = load + buffer;
        auto placed = place_initrd(initrd_size, mem, h.initrd_addr_max, lowest);
        if (!placed) {
            uint64_t max_last = h.initrd_addr_max ? h.initrd_addr_max : default_initrd_addr_max;
            uint64_t needed = align_up(lowest, page_size) + align_up(initrd_size, page_size);
            if (needed - 1 > max_last)
                return make_error(ErrorKind::DoesNotFit,
                                  "{} ({} MiB) does not fit between the end of the kernel's "
                                  "buffer (0x{:x}) and initrd_addr_max 0x{:x} of {}",
                                  config.initrd_path, mib_rounded_up(initrd_size), lowest,
                                  max_last, kernel.path);
            return make_error(ErrorKind::DoesNotFit,
                              "not enough RAM: {} ({} MiB) does not fit above {} (which needs "
                              "{} MiB from 0x{:x}); --mem {} given ({})",
                              config.initrd_path, mib_rounded_up(initrd_size), kernel.path,
                              mib_rounded_up(buffer), load, mem_text(mem), mem_suggestion(needed));
        }
        initrd_address = *placed;
    }

    if (config.entry == EntryMode::Real16) {
        // The setup code makes its own GDT and boot_params (from the
        // header and the BIOS's answers).
        plan.regions.push_back(setup_region(kernel, {load, initrd_address, initrd_size, &plan.e820}));
    } else {
        plan.regions.push_back(gdt_region(config.entry));
        // Only the 64-bit entry needs paging on (and so page tables) at entry.
        if (config.entry == EntryMode::Long64)
            plan.regions.push_back(page_table_region(mem));
        plan.regions.push_back(boot_params_region(kernel, {load, initrd_address, initrd_size, &plan.e820}));
    }
    plan.regions.push_back(TRY(cmdline_region(kernel, config.cmdline)));
    plan.regions.push_back(
        {RegionRole::Kernel,
         fmt::format("kernel (protected mode: decompressor + {} payload)",
                     compression_name(kernel.compression)),
         load, code.size(), std::vector<uint8_t>(code.begin(), code.end())});
    plan.regions.push_back({RegionRole::DecompressBuffer, "decompression buffer (init_size)",
                            load, h.init_size, {}});
    if (initrd)
        plan.regions.push_back({RegionRole::Initrd, fmt::format("initrd ({})", config.initrd_path),
                                initrd_address, initrd_size, *initrd});

    // Stable: the kernel stays listed before its buffer at the same address.
    std::stable_sort(plan.regions.begin(), plan.regions.end(),
                     [](const Region& a, const Region& b) {
                         return a.guest_address < b.guest_address;
                     });
    return plan;
}

}  // namespace bootsim
