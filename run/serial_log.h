#pragma once
// --serial-log FILE: the guest's console, each line stamped with the guest
// time its first byte was written ("[   1.234567] text"), whatever the
// kernel's own printk timestamps say.

#include <cstdint>
#include <string>

#include "core/boot_event.h"

namespace bootsim {

class SerialLog final : public EventSink {
public:
    void on_event(const BootEvent& event) override;
    // The log so far, an unfinished last line included.
    std::string text() const;

private:
    std::string m_text;
    std::string m_partial;
    uint64_t m_dropped_lines = 0;  // past max_console_kept_bytes (run/output_limits.h)
    uint64_t m_line_start = 0;
};

}  // namespace bootsim
