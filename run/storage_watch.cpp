#include "run/storage_watch.h"

#include <cstring>
#include <fmt/format.h>
#include <linux/dm-ioctl.h>
#include <vector>

namespace bootsim {

namespace {
// System V AMD64 argument registers, as indices into CpuState::gpr.
constexpr int rdi = 7, rsi = 6;
// __x64_sys_ioctl(const struct pt_regs *regs): the user's fd, command and
// argument are the saved di, si and dx.
constexpr uint64_t pt_regs_dx = 96, pt_regs_si = 104;
// struct gendisk starts with int major, first_minor, minors and then
// char disk_name[32] (include/linux/blkdev.h, 6.1 to 7.x).
constexpr uint64_t gendisk_name_offset = 12, disk_name_length = 32;
// The most of a table load read from the guest: LVM and cryptsetup load a
// handful of targets, each a line of parameters.
constexpr size_t max_dm_ioctl_bytes = 16384;

}  // namespace

StorageWatch::StorageWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset)
    : m_machine(machine), m_symbols(symbols), m_virtual_offset(virtual_offset)
{
}

std::optional<uint64_t> StorageWatch::runtime(std::string_view name) const
{
    return m_symbols.runtime_address_of(name, m_virtual_offset);
}

void StorageWatch::arm()
{
    if (auto f = runtime("device_add_disk"))
        m_machine.watch(*f, [this] { return on_add_disk(); });
    if (auto f = runtime("set_capacity_and_notify"))
        m_machine.watch(*f, [this] { return on_capacity(); });
    if (auto f = runtime("__x64_sys_ioctl"))
        m_machine.watch(*f, [this] { return on_ioctl(); });
    if (auto f = runtime("hibernate"))
        m_machine.watch(*f, [this] {
            step(BootStepKind::Hibernate, "hibernation starts (hibernate())");
            return false;
        });
    if (auto f = runtime("swsusp_write"))
        m_machine.watch(*f, [this] {
            step(BootStepKind::Hibernate, "the hibernation image is written to swap (swsusp_write())");
            return false;
        });
    if (auto f = runtime("swsusp_read"))
        m_machine.watch(*f, [this] {
            step(BootStepKind::Resume, "a hibernation image is read from swap (swsusp_read())");
            return false;
        });
    if (auto f = runtime("hibernation_restore"))
        m_machine.watch(*f, [this] { return on_restore(); });
}

void StorageWatch::step(BootStepKind kind, std::string text)
{
    m_machine.emit({.kind = EventKind::BootStep, .value = uint64_t(kind), .text = std::move(text)});
}

std::string StorageWatch::disk_name(uint64_t gendisk) const
{
    char name[disk_name_length + 1] = {};
    if (!m_machine.cpu().read_virtual(gendisk + gendisk_name_offset, name, disk_name_length))
        return {};
    std::string out(name, strnlen(name, disk_name_length));
    for (char c : out)
        if (c < 0x21 || c > 0x7e)
            return {};
    return out;
}

bool StorageWatch::on_add_disk()
{
    std::string name = disk_name(m_machine.cpu().gpr(rsi));
    if (!name.empty())
        step(BootStepKind::BlockDevice, "block device " + name + " added");
    return false;
}

bool StorageWatch::on_capacity()
{
    std::string name = disk_name(m_machine.cpu().gpr(rdi));
    uint64_t sectors = m_machine.cpu().gpr(rsi);
    if (name.empty() || sectors == 0 || m_sizes[name] == sectors)
        return false;
    m_sizes[name] = sectors;
    // md sets its disk's size once the array runs (do_md_run): assembled,
    // from all its members or degraded (the kernel's "active with N out of
    // M mirrors" line just before says which).
    std::string size = fmt::format("{} sectors ({:.1f} MiB)", sectors, double(sectors) / 2048);
    if (name.rfind("md", 0) == 0)
        step(BootStepKind::RaidArray, "md array " + name + " started: " + size);
    else
        step(BootStepKind::BlockDevice, "block device " + name + ": " + size);
    return false;
}

bool StorageWatch::on_ioctl()
{
    auto& cpu = m_machine.cpu();
    uint64_t regs = cpu.gpr(rdi), command = 0, argument = 0;
    if (!cpu.read_virtual(regs + pt_regs_si, &command, 8) || !DmIoctlDecoder::is_dm(command) ||
        !cpu.read_virtual(regs + pt_regs_dx, &argument, 8))
        return false;
    dm_ioctl header;
    if (!cpu.read_virtual(argument, &header, sizeof header))
        return false;
    size_t size = std::clamp<size_t>(header.data_size, sizeof header, max_dm_ioctl_bytes);
    std::vector<uint8_t> data(size);
    if (!cpu.read_virtual(argument, data.data(), size))
        return false;
    if (auto found = m_dm.decode(uint32_t(command), data.data(), data.size()))
        step(found->kind, found->text);
    return false;
}

bool StorageWatch::on_restore()
{
    step(BootStepKind::Resume, "the hibernation image is restored: the kernel jumps back into the hibernated one "
                               "(hibernation_restore())");
    m_machine.post([this] { m_machine.forget_kernel("a hibernation image was restored"); });
    return true;
}

}  // namespace bootsim
