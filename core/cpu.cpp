#include "core/cpu.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include <unicorn/unicorn.h>

#include "core/cpu_context.h"
#include "core/cpu_registers.h"

namespace bootsim {

using namespace cpu_detail;

Cpu::Cpu(GuestMemory& memory, CpuClient& client) : m_memory(memory), m_client(client) {}

Cpu::~Cpu()
{
    m_context.reset();
    if (m_uc)
        uc_close(engine(m_uc));
}

std::string Cpu::version_string()
{
    unsigned major = 0, minor = 0;
    unsigned packed = uc_version(&major, &minor);  // major, minor, patch, extra: a byte each
    return fmt::format("Unicorn {}.{}.{}", major, minor, (packed >> 8) & 0xff);
}

namespace {
// A client for the self-test's private CPU: no devices, never stops early.
class SelfTestClient final : public CpuClient {
public:
    uint32_t port_read(uint16_t, unsigned) override { return 0xffffffff; }
    void port_write(uint16_t, uint32_t, unsigned) override {}
    bool on_block(uint64_t) override { return false; }
    void on_exception(uint8_t, uint64_t, uint32_t) override {}
    static constexpr uint64_t tsc = 0x1122334455667788;
    uint64_t guest_tsc() override { return tsc; }
};
}  // namespace

Result<std::unique_ptr<Cpu>> Cpu::create(GuestMemory& memory, CpuClient& client)
{
    // The self-test runs once per process, on a CPU and RAM of its own, so
    // nothing it translated or left behind can reach the real guest.
    static std::optional<Error> self_test_failure = []() -> std::optional<Error> {
        auto scratch = GuestMemory::create(4 << 20);
        if (!scratch)
            return scratch.error();
        std::unique_ptr<GuestMemory> scratch_memory(*scratch);
        SelfTestClient scratch_client;
        std::unique_ptr<Cpu> probe(new Cpu(*scratch_memory, scratch_client));
        if (auto opened = probe->open(); !opened)
            return opened.error();
        if (auto tested = probe->self_test(); !tested)
            return tested.error();
        return std::nullopt;
    }();
    if (self_test_failure)
        return *self_test_failure;

    std::unique_ptr<Cpu> cpu(new Cpu(memory, client));
    TRY(cpu->open());
    return cpu;
}

Status Cpu::open()
{
    unsigned major = 0, minor = 0;
    uc_version(&major, &minor);
    // 2.0.x walks the guest page tables but then treats virtual addresses as
    // physical (qemu/target/i386/excp_helper.c): no kernel runs on it.
    if (major < 2 || (major == 2 && minor < 1))
        return make_error(ErrorKind::Emulator,
                          "Unicorn {}.{} is too old: 2.1 or later is needed (2.0 maps guest virtual addresses "
                          "as physical); run scripts/setup.sh",
                          major, minor);

    uc_engine* uc = nullptr;
    uc_err err = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
    if (err != UC_ERR_OK)
        return make_error(ErrorKind::Emulator, "Unicorn: cannot open an x86-64 CPU: {}", uc_strerror(err));
    m_uc = uc;
    // Pin the model so CPUID (and the kernel's feature choices) do not
    // change with Unicorn's default.
    uc_ctl_set_cpu_model(uc, UC_CPU_X86_QEMU64);

    err = uc_mem_map_ptr(uc, 0, m_memory.size(), UC_PROT_ALL, m_memory.host_base());
    if (err != UC_ERR_OK)
        return make_error(ErrorKind::Emulator, "Unicorn: cannot map {} MiB of guest RAM: {}", m_memory.size() >> 20,
                          uc_strerror(err));

    err = uc_mmio_map(uc, m_memory.size(), physical_limit - m_memory.size(),
                      reinterpret_cast<uc_cb_mmio_read_t>(&Cpu::hook_mmio_read), this,
                      reinterpret_cast<uc_cb_mmio_write_t>(&Cpu::hook_mmio_write), this);
    if (err != UC_ERR_OK)
        return make_error(ErrorKind::Emulator, "Unicorn: cannot map the MMIO space above RAM: {}", uc_strerror(err));

    uc_hook h;
    if (uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Cpu::hook_in), this, 1, 0, UC_X86_INS_IN) ||
        uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Cpu::hook_out), this, 1, 0, UC_X86_INS_OUT) ||
        uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Cpu::hook_interrupt), this, 1, 0) ||
        uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Cpu::hook_cpuid), this, 1, 0, UC_X86_INS_CPUID) ||
        uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Cpu::hook_syscall), this, 1, 0,
                    UC_X86_INS_SYSCALL) ||
        uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&Cpu::hook_sysenter), this, 1, 0,
                    UC_X86_INS_SYSENTER))
        return make_error(ErrorKind::Emulator, "Unicorn: cannot install hooks");

    add_block_hook(1, 0);  // begin > end: every address

    auto context = CpuContext::locate(m_uc);
    if (!context)
        return context.error();
    m_context.reset(*context);
    return Ok{};
}

