#include "run/kernel_watch.h"

#include <algorithm>
#include <cctype>

namespace bootsim {

namespace {
// A module's text is far below this (256 MiB); a larger count is not a
// range worth dropping translations for.
constexpr uint64_t max_executable_pages = 65536;

// The delay functions the panic loop spins in (panic() ends in
// `for (;;) mdelay(PANIC_TIMER_STEP)`, kernel/panic.c).
constexpr const char* delay_functions[] = {"__const_udelay", "__udelay", "__ndelay", "__delay"};
}  // namespace

KernelWatch::KernelWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset, KernelAbi abi)
    : m_machine(machine), m_symbols(symbols), m_virtual_offset(virtual_offset), m_abi(abi),
      m_initcalls(machine, symbols, virtual_offset, abi, [this] { return m_loading_module; }),
      m_storage(machine, symbols, virtual_offset, abi)
{
    m_start_kernel = runtime("start_kernel");
    m_populate = runtime("do_populate_rootfs");
    m_set_memory_rox = runtime("set_memory_rox");
    m_set_memory_x = runtime("set_memory_x");
    m_panic = runtime("panic");
    m_text_poke = runtime("__text_poke");
    m_text_poke_early = runtime("text_poke_early");
    m_init_module = runtime("do_init_module");
    m_mount = runtime(m_abi.syscall_symbol("mount"));
    m_chroot = runtime(m_abi.syscall_symbol("chroot"));
}

std::optional<uint64_t> KernelWatch::runtime(std::string_view name) const
{
    return m_symbols.runtime_address_of(name, m_virtual_offset);
}

void KernelWatch::arm()
{
    if (auto direct_map = runtime("page_offset_base"))
        m_machine.set_direct_map_variable(*direct_map);
    if (m_start_kernel)
        m_machine.tracker().set_kernel_entry(*m_start_kernel);
    if (m_populate)
        m_machine.watch(*m_populate, [this] { return on_populate_rootfs(); });
    // set_memory_rox(addr, numpages) (6.3+), set_memory_x(addr, numpages).
    for (auto function : {m_set_memory_rox, m_set_memory_x})
        if (function)
            m_machine.watch(*function, [this] { return on_made_executable(); });
    if (m_panic)
        m_machine.watch(*m_panic, [this] { return on_panic(); });
    // __text_poke(func, addr, src, len); text_poke_early(addr, opcode, len)
    if (m_text_poke)
        m_machine.watch(*m_text_poke, [this] { return on_text_poke(1, 3); });
    if (m_text_poke_early)
        m_machine.watch(*m_text_poke_early, [this] { return on_text_poke(0, 2); });
    if (m_init_module)
        m_machine.watch(*m_init_module, [this] { return on_init_module(); });
    if (m_mount)
        m_machine.watch(*m_mount, [this] { return on_mount(); });
    if (m_chroot)
        m_machine.watch(*m_chroot, [this] { return on_chroot(); });
    m_initcalls.arm();
    m_storage.arm();
}

std::string KernelWatch::read_string(uint64_t address, size_t max) const
{
    std::string out;
    char c;
    while (out.size() < max && m_machine.cpu().read_virtual(address + out.size(), &c, 1) && c)
        out += c;
    return out;
}

bool KernelWatch::on_init_module()
{
    // do_init_module(struct module *mod): the name follows `state` (an int)
    // and the `list` head, two pointers aligned to one (include/linux/module.h:
    // offset 24 on x86-64, 12 on x86-32); MODULE_NAME_LEN is 64 - sizeof(long).
    const uint64_t word = m_abi.word_size();
    const uint64_t module_name_offset = std::max<uint64_t>(4, word) + 2 * word, module_name_length = 64 - word;
    uint64_t module = m_abi.argument(m_machine.cpu(), 0);
    std::string name = read_string(module + module_name_offset, module_name_length);
    m_loading_module = name;
    m_machine.emit({.kind = EventKind::BootStep,
                    .address = module,
                    .value = uint64_t(BootStepKind::Module),
                    .text = "module " + name + " loaded"});
    if (!m_machine.reached(Phase::Modules))
        m_machine.enter_phase(Phase::Modules, *m_init_module, "do_init_module runs for module " + name);
    return false;
}

bool KernelWatch::on_mount()
{
    // mount(source, target, type, ...) through its pt_regs wrapper.
    uint64_t source = 0, target = 0, type = 0;
    auto& cpu = m_machine.cpu();
    if (!m_abi.syscall_argument(cpu, 0, source) || !m_abi.syscall_argument(cpu, 1, target) ||
        !m_abi.syscall_argument(cpu, 2, type))
        return false;
    std::string source_name = source ? read_string(source, 256) : "";
    std::string type_name = type ? read_string(type, 64) : "";
    // A device, or a network file system's export (SERVER:/PATH, as
    // klibc's nfsmount and mount.nfs give it).
    bool network_export = type_name.rfind("nfs", 0) == 0 && source_name.find(":/") != std::string::npos;
    if (source_name.rfind("/dev/", 0) != 0 && !network_export)
        return false;  // proc, sysfs, a move: not a device
    std::string target_name = target ? read_string(target, 256) : "";
    m_device_mounted = true;
    m_machine.emit({.kind = EventKind::BootStep,
                    .value = uint64_t(BootStepKind::Mount),
                    .text = fmt::format("mount {} on {} ({})", source_name, target_name, type_name)});
    return false;
}

