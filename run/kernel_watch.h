#pragma once
// What the machine learns from the kernel's own symbol table (kallsyms,
// recovered on the host): the phases that a kernel function marks, the
// panic path, and the kernel patching its own code.
//
//   kernel     start_kernel runs
//   initramfs  do_populate_rootfs returns: the initrd is unpacked
//   modules    do_init_module runs for the first module (each module is an
//              event with its name, read from struct module)
//   root       switch_root is done: chroot() after the real root was mounted
//              (each mount of a device is an event: source, target, type)
//   panic      panic() is entered: its message is read from its arguments,
//              and the run ends at the first delay the panic path makes
//              (the endless loop after the messages), not at a timeout
//   module code  set_memory_rox / set_memory_x: the translations of the
//              range made executable are dropped, so a module loaded where
//              another's code was runs as loaded
//   initcalls  do_one_initcall, each call timed (InitcallWatch)
//   storage    disks, device-mapper tables, unlocks, hibernation (StorageWatch)
//   patching   __text_poke / text_poke_early: the translated copies of the
//              patched bytes are dropped, so the kernel's alternatives,
//              static keys and static calls take effect. With these watched,
//              guest stores need no per-store check (Cpu::track_self_modifying_code).
//
// Addresses are link-time ones plus KASLR's virtual offset, which the
// handoff check derives from the guest's relocated kernel.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/machine.h"
#include "loader/kernel_symbols.h"
#include "run/initcall_watch.h"
#include "run/kernel_abi.h"
#include "run/storage_watch.h"

namespace bootsim {

class KernelWatch final {
public:
    KernelWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset, KernelAbi abi);

    // Arms the watches. Call from the CPU thread, outside hooks (posted work).
    void arm();

    // Whether the kernel's code patching is covered, so that per-store
    // checks are not needed.
    bool watches_code_patching() const { return m_text_poke || m_text_poke_early; }
    // Whether panic() is watched, so a panic ends the run where it is entered.
    bool watches_panic() const { return m_panic.has_value(); }
    const std::string& panic_message() const { return m_panic_message; }

    // The kernel's printf-style panic format with its arguments, as far as
    // they can be read (%s from guest memory, integers from registers).
    std::string format_message(uint64_t format_address, const uint64_t* args, int nargs) const;

private:
    std::optional<uint64_t> runtime(std::string_view name) const;
    bool on_populate_rootfs();
    bool on_made_executable();
    // Calls `handler` on the CPU thread when the function just entered
    // returns to its caller (this frame only); returns the watch's verdict.
    bool at_return(std::function<void()> handler);
    bool on_panic();
    // The patched range is arguments `address_arg` and `length_arg`.
    bool on_text_poke(unsigned address_arg, unsigned length_arg);
    bool on_init_module();
    bool on_mount();
    bool on_chroot();
    std::string read_string(uint64_t address, size_t max) const;

    Machine& m_machine;
    const KernelSymbols& m_symbols;
    int64_t m_virtual_offset;
    KernelAbi m_abi;
    std::optional<uint64_t> m_start_kernel, m_populate, m_panic, m_text_poke, m_text_poke_early;
    std::optional<uint64_t> m_init_module, m_mount, m_chroot, m_set_memory_rox, m_set_memory_x;
    bool m_device_mounted = false;
    std::string m_loading_module;  // the module do_init_module runs for
    InitcallWatch m_initcalls;
    StorageWatch m_storage;

    std::string m_panic_message;
    bool m_panicking = false;
};

}  // namespace bootsim