// Checks the assumptions the exception path rests on, on this Unicorn build:
// a #PF reaches the interrupt hook with the right error code (read from the
// context blob) and CR2, RIP written from the hook sticks, and after
// resetting the "exception in flight" marker a second fault is not promoted
// to a double fault, and CR2 survives the end of a run. Runs on a private
// CPU (see create()).
Status Cpu::self_test()
{
    constexpr uint64_t code = 0x1000, pml4 = 0x2000, pdpt = 0x3000, pd = 0x4000;
    constexpr uint64_t hole = 0x200000;  // second 2 MiB page: not present
    const uint8_t program[] = {
        0xc6, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x01,  // mov byte [0x200000], 1  -> #PF, write
        0x8a, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00,        // mov al, [0x200008]       -> #PF, read
        0xf4,                                            // hlt
    };
    if (m_memory.size() < hole)
        return make_error(ErrorKind::Emulator, "self-test needs at least 2 MiB of guest RAM");
    m_memory.write(code, program, sizeof program);
    m_memory.write_value<uint64_t>(pml4, pdpt | 3);
    m_memory.write_value<uint64_t>(pdpt, pd | 3);
    m_memory.write_value<uint64_t>(pd, 0x83);  // 0..2 MiB, present, writable, large

    EntryState entry;
    entry.rip = code;
    entry.rsp = 0x8000;
    entry.cr0 = 0x80010033;
    entry.cr3 = pml4;
    entry.cr4 = 0x20;
    entry.efer = 0x500;
    entry.cs = 0x10;
    entry.ds = 0x18;
    TRY(load_entry_state(entry));

    m_self_testing = true;
    m_recorded.clear();
    CpuRunResult r = run();
    m_self_testing = false;
    uint64_t cr2 = read_reg(m_uc, UC_X86_REG_CR2);

    auto fail = [&](std::string what) {
        return make_error(ErrorKind::Emulator, "Unicorn self-test failed: {}; this Unicorn build does not behave "
                          "like the 2.1.1 bootsim's exception delivery was made for", what);
    };
    if (r.stop != CpuStop::Halted)
        return fail(fmt::format("the test program did not reach its HLT ({})", r.detail));
    if (m_recorded.size() != 2)
        return fail(fmt::format("expected 2 page faults, saw {}", m_recorded.size()));
    const Recorded expected[2] = {{14, 0x2, hole}, {14, 0x0, hole + 8}};
    for (int i = 0; i < 2; ++i) {
        const Recorded& got = m_recorded[i];
        if (got.vector != expected[i].vector || got.error_code != expected[i].error_code ||
            got.cr2 != expected[i].cr2)
            return fail(fmt::format("fault {}: vector {} error code {:#x} cr2 {:#x}, expected vector {} error code "
                                    "{:#x} cr2 {:#x}",
                                    i + 1, got.vector, got.error_code, got.cr2, expected[i].vector,
                                    expected[i].error_code, expected[i].cr2));
    }
    if (cr2 != hole + 8)
        return fail(fmt::format("CR2 after the run is {:#x}, expected {:#x}", cr2, hole + 8));
    if (uint64_t cr3 = read_reg(m_uc, UC_X86_REG_CR3); cr3 != pml4)
        return fail(fmt::format("CR3 after the run is {:#x}, expected {:#x}", cr3, pml4));

    // The hidden segment state written through the blob is the one the
    // register API reads (the selector) and the CPU uses.
    if (!m_context->save().ok() || m_context->segment(1).selector != read_reg(m_uc, UC_X86_REG_CS) ||
        m_context->segment(1).flags != code64_flags)
        return fail("the CS cache in the saved context is not where it was expected");

    // Moving the TSC offset moves what RDTSC returns (idle skipping relies
    // on it): `rdtsc; hlt` twice, 2^40 ticks apart.
    const uint8_t rdtsc_program[] = {0x0f, 0x31, 0xf4};
    m_memory.write(code + 0x100, rdtsc_program, sizeof rdtsc_program);
    auto read_tsc = [&]() -> std::optional<uint64_t> {
        write_reg(m_uc, UC_X86_REG_RIP, code + 0x100);
        if (run().stop != CpuStop::Halted)
            return std::nullopt;
        return (read_reg(m_uc, UC_X86_REG_RDX) << 32) | uint32_t(read_reg(m_uc, UC_X86_REG_RAX));
    };
    constexpr uint64_t jump = 1ull << 40;
    count_instructions();
    const uint64_t counted_before = m_instructions;
    auto before = read_tsc();
    advance_tsc(jump);
    auto after = read_tsc();
    // Allow ten seconds of real time at up to 10 GHz between the two reads.
    if (!before || !after || *after - *before < jump || *after - *before > jump + 100'000'000'000ull)
        return fail(fmt::format("moving the TSC offset by {:#x} moved RDTSC from {:#x} to {:#x}", jump,
                                before.value_or(0), after.value_or(0)));

    // Instructions are counted from blocks: `rdtsc; hlt` ran twice.
    if (m_instructions - counted_before != 4)
        return fail(fmt::format("counted {} instructions of `rdtsc; hlt` run twice, expected 4",
                                m_instructions - counted_before));
    // With the TSC emulated, RDTSC answers the client's value
    // (SelfTestClient::guest_tsc) wherever it sits in a block.
    emulate_tsc();
    const uint8_t emulated_program[] = {
        0x48, 0x31, 0xc0,  // xor rax, rax
        0x0f, 0x31,        // rdtsc
        0x48, 0x89, 0xc3,  // mov rbx, rax
        0x48, 0x89, 0xd6,  // mov rsi, rdx
        0x0f, 0x31,        // rdtsc (the pinned model has no RDTSCP: it raises #UD)
        0xf4,              // hlt
    };
    m_memory.write(code + 0x200, emulated_program, sizeof emulated_program);
    write_reg(m_uc, UC_X86_REG_RIP, code + 0x200);
    if (CpuRunResult ran = run(); ran.stop != CpuStop::Halted)
        return fail(fmt::format("the emulated-TSC program did not reach its HLT (stop {}: {}, rip {:#x})",
                                int(ran.stop), ran.detail, read_reg(m_uc, UC_X86_REG_RIP)));
    uint64_t first = (read_reg(m_uc, UC_X86_REG_RSI) << 32) | uint32_t(read_reg(m_uc, UC_X86_REG_RBX));
    uint64_t second = (read_reg(m_uc, UC_X86_REG_RDX) << 32) | uint32_t(read_reg(m_uc, UC_X86_REG_RAX));
    if (first != SelfTestClient::tsc || second != SelfTestClient::tsc)
        return fail(fmt::format("emulated RDTSC read {:#x} and {:#x}, expected {:#x}", first, second,
                                SelfTestClient::tsc));
    return Ok{};
}

Status Cpu::load_entry_state(const EntryState& entry)
{
    if (entry.mode != EntryMode::Long64) {
        // Unicorn's 64-bit CPU starts with EFER.LMA set, which no register
        // write clears (WRMSR leaves LMA alone): only QEMU's own way out of
        // long mode does, turning CR0.PG off while LMA is set
        // (cpu_x86_update_cr0). So take that way: into long mode with
        // paging, then out of it.
        write_reg(m_uc, UC_X86_REG_CR4, 1u << 5);  // PAE
        uc_x86_msr lme{0xc0000080, 1u << 8};
        uc_reg_write(engine(m_uc), UC_X86_REG_MSR, &lme);
        write_reg(m_uc, UC_X86_REG_CR0, 0x80000001);  // PG | PE
        write_reg(m_uc, UC_X86_REG_CR0, 0x00000001);  // PE: LMA drops
        uc_x86_msr none{0xc0000080, 0};
        uc_reg_write(engine(m_uc), UC_X86_REG_MSR, &none);
    }
    uc_x86_mmr gdtr{0, entry.gdt_base, entry.gdt_limit, 0};
    uc_reg_write(engine(m_uc), UC_X86_REG_GDTR, &gdtr);
    // Real mode's interrupt table is the IVT at 0 (256 far pointers).
    uc_x86_mmr idtr{0, 0, uint32_t(entry.mode == EntryMode::Real16 ? 0x3ff : 0), 0};
    uc_reg_write(engine(m_uc), UC_X86_REG_IDTR, &idtr);
    write_reg(m_uc, UC_X86_REG_CR4, entry.cr4);
    uc_x86_msr efer{0xc0000080, entry.efer};
    uc_reg_write(engine(m_uc), UC_X86_REG_MSR, &efer);
    write_reg(m_uc, UC_X86_REG_CR3, entry.cr3);
    write_reg(m_uc, UC_X86_REG_CR0, entry.cr0);
    write_reg(m_uc, UC_X86_REG_RFLAGS, entry.rflags);
    write_reg(m_uc, UC_X86_REG_RSI, entry.rsi);
    write_reg(m_uc, UC_X86_REG_RSP, entry.rsp);
    write_reg(m_uc, UC_X86_REG_RIP, entry.rip);

    // In 64-bit mode Unicorn's register API sets only segment selectors; the
    // hidden parts (what a far jump or a segment load would have filled in
    // from the GDT) go through the context blob, and so do the hflags bits
    // QEMU derives from them and from the mode (the blob is copied back as
    // is, so nothing recomputes them).
    TRY(m_context->save());
    // QEMU's HF_* bits (target/i386/cpu.h): CS32 4, SS32 5, ADDSEG 6 (segment
    // bases take part in addressing: real mode), PE 7, LMA 14, CS64 15.
    constexpr uint32_t hf_cs32 = 1u << 4, hf_ss32 = 1u << 5, hf_addseg = 1u << 6, hf_pe = 1u << 7,
                       hf_lma = 1u << 14, hf_cs64 = 1u << 15;
    uint32_t hflags = m_context->hflags() & ~(hf_cs32 | hf_ss32 | hf_addseg | hf_pe | hf_lma | hf_cs64);
    if (entry.mode == EntryMode::Real16) {
        // Real mode: base = selector * 16, 64 KiB limits, 16-bit code and data.
        m_context->set_segment(1, {entry.cs, uint64_t(entry.cs) << 4, 0xffff, real_code_flags});
        for (int seg : {0, 2, 3, 4, 5})
            m_context->set_segment(seg, {entry.ds, uint64_t(entry.ds) << 4, 0xffff, real_data_flags});
        hflags |= hf_addseg;
    } else {
        bool long_mode = entry.mode == EntryMode::Long64;
        m_context->set_segment(1, {entry.cs, 0, 0xffffffff, long_mode ? code64_flags : code32_flags});
        for (int seg : {0, 2, 3, 4, 5})
            m_context->set_segment(seg, {entry.ds, 0, 0xffffffff, data_flags});
        hflags |= hf_pe | hf_cs32 | hf_ss32;
        if (long_mode)
            hflags |= hf_lma | hf_cs64;
    }
    m_context->set_hflags(hflags);
    m_context->set_old_exception(-1);
    TRY(m_context->restore());
    return Ok{};
}

CpuRunResult Cpu::run()
{
    m_stopped_by_us = false;
    m_triple_fault = false;
    for (;;) {
        uint64_t rip = read_reg(m_uc, UC_X86_REG_RIP);
        uc_err err = uc_emu_start(engine(m_uc), rip, ~0ull, 0, 0);
        // On its way out Unicorn looks up the page of `until - 1` (here
        // 0xff..fe) in the guest's page tables. The failed walk raises a
        // page fault nobody sees, which overwrites CR2 and leaves the
        // "exception in flight" marker set, so the guest's next real page
        // fault would become a double fault. Undo both.
        repair_after_exit();
        if (m_triple_fault)
            return {CpuStop::TripleFault, m_fault_detail};
        // Code fetched from outside RAM: nothing there answers, so on a PC
        // the bus reads all ones, and FF FF is no instruction: #UD, as on
        // the hardware (Unicorn refuses to run code from the MMIO space).
        bool fetched_from_nothing = err == UC_ERR_FETCH_PROT || err == UC_ERR_FETCH_UNMAPPED;
        if (err == UC_ERR_INSN_INVALID || fetched_from_nothing) {
            // #UD stops emulation without reaching the interrupt hook
            // (x86_stop_interrupt); deliver it from here. RIP is the
            // offending instruction; the kernel's BUG()/WARN() use ud2.
            uint64_t at = read_reg(m_uc, UC_X86_REG_RIP);
            if (m_self_testing || !(real_mode() ? deliver_real(6, at) : deliver(6, false, 0, at)))
                return {CpuStop::TripleFault,
                        fmt::format("invalid opcode at {:#x}{} could not be delivered", at,
                                    fetched_from_nothing ? " (code fetched from outside RAM, where nothing answers)"
                                                         : "")};
            m_client.on_exception(6, at, 0);
            continue;
        }
        if (err != UC_ERR_OK)
            return {CpuStop::Failed, fmt::format("Unicorn stopped with \"{}\" at rip {:#x}", uc_strerror(err),
                                                 read_reg(m_uc, UC_X86_REG_RIP))};
        if (!m_new_tsc_sites.empty()) {
            // Stopped (perhaps only) to hook TSC reads just found: hook them
            // and go on, unless something else asked for the stop too.
            install_tsc_sites();
            if (m_stopped_for_tsc_sites) {
                m_stopped_for_tsc_sites = false;
                m_stopped_by_us = false;
                continue;
            }
        }
        if (m_stopped_by_us)
            return {CpuStop::Requested, {}};
        // uc_emu_start returns OK with RIP just past the F4 byte when the
        // guest halts (NOTES.md, trap 8); the next start clears the state.
        return {CpuStop::Halted, {}};
    }
}

void Cpu::add_block_hook(uint64_t begin, uint64_t end)
{
    uc_hook h;
    if (uc_hook_add(engine(m_uc), &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Cpu::hook_block), this, begin, end) ==
        UC_ERR_OK)
        m_block_hooks.push_back(h);
}

