#pragma once
// What the kernel and early user space do to reach a root that is not a
// plain partition, as BootStep events, from evidence that holds on every
// kernel from 6.1 to 7.x: exported kernel functions named by kallsyms and
// the device-mapper ioctls, whose layout is user-space ABI
// (<linux/dm-ioctl.h>).
//
//   block devices  device_add_disk(parent, disk, groups): a disk appears
//                  (vda, dm-0, md127); set_capacity_and_notify(disk, size):
//                  its size is set, which for an md array means it started
//   device-mapper  the ioctls on /dev/mapper/control (DmIoctlDecoder): each
//                  table loaded, and a LUKS volume unlocked
//   hibernation    hibernate() and swsusp_write(): an image is written;
//                  swsusp_read() and hibernation_restore(): one is read and
//                  the boot kernel jumps back into the hibernated kernel
//
// The restore replaces the running kernel by the hibernated one, whose
// kernel address space (KASLR) need not be the boot kernel's: every watch
// set from the boot kernel's symbols is then meaningless, so they are all
// dropped (Machine::forget_kernel) and self-modifying code is tracked per
// store from there on.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/machine.h"
#include "loader/kernel_symbols.h"
#include "run/kernel_abi.h"
#include "run/dm_ioctl_decoder.h"

namespace bootsim {

class StorageWatch final {
public:
    StorageWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset, KernelAbi abi);

    // Arms the watches. CPU thread, outside hooks.
    void arm();

private:
    std::optional<uint64_t> runtime(std::string_view name) const;
    std::string disk_name(uint64_t gendisk) const;
    void step(BootStepKind kind, std::string text);
    bool on_add_disk();
    bool on_capacity();
    bool on_ioctl();
    bool on_restore();

    Machine& m_machine;
    const KernelSymbols& m_symbols;
    int64_t m_virtual_offset;
    KernelAbi m_abi;
    std::map<std::string, uint64_t> m_sizes;  // the last size seen per disk
    DmIoctlDecoder m_dm;
};

}  // namespace bootsim
