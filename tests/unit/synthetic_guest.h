#pragma once
// A small synthetic guest for machine-level tests: a fake bzImage's plan
// (64 MiB of RAM, the loader's identity map and GDT) with hand-written
// x86-64 code at the 64-bit entry point, on a machine with no board.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/machine.h"
#include "loader/boot_plan.h"
#include "unit/fake_bzimage.h"

namespace bootsim::fake {

class NoEvents final : public EventSink {
public:
    void on_event(const BootEvent&) override {}
};

struct SyntheticGuest {
    NoEvents events;
    std::unique_ptr<Machine> machine;
    uint64_t entry = 0;

    // With EntryMode::Real16 the code is 16-bit, at the setup code's entry
    // (CS 0x1020, IP 0: linear 0x10200), and `entry` is that linear address.
    explicit SyntheticGuest(const std::vector<uint8_t>& code, EventSink* sink = nullptr,
                            EntryMode mode = EntryMode::Long64)
    {
        auto kernel = parse_bzimage("fake", build_fake_bzimage({}));
        if (!kernel) {
            ADD_FAILURE() << kernel.error().message;
            return;
        }
        BootConfig config;
        config.mem_size = 64 << 20;
        config.entry = mode;
        auto plan = make_boot_plan(*kernel, nullptr, config);
        auto m = Machine::create(config.mem_size, sink ? *sink : events);
        if (!plan || !m) {
            ADD_FAILURE() << "no plan or machine";
            return;
        }
        machine = std::move(*m);
        EXPECT_TRUE(machine->load(*plan).ok());
        entry = mode == EntryMode::Real16 ? plan->entry.cs * 16ull + plan->entry.rip : plan->entry.rip;
        machine->memory().write(entry, code.data(), code.size());
    }

    // An IDT at 0x5000 whose vector 0x30 is a 64-bit interrupt gate to a
    // handler that only does IRETQ, and the IDTR image for it at
    // `lidt_operand` (the guest's code does `lidt [lidt_operand]`:
    // 0f 01 1c 25 00 58 00 00).
    static constexpr uint64_t lidt_operand = 0x5800;
    void install_iretq_handler_for_vector_0x30()
    {
        constexpr uint64_t idt = 0x5000, handler = 0x6000;
        GuestMemory& ram = machine->memory();
        const uint8_t iretq[] = {0x48, 0xcf};
        ram.write(handler, iretq, sizeof iretq);
        // Offset, selector (the loader's code segment), present, DPL 0, type 0xE.
        uint8_t gate[16] = {};
        uint16_t cs = machine->cpu().state().cs.selector;
        gate[0] = uint8_t(handler), gate[1] = uint8_t(handler >> 8);
        gate[2] = uint8_t(cs), gate[3] = uint8_t(cs >> 8);
        gate[5] = 0x8e;
        gate[6] = uint8_t(handler >> 16), gate[7] = uint8_t(handler >> 24);
        ram.write(idt + 16 * 0x30, gate, sizeof gate);
        uint8_t descriptor[10] = {0xff, 0x0f};  // limit 0xfff
        descriptor[2] = uint8_t(idt), descriptor[3] = uint8_t(idt >> 8);
        ram.write(lidt_operand, descriptor, sizeof descriptor);
    }
};

}  // namespace bootsim::fake
