// The zero page decoded for the Boot protocol inspector. Fields are read
// through the kernel's own `struct boot_params` (asm/bootparam.h) so no
// offset is copied by hand; meanings follow Documentation/arch/x86/boot.rst
// ("Details of Header Fields") and zero-page.rst.

#include "loader/boot_params_fields.h"

#include <asm/bootparam.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

namespace bootsim {

namespace {

static_assert(sizeof(struct boot_params) == 4096);
static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8);
static_assert(offsetof(struct boot_params, e820_table) == 0x2d0);
// Fields are little-endian in guest memory and read by memcpy.
static_assert(std::endian::native == std::endian::little);

constexpr uint32_t hdrs_magic = 0x53726448;  // "HdrS" read as a little-endian u32
constexpr uint16_t boot_flag_value = 0xaa55;
constexpr uint8_t short_jump_opcode = 0xeb;
constexpr uint8_t loader_type_extended = 0xe;
constexpr uint8_t loader_type_undefined = 0xff;

// The caller's bytes over a zeroed zero page: a short span reads as if the
// rest were zero, and every later read stays inside the local copy.
struct boot_params load(std::span<const uint8_t> bytes)
{
    struct boot_params bp;
    std::memset(&bp, 0, sizeof bp);
    if (!bytes.empty())
        std::memcpy(&bp, bytes.data(), std::min(bytes.size(), sizeof bp));
    return bp;
}

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }
std::string dec(uint64_t v) { return fmt::format("{}", v); }

// "16 MiB" for exact multiples, "30.4 MiB" otherwise, "512 B" under 1 KiB.
std::string human_size(uint64_t bytes)
{
    static constexpr std::array units{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024)
        return fmt::format("{} B", bytes);
    size_t unit = 0;
    uint64_t scale = 1024;
    while (unit + 1 < units.size() && bytes / scale >= 1024) {
        scale *= 1024;
        ++unit;
    }
    if (bytes % scale == 0)
        return fmt::format("{} {}", bytes / scale, units[unit]);
    return fmt::format("{:.1f} {}", double(bytes) / double(scale), units[unit]);
}

// Byte sizes: the stored value in hex, as in boot.rst, plus a size a reader
// takes in at a glance.
std::string hex_size(uint64_t bytes) { return fmt::format("{:#x} ({})", bytes, human_size(bytes)); }

struct Flag {
    uint32_t bit;
    const char* name;
};

// "LOADED_HIGH|CAN_USE_HEAP"; bits the table does not name show as "bit N"
// so a newer kernel's flags are visible rather than dropped.
std::string flag_names(uint32_t value, std::span<const Flag> table)
{
    std::string out;
    auto add = [&out](const std::string& name) { out += (out.empty() ? "" : "|") + name; };
    for (unsigned bit = 0; bit < 32; ++bit) {
        uint32_t mask = uint32_t(1) << bit;
        if (!(value & mask))
            continue;
        auto known = std::find_if(table.begin(), table.end(), [mask](const Flag& f) { return f.bit == mask; });
        add(known != table.end() ? std::string(known->name) : fmt::format("bit {}", bit));
    }
    return out.empty() ? "none" : out;
}

constexpr Flag loadflag_names[] = {
    {LOADED_HIGH, "LOADED_HIGH"}, {KASLR_FLAG, "KASLR_FLAG"},     {QUIET_FLAG, "QUIET_FLAG"},
    {KEEP_SEGMENTS, "KEEP_SEGMENTS"}, {CAN_USE_HEAP, "CAN_USE_HEAP"},
};

constexpr Flag xloadflag_names[] = {
    {XLF_KERNEL_64, "XLF_KERNEL_64"},
    {XLF_CAN_BE_LOADED_ABOVE_4G, "XLF_CAN_BE_LOADED_ABOVE_4G"},
    {XLF_EFI_HANDOVER_32, "XLF_EFI_HANDOVER_32"},
    {XLF_EFI_HANDOVER_64, "XLF_EFI_HANDOVER_64"},
    {XLF_EFI_KEXEC, "XLF_EFI_KEXEC"},
    {XLF_5LEVEL, "XLF_5LEVEL"},
    {XLF_5LEVEL_ENABLED, "XLF_5LEVEL_ENABLED"},
};

