#pragma once
// The PC's firmware, as far as a real-mode boot needs it: no BIOS binary,
// but the services the kernel's setup code calls (arch/x86/boot/: memory.c,
// video*.c, tty.c, main.c, edd.c, a20.c) answered from the machine's own
// configuration, and the tables they and the kernel read: an interrupt
// vector table whose every entry points at an IRET in the BIOS ROM area, and
// a BIOS data area (COM1, base memory, EBDA, 80x25 colour text mode).
//
// Services (INT, AH/AX):
//   10h  video: 00h set mode, 01h cursor shape, 02h/03h cursor position,
//        05h page, 06h/07h scroll, 08h read character, 09h/0Ah write
//        character, 0Eh teletype (the text goes to the event stream by
//        lines), 0Fh current mode (3, 80 columns), 1130h font (16 points,
//        25 rows), 12h BL=10h EGA information (colour), 1A00h display
//        combination (VGA colour); VESA (4Fxxh) is absent
//   11h  equipment list; 12h base memory (KiB below the EBDA)
//   13h  disks: there are none the BIOS knows (the disks are virtio): every
//        call fails with CF set, AH=01h, as for a drive that is not there
//   15h  E820h memory map (20- or 24-byte entries from the machine's e820
//        map), E801h and 88h memory sizes, 2401h-2403h A20 (always on),
//        ECh "target operating mode", 86h wait; E980h (SpeedStep), C0h
//        (system configuration), 5300h (APM) are absent
//   16h  keyboard: 00h read (Enter: nobody types at the BIOS), 01h check
//        (none waiting: ZF), 02h shift flags (none), 03h repeat rate
// Anything else is answered as an absent feature (CF set, AH=86h) and named
// in the answer, so the front ends can say it once.

#include <cstdint>
#include <string>
#include <vector>

#include "core/boot_plan.h"
#include "core/firmware.h"

namespace bootsim {

class PcBios final : public Firmware {
public:
    // Where the tables go (guest-physical): the IVT and the BIOS data area
    // in the first 0x500 bytes, the IRET every vector points at in the ROM.
    static constexpr uint64_t tables_base = 0;
    static constexpr uint64_t tables_size = 0x500;
    static constexpr uint16_t rom_segment = 0xf000;
    static constexpr uint16_t iret_offset = 0xff53;  // where a PC BIOS keeps its dummy handler
    static constexpr uint64_t iret_address = uint64_t(rom_segment) * 16 + iret_offset;

    explicit PcBios(std::vector<E820Entry> e820) : m_e820(std::move(e820)) {}

    // Writes the IVT, the BIOS data area and the ROM's IRET.
    void write_tables(GuestMemory& memory) const;

    FirmwareAnswer call(RealModeCall& call, GuestMemory& memory) override;

    // KiB of conventional memory: the first e820 RAM entry, below the EBDA.
    uint16_t base_memory_kib() const;

private:
    FirmwareAnswer video(RealModeCall& call, GuestMemory& memory);
    FirmwareAnswer disk(RealModeCall& call);
    FirmwareAnswer system(RealModeCall& call, GuestMemory& memory);
    FirmwareAnswer keyboard(RealModeCall& call);
    FirmwareAnswer memory_map_entry(RealModeCall& call, GuestMemory& memory);
    FirmwareAnswer absent(RealModeCall& call, std::string service);
    // Bytes of RAM the e820 map has in [begin, end).
    uint64_t ram_between(uint64_t begin, uint64_t end) const;

    std::vector<E820Entry> m_e820;
    std::string m_line;  // teletype output since the last newline
    uint8_t m_row = 0, m_column = 0;
};

}  // namespace bootsim
