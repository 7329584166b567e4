#pragma once
// The kernel's symbol table, to name addresses (a RIP at a fault, a
// breakpoint by function name). Debian ships no System.map, but builds its
// kernels with CONFIG_KALLSYMS_ALL, so the table the kernel prints its own
// backtraces from (kernel/kallsyms.c) is inside the decompressed image:
// from_kallsyms() finds and decodes it. from_system_map() reads the text
// file `nm -n` makes, for kernels that come with one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "loader/kernel_image.h"

namespace bootsim {

struct KernelSymbol {
    uint64_t address;  // link-time virtual address (KASLR's virtual offset not applied)
    char type;         // nm's letter: 'T'/'t' text, 'D'/'d' data, 'R'/'r' rodata, 'B'/'b' bss,
                       // 'A' per-CPU (kallsyms makes them absolute: the value is an offset
                       // into each CPU's area)
    std::string name;
};

class KernelSymbols final {
public:
    // Recovers the kallsyms tables from the laid-out, unrelocated kernel
    // image, in every layout scripts/kallsyms.c has written since v6.1
    // (tables before or after the names, base-relative or place-relative
    // offsets, with or without kallsyms_seqs_of_names). Every table is
    // validated in full: a damaged table is an error, never a partial list.
    static Result<KernelSymbols> from_kallsyms(const KernelImage& kernel);

    // Parses a System.map ("ffffffff81000000 T _text" per line); `path` for messages.
    static Result<KernelSymbols> from_system_map(const std::string& path);
    // The same on text in memory (the fuzz entry point); `name` for messages.
    static Result<KernelSymbols> parse_system_map(std::string_view text, const std::string& name);

    // The lowest-addressed symbol of that name (static functions may share one).
    std::optional<uint64_t> address_of(std::string_view name) const;
    // Where the running kernel has it: the link address moved by KASLR's
    // virtual offset (the handoff check measures it).
    std::optional<uint64_t> runtime_address_of(std::string_view name, int64_t virtual_offset) const
    {
        auto link = address_of(name);
        if (!link)
            return std::nullopt;
        return *link + uint64_t(virtual_offset);
    }
    // The nearest symbol at or below `address`; of several at one address,
    // the first in table order, as get_symbol_pos() in kernel/kallsyms.c picks.
    const KernelSymbol* at_or_below(uint64_t address) const;
    // "populate_rootfs+0x1c", "start_kernel" (exactly at a symbol), or
    // "0xffffffff81000000" when no symbol covers the address.
    std::string describe(uint64_t address) const;

    size_t size() const { return m_symbols.size(); }
    const std::vector<KernelSymbol>& symbols() const { return m_symbols; }  // sorted by address
    const char* source() const { return m_source; }                        // "kallsyms" or "System.map"

private:
    KernelSymbols(std::vector<KernelSymbol> symbols, const char* source);
    // The slot in m_name_slots holding `name`, or the empty one it would go in.
    size_t name_slot(std::string_view name) const;

    std::vector<KernelSymbol> m_symbols;  // by address; aliases keep their table order
    std::vector<uint32_t> m_name_slots;   // hash table of m_symbols indices + 1; 0 is empty
    const char* m_source;
};

}  // namespace bootsim
