#pragma once
// Reads the kernel's console for what it says about its own health: oopses,
// WARNs and BUGs are counted (the boot may go on), and a panic ends the run.
// This is the evidence of last resort: with the kernel's symbols, panic() is
// watched where it is entered (core/kernel_watch.h) and ends the run there;
// without them (a kernel bootsim does not recognise, --no-kernel-symbols)
// the panic's own closing line ("---[ end Kernel panic - not syncing: ...")
// ends it. Either way the run ends at most a second of host time after the
// panic line appeared, whatever else was or was not detected.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/boot_event.h"
#include "core/machine.h"

namespace bootsim {

class KernelLogWatch final : public EventSink {
public:
    // `panic_watched`: whether panic() itself is watched right now.
    KernelLogWatch(Machine& machine, std::function<bool()> panic_watched);
    void on_event(const BootEvent& event) override;

    uint64_t oopses() const { return m_oopses; }
    uint64_t warnings() const { return m_warnings; }
    uint64_t bugs() const { return m_bugs; }
    // The panic message as the kernel printed it, once it did.
    const std::optional<std::string>& panic() const { return m_panic; }

    // How long after the panic line the run ends if nothing else ended it.
    static constexpr uint64_t panic_grace_ns = 1'000'000'000;

private:
    void check_line(const std::string& line);
    void end_for_panic();

    Machine& m_machine;
    std::function<bool()> m_panic_watched;
    std::string m_line;
    uint64_t m_oopses = 0, m_warnings = 0, m_bugs = 0;
    std::optional<std::string> m_panic;
    uint64_t m_panic_wall_ns = 0;
    bool m_ended = false;
};

}  // namespace bootsim