// boot.rst, "type_of_loader": assigned boot loader ids; type 0xE defers to
// ext_loader_type, giving ids 0x10 and up.
const char* loader_name(unsigned type)
{
    static constexpr std::array<const char*, 0x14> names{
        "LILO", "Loadlin", "bootsect-loader", "Syslinux", "Etherboot/gPXE/iPXE", "ELILO", nullptr,
        "GRUB", "U-Boot", "Xen", "Gujin", "Qemu", "Arcturus Networks uCbootloader", "kexec-tools",
        "extended", "special", "reserved", "Minimal Linux Bootloader", "OVMF UEFI virtualization stack",
        "barebox"};
    return type < names.size() ? names[type] : nullptr;
}

std::string loader_meaning(const struct setup_header& h)
{
    if (h.type_of_loader == loader_type_undefined)
        return "undefined boot loader";
    if (h.type_of_loader == 0)
        return "pre-2.00 boot loader, or not set by a loader";
    unsigned type = h.type_of_loader >> 4;
    unsigned version = h.type_of_loader & 0xf;
    if (type == loader_type_extended) {
        type = 0x10 + h.ext_loader_type;
        version += unsigned(h.ext_loader_ver) << 4;
    }
    const char* name = loader_name(type);
    std::string who = name ? name : fmt::format("loader type {:#x}", type);
    return fmt::format("{}, version {}", who, version);
}

// "HdrS" when the four bytes are printable, else the raw value in hex.
std::string magic_text(uint32_t magic)
{
    std::string s;
    for (int i = 0; i < 4; ++i) {
        char c = char(magic >> (8 * i));
        if (c < 0x20 || c > 0x7e)
            return hex(magic);
        s += c;
    }
    return s;
}

std::string version_text(uint16_t version) { return fmt::format("{}.{:02}", version >> 8, version & 0xff); }

std::string version_meaning(uint16_t version)
{
    std::string raw = fmt::format("{:#06x}", version);
    // 2.12 brought xloadflags and with them the 64-bit entry bootsim uses.
    return version < 0x020c ? raw + ": older than 2.12, no 64-bit boot protocol" : raw;
}

// boot.rst: the header ends at 0x202 + the signed byte at 0x201.
std::string jump_meaning(uint16_t jump)
{
    if ((jump & 0xff) != short_jump_opcode)
        return "not a short jmp: no header end given";
    int end = 0x202 + int8_t(jump >> 8);
    return fmt::format("jmp short: setup header ends at {:#x}", end);
}

std::string setup_sects_meaning(uint8_t sects)
{
    // boot.rst, "setup_sects": "If this field is 0, the real value is 4."
    unsigned real = sects ? sects : 4;
    return fmt::format("{} setup sectors + boot sector = {}", real, human_size((real + 1) * 512u));
}

std::string subarch_meaning(uint32_t subarch)
{
    static constexpr std::array names{"PC", "lguest", "Xen", "Intel MID", "CE4100"};
    return subarch < names.size() ? names[subarch] : "unknown subarchitecture";
}

// min_alignment is a log2; a shift of 64 or more would be undefined.
std::string min_alignment_meaning(uint8_t log2)
{
    if (log2 >= 64)
        return "invalid: log2 over 63";
    return "least alignment accepted: " + human_size(uint64_t(1) << log2);
}

uint64_t combine(uint32_t ext_high, uint32_t low) { return uint64_t(ext_high) << 32 | low; }

// The high half is named when set, so a reader can see a 64-bit value came
// from two fields.
std::string split_meaning(const std::string& what, const char* ext_name, uint32_t ext_high)
{
    return ext_high ? fmt::format("{} ({} {:#x} << 32)", what, ext_name, ext_high) : what;
}

void header_identity(const struct setup_header& h, std::vector<BootField>& rows)
{
    rows.push_back({"hdr.setup_sects", dec(h.setup_sects), setup_sects_meaning(h.setup_sects)});
    rows.push_back({"hdr.root_flags", hex(h.root_flags),
                    h.root_flags ? "mount root read-only" : "mount root read-write"});
    rows.push_back({"hdr.syssize", hex(h.syssize),
                    human_size(uint64_t(h.syssize) * 16) + " of protected-mode code (16-byte paragraphs)"});
    rows.push_back({"hdr.boot_flag", hex(h.boot_flag),
                    h.boot_flag == boot_flag_value ? "boot sector signature" : "missing 0xaa55 signature"});
    rows.push_back({"hdr.jump", hex(h.jump), jump_meaning(h.jump)});
    rows.push_back({"hdr.header", magic_text(h.header),
                    h.header == hdrs_magic ? "setup header magic" : "no HdrS magic: not a 2.00+ setup header"});
    rows.push_back({"hdr.version", version_text(h.version), version_meaning(h.version)});
}