bool KernelWatch::on_chroot()
{
    if (m_device_mounted && !m_machine.reached(Phase::Root))
        m_machine.enter_phase(Phase::Root, *m_chroot, "chroot() after a device was mounted (switch_root)");
    return false;
}

bool KernelWatch::at_return(std::function<void()> handler)
{
    // The return address, for this very frame: the same address serves
    // every other caller (and every async job a kworker runs).
    const Cpu& cpu = m_machine.cpu();
    uint64_t return_address = 0;
    if (!m_abi.return_address(cpu, return_address))
        return false;
    uint64_t frame = m_abi.frame_after_return(cpu);
    m_machine.post([this, return_address, frame, handler = std::move(handler)] {
        m_machine.watch(return_address, [this, return_address, frame, handler] {
            if (m_abi.stack_pointer(m_machine.cpu()) != frame)
                return false;
            handler();
            m_machine.post([this, return_address] { m_machine.unwatch(return_address); });
            return true;
        });
    });
    return true;  // stop here so the posted work arms the return watch
}

bool KernelWatch::on_populate_rootfs()
{
    // The initrd is unpacked when do_populate_rootfs returns.
    m_machine.post([this] { m_machine.unwatch(*m_populate); });
    return at_return([this] {
        m_machine.enter_phase(Phase::Initramfs, m_machine.cpu().rip(), "do_populate_rootfs returned");
    });
}

bool KernelWatch::on_made_executable()
{
    // The module loader copies code with plain stores into memory that may
    // just have held another module's code (the init sections of the
    // previous one are freed asynchronously, often to be handed out again
    // at the same virtual address and physical page): stale translations
    // of it would run as the new module (seen: crc32c_generic's init running
    // virtio_blk's). The loader makes the range executable once the code
    // is in place (module_enable_text_rox / module_enable_x), so drop the
    // translations of the range when that returns. Not earlier: Unicorn
    // finds translations through an instruction fetch of the address, which
    // a still non-executable page refuses. (Code written through text_poke
    // is covered by its own watch.)
    uint64_t address = m_abi.argument(m_machine.cpu(), 0), pages = m_abi.argument(m_machine.cpu(), 1);
    if (pages == 0 || pages > max_executable_pages)
        return false;
    return at_return([this, address, pages] {
        m_machine.post([this, address, pages] { m_machine.cpu().invalidate_code(address, pages * 4096); });
    });
}

bool KernelWatch::on_panic()
{
    if (m_panicking)
        return false;
    m_panicking = true;
    // panic(fmt, ...): variadic.
    const Cpu& cpu = m_machine.cpu();
    uint64_t args[5];
    for (unsigned i = 0; i < 5; i++)
        args[i] = m_abi.variadic_argument(cpu, i + 1);
    m_panic_message = format_message(m_abi.variadic_argument(cpu, 0), args, 5);
    // Let panic() print its messages, then end at its first delay.
    m_machine.post([this] {
        for (const char* name : delay_functions) {
            if (auto address = runtime(name)) {
                m_machine.watch(*address, [this] {
                    m_machine.request_stop(RunEnd::Panic, "kernel panic: " + m_panic_message);
                    return true;
                });
            }
        }
    });
    return true;
}

bool KernelWatch::on_text_poke(unsigned address_arg, unsigned length_arg)
{
    uint64_t address = m_abi.argument(m_machine.cpu(), address_arg);
    uint64_t length = m_abi.argument(m_machine.cpu(), length_arg);
    if (length == 0 || length > 0x100000)
        return false;
    // Dropped before the write: nothing executes the patched bytes while the
    // (interrupts-off) poke runs, so the next execution translates the new ones.
    // Done here, without stopping the CPU, where the range is mapped
    // executable; the kernel pokes ~100,000 times while it boots (ftrace's
    // nops, alternatives, static keys), and a stop each was a tenth of it.
    if (m_machine.cpu().invalidate_code_from_hook(address, length))
        return false;
    m_machine.post([this, address, length] { m_machine.cpu().invalidate_code(address, length); });
    return true;
}

std::string KernelWatch::format_message(uint64_t format_address, const uint64_t* args, int nargs) const
{
    constexpr size_t max_string = 512;
    std::string format = read_string(format_address, max_string);
    // printk formats may start with a KERN_<level> marker: "\001" + digit.
    if (format.size() >= 2 && format[0] == '\001')
        format.erase(0, 2);
    std::string out;
    int next = 0;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%' || i + 1 >= format.size()) {
            out += format[i];
            continue;
        }
        size_t j = i + 1;
        if (format[j] == '%') {
            out += '%';
            i = j;
            continue;
        }
        while (j < format.size() && (isdigit(uint8_t(format[j])) || strchr("-+ #.lzhjt", format[j])))
            ++j;
        if (j >= format.size() || next >= nargs) {
            out += format.substr(i);
            break;
        }
        uint64_t v = args[next++];
        bool is_long = format.substr(i, j - i).find('l') != std::string::npos;
        switch (format[j]) {
        case 's': out += read_string(v, max_string); break;
        case 'd':
        case 'i': out += std::to_string(is_long ? int64_t(v) : int64_t(int32_t(v))); break;
        case 'u': out += std::to_string(is_long ? v : uint64_t(uint32_t(v))); break;
        case 'x': out += fmt::format("{:x}", is_long ? v : uint64_t(uint32_t(v))); break;
        case 'p': out += fmt::format("{:#x}", v); break;
        default: out += format.substr(i, j - i + 1); break;
        }
        i = j;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out;
}

}  // namespace bootsim
