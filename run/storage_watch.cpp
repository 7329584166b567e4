#include "run/storage_watch.h"

#include <cstring>
#include <fmt/format.h>
#include <linux/dm-ioctl.h>
#include <vector>

namespace bootsim {

namespace {
// struct gendisk starts with int major, first_minor, minors and then
// char disk_name[32] (include/linux/blkdev.h, 6.1 to 7.x).
constexpr uint64_t gendisk_name_offset = 12, disk_name_length = 32;
// The most of a table load read from the guest: LVM and cryptsetup load a
// handful of targets, each a line of parameters.
constexpr size_t max_dm_ioctl_bytes = 16384;

}  // namespace

StorageWatch::StorageWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset, KernelAbi abi)
    : m_machine(machine), m_symbols(symbols), m_virtual_offset(virtual_offset), m_abi(abi)
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
    if (auto f = runtime(m_abi.syscall_symbol("ioctl")))
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
    // device_add_disk(parent, disk, groups)
    std::string name = disk_name(m_abi.argument(m_machine.cpu(), 1));
    if (!name.empty())
        step(BootStepKind::BlockDevice, "block device " + name + " added");
    return false;
}

bool StorageWatch::on_capacity()
{
    // set_capacity_and_notify(disk, size): a 32-bit kernel passes the
    // 64-bit size in EDX (low half) and ECX.
    std::string name = disk_name(m_abi.argument(m_machine.cpu(), 0));
    uint64_t sectors = m_abi.wide() ? m_abi.argument(m_machine.cpu(), 1)
                                    : m_abi.argument(m_machine.cpu(), 1) | m_abi.argument(m_machine.cpu(), 2) << 32;
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
    // ioctl(fd, command, argument) through its pt_regs wrapper.
    uint64_t command = 0, argument = 0;
    if (!m_abi.syscall_argument(cpu, 1, command) || !DmIoctlDecoder::is_dm(command) ||
        !m_abi.syscall_argument(cpu, 2, argument))
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
