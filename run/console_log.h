#pragma once
// The headless front end: the guest's serial console on stdout, byte for
// byte, and bootsim's own lines (regions, phases, checks) on stderr, each
// prefixed "bootsim:" so the two never mix in a pipe.

#include <cstdio>
#include <set>
#include <string>

#include "core/boot_event.h"

namespace bootsim {

class ConsoleLog final : public EventSink {
public:
    explicit ConsoleLog(FILE* console = stdout, FILE* log = stderr) : m_console(console), m_log(log) {}
    void on_event(const BootEvent& event) override;

    // Prints a line of bootsim's own, after the console's pending output.
    void line(const std::string& text);

private:
    FILE* m_console;
    FILE* m_log;
    bool m_console_mid_line = false;
    std::set<std::string> m_services_said;  // firmware services already named in the log
};

}  // namespace bootsim