void Cpu::exclude_from_block_hook(std::optional<std::pair<uint64_t, uint64_t>> range)
{
    for (size_t h : m_block_hooks)
        uc_hook_del(engine(m_uc), h);
    m_block_hooks.clear();
    // Blocks already translated in a range that changes carry (or lack) the
    // call to the hook: drop them so they are translated again.
    if (m_excluded)
        invalidate_code(m_excluded->first, m_excluded->second - m_excluded->first);
    m_excluded = range;
    if (!range) {
        add_block_hook(1, 0);
        return;
    }
    auto [begin, end] = *range;
    if (begin > 0)
        add_block_hook(0, begin - 1);
    add_block_hook(end, ~0ull);
    invalidate_code(begin, end - begin);
}

void Cpu::abort()
{
    m_stopped_by_us = true;
    uc_emu_stop(engine(m_uc));
}

uint32_t Cpu::count_block(uint64_t address, uint32_t size)
{
    if (uint32_t known = m_counter.lookup(address, size))
        return known;
    m_block_bytes.resize(size);
    if (size == 0 || !read_virtual(address, m_block_bytes.data(), size))
        return 1;
    BlockCounter::Decoded d = m_counter.decode(address, m_block_bytes.data(), size, code_size());
    if (m_emulate_tsc) {
        for (auto site : d.tsc_reads)
            if (!m_tsc_sites.count(site.first))
                m_new_tsc_sites.push_back(site);
    }
    return d.instructions;
}