void header_loader_fields(const struct boot_params& bp, std::vector<BootField>& rows)
{
    const struct setup_header& h = bp.hdr;
    rows.push_back({"hdr.type_of_loader", hex(h.type_of_loader), loader_meaning(h)});
    rows.push_back({"hdr.loadflags", hex(h.loadflags), flag_names(h.loadflags, loadflag_names)});
    rows.push_back({"hdr.code32_start", hex(h.code32_start), "32-bit entry: where the protected-mode code runs"});
    uint64_t ramdisk = combine(bp.ext_ramdisk_image, h.ramdisk_image);
    rows.push_back({"hdr.ramdisk_image", hex(ramdisk),
                    ramdisk ? split_meaning("initrd address", "ext_ramdisk_image", bp.ext_ramdisk_image)
                            : "no initrd"});
    rows.push_back({"hdr.ramdisk_size", hex_size(combine(bp.ext_ramdisk_size, h.ramdisk_size)),
                    split_meaning("initrd size", "ext_ramdisk_size", bp.ext_ramdisk_size)});
    rows.push_back({"hdr.heap_end_ptr", hex(h.heap_end_ptr), "end of the setup heap, from setup start, minus 0x200"});
    rows.push_back({"hdr.ext_loader_ver", dec(h.ext_loader_ver), "loader version, high bits (type 0xE)"});
    rows.push_back({"hdr.ext_loader_type", dec(h.ext_loader_type), "loader id minus 0x10 (type 0xE)"});
    uint64_t cmdline = combine(bp.ext_cmd_line_ptr, h.cmd_line_ptr);
    rows.push_back({"hdr.cmd_line_ptr", hex(cmdline),
                    cmdline ? split_meaning("command line address", "ext_cmd_line_ptr", bp.ext_cmd_line_ptr)
                            : "no command line"});
}

void header_placement(const struct setup_header& h, std::vector<BootField>& rows)
{
    rows.push_back({"hdr.initrd_addr_max", hex(h.initrd_addr_max), "highest address the initrd may occupy"});
    rows.push_back({"hdr.kernel_alignment", hex_size(h.kernel_alignment), "alignment a relocated kernel needs"});
    rows.push_back({"hdr.relocatable_kernel", dec(h.relocatable_kernel),
                    h.relocatable_kernel ? "relocatable: may load at any aligned address"
                                         : "not relocatable: load at pref_address"});
    rows.push_back({"hdr.min_alignment", dec(h.min_alignment), min_alignment_meaning(h.min_alignment)});
    rows.push_back({"hdr.xloadflags", hex(h.xloadflags), flag_names(h.xloadflags, xloadflag_names)});
    rows.push_back({"hdr.cmdline_size", dec(h.cmdline_size), "longest command line, bytes without the NUL"});
    rows.push_back({"hdr.hardware_subarch", dec(h.hardware_subarch), subarch_meaning(h.hardware_subarch)});
}

void header_payload(const struct setup_header& h, std::vector<BootField>& rows)
{
    rows.push_back({"hdr.payload_offset", hex(h.payload_offset), "compressed kernel, from the protected-mode code"});
    rows.push_back({"hdr.payload_length", hex_size(h.payload_length), "compressed kernel length"});
    rows.push_back({"hdr.setup_data", hex(h.setup_data),
                    h.setup_data ? "first node of the setup_data list" : "no setup_data list"});
    rows.push_back({"hdr.pref_address", hex(h.pref_address), "preferred load address"});
    rows.push_back({"hdr.init_size", hex_size(h.init_size), "memory from the load address the kernel needs to start"});
    rows.push_back({"hdr.handover_offset", hex(h.handover_offset),
                    h.handover_offset ? "EFI handover entry, from the protected-mode code" : "no EFI handover entry"});
    rows.push_back({"hdr.kernel_info_offset", hex(h.kernel_info_offset),
                    h.kernel_info_offset ? "kernel_info, from the protected-mode code"
                                         : "no kernel_info (before 2.15)"});
}

std::string video_type_meaning(uint8_t type)
{
    switch (type) {
    case 0: return "no video information";
    case 1: return "VGA text";  // what the real-mode setup writes for a VGA
    case VIDEO_TYPE_MDA: return "MDA monochrome text";
    case VIDEO_TYPE_CGA: return "CGA";
    case VIDEO_TYPE_EGAM: return "EGA/VGA monochrome";
    case VIDEO_TYPE_EGAC: return "EGA colour";
    case VIDEO_TYPE_VGAC: return "VGA+ colour";
    case VIDEO_TYPE_VLFB: return "VESA linear framebuffer";
    case VIDEO_TYPE_EFI: return "EFI framebuffer";
    default: return fmt::format("video type {:#x}", type);
    }
}

