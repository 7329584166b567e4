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

    explicit SyntheticGuest(const std::vector<uint8_t>& code, EventSink* sink = nullptr)
    {
        auto kernel = parse_bzimage("fake", build_fake_bzimage({}));
        if (!kernel) {
            ADD_FAILURE() << kernel.error().message;
            return;
        }
        BootConfig config;
        config.mem_size = 64 << 20;
        auto plan = make_boot_plan(*kernel, nullptr, config);
        auto m = Machine::create(config.mem_size, sink ? *sink : events);
        if (!plan || !m) {
            ADD_FAILURE() << "no plan or machine";
            return;
        }
        machine = std::move(*m);
        EXPECT_TRUE(machine->load(*plan).ok());
        entry = plan->entry.rip;
        machine->memory().write(entry, code.data(), code.size());
    }
};

}  // namespace bootsim::fake