void Cpu::hook_block(void*, uint64_t address, uint32_t size, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    ++self->m_blocks;
    // Most blocks: nothing to count (counting also covers instruction
    // deadlines and TSC reads), nothing the client wants, no stop asked for.
    // Kept apart from the rest, so that this call saves no registers.
    if (!self->m_counting && address - self->m_client_begin >= self->m_client_span && !self->m_resume_at_watch &&
        !self->m_stop_requested.load(std::memory_order_relaxed))
        return;
    self->on_block(address, size);
}

void Cpu::on_block(uint64_t address, uint32_t size)
{
    bool for_client = address - m_client_begin < m_client_span;
    // A block that does not start at the watch we stopped at means the
    // guest went elsewhere (an interrupt was delivered first, say).
    if (m_resume_at_watch && *m_resume_at_watch != address)
        m_resume_at_watch.reset();
    uint32_t instructions = m_counting ? count_block(address, size) : 0;
    // A block holding a TSC read not answered yet stops before it runs, so
    // that it is translated again with the hook on the read.
    bool for_tsc_sites = !m_new_tsc_sites.empty();
    bool stop = !for_tsc_sites && (m_instructions >= m_instruction_deadline ||
                                   (for_client && m_client.on_block(address)));
    stop = stop || m_stop_requested.load(std::memory_order_relaxed);
    m_stopped_for_tsc_sites = for_tsc_sites && !stop;
    if (!stop && !for_tsc_sites) {
        m_instructions += instructions;
        if (m_emulate_tsc) {  // hook_tsc corrects the count of the block it cuts short
            m_block_address = address;
            m_block_size = size;
        }
    }
    else {
        // A block boundary is the one place a stop leaves no instruction
        // half-done (NOTES.md, trap 6).
        m_stop_requested.store(false, std::memory_order_relaxed);
        m_stopped_by_us = true;
        m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
        // The block has not started (the exit check follows the block hook),
        // but RIP may still hold an older block's address: Unicorn resyncs it
        // from the block only while no code hook exists (cpu_tb_exec in
        // qemu/accel/tcg/cpu-exec.c), and watches are code hooks. Say it.
        // Hooks see the linear address (CS base + RIP): in real mode, and
        // between the setup code's switch to protected mode and its far
        // jump, the base is not 0.
        write_reg(m_uc, UC_X86_REG_RIP, address - code_base());
        uc_emu_stop(engine(m_uc));
    }
}

