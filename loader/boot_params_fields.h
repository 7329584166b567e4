#pragma once
// Decodes the bytes of a `struct boot_params` (the zero page the loader
// writes and the kernel reads; layout from the kernel's <asm/bootparam.h>)
// into named rows for the visualizer's "Boot protocol inspector" panel.
//
// Pure functions of their input: any span is accepted. A span shorter than
// the 4 KiB zero page decodes as if the missing bytes were zero, and nothing
// past its end is read.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bootsim {

// One row of the inspector, e.g. {"hdr.type_of_loader", "0xff", "undefined boot loader"}.
// `value` is the field as stored (addresses in hex, counts in decimal, byte
// sizes in hex with a human size); `meaning` says what that value means.
struct BootField {
    std::string name;
    std::string value;
    std::string meaning;
};

// The setup header (boot_params.hdr, at 0x1f1), in header order. The 64-bit
// ramdisk_image, ramdisk_size and cmd_line_ptr rows combine hdr's low 32 bits
// with the ext_* high 32 bits that live outside hdr in boot_params.
std::vector<BootField> decode_setup_header(std::span<const uint8_t> boot_params);

// The other boot_params fields a reader cares about: the e820 count, the
// screen_info basics, acpi_rsdp_addr, ext_cmd_line_ptr, hdr.vid_mode,
// alt_mem_k and the sentinel.
std::vector<BootField> decode_boot_params(std::span<const uint8_t> boot_params);

struct E820Row {
    uint64_t address;
    uint64_t size;
    uint32_t type;
    std::string type_name;  // "RAM", "reserved", "ACPI", "NVS", "unusable", "PMEM(7)", "type 12"
};

// The first e820_entries entries of e820_table, capped at the table's 128
// slots and at the entries the span holds whole.
std::vector<E820Row> decode_e820(std::span<const uint8_t> boot_params);

}  // namespace bootsim
