#pragma once
// A symbol file for gdb from the kernel's own symbols (kallsyms, read on
// the host), at the addresses the running kernel has (KASLR's virtual
// offset applied): a small ELF64 with one address-only section spanning
// the kernel and a symbol table, which `symbol-file FILE` in gdb reads.
// For kernels without their -dbg package's vmlinux at hand.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "loader/kernel_symbols.h"

namespace bootsim::gdb {

// The file's bytes. Per-CPU symbols ('A': offsets, not addresses) are left out.
std::vector<uint8_t> build_symbol_file(const KernelSymbols& symbols, int64_t virtual_offset);

// Writes it to `path`; the error names the path.
Status write_symbol_file(const std::string& path, const KernelSymbols& symbols, int64_t virtual_offset,
                         size_t* written = nullptr);

}  // namespace bootsim::gdb