uint32_t Cpu::hook_in(void*, uint32_t port, int size, void* self_ptr)
{
    return static_cast<Cpu*>(self_ptr)->m_client.port_read(uint16_t(port), unsigned(size));
}

uint64_t Cpu::hook_mmio_read(void*, uint64_t offset, unsigned size, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    return self->m_client.mmio_read(self->m_memory.size() + offset, size);
}

void Cpu::hook_mmio_write(void*, uint64_t offset, unsigned size, uint64_t value, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    self->m_client.mmio_write(self->m_memory.size() + offset, value, size);
}

void Cpu::hook_out(void*, uint32_t port, int size, uint32_t value, void* self_ptr)
{
    static_cast<Cpu*>(self_ptr)->m_client.port_write(uint16_t(port), value, unsigned(size));
}

// The code segment's size, from its descriptor in the GDT (the CPU's hidden
// copy is not readable through Unicorn's register API; a GDT rewritten
// after CS was loaded can differ, which costs only a block's count).
CodeSize Cpu::code_size() const
{
    if (real_mode())
        return CodeSize::Bits16;
    bool long_mode = long_mode_active();
    uint16_t cs = uint16_t(read_reg(m_uc, UC_X86_REG_CS));
    SegmentState gdtr = read_mmr(m_uc, UC_X86_REG_GDTR);
    uint64_t descriptor = 0;
    if ((cs & 4) || (cs | 7u) > gdtr.limit || !read_virtual(gdtr.base + (cs & ~7u), &descriptor, 8))
        return long_mode ? CodeSize::Bits64 : CodeSize::Bits32;
    constexpr uint64_t l_bit = 1ull << 53, d_bit = 1ull << 54;
    if (long_mode && (descriptor & l_bit))
        return CodeSize::Bits64;
    return (descriptor & d_bit) ? CodeSize::Bits32 : CodeSize::Bits16;
}

bool Cpu::real_mode() const
{
    return !(read_reg(m_uc, UC_X86_REG_CR0) & 1);
}

bool Cpu::firmware_call(uint8_t vector)
{
    RealModeCall call;
    call.vector = vector;
    call.eax = uint32_t(read_reg(m_uc, UC_X86_REG_EAX));
    call.ebx = uint32_t(read_reg(m_uc, UC_X86_REG_EBX));
    call.ecx = uint32_t(read_reg(m_uc, UC_X86_REG_ECX));
    call.edx = uint32_t(read_reg(m_uc, UC_X86_REG_EDX));
    call.esi = uint32_t(read_reg(m_uc, UC_X86_REG_ESI));
    call.edi = uint32_t(read_reg(m_uc, UC_X86_REG_EDI));
    call.ebp = uint32_t(read_reg(m_uc, UC_X86_REG_EBP));
    call.ds = uint16_t(read_reg(m_uc, UC_X86_REG_DS));
    call.es = uint16_t(read_reg(m_uc, UC_X86_REG_ES));
    uint64_t flags = read_reg(m_uc, UC_X86_REG_EFLAGS);
    call.carry = flags & rflags_cf;
    call.zero = flags & rflags_zf;
    if (!m_client.on_real_mode_interrupt(call))
        return false;
    write_reg(m_uc, UC_X86_REG_EAX, call.eax);
    write_reg(m_uc, UC_X86_REG_EBX, call.ebx);
    write_reg(m_uc, UC_X86_REG_ECX, call.ecx);
    write_reg(m_uc, UC_X86_REG_EDX, call.edx);
    write_reg(m_uc, UC_X86_REG_ESI, call.esi);
    write_reg(m_uc, UC_X86_REG_EDI, call.edi);
    write_reg(m_uc, UC_X86_REG_EBP, call.ebp);
    if (call.es != uint16_t(read_reg(m_uc, UC_X86_REG_ES)))
        write_reg(m_uc, UC_X86_REG_ES, call.es);
    flags = (flags & ~(rflags_cf | rflags_zf)) | (call.carry ? rflags_cf : 0) | (call.zero ? rflags_zf : 0);
    write_reg(m_uc, UC_X86_REG_EFLAGS, flags);
    return true;
}

