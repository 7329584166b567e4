#pragma once
// The initcall profile, with no help from the guest: do_one_initcall() is
// watched at its entry and at its return, and every initcall it runs (the
// built-in ones level by level, then each module's init) becomes a pair of
// events, InitcallStarted and InitcallReturned, stamped with guest time and
// instructions retired. What initcall_debug and bootgraph.pl show, without
// changing the command line, and with exact counts.
//
// The return is caught at the caller's return address, with the frame's
// stack pointer to tell this call's return from another's; each return
// address is watched once and stays watched, so an initcall costs two code
// hook calls, not a retranslation.

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/machine.h"
#include "loader/kernel_symbols.h"
#include "run/kernel_abi.h"

namespace bootsim {

class InitcallWatch final {
public:
    // `module_name` names the module whose init runs now ("" when none).
    InitcallWatch(Machine& machine, const KernelSymbols& symbols, int64_t virtual_offset, KernelAbi abi,
                  std::function<std::string()> module_name);

    // Arms the entry watch. CPU thread, outside hooks.
    void arm();
    bool available() const { return m_do_one_initcall.has_value(); }

private:
    bool on_entry();
    bool on_return();
    std::string name_of(uint64_t function) const;

    struct Call {
        uint64_t function;
        std::string name;
        uint64_t frame;  // RSP once it has returned
    };
    Machine& m_machine;
    const KernelSymbols& m_symbols;
    int64_t m_virtual_offset;
    KernelAbi m_abi;
    std::function<std::string()> m_module_name;
    std::optional<uint64_t> m_do_one_initcall;
    uint64_t m_text_begin = 0, m_text_end = 0;  // the kernel's own image (_text to _end), at run time
    std::vector<Call> m_calls;                  // in progress, innermost last
    std::set<uint64_t> m_return_watches;
};

}  // namespace bootsim
