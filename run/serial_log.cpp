#include "run/serial_log.h"

#include <fmt/format.h>

#include "run/console_lines.h"
#include "run/output_limits.h"

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
    split_console_lines(
        m_partial, e.text,
        [&](const std::string& line) {
            if (m_text.size() < max_console_kept_bytes)
                m_text += stamped(m_line_start, line);
            else
                m_dropped_lines++;
            m_line_start = e.virtual_ns;
        },
        max_console_line);
}

std::string SerialLog::text() const
{
    std::string text = m_partial.empty() ? m_text : m_text + stamped(m_line_start, m_partial);
    if (m_dropped_lines)
        text += fmt::format("[bootsim: {} more console lines were not kept: the log keeps its first {} MiB]\n",
                            m_dropped_lines, max_console_kept_bytes >> 20);
    return text;
}

}  // namespace bootsim