// Real mode (SDM 20.1.4): push FLAGS, CS and IP on SS:SP, clear IF and TF,
// and continue at the far pointer in the IVT entry (at IDTR.base + 4 * vector).
const std::vector<Cpu::CpuidLeaf>& Cpu::cpuid_table()
{
    // Asks the pinned model itself, once, on a private engine: run
    // `cpuid; hlt` for every leaf and subleaf the kernel may ask for.
    static const std::vector<CpuidLeaf> table = [] {
        std::vector<CpuidLeaf> out;
        uc_engine* uc = nullptr;
        if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
            return out;
        uc_ctl_set_cpu_model(uc, UC_CPU_X86_QEMU64);
        uc_mem_map(uc, 0, 0x2000, UC_PROT_ALL);
        const uint8_t program[] = {0x0f, 0xa2, 0xf4};  // cpuid; hlt
        uc_mem_write(uc, 0x1000, program, sizeof program);
        auto ask = [&](uint32_t leaf, uint32_t subleaf) {
            uint64_t a = leaf, c = subleaf, zero = 0;
            uc_reg_write(uc, UC_X86_REG_RAX, &a);
            uc_reg_write(uc, UC_X86_REG_RCX, &c);
            uc_reg_write(uc, UC_X86_REG_RBX, &zero);
            uc_reg_write(uc, UC_X86_REG_RDX, &zero);
            uc_emu_start(uc, 0x1000, 0x1003, 0, 0);
            uint64_t r[4];
            uc_reg_read(uc, UC_X86_REG_RAX, &r[0]);
            uc_reg_read(uc, UC_X86_REG_RBX, &r[1]);
            uc_reg_read(uc, UC_X86_REG_RCX, &r[2]);
            uc_reg_read(uc, UC_X86_REG_RDX, &r[3]);
            CpuidLeaf l{leaf, subleaf, uint32_t(r[0]), uint32_t(r[1]), uint32_t(r[2]), uint32_t(r[3])};
            out.push_back(l);
            return l;
        };
        // Leaves with subleaves: 4 (caches), 7 (features), 0xb (topology),
        // 0xd (XSAVE areas).
        auto subleaves = [](uint32_t leaf) { return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd ? 64u : 1u; };
        for (uint32_t base : {0u, 0x80000000u}) {
            uint32_t max = ask(base, 0).eax;
            for (uint32_t leaf = base + 1; leaf <= max && leaf < base + 0x40; ++leaf) {
                for (uint32_t sub = 0; sub < subleaves(leaf); ++sub)
                    ask(leaf, sub);
            }
        }
        uc_close(uc);
        for (CpuidLeaf& l : out) {
            if (l.leaf == 1) {
                l.edx &= ~(1u << 9);   // APIC: there is no local APIC on this board
                l.ecx &= ~(1u << 21);  // x2APIC
                l.ecx &= ~(1u << 24);  // TSC-deadline timer (a local APIC mode)
            }
        }
        return out;
    }();
    return table;
}

int Cpu::hook_cpuid(void*, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    uint32_t leaf = uint32_t(read_reg(self->m_uc, UC_X86_REG_RAX));
    uint32_t subleaf = uint32_t(read_reg(self->m_uc, UC_X86_REG_RCX));
    CpuidLeaf answer{leaf, subleaf, 0, 0, 0, 0};
    for (const CpuidLeaf& l : cpuid_table()) {
        // Leaves without subleaves answer the same for any ECX.
        if (l.leaf == leaf && (l.subleaf == subleaf || l.subleaf == 0)) {
            answer = l;
            if (l.subleaf == subleaf)
                break;
        }
    }
    if (self->m_hide_random) {
        if (leaf == 1)
            answer.ecx &= ~(1u << 30);  // RDRAND
        if (leaf == 7 && subleaf == 0)
            answer.ebx &= ~(1u << 18);  // RDSEED
    }
    write_reg(self->m_uc, UC_X86_REG_RAX, answer.eax);
    write_reg(self->m_uc, UC_X86_REG_RBX, answer.ebx);
    write_reg(self->m_uc, UC_X86_REG_RCX, answer.ecx);
    write_reg(self->m_uc, UC_X86_REG_RDX, answer.edx);
    return 1;  // handled: skip Unicorn's own CPUID
}

bool Cpu::accepts_interrupts()
{
    if (!(read_reg(m_uc, UC_X86_REG_RFLAGS) & rflags_if))
        return false;
    // HF_INHIBIT_IRQ_MASK: the instruction after STI or MOV SS.
    constexpr uint32_t inhibit_irq = 1 << 3;
    return m_context->save().ok() && !(m_context->hflags() & inhibit_irq);
}

bool Cpu::interrupt_flag() const
{
    return read_reg(m_uc, UC_X86_REG_RFLAGS) & rflags_if;
}

bool Cpu::interrupt(uint8_t vector)
{
    uint64_t rip = read_reg(m_uc, UC_X86_REG_RIP);
    return real_mode() ? deliver_real(vector, rip) : deliver(vector, false, 0, rip);
}

void Cpu::advance_tsc(uint64_t ticks)
{
    if (!m_context->save().ok())
        return;
    m_context->set_tsc_offset(m_context->tsc_offset() + ticks);
    (void)m_context->restore();
}

