#include "run/console_log.h"

#include <fmt/format.h>

#include "loader/boot_plan.h"

namespace bootsim {

namespace {
std::string seconds(uint64_t ns)
{
    return fmt::format("{:8.3f}s", double(ns) / 1e9);
}

std::string size_text(uint64_t bytes)
{
    if (bytes >= (1 << 20))
        return fmt::format("{:.1f} MiB", double(bytes) / (1 << 20));
    if (bytes >= 1024)
        return fmt::format("{:.1f} KiB", double(bytes) / 1024);
    return fmt::format("{} B", bytes);
}
}  // namespace

void ConsoleLog::line(const std::string& text)
{
    fflush(m_console);
    fmt::print(m_log, "bootsim: {}\n", text);
    fflush(m_log);
}

void ConsoleLog::on_event(const BootEvent& e)
{
    switch (e.kind) {
    case EventKind::SerialOutput:
        fwrite(e.text.data(), 1, e.text.size(), m_console);
        if (!e.text.empty() && e.text.back() == '\n')
            fflush(m_console);
        break;
    case EventKind::IdleSkip:
        // The guest waits, perhaps at a prompt with no newline after it
        // ("Please unlock disk ...: ", a shell's "# "): whoever reads the
        // console, a person or a script that answers on stdin, sees it now.
        fflush(m_console);
        break;
    case EventKind::RegionPlaced:
        line(fmt::format("region {:<18} {:#010x}-{:#010x} {:>10}  {}", region_role_name(RegionRole(e.value)),
                         e.address, e.address + e.size, size_text(e.size), e.text));
        break;
    case EventKind::PhaseEntered:
        line(fmt::format("[{}] phase {:<10} at rip {:#x} (guest time {}): {}", seconds(e.wall_ns),
                         phase_name(e.phase), e.address, seconds(e.virtual_ns), e.text));
        break;
    case EventKind::DecompressorMoved:
        line(fmt::format("[{}] the decompressor runs from its relocated copy at {:#x} ({} at the top of its buffer)",
                         seconds(e.wall_ns), e.address, size_text(e.size)));
        break;
    case EventKind::Note:
    case EventKind::BootStep:
        line(fmt::format("[{}] {}", seconds(e.wall_ns), e.text));
        break;
    case EventKind::CpuModeChanged:
        line(fmt::format("[{}] the CPU {}, seen at the block at {:#x}", seconds(e.wall_ns),
                         e.text == "long" ? "entered long mode (EFER.LMA set as paging went on)"
                                          : "switched to protected mode (CR0.PE set)",
                         e.address));
        break;
    case EventKind::FirmwareCall:
        // Each service once: the setup code calls some of them in loops.
        if (m_services_said.insert(e.text).second)
            line(fmt::format("[{}] BIOS {}", seconds(e.wall_ns), e.text));
        break;
    case EventKind::ExceptionDelivered:
    case EventKind::GuestHalted:
    case EventKind::Interrupt:
    case EventKind::DiskIo:
    case EventKind::InitcallStarted:
    case EventKind::InitcallReturned:
        break;
    }
}

}  // namespace bootsim
