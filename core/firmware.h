#pragma once
// A real-mode guest's software interrupts (INT n with CR0.PE clear) are
// the firmware's services on a PC: the BIOS answers them from its own
// configuration. The CPU hands each one, with the registers a service reads
// and writes, to whatever firmware the board installed; the CPU core knows
// no service by name.

#include <cstdint>
#include <string>

#include "core/guest_memory.h"

namespace bootsim {

struct RealModeCall {
    uint8_t vector = 0;
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0, esi = 0, edi = 0, ebp = 0;
    uint16_t ds = 0, es = 0;
    bool carry = false;  // CF on return: the usual "failed / not supported"
    bool zero = false;   // ZF on return (INT 16h AH=01h: no key waiting)

    uint8_t ah() const { return uint8_t(eax >> 8); }
    uint8_t al() const { return uint8_t(eax); }
    uint16_t ax() const { return uint16_t(eax); }
    void set_ah(uint8_t v) { eax = (eax & ~0xff00u) | uint32_t(v) << 8; }
    void set_al(uint8_t v) { eax = (eax & ~0xffu) | v; }
    void set_ax(uint16_t v) { eax = (eax & ~0xffffu) | v; }
    // ES:DI (and the other pairs) as a physical address: segment * 16 + offset.
    static uint64_t linear(uint16_t segment, uint16_t offset) { return uint64_t(segment) * 16 + offset; }
};

// What a call was, for the event stream: the service's name (e.g. "int 15h
// E820h: memory map entry 2"), and any text the guest printed through it
// (teletype output, by lines).
struct FirmwareAnswer {
    FirmwareAnswer(std::string service_name, bool has_it = true) : service(std::move(service_name)), supported(has_it) {}

    std::string service;
    bool supported = true;  // false: answered as an absent feature
    std::string printed;    // a whole line the guest printed, without its newline
};

class Firmware {
public:
    virtual ~Firmware() = default;
    // Answers one service call: reads and sets the registers, and guest
    // memory where the service writes (ES:DI buffers).
    virtual FirmwareAnswer call(RealModeCall& call, GuestMemory& memory) = 0;
};

}  // namespace bootsim