void Cpu::hook_watch(void*, uint64_t address, uint32_t, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    // Resuming at the watch that stopped us runs the instruction, once.
    if (self->m_resume_at_watch) {
        bool same = *self->m_resume_at_watch == address;
        self->m_resume_at_watch.reset();
        if (same)
            return;
    }
    if (self->m_client.on_watch(address)) {
        self->m_resume_at_watch = address;
        // This stop satisfies any stop requested meanwhile; left set, it
        // would stop the next run before its first block.
        self->m_stop_requested.store(false, std::memory_order_relaxed);
        // The translator synced RIP before this hook (gen_sync_pc), so a stop
        // here lands exactly on the watched instruction.
        self->m_stopped_by_us = true;
        self->m_cr2 = read_reg(self->m_uc, UC_X86_REG_CR2);
        uc_emu_stop(engine(self->m_uc));
    }
}

void Cpu::add_watch(uint64_t address, uint64_t length)
{
    if (m_watches.count(address) || length == 0)
        return;
    uc_hook h;
    if (uc_hook_add(engine(m_uc), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Cpu::hook_watch), this, address,
                    address + length - 1) != UC_ERR_OK)
        return;
    m_watches[address] = h;
    // A block already translated from there has no call to the hook.
    m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    uc_ctl_remove_cache(engine(m_uc), address, address + length);
    repair_after_exit();  // the lookup's page walk may fault, as at an exit
}

void Cpu::remove_watch(uint64_t address)
{
    auto it = m_watches.find(address);
    if (it == m_watches.end())
        return;
    uc_hook_del(engine(m_uc), it->second);
    m_watches.erase(it);
}

void Cpu::hook_write(void*, int, uint64_t, int, int64_t, void*) {}

void Cpu::install_tsc_sites()
{
    m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    for (auto [site, length] : m_new_tsc_sites) {
        if (!m_tsc_sites.insert(site).second)
            continue;
        uc_hook h;
        uc_hook_add(engine(m_uc), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Cpu::hook_tsc), this, site, site);
        // The block holding the read was translated without the hook.
        uc_ctl_remove_cache(engine(m_uc), site, site + length);
    }
    m_new_tsc_sites.clear();
    repair_after_exit();
}

// Just before an RDTSC or RDTSCP: answer it and step over it. Writing RIP
// from a code hook ends the block right after the hook (Unicorn syncs RIP
// before the hook and checks for the exit after it), so the instruction
// itself never runs and execution goes on after it, in a new block.
void Cpu::hook_tsc(void*, uint64_t address, uint32_t, void* self_ptr)
{
    auto* self = static_cast<Cpu*>(self_ptr);
    // The same virtual address may hold other code now (another process):
    // answer only an RDTSC (0f 31) or RDTSCP (0f 01 f9).
    uint8_t bytes[3] = {};
    if (!self->read_virtual(address, bytes, 3) || bytes[0] != 0x0f)
        return;
    unsigned length = bytes[1] == 0x31 ? 2 : (bytes[1] == 0x01 && bytes[2] == 0xf9) ? 3 : 0;
    if (length == 0)
        return;
    // CR4.TSD makes RDTSC a #GP outside ring 0: leave that to the CPU.
    if ((read_reg(self->m_uc, UC_X86_REG_CR4) & (1 << 2)) && (read_reg(self->m_uc, UC_X86_REG_CS) & 3))
        return;
    uint64_t value = self->m_client.guest_tsc();
    write_reg(self->m_uc, UC_X86_REG_RAX, uint32_t(value));
    write_reg(self->m_uc, UC_X86_REG_RDX, value >> 32);
    if (length == 3) {
        uc_x86_msr aux{0xc0000103, 0};  // IA32_TSC_AUX
        uc_reg_read(engine(self->m_uc), UC_X86_REG_MSR, &aux);
        write_reg(self->m_uc, UC_X86_REG_RCX, uint32_t(aux.value));
    }
    // The block was counted whole as it started; what follows the read in
    // it runs (and is counted) again as the block that starts after it.
    if (address >= self->m_block_address && address < self->m_block_address + self->m_block_size) {
        uint64_t after = address + length, end = self->m_block_address + self->m_block_size;
        if (after < end) {
            uint8_t rest[4096];
            size_t n = std::min<size_t>(end - after, sizeof rest);
            if (self->read_virtual(after, rest, n))
                self->m_instructions -= std::min<uint64_t>(self->m_instructions, self->m_counter.count(after, rest, n, self->code_size()));
        }
    }
    write_reg(self->m_uc, UC_X86_REG_RIP, address + length - self->code_base());
}

void Cpu::track_self_modifying_code()
{
    if (m_tracking_smc)
        return;
    uc_hook h;
    uc_hook_add(engine(m_uc), &h, UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(&Cpu::hook_write), this, 1, 0);
    // Blocks translated before the hook existed keep the fast store path;
    // the caller makes sure none of them runs again.
    m_tracking_smc = true;
}

bool Cpu::read_virtual(uint64_t address, void* out, size_t length) const
{
    auto* bytes = static_cast<uint8_t*>(out);
    return for_each_page_piece(address, length, [&](uint64_t pa, size_t offset, size_t chunk) {
        return m_memory.read(pa, bytes + offset, chunk);
    });
}

std::optional<uint64_t> Cpu::physical_address(uint64_t address) const
{
    return translate(m_memory, paging_mode(), address);
}

void Cpu::invalidate_code(uint64_t address, uint64_t length)
{
    m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    drop_translations(address, address + length);
    repair_after_exit();
}

void Cpu::drop_translations(uint64_t address, uint64_t end)
{
    m_counter.forget(address, end);
    while (address < end) {
        uint64_t page_end = std::min(end, (address | 0xfff) + 1);
        uc_ctl_remove_cache(engine(m_uc), address, page_end);
        address = page_end;
    }
}

