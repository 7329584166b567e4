// A halted guest waiting for a timer: by default the machine's clock jumps
// to the timer's deadline (idle skipping); with it off (--no-idle-skip) the
// wait takes its real time, as under QEMU. Either way the guest sees the
// same thing: the interrupt, at the deadline of its own clock.
#include <gtest/gtest.h>

#include <chrono>

#include "core/clock.h"
#include "core/interrupt_controller.h"
#include "core/machine.h"
#include "unit/synthetic_guest.h"

using namespace bootsim;

namespace {

constexpr uint64_t wait_ns = 300'000'000;  // the guest's timer: 300 ms after the start

// One timer and the line it raises: fires once, at `deadline` of the
// machine's clock.
class OneShotTimer final : public TimedDevice, public InterruptController {
public:
    explicit OneShotTimer(Machine& machine) : m_machine(machine) {}
    uint64_t next_deadline_ns() const override { return m_fired ? never : m_deadline; }
    void advance(uint64_t now_ns) override
    {
        if (!m_fired && now_ns >= m_deadline) {
            m_fired = m_pending = true;
            m_machine.interrupt_line_changed();
        }
    }
    bool has_interrupt() const override { return m_pending; }
    int acknowledge() override
    {
        m_pending = false;
        return 0x30;
    }
    uint64_t m_deadline = 0;
    bool m_fired = false, m_pending = false;

private:
    Machine& m_machine;
};

class SkipCounter final : public EventSink {
public:
    void on_event(const BootEvent& e) override
    {
        if (e.kind == EventKind::IdleSkip) {
            skipped_ns += e.size;
            ++idle_events;
        }
    }
    uint64_t skipped_ns = 0;
    unsigned idle_events = 0;
};

struct Waited {
    double wall_seconds;
    uint64_t skipped_ns;
    unsigned idle_events;
    uint64_t guest_ns_at_end;
    RunEnd end;
};

Waited halt_until_the_timer(bool skip)
{
    // lidt [0x5800]; sti; hlt; cli; hlt   (the handler: iretq, back to the cli)
    SkipCounter skips;
    fake::SyntheticGuest g({0x0f, 0x01, 0x1c, 0x25, 0x00, 0x58, 0x00, 0x00, 0xfb, 0xf4, 0xfa, 0xf4}, &skips);
    if (!g.machine)
        return {};
    g.install_iretq_handler_for_vector_0x30();

    OneShotTimer timer(*g.machine);
    timer.m_deadline = g.machine->now_ns() + wait_ns;
    g.machine->add_timed_device(timer);
    g.machine->set_interrupt_controller(timer);
    g.machine->set_idle_skipping(skip);
    auto start = std::chrono::steady_clock::now();
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 20});
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(timer.m_fired);
    return {wall, skips.skipped_ns, skips.idle_events, g.machine->now_ns(), outcome.end};
}

}  // namespace

TEST(IdleSkip, AHaltedGuestsWaitIsSkipped)
{
    Waited r = halt_until_the_timer(true);
    EXPECT_EQ(r.end, RunEnd::Halted);
    EXPECT_TRUE(r.wall_seconds < 0.2) << r.wall_seconds;  // far less than the 300 ms the guest waited
    EXPECT_GT(r.skipped_ns, wait_ns / 2);
    EXPECT_GE(r.guest_ns_at_end, wait_ns);
}

TEST(IdleSkip, WithSkippingOffTheWaitTakesItsRealTime)
{
    Waited r = halt_until_the_timer(false);
    EXPECT_EQ(r.end, RunEnd::Halted);
    EXPECT_GE(r.wall_seconds, 0.29);
    EXPECT_EQ(r.skipped_ns, 0u);
    // The wait is still said (size 0), once, so the console is flushed.
    EXPECT_EQ(r.idle_events, 1u);
    EXPECT_GE(r.guest_ns_at_end, wait_ns);
}
