#include "run/initcall_watch.h"

#include <fmt/format.h>

namespace bootsim {

InitcallWatch::InitcallWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset, KernelAbi abi,
                             std::function<std::string()> module_name)
    : m_machine(machine), m_symbols(symbols), m_virtual_offset(virtual_offset), m_abi(abi),
      m_module_name(std::move(module_name))
{
    if (auto f = symbols.runtime_address_of("do_one_initcall", virtual_offset))
        m_do_one_initcall = *f;
    // The whole image: built-in initcalls are __init code, after _etext.
    auto text = symbols.runtime_address_of("_text", virtual_offset);
    auto etext = symbols.runtime_address_of("_end", virtual_offset);
    if (text && etext) {
        m_text_begin = *text;
        m_text_end = *etext;
    }
}

void InitcallWatch::arm()
{
    if (m_do_one_initcall)
        m_machine.watch(*m_do_one_initcall, [this] { return on_entry(); });
}

std::string InitcallWatch::name_of(uint64_t function) const
{
    bool in_kernel = m_text_end > m_text_begin && function >= m_text_begin && function < m_text_end;
    if (!in_kernel) {
        // A module's init (do_init_module -> do_one_initcall(mod->init)):
        // its symbols are the module's, not the kernel's.
        std::string module = m_module_name ? m_module_name() : "";
        return module.empty() ? fmt::format("{:#x}", function) : "init_module [" + module + "]";
    }
    return m_symbols.describe(function - uint64_t(m_virtual_offset));
}

bool InitcallWatch::on_entry()
{
    // do_one_initcall(initcall_t fn): the function its first argument, the
    // return address on top of the stack.
    const Cpu& cpu = m_machine.cpu();
    uint64_t return_address = 0;
    if (!m_abi.return_address(cpu, return_address))
        return false;
    uint64_t function = m_abi.argument(cpu, 0);
    uint64_t frame = m_abi.frame_after_return(cpu);
    // The same call seen again: the CPU stopped here (below) and an
    // interrupt was taken before the call ran, so the watch fires once more
    // when the handler returns here. One call, one entry.
    for (const Call& c : m_calls)
        if (c.frame == frame && c.function == function)
            return false;
    Call call{function, name_of(function), frame};
    m_machine.emit({.kind = EventKind::InitcallStarted, .address = function, .text = call.name});
    m_calls.push_back(std::move(call));
    if (m_return_watches.insert(return_address).second) {
        m_machine.post([this, return_address] { m_machine.watch(return_address, [this] { return on_return(); }); });
        return true;  // stop so the posted work arms the return watch before the call returns
    }
    return false;
}

bool InitcallWatch::on_return()
{
    // The call whose frame this is. Not simply the innermost: module inits
    // run in the tasks that load them (modprobe), and two tasks can be
    // inside do_one_initcall at once, each on its own stack.
    uint64_t sp = m_abi.stack_pointer(m_machine.cpu());
    for (auto it = m_calls.rbegin(); it != m_calls.rend(); ++it) {
        if (it->frame != sp)
            continue;
        m_machine.emit({.kind = EventKind::InitcallReturned,
                        .address = it->function,
                        .value = uint64_t(int64_t(int32_t(m_abi.return_value(m_machine.cpu())))),
                        .text = it->name});
        m_calls.erase(std::next(it).base());
        break;
    }
    return false;
}

}  // namespace bootsim