bool Cpu::invalidate_code_from_hook(uint64_t address, uint64_t length)
{
    // Unicorn finds a page's translations through an instruction fetch of
    // its address (get_page_addr_code). From a hook that lookup must not
    // fault: the fault it catches would stay pending and reach the guest
    // when the block ends. So every page must be fetchable, as our own walk
    // of the guest's tables says, or nothing is done here.
    PagingMode mode = paging_mode();
    uint64_t end = address + length;
    if (length == 0 || end < address)
        return false;
    for (uint64_t page = address & ~uint64_t(0xfff); page < end; page += 0x1000)
        if (!executable(m_memory, mode, page))
            return false;
    // With no faulting return address, Unicorn unlinks the translations
    // without touching the block running now, which goes on to its end.
    drop_translations(address, end);
    return true;
}

void Cpu::grow_tlb(uint64_t begin, uint64_t end)
{
    constexpr uint64_t initial_entries = 256, wanted_entries = 4096;
    uint64_t pages = end > begin ? (end - begin) >> 12 : 0;
    m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    m_counter.forget(begin, end);
    for (uint64_t entries = initial_entries; entries < wanted_entries && pages * 10 > entries * 7; entries *= 2) {
        // Fill (almost) every entry of the current size, then flush: the
        // flush sees the TLB full and doubles it.
        for (uint64_t i = 0; i < std::min(entries, pages); ++i)
            uc_ctl_remove_cache(engine(m_uc), begin + (i << 12), begin + (i << 12) + 1);
        uc_ctl_flush_tlb(engine(m_uc));
    }
    repair_after_exit();  // a lookup's page walk may fault, as at an exit
}

void Cpu::invalidate_all_code()
{
    m_cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    m_counter.forget_all();
    uc_ctl_flush_tb(engine(m_uc));
    repair_after_exit();
}

void Cpu::repair_after_exit()
{
    if (!m_context->save().ok())
        return;
    m_context->set_control_register(2, m_cr2);
    m_context->set_old_exception(-1);
    (void)m_context->restore();
}

uint64_t Cpu::rip() const
{
    return read_reg(m_uc, UC_X86_REG_RIP);
}

uint64_t Cpu::code_base() const
{
    // Long mode ignores the base; otherwise it is the hidden part of CS,
    // which only the context blob holds (real mode's is not always
    // selector * 16: not before the far jump after CR0.PE is set).
    if (long_mode_active() || !m_context->save().ok())
        return 0;
    return m_context->segment(1).base;
}

uint64_t Cpu::pc() const
{
    return code_base() + rip();
}

uint64_t Cpu::gpr(int index) const
{
    return index >= 0 && index < 16 ? read_reg(m_uc, unicorn_gpr_ids[index]) : 0;
}

PagingMode Cpu::paging_mode() const
{
    PagingMode m;
    uint64_t cr0 = read_reg(m_uc, UC_X86_REG_CR0);
    uint64_t cr4 = read_reg(m_uc, UC_X86_REG_CR4);
    uc_x86_msr efer{0xc0000080, 0};
    uc_reg_read(engine(m_uc), UC_X86_REG_MSR, &efer);
    m.paging = cr0 & (1u << 31);
    m.pae = cr4 & (1 << 5);
    m.la57 = cr4 & (1 << 12);
    m.long_mode = efer.value & (1 << 10);
    m.nxe = efer.value & (1 << 11);
    m.cr3 = read_reg(m_uc, UC_X86_REG_CR3);
    return m;
}

bool Cpu::long_mode_active() const
{
    uc_x86_msr efer{0xc0000080, 0};
    uc_reg_read(engine(m_uc), UC_X86_REG_MSR, &efer);
    return efer.value & (1 << 10);
}

CpuState Cpu::state() const
{
    CpuState s;
    for (int i = 0; i < 16; ++i)
        s.gpr[i] = read_reg(m_uc, unicorn_gpr_ids[i]);
    s.rip = read_reg(m_uc, UC_X86_REG_RIP);
    s.rflags = read_reg(m_uc, UC_X86_REG_RFLAGS);
    s.cr0 = read_reg(m_uc, UC_X86_REG_CR0);
    s.cr2 = read_reg(m_uc, UC_X86_REG_CR2);
    s.cr3 = read_reg(m_uc, UC_X86_REG_CR3);
    s.cr4 = read_reg(m_uc, UC_X86_REG_CR4);
    uc_x86_msr efer{0xc0000080, 0};
    uc_reg_read(engine(m_uc), UC_X86_REG_MSR, &efer);
    s.efer = efer.value;
    if (m_context->save().ok()) {
        s.es = m_context->segment(0);
        s.cs = m_context->segment(1);
        s.ss = m_context->segment(2);
        s.ds = m_context->segment(3);
        s.fs = m_context->segment(4);
        s.gs = m_context->segment(5);
    }
    s.tr = read_mmr(m_uc, UC_X86_REG_TR);
    SegmentState gdt = read_mmr(m_uc, UC_X86_REG_GDTR);
    SegmentState idt = read_mmr(m_uc, UC_X86_REG_IDTR);
    s.gdt_base = gdt.base;
    s.gdt_limit = uint16_t(gdt.limit);
    s.idt_base = idt.base;
    s.idt_limit = uint16_t(idt.limit);
    return s;
}

}  // namespace bootsim
