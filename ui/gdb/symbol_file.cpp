#include "ui/gdb/symbol_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace bootsim::gdb {

namespace {

// ELF64 little-endian structures, written field by field.
void put(std::vector<uint8_t>& out, uint64_t value, size_t bytes)
{
    for (size_t i = 0; i < bytes; ++i)
        out.push_back(uint8_t(value >> (8 * i)));
}

constexpr size_t ehdr_size = 64, shdr_size = 64, sym_size = 24;
constexpr uint32_t sht_progbits = 1, sht_symtab = 2, sht_strtab = 3, sht_nobits = 8;
constexpr uint64_t shf_write = 1, shf_alloc = 2, shf_execinstr = 4;
constexpr uint8_t stb_local = 0, stb_global = 1, stt_object = 1, stt_func = 2;

struct Section {
    uint32_t name, type;
    uint64_t flags, address, offset, size;
    uint32_t link, info;
    uint64_t align, entsize;
};

bool is_text(char type) { return type == 'T' || type == 't' || type == 'W' || type == 'w'; }

}  // namespace

std::vector<uint8_t> build_symbol_file(const KernelSymbols& symbols, int64_t virtual_offset)
{
    std::vector<const KernelSymbol*> kept;
    for (const KernelSymbol& s : symbols.symbols())
        if (s.type != 'A' && s.type != 'a' && !s.name.empty())
            kept.push_back(&s);
    uint64_t low = ~0ull, high = 0;
    for (const KernelSymbol* s : kept) {
        uint64_t at = s->address + uint64_t(virtual_offset);
        low = std::min(low, at);
        high = std::max(high, at + 1);
    }
    if (kept.empty())
        low = high = 0;
    // ELF wants the local symbols first (sh_info: the first global one).
    std::stable_partition(kept.begin(), kept.end(), [](const KernelSymbol* s) { return std::islower(s->type); });

    std::string strtab(1, '\0'), shstrtab(1, '\0');
    auto shname = [&](const char* name) {
        uint32_t at = uint32_t(shstrtab.size());
        shstrtab += name;
        shstrtab += '\0';
        return at;
    };
    std::vector<uint8_t> symtab(sym_size, 0);  // symbol 0: none
    uint32_t first_global = 1;
    for (const KernelSymbol* s : kept) {
        uint32_t name = uint32_t(strtab.size());
        strtab += s->name;
        strtab += '\0';
        bool local = std::islower(s->type);
        if (local)
            ++first_global;
        put(symtab, name, 4);
        symtab.push_back(uint8_t(((local ? stb_local : stb_global) << 4) | (is_text(s->type) ? stt_func : stt_object)));
        symtab.push_back(0);  // st_other
        put(symtab, 1, 2);    // st_shndx: the kernel's section
        put(symtab, s->address + uint64_t(virtual_offset), 8);
        put(symtab, 0, 8);    // st_size: unknown; gdb bounds a function by the next symbol
    }

    uint32_t name_kernel = shname(".kernel"), name_symtab = shname(".symtab"), name_strtab = shname(".strtab"),
             name_shstrtab = shname(".shstrtab");
    // Layout: header, symtab, strtab, shstrtab, section headers.
    uint64_t symtab_at = ehdr_size, strtab_at = symtab_at + symtab.size(), shstrtab_at = strtab_at + strtab.size();
    uint64_t shdrs_at = (shstrtab_at + shstrtab.size() + 7) & ~7ull;
    std::vector<Section> sections = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {name_kernel, sht_nobits, shf_alloc | shf_write | shf_execinstr, low, symtab_at, high - low, 0, 0, 16, 0},
        {name_symtab, sht_symtab, 0, 0, symtab_at, symtab.size(), 3, first_global, 8, sym_size},
        {name_strtab, sht_strtab, 0, 0, strtab_at, strtab.size(), 0, 0, 1, 0},
        {name_shstrtab, sht_strtab, 0, 0, shstrtab_at, shstrtab.size(), 0, 0, 1, 0},
    };
    (void)sht_progbits;

    // e_ident: 64-bit, little-endian, version 1.
    std::vector<uint8_t> out = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    out.reserve(shdrs_at + sections.size() * shdr_size);
    put(out, 2, 2);    // e_type: ET_EXEC (absolute addresses)
    put(out, 62, 2);   // e_machine: EM_X86_64
    put(out, 1, 4);    // e_version
    put(out, 0, 8);    // e_entry
    put(out, 0, 8);    // e_phoff: no program headers
    put(out, shdrs_at, 8);
    put(out, 0, 4);    // e_flags
    put(out, ehdr_size, 2);
    put(out, 56, 2);   // e_phentsize
    put(out, 0, 2);    // e_phnum
    put(out, shdr_size, 2);
    put(out, sections.size(), 2);
    put(out, 4, 2);    // e_shstrndx
    out.insert(out.end(), symtab.begin(), symtab.end());
    out.insert(out.end(), strtab.begin(), strtab.end());
    out.insert(out.end(), shstrtab.begin(), shstrtab.end());
    out.resize(shdrs_at, 0);
    for (const Section& s : sections) {
        put(out, s.name, 4);
        put(out, s.type, 4);
        put(out, s.flags, 8);
        put(out, s.address, 8);
        put(out, s.offset, 8);
        put(out, s.size, 8);
        put(out, s.link, 4);
        put(out, s.info, 4);
        put(out, s.align, 8);
        put(out, s.entsize, 8);
    }
    return out;
}

Status write_symbol_file(const std::string& path, const KernelSymbols& symbols, int64_t virtual_offset,
                         size_t* written)
{
    std::vector<uint8_t> bytes = build_symbol_file(symbols, virtual_offset);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    out.close();
    if (!out)
        return make_error(ErrorKind::Output, "{}: cannot write the symbol file: {}", path, std::strerror(errno));
    if (written)
        *written = bytes.size();
    return Ok{};
}

}  // namespace bootsim::gdb
