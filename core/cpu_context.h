#pragma once
// Access to CPU state Unicorn 2.1.1 has no register for, through the blob
// uc_context_save() copies out of QEMU's CPUX86State: the pending
// exception's error code, the "exception in flight" marker that must be reset
// after each delivery (unicorn issue 1883), hidden segment state, hflags and
// the TSC offset. Offsets are found at run time from marker values written
// through the register API, and checked by Cpu's self-test.

#include <cstdint>
#include <vector>

#include "core/cpu_state.h"
#include "core/result.h"

namespace bootsim {

// Unicorn's ids of rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15: the
// hardware order, as in CpuState::gpr and QEMU's regs[].
extern const int unicorn_gpr_ids[16];

class CpuContext final {
public:
    // Locates the fields; `uc` is the uc_engine*.
    static Result<CpuContext*> locate(void* uc);
    ~CpuContext();

    // Copies the CPU state into the blob (uc_context_save) / back (restore).
    Status save();
    Status restore();

    int32_t error_code() const;
    int32_t old_exception() const;
    void set_old_exception(int32_t value);
    uint64_t tsc_offset() const;
    void set_tsc_offset(uint64_t value);
    uint32_t hflags() const;
    void set_hflags(uint32_t value);
    // Control registers. Written here because Unicorn 2.1.1's register API
    // also reloads CR3 when CR2 is written (reg_write, "case UC_X86_REG_CR2").
    uint64_t control_register(int index) const;
    void set_control_register(int index, uint64_t value);
    // index: 0=ES 1=CS 2=SS 3=DS 4=FS 5=GS (QEMU's R_* order)
    SegmentState segment(int index) const;
    void set_segment(int index, const SegmentState& s);

private:
    CpuContext(void* uc, void* blob, size_t size) : m_uc(uc), m_blob(blob), m_size(size) {}
    template <typename T> T get(size_t offset) const;
    template <typename T> void put(size_t offset, T value);

    void* m_uc;
    void* m_blob;     // uc_context*
    size_t m_size;    // bytes in the whole allocation
    size_t m_regs = 0;  // offset of regs[0] (CPUX86State start)
    size_t m_dr = 0;    // offset of dr[0]
};

}  // namespace bootsim