// boot.rst, "vid_mode": the three special values, else a mode number.
std::string vid_mode_meaning(uint16_t mode)
{
    switch (mode) {
    case 0xffff: return "normal";
    case 0xfffe: return "ext";
    case 0xfffd: return "ask";
    default: return fmt::format("video mode {:#x}", mode);
    }
}

void screen_rows(const struct screen_info& s, std::vector<BootField>& rows)
{
    rows.push_back({"screen_info.orig_video_mode", hex(s.orig_video_mode), "BIOS video mode at boot"});
    rows.push_back({"screen_info.orig_video_cols", dec(s.orig_video_cols), "text columns"});
    rows.push_back({"screen_info.orig_video_lines", dec(s.orig_video_lines), "text lines"});
    rows.push_back({"screen_info.orig_video_isVGA", hex(s.orig_video_isVGA), video_type_meaning(s.orig_video_isVGA)});
}

std::string e820_count_meaning(uint8_t entries)
{
    if (entries > E820_MAX_ENTRIES_ZEROPAGE)
        return fmt::format("over the table's {} slots: only those are read", E820_MAX_ENTRIES_ZEROPAGE);
    return entries ? "entries in e820_table" : "no memory map";
}

std::string e820_type_name(uint32_t type)
{
    switch (type) {
    case 1: return "RAM";
    case 2: return "reserved";
    case 3: return "ACPI";
    case 4: return "NVS";
    case 5: return "unusable";
    case 7: return "PMEM(7)";
    default: return fmt::format("type {}", type);
    }
}

// Entries the span holds whole: a partial last entry is not shown as data.
size_t e820_entries_in(size_t span_size)
{
    constexpr size_t table = offsetof(struct boot_params, e820_table);
    return span_size > table ? (span_size - table) / sizeof(struct boot_e820_entry) : 0;
}

}  // namespace

std::vector<BootField> decode_setup_header(std::span<const uint8_t> boot_params)
{
    const struct boot_params bp = load(boot_params);
    std::vector<BootField> rows;
    header_identity(bp.hdr, rows);
    header_loader_fields(bp, rows);
    header_placement(bp.hdr, rows);
    header_payload(bp.hdr, rows);
    return rows;
}

std::vector<BootField> decode_boot_params(std::span<const uint8_t> boot_params)
{
    const struct boot_params bp = load(boot_params);
    std::vector<BootField> rows;
    rows.push_back({"e820_entries", dec(bp.e820_entries), e820_count_meaning(bp.e820_entries)});
    screen_rows(bp.screen_info, rows);
    rows.push_back({"acpi_rsdp_addr", hex(bp.acpi_rsdp_addr),
                    bp.acpi_rsdp_addr ? "ACPI RSDP, given by the loader"
                                      : "not given: the kernel searches for the RSDP"});
    rows.push_back({"ext_cmd_line_ptr", hex(bp.ext_cmd_line_ptr), "high 32 bits of the command line address"});
    rows.push_back({"hdr.vid_mode", hex(bp.hdr.vid_mode), vid_mode_meaning(bp.hdr.vid_mode)});
    rows.push_back({"alt_mem_k", dec(bp.alt_mem_k),
                    fmt::format("KiB of memory above 1 MiB ({})", human_size(uint64_t(bp.alt_mem_k) * 1024))});
    // header.S sets the sentinel to 0xff; a loader that copies only hdr into
    // a zeroed page leaves 0, so nonzero means it copied too much.
    rows.push_back({"sentinel", hex(bp.sentinel),
                    bp.sentinel ? "set: loader copied past hdr, the kernel zeroes suspect fields"
                                : "clear: loader copied only the setup header"});
    return rows;
}

std::vector<E820Row> decode_e820(std::span<const uint8_t> boot_params)
{
    const struct boot_params bp = load(boot_params);
    size_t count = std::min({size_t(bp.e820_entries), size_t(E820_MAX_ENTRIES_ZEROPAGE),
                             e820_entries_in(boot_params.size())});
    std::vector<E820Row> rows;
    rows.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        const struct boot_e820_entry& e = bp.e820_table[i];
        rows.push_back({e.addr, e.size, e.type, e820_type_name(e.type)});
    }
    return rows;
}

}  // namespace bootsim
