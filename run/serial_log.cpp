#include "run/serial_log.h"

#include <fmt/format.h>

#include "run/console_lines.h"

namespace bootsim {

namespace {
std::string stamped(uint64_t ns, const std::string& line)
{
    return fmt::format("[{:4}.{:06}] {}\n", ns / 1'000'000'000, ns / 1000 % 1'000'000, line);
}
}  // namespace

void SerialLog::on_event(const BootEvent& e)
{
    if (e.kind != EventKind::SerialOutput)
        return;
    if (m_partial.empty())
        m_line_start = e.virtual_ns;
    split_console_lines(m_partial, e.text, [&](const std::string& line) {
        m_text += stamped(m_line_start, line);
        m_line_start = e.virtual_ns;
    });
}

std::string SerialLog::text() const
{
    return m_partial.empty() ? m_text : m_text + stamped(m_line_start, m_partial);
}

}  // namespace bootsim
