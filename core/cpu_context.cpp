#include "core/cpu_context.h"

#include <cstring>

#include <unicorn/unicorn.h>

namespace bootsim {

namespace {
// Offsets inside QEMU's CPUX86State (qemu/target/i386/cpu.h in Unicorn
// 2.1.1), relative to the two anchors found by markers.
constexpr size_t hflags_from_regs = 176;       // after regs[16], eip, eflags, cc_*, cc_op, df
constexpr size_t segs_from_regs = 184;         // SegmentCache segs[6], 24 bytes each
constexpr size_t segment_cache_size = 24;      // selector, (pad), base, limit, flags
constexpr size_t cr_from_regs = 424;           // segs[6], ldt, tr, gdt, idt, then cr[5]
constexpr ptrdiff_t error_code_from_dr = -16;  // error_code, exception_is_int, exception_next_eip, dr[8]
constexpr ptrdiff_t old_exception_from_dr = 96;  // dr[8], 4 breakpoint pointers, old_exception
constexpr ptrdiff_t tsc_offset_from_dr = 112;    // old_exception (+pad), vm_vmcb, tsc_offset

constexpr uint64_t marker(uint64_t tag, int i) { return 0x6273696d00000000ull | (tag << 16) | uint64_t(i); }

// Finds `count` consecutive 64-bit marker values in the blob.
ptrdiff_t find_markers(const uint8_t* blob, size_t size, uint64_t tag, int count)
{
    for (size_t off = 0; off + 8 * count <= size; off += 4) {
        bool all = true;
        for (int i = 0; i < count && all; ++i) {
            uint64_t v;
            memcpy(&v, blob + off + 8 * i, 8);
            all = v == marker(tag, i);
        }
        if (all)
            return ptrdiff_t(off);
    }
    return -1;
}
}  // namespace

const int unicorn_gpr_ids[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

Result<CpuContext*> CpuContext::locate(void* uc_ptr)
{
    auto* uc = static_cast<uc_engine*>(uc_ptr);
    uc_context* ctx = nullptr;
    if (uc_context_alloc(uc, &ctx) != UC_ERR_OK)
        return make_error(ErrorKind::Emulator, "Unicorn: cannot allocate a CPU context");
    size_t size = uc_context_size(uc);

    for (int i = 0; i < 16; ++i) {
        uint64_t v = marker(1, i);
        uc_reg_write(uc, unicorn_gpr_ids[i], &v);
    }
    for (int i = 0; i < 8; ++i) {
        uint64_t v = marker(2, i);
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &v);
    }
    uc_context_save(uc, ctx);
    const auto* bytes = reinterpret_cast<const uint8_t*>(ctx);
    ptrdiff_t regs = find_markers(bytes, size, 1, 16);
    ptrdiff_t dr = find_markers(bytes, size, 2, 8);

    uint64_t zero = 0;
    for (int i = 0; i < 16; ++i)
        uc_reg_write(uc, unicorn_gpr_ids[i], &zero);
    for (int i = 0; i < 8; ++i)
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &zero);

    if (regs < 0 || dr < 0 || size_t(dr + tsc_offset_from_dr + 8) > size || dr + error_code_from_dr < regs) {
        uc_free(ctx);
        return make_error(ErrorKind::Emulator,
                          "Unicorn's saved CPU context has an unexpected layout (registers at {}, debug "
                          "registers at {}): this build of Unicorn is not the 2.1.1 bootsim was made for",
                          regs, dr);
    }
    auto* self = new CpuContext(uc, ctx, size);
    self->m_regs = size_t(regs);
    self->m_dr = size_t(dr);
    return self;
}

CpuContext::~CpuContext()
{
    uc_free(m_blob);
}

Status CpuContext::save()
{
    if (uc_context_save(static_cast<uc_engine*>(m_uc), static_cast<uc_context*>(m_blob)) != UC_ERR_OK)
        return make_error(ErrorKind::Emulator, "Unicorn: uc_context_save failed");
    return Ok{};
}

Status CpuContext::restore()
{
    if (uc_context_restore(static_cast<uc_engine*>(m_uc), static_cast<uc_context*>(m_blob)) != UC_ERR_OK)
        return make_error(ErrorKind::Emulator, "Unicorn: uc_context_restore failed");
    return Ok{};
}

template <typename T>
T CpuContext::get(size_t offset) const
{
    T v;
    memcpy(&v, static_cast<const uint8_t*>(m_blob) + offset, sizeof(T));
    return v;
}

template <typename T>
void CpuContext::put(size_t offset, T value)
{
    memcpy(static_cast<uint8_t*>(m_blob) + offset, &value, sizeof(T));
}

int32_t CpuContext::error_code() const { return get<int32_t>(m_dr + error_code_from_dr); }
int32_t CpuContext::old_exception() const { return get<int32_t>(m_dr + old_exception_from_dr); }
void CpuContext::set_old_exception(int32_t value) { put(m_dr + old_exception_from_dr, value); }
uint64_t CpuContext::tsc_offset() const { return get<uint64_t>(m_dr + tsc_offset_from_dr); }
void CpuContext::set_tsc_offset(uint64_t value) { put(m_dr + tsc_offset_from_dr, value); }
uint32_t CpuContext::hflags() const { return get<uint32_t>(m_regs + hflags_from_regs); }
void CpuContext::set_hflags(uint32_t value) { put(m_regs + hflags_from_regs, value); }

uint64_t CpuContext::control_register(int index) const
{
    return get<uint64_t>(m_regs + cr_from_regs + 8 * size_t(index));
}

void CpuContext::set_control_register(int index, uint64_t value)
{
    put(m_regs + cr_from_regs + 8 * size_t(index), value);
}

SegmentState CpuContext::segment(int index) const
{
    size_t base = m_regs + segs_from_regs + size_t(index) * segment_cache_size;
    SegmentState s;
    s.selector = uint16_t(get<uint32_t>(base));
    s.base = get<uint64_t>(base + 8);
    s.limit = get<uint32_t>(base + 16);
    s.flags = get<uint32_t>(base + 20);
    return s;
}

void CpuContext::set_segment(int index, const SegmentState& s)
{
    size_t base = m_regs + segs_from_regs + size_t(index) * segment_cache_size;
    put<uint32_t>(base, s.selector);
    put<uint64_t>(base + 8, s.base);
    put<uint32_t>(base + 16, s.limit);
    put<uint32_t>(base + 20, s.flags);
}

}  // namespace bootsim
