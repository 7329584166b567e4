#include "devices/pc_bios.h"

#include <algorithm>

#include <fmt/format.h>

namespace bootsim {

namespace {

constexpr uint32_t smap = 0x534d4150;  // "SMAP"
constexpr uint8_t ah_unsupported = 0x86;
constexpr uint8_t ah_bad_drive = 0x01;

// BIOS data area offsets (from 0x400).
constexpr uint64_t bda = 0x400;
constexpr uint64_t bda_com1 = bda + 0x00;
constexpr uint64_t bda_ebda_segment = bda + 0x0e;
constexpr uint64_t bda_equipment = bda + 0x10;
constexpr uint64_t bda_base_memory = bda + 0x13;
constexpr uint64_t bda_video_mode = bda + 0x49;
constexpr uint64_t bda_columns = bda + 0x4a;
constexpr uint64_t bda_page_size = bda + 0x4c;
constexpr uint64_t bda_cursor = bda + 0x50;
constexpr uint64_t bda_crtc_port = bda + 0x63;
constexpr uint64_t bda_hard_disks = bda + 0x75;
constexpr uint64_t bda_rows = bda + 0x84;
constexpr uint64_t bda_char_height = bda + 0x85;

constexpr uint8_t text_mode = 3;  // 80x25 colour text
constexpr uint8_t columns = 80, rows = 25, char_height = 16;
constexpr uint16_t equipment = 0x0020;  // initial video mode 80x25 colour, no floppy
constexpr uint8_t iret = 0xcf;

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB;

}  // namespace

uint64_t PcBios::ram_between(uint64_t begin, uint64_t end) const
{
    uint64_t bytes = 0;
    for (const E820Entry& e : m_e820) {
        if (e.type != E820Type::Ram)
            continue;
        uint64_t lo = std::max(begin, e.address), hi = std::min(end, e.address + e.size);
        if (hi > lo)
            bytes += hi - lo;
    }
    return bytes;
}

uint16_t PcBios::base_memory_kib() const
{
    for (const E820Entry& e : m_e820)
        if (e.type == E820Type::Ram && e.address == 0)
            return uint16_t(std::min<uint64_t>(e.size, 640 * KiB) / KiB);
    return 0;
}

void PcBios::write_tables(GuestMemory& memory) const
{
    // Every vector at the ROM's IRET: an interrupt nobody handles returns.
    for (uint64_t vector = 0; vector < 256; ++vector) {
        memory.write_value(vector * 4, iret_offset);
        memory.write_value(vector * 4 + 2, rom_segment);
    }
    memory.write_value(iret_address, iret);
    std::vector<uint8_t> zeros(tables_size - bda, 0);
    memory.write(bda, zeros.data(), zeros.size());
    memory.write_value(bda_com1, uint16_t(0x3f8));
    memory.write_value(bda_equipment, equipment);
    uint16_t base_kib = base_memory_kib();
    memory.write_value(bda_base_memory, base_kib);
    memory.write_value(bda_ebda_segment, uint16_t(base_kib * KiB / 16));  // the EBDA starts where base memory ends
    memory.write_value(bda_video_mode, text_mode);
    memory.write_value(bda_columns, uint16_t(columns));
    memory.write_value(bda_page_size, uint16_t(columns * rows * 2));
    memory.write_value(bda_crtc_port, uint16_t(0x3d4));
    memory.write_value(bda_hard_disks, uint8_t(0));
    memory.write_value(bda_rows, uint8_t(rows - 1));
    memory.write_value(bda_char_height, uint16_t(char_height));
}

FirmwareAnswer PcBios::call(RealModeCall& call, GuestMemory& memory)
{
    switch (call.vector) {
    case 0x10:
        return video(call, memory);
    case 0x11:
        call.set_ax(equipment);
        return {"int 11h: equipment list"};
    case 0x12:
        call.set_ax(base_memory_kib());
        return {"int 12h: base memory size"};
    case 0x13:
        return disk(call);
    case 0x15:
        return system(call, memory);
    case 0x16:
        return keyboard(call);
    default:
        return absent(call, fmt::format("int {:02X}h AH={:02X}h", call.vector, call.ah()));
    }
}

FirmwareAnswer PcBios::absent(RealModeCall& call, std::string service)
{
    call.carry = true;
    call.set_ah(ah_unsupported);
    return {std::move(service) + " (not supported)", false};
}

FirmwareAnswer PcBios::video(RealModeCall& call, GuestMemory& memory)
{
    switch (call.ah()) {
    case 0x00:
        m_row = m_column = 0;
        return {"int 10h AH=00h: set video mode"};
    case 0x01:
        return {"int 10h AH=01h: set cursor shape"};
    case 0x02:
        m_row = uint8_t(call.edx >> 8);
        m_column = uint8_t(call.edx);
        memory.write_value(bda_cursor, uint16_t(m_row << 8 | m_column));
        return {"int 10h AH=02h: set cursor position"};
    case 0x03:
        call.edx = (call.edx & ~0xffffu) | uint32_t(m_row) << 8 | m_column;
        call.ecx = (call.ecx & ~0xffffu) | 0x0607;  // the usual underline cursor
        return {"int 10h AH=03h: cursor position"};
    case 0x05:
        return {"int 10h AH=05h: select page"};
    case 0x06:
    case 0x07:
        return {fmt::format("int 10h AH={:02X}h: scroll window", call.ah())};
    case 0x08:
        call.set_ax(0x0720);  // a space, grey on black
        return {"int 10h AH=08h: read character"};
    case 0x09:
    case 0x0a:
        return {fmt::format("int 10h AH={:02X}h: write character", call.ah())};
    case 0x0e: {
        FirmwareAnswer answer {"int 10h AH=0Eh: teletype output"};
        char c = char(call.al());
        if (c == '\n') {
            answer.printed = m_line;
            m_line.clear();
            m_column = 0;
            m_row = uint8_t(std::min<int>(m_row + 1, rows - 1));
        } else if (c == '\r') {
            m_column = 0;
        } else {
            if (m_line.size() < 1024)
                m_line += c;
            m_column = uint8_t(std::min<int>(m_column + 1, columns - 1));
        }
        return answer;
    }
    case 0x0f:
        call.set_al(text_mode);
        call.set_ah(columns);
        call.ebx &= ~0xff00u;  // page 0
        return {"int 10h AH=0Fh: current video mode"};
    case 0x11:
        if (call.al() == 0x30) {
            call.ecx = (call.ecx & ~0xffffu) | char_height;
            call.edx = (call.edx & ~0xffu) | (rows - 1);
            return {"int 10h AX=1130h: font information"};
        }
        return {fmt::format("int 10h AX={:04X}h: load font", call.ax())};
    case 0x12:
        if (uint8_t(call.ebx) == 0x10) {
            call.ebx = (call.ebx & ~0xffffu) | 0x0003;  // colour, 256 KiB
            call.ecx &= ~0xffffu;
            return {"int 10h AH=12h BL=10h: EGA information"};
        }
        return absent(call, fmt::format("int 10h AH=12h BL={:02X}h", uint8_t(call.ebx)));
    case 0x1a:
        if (call.al() == 0x00) {
            call.set_al(0x1a);
            call.ebx = (call.ebx & ~0xffffu) | 0x0008;  // VGA with a colour display
            return {"int 10h AX=1A00h: display combination"};
        }
        return absent(call, fmt::format("int 10h AX={:04X}h", call.ax()));
    case 0x4f:
        // No VESA BIOS: AX comes back unchanged, which callers read as
        // "function not supported" (AL would be 4Fh, AH 00h).
        return {fmt::format("int 10h AX={:04X}h: VESA (not supported)", call.ax()), false};
    default:
        return absent(call, fmt::format("int 10h AH={:02X}h", call.ah()));
    }
}

FirmwareAnswer PcBios::disk(RealModeCall& call)
{
    // The machine's disks are virtio devices; the BIOS knows of none.
    uint8_t function = call.ah();
    call.carry = true;
    call.set_ah(ah_bad_drive);
    return {fmt::format("int 13h AH={:02X}h (no such drive)", function), false};
}

FirmwareAnswer PcBios::memory_map_entry(RealModeCall& call, GuestMemory& memory)
{
    uint32_t index = call.ebx;
    uint32_t wanted = call.ecx;
    if (call.edx != smap || wanted < 20 || index >= m_e820.size()) {
        call.carry = true;
        call.set_ah(ah_unsupported);
        return {"int 15h AX=E820h: memory map (no such entry)", false};
    }
    const E820Entry& e = m_e820[index];
    uint8_t entry[24] = {};
    for (int i = 0; i < 8; ++i) {
        entry[i] = uint8_t(e.address >> (8 * i));
        entry[8 + i] = uint8_t(e.size >> (8 * i));
    }
    for (int i = 0; i < 4; ++i)
        entry[16 + i] = uint8_t(uint32_t(e.type) >> (8 * i));
    entry[20] = 1;  // ACPI 3.0 extended attributes: "enabled"
    uint32_t length = wanted >= 24 ? 24 : 20;
    if (!memory.write(RealModeCall::linear(call.es, uint16_t(call.edi)), entry, length)) {
        call.carry = true;
        return {"int 15h AX=E820h: buffer outside RAM", false};
    }
    call.eax = smap;
    call.ecx = length;
    call.ebx = index + 1 < m_e820.size() ? index + 1 : 0;
    call.carry = false;
    return {"int 15h AX=E820h: memory map"};
}

FirmwareAnswer PcBios::system(RealModeCall& call, GuestMemory& memory)
{
    if (call.ax() == 0xe820)
        return memory_map_entry(call, memory);
    if (call.ax() == 0xe801) {
        // KiB from 1 MiB to 16 MiB, and 64 KiB blocks from 16 MiB to 4 GiB.
        uint16_t low = uint16_t(ram_between(MiB, 16 * MiB) / KiB);
        uint16_t high = uint16_t(std::min<uint64_t>(ram_between(16 * MiB, 4096 * MiB) / (64 * KiB), 0xffff));
        call.set_ax(low);
        call.ebx = (call.ebx & ~0xffffu) | high;
        call.ecx = (call.ecx & ~0xffffu) | low;
        call.edx = (call.edx & ~0xffffu) | high;
        call.carry = false;
        return {"int 15h AX=E801h: memory size"};
    }
    switch (call.ah()) {
    case 0x88:
        call.set_ax(uint16_t(std::min<uint64_t>(ram_between(MiB, 64 * MiB) / KiB, 0xfc00)));
        call.carry = false;
        return {"int 15h AH=88h: extended memory size"};
    case 0x24:
        // A20 is always on: addresses never wrap at 1 MiB on this machine.
        if (call.al() == 0x01 || call.al() == 0x00) {
            call.set_ah(0);
            call.carry = false;
            return {call.al() ? "int 15h AX=2401h: enable A20" : "int 15h AX=2400h: disable A20 (kept on)"};
        }
        if (call.al() == 0x02) {
            call.set_ah(0);
            call.set_al(1);
            call.carry = false;
            return {"int 15h AX=2402h: A20 status"};
        }
        if (call.al() == 0x03) {
            call.set_ah(0);
            call.ebx = (call.ebx & ~0xffffu) | 0x0003;  // keyboard controller and port 92h
            call.carry = false;
            return {"int 15h AX=2403h: A20 support"};
        }
        return absent(call, fmt::format("int 15h AX={:04X}h", call.ax()));
    case 0x86:
        call.carry = false;
        return {"int 15h AH=86h: wait"};
    case 0xec:
        call.set_ah(0);
        call.carry = false;
        return {"int 15h AX=EC00h: target operating mode"};
    case 0xe9:
        return absent(call, "int 15h AX=E980h: Intel SpeedStep");
    case 0xc0:
        return absent(call, "int 15h AH=C0h: system configuration");
    case 0x53:
        return absent(call, fmt::format("int 15h AX={:04X}h: APM", call.ax()));
    default:
        return absent(call, fmt::format("int 15h AX={:04X}h", call.ax()));
    }
}

FirmwareAnswer PcBios::keyboard(RealModeCall& call)
{
    switch (call.ah()) {
    case 0x00:
    case 0x10:
        call.set_ax(0x1c0d);  // Enter: nobody types at the BIOS
        return {"int 16h AH=00h: read key (Enter)"};
    case 0x01:
    case 0x11:
        call.zero = true;
        return {"int 16h AH=01h: key waiting (none)"};
    case 0x02:
        call.set_al(0);
        return {"int 16h AH=02h: shift flags"};
    case 0x03:
        return {"int 16h AX=03xxh: repeat rate"};
    default:
        return absent(call, fmt::format("int 16h AH={:02X}h", call.ah()));
    }
}

}  // namespace bootsim
