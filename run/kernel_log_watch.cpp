#include "run/kernel_log_watch.h"

#include "run/console_lines.h"
#include "run/output_limits.h"

namespace bootsim {

namespace {
// The kernel's own wording (kernel/panic.c, arch/x86/kernel/dumpstack.c,
// kernel/panic.c __warn(), lib/bug.c).
constexpr std::string_view panic_prefix = "Kernel panic - not syncing: ";
constexpr std::string_view panic_end_prefix = "---[ end Kernel panic - not syncing: ";
constexpr std::string_view oops_prefix = "Oops: ";
constexpr std::string_view warning_prefix = "WARNING: CPU: ";
constexpr std::string_view bug_prefix = "BUG: ";

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// The message of a console line: printk's "[    1.234567] " time stamp off.
std::string_view message_of(std::string_view line)
{
    if (!line.empty() && line[0] == '[') {
        size_t close = line.find("] ");
        if (close != std::string_view::npos && close < 20)
            line.remove_prefix(close + 2);
    }
    return line;
}
}  // namespace

KernelLogWatch::KernelLogWatch(Machine& machine, std::function<bool()> panic_watched)
    : m_machine(machine), m_panic_watched(std::move(panic_watched))
{
    // The backstop: the run loop services this at every stop (timer ticks
    // come every few milliseconds of guest time, even in the panic loop).
    m_machine.add_service([this] {
        if (m_panic && !m_ended && m_machine.wall_ns() - m_panic_wall_ns >= panic_grace_ns)
            end_for_panic();
    });
}

void KernelLogWatch::on_event(const BootEvent& event)
{
    if (event.kind != EventKind::SerialOutput)
        return;
    split_console_lines(m_line, event.text, [this](const std::string& line) { check_line(line); }, max_console_line);
}

void KernelLogWatch::check_line(const std::string& line)
{
    std::string_view message = message_of(line);
    if (starts_with(message, oops_prefix))
        ++m_oopses;
    else if (starts_with(message, warning_prefix))
        ++m_warnings;
    else if (starts_with(message, bug_prefix))
        ++m_bugs;
    else if (!m_panic && starts_with(message, panic_prefix)) {
        m_panic = std::string(message.substr(panic_prefix.size()));
        m_panic_wall_ns = m_machine.wall_ns();
        m_machine.emit({.kind = EventKind::Note, .text = "the kernel printed: " + std::string(message)});
    } else if (m_panic && starts_with(message, panic_end_prefix) && !m_panic_watched()) {
        end_for_panic();
    }
}

void KernelLogWatch::end_for_panic()
{
    m_ended = true;
    m_machine.request_stop(RunEnd::Panic, "kernel panic: " + *m_panic);
}

}  // namespace bootsim
