#pragma once
// The CPU: Unicorn Engine behind a narrow interface. This file pair (and
// cpu_context.*) is the only code that knows Unicorn; every workaround for
// Unicorn 2.1.1's system-emulation gaps (../shared/NOTES.md) lives here,
// checked by a self-test when the CPU is created.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "core/block_counter.h"
#include "core/cpu_register.h"
#include "core/cpu_state.h"
#include "core/firmware.h"
#include "core/guest_memory.h"
#include "core/page_walk.h"
#include "core/result.h"
#include "core/boot_plan.h"

namespace bootsim {

class CpuContext;

// What the CPU calls out to while it runs; implemented by the machine.
class CpuClient {
public:
    virtual ~CpuClient() = default;
    virtual uint32_t port_read(uint16_t port, unsigned width) = 0;
    virtual void port_write(uint16_t port, uint32_t value, unsigned width) = 0;
    // A load or store to a guest-physical address outside RAM (below
    // Cpu::physical_limit): the MMIO bus. `width` is 1, 2, 4 or 8. By
    // default nothing is there: reads float to all ones, writes are dropped.
    virtual uint64_t mmio_read(uint64_t address, unsigned width)
    {
        (void)address;
        return width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
    }
    virtual void mmio_write(uint64_t address, uint64_t value, unsigned width)
    {
        (void)address, (void)value, (void)width;
    }
    // At the start of every translated block it asked for (all by default,
    // Cpu::set_client_blocks), before it runs. Returning true stops the CPU
    // there (a clean stop: RIP = address, nothing half done).
    virtual bool on_block(uint64_t address) = 0;
    // After an exception or interrupt was delivered through the guest's IDT.
    virtual void on_exception(uint8_t vector, uint64_t rip, uint32_t error_code) = 0;
    // A watched address (add_watch) is about to execute. Returning true
    // stops the CPU exactly there, before the instruction.
    virtual bool on_watch(uint64_t address) { (void)address; return false; }
    // A SYSCALL instruction entered the kernel (rax = the system call number).
    virtual void on_syscall(uint64_t number) { (void)number; }
    // What RDTSC/RDTSCP return while the CPU emulates them (emulate_tsc).
    virtual uint64_t guest_tsc() { return 0; }
    // INT n in real mode: the firmware's service call. Returning true means
    // answered (the registers in `call` go back to the CPU, which continues
    // after the INT); false delivers it through the interrupt vector table.
    virtual bool on_real_mode_interrupt(RealModeCall& call) { (void)call; return false; }
    // A load or store touched a range watched with add_data_watch (a
    // debugger's watchpoint): `address` is the guest-virtual address of the
    // access. The CPU stops at the next block boundary if the client asks.
    virtual void on_data_watch(uint64_t address, bool write) { (void)address, (void)write; }
};

// What a data watch (a debugger's watchpoint) catches.
enum class DataWatchKind : uint8_t { Write, Read, Access };

enum class CpuStop {
    Requested,    // on_block() or request_stop() asked for it
    Halted,       // HLT
    TripleFault,  // an exception could not be delivered, twice
    Failed,       // the emulator itself failed
};

struct CpuRunResult {
    CpuStop stop;
    std::string detail;  // for TripleFault / Failed: the reason, one line
};

class Cpu final {
public:
    // Opens Unicorn, refuses versions older than 2.1, maps `memory` as guest
    // RAM at physical address 0, and runs the self-test of the workarounds.
    static Result<std::unique_ptr<Cpu>> create(GuestMemory& memory, CpuClient& client);
    ~Cpu();

    // The guest-physical address space ends here (the 40 address bits the
    // pinned CPU model reports in CPUID 0x80000008). Everything in it above
    // RAM goes to the client's MMIO bus, so a guest store outside RAM is
    // answered as on a PC (nothing there: dropped, reads all ones), never
    // an emulator error.
    static constexpr uint64_t physical_limit = 1ull << 40;

    // Puts the CPU in the state a boot loader leaves it in (64-bit entry).
    Status load_entry_state(const EntryState& entry);

    // Runs from the current RIP until something stops it.
    CpuRunResult run();

    // Thread-safe: stop at the next block boundary.
    void request_stop() { m_stop_requested.store(true, std::memory_order_relaxed); }
    bool stop_requested() const { return m_stop_requested.load(std::memory_order_relaxed); }

    // Which blocks CpuClient::on_block() is called for: those starting in
    // guest-virtual [begin, end); all of them until told otherwise, none
    // when begin == end. Every other block only looks for a requested stop:
    // a call per block was a fifth of a boot's time, and for most of a boot
    // the client wants nothing from it. Safe from inside a hook.
    void set_client_blocks(uint64_t begin, uint64_t end)
    {
        m_client_begin = begin;
        m_client_span = end - begin;
    }
    // Blocks started so far, all of them (the block hook sees each).
    uint64_t blocks() const { return m_blocks; }

    // Leaves the guest-virtual range [begin, end) out of the block hook, so
    // hot code there runs at full speed; nullopt puts it back. Code in the
    // range can then not be stopped at a block boundary: only abort() stops
    // it. Never from inside a hook.
    void exclude_from_block_hook(std::optional<std::pair<uint64_t, uint64_t>> range);
    // Thread-safe: stops at once, possibly in the middle of a block, so the
    // guest cannot be resumed correctly afterwards (NOTES.md trap 6). For
    // ending a run only.
    void abort();

    CpuState state() const;
    PagingMode paging_mode() const;
    // EFER.LMA: long mode is active (one register read; paging_mode() reads four).
    bool long_mode_active() const;
    // How the code at RIP decodes: 16-, 32- or 64-bit.
    CodeSize code_size() const;
    // CR0.PE clear: real mode (the setup code before its switch to protected mode).
    bool real_mode() const;
    uint64_t rip() const;
    // The linear address of the next instruction (CS base + RIP): what
    // hooks, watches and breakpoints see. RIP itself in long mode.
    uint64_t pc() const;
    // One general register (CpuState::gpr order), without the rest of
    // state(): what a watch handler on a hot path reads.
    uint64_t gpr(int index) const;

    // External interrupts, delivered from the run loop between blocks.
    // True when RFLAGS.IF is set and no STI/MOV SS shadow blocks delivery.
    bool accepts_interrupts();
    // RFLAGS.IF alone: cheap enough for every block.
    bool interrupt_flag() const;
    // Delivers an external interrupt through the IDT; false if it cannot.
    bool interrupt(uint8_t vector);

    // The guest's RDTSC is the host's TSC plus an offset (Unicorn 2.1.1
    // cannot hook RDTSC); moving the offset moves guest time.
    void advance_tsc(uint64_t ticks);

    // Guest instructions retired so far, counted a translated block at a
    // time (each block's instructions are counted as it starts). Blocks left
    // out of the block hook (exclude_from_block_hook) are not counted. CPU
    // thread only.
    uint64_t instructions() const { return m_instructions; }
    // Counting costs a table lookup per block (about a tenth of the run
    // time on a boot): off until something needs it. Call between runs.
    void count_instructions() { m_counting = true; }
    bool counting_instructions() const { return m_counting; }
    // Stops the CPU (CpuStop::Requested) at the first block boundary once
    // instructions() reaches `count`; ~0 for none. The deterministic clock's
    // timer deadlines and the instruction budget use it.
    void set_instruction_deadline(uint64_t count) { m_instruction_deadline = count; }

    // From now on (counting instructions too) RDTSC and RDTSCP return CpuClient::guest_tsc() instead of
    // the host's TSC plus an offset (Unicorn 2.1.1 cannot hook them, NOTES.md
    // trap 10): each one is found when the block holding it is first
    // decoded, and answered by a code hook on it that steps over it.
    // Checked by the self-test. Call between runs.
    void emulate_tsc() { m_emulate_tsc = m_counting = true; }
    // CPUID stops advertising RDRAND and RDSEED (whose answers are the
    // host's randomness), for runs that must repeat exactly.
    void hide_random_instructions() { m_hide_random = true; }

    // Calls CpuClient::on_watch just before the instruction at `address`
    // (a guest virtual address) runs. A code hook bounded to one address
    // costs nothing elsewhere.
    // With `length`, every instruction starting in [address, address +
    // length) is watched; remove_watch takes the same `address`.
    void add_watch(uint64_t address, uint64_t length = 1);
    void remove_watch(uint64_t address);

    // From now on every guest store goes through a checked path, so that code
    // the guest patches through another mapping of the same page is
    // retranslated (Unicorn tracks code per virtual page; NOTES.md trap 7).
    // Blocks translated before keep their unchecked stores: call it before
    // the code that matters first runs (the machine does at the handoff).
    // Never from inside a hook.
    void track_self_modifying_code();

    // Drops translated code for guest virtual [address, address + length),
    // page by page (the guest patched it through another mapping).
    // Never from inside a hook.
    void invalidate_code(uint64_t address, uint64_t length);
    // The same from inside a hook, so that the CPU need not stop for it:
    // done only when every page of the range is mapped executable (false,
    // and nothing dropped, otherwise: then stop and use invalidate_code).
    bool invalidate_code_from_hook(uint64_t address, uint64_t length);

    // Lets the CPU emulator's software TLB grow to cover a guest that
    // streams through memory without ever flushing it (the decompressor:
    // its input, its output and its dictionary, tens of MiB). Unicorn's
    // TLB (QEMU 5.0's) starts at 256 entries and grows only at a flush that
    // finds it more than 70% used; the decompressor flushes nothing while
    // it decompresses, so it ran on 256 entries, and each miss takes
    // Unicorn's slow path (a memory-map lookup per access). Here the TLB is
    // filled through Unicorn's own code lookup of each page of guest-virtual
    // [begin, end), which must be mapped, and flushed, doubling it each
    // round up to 4096 entries (16 MiB). Invisible to the guest: a TLB may
    // be flushed at any time. Drops the translations of the range too.
    // Never from inside a hook.
    void grow_tlb(uint64_t begin, uint64_t end);

    // Drops every translated block (the guest rewrote code it is about to
    // run, and where is not known). Never from inside a hook.
    void invalidate_all_code();

    // Reads guest virtual memory through the current page tables.
    bool read_virtual(uint64_t address, void* out, size_t length) const;
    // Writes it the same way (false, with the pages before the first
    // unmapped one written, if the range is not all mapped).
    bool write_virtual(uint64_t address, const void* data, size_t length);

    // A debugger's view of one register (core/cpu_register.h): its
    // cpu_register_size() bytes, little-endian. Between runs.
    void read_register(CpuRegister reg, uint8_t* out) const;
    // False when the register cannot be written that way: a segment
    // selector (loading one means a descriptor and checks a debugger does
    // not do) may only be "written" with the value it has.
    bool write_register(CpuRegister reg, const uint8_t* in);

    // Calls CpuClient::on_data_watch for each load (Read), store (Write) or
    // both (Access) touching guest-virtual [address, address + length).
    // Memory hooks slow every access down while any is set. Between runs.
    bool add_data_watch(uint64_t address, uint64_t length, DataWatchKind kind);
    void remove_data_watch(uint64_t address, uint64_t length, DataWatchKind kind);
    // The guest-physical address of a virtual one, through the current page tables.
    std::optional<uint64_t> physical_address(uint64_t address) const;

    // The CPUID the guest sees: the pinned model's, minus the local APIC
    // (bootsim's PC has none; the 8259 PIC delivers interrupts).
    struct CpuidLeaf { uint32_t leaf, subleaf, eax, ebx, ecx, edx; };
    static const std::vector<CpuidLeaf>& cpuid_table();

    // "Unicorn 2.1.1 (Debian 13 package)" etc.
    static std::string version_string();

private:
    Cpu(GuestMemory& memory, CpuClient& client);
    Status open();
    Status self_test();
    // Delivers `vector` through the guest IDT: 16-byte gates in long mode,
    // 8-byte 32-bit gates in protected mode. Returns false when it cannot be
    // delivered (bad IDT entry, a task gate, unmapped stack).
    bool deliver(uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t return_rip);
    bool deliver_long(uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t return_rip);
    bool deliver_legacy(uint8_t vector, bool has_error_code, uint32_t error_code, uint64_t return_eip);
    // Real mode: through the IVT; and an INT n offered to the firmware first.
    bool deliver_real(uint8_t vector, uint64_t return_ip);
    // CS's base: 0 in long mode.
    uint64_t code_base() const;
    bool firmware_call(uint8_t vector);
    void handle_interrupt_hook(uint32_t intno);

    static uint32_t hook_in(void* uc, uint32_t port, int size, void* self);
    static uint64_t hook_mmio_read(void* uc, uint64_t offset, unsigned size, void* self);
    static void hook_mmio_write(void* uc, uint64_t offset, unsigned size, uint64_t value, void* self);
    static void hook_out(void* uc, uint32_t port, int size, uint32_t value, void* self);
    static void hook_block(void* uc, uint64_t address, uint32_t size, void* self);
    static void hook_interrupt(void* uc, uint32_t intno, void* self);
    static int hook_cpuid(void* uc, void* self);
    static void hook_syscall(void* uc, void* self);
    static void hook_sysenter(void* uc, void* self);
    static void hook_watch(void* uc, uint64_t address, uint32_t size, void* self);
    // What hook_block does for a block that needs more than a stop check.
    [[gnu::noinline]] void on_block(uint64_t address, uint32_t size);
    static void hook_write(void* uc, int type, uint64_t address, int size, int64_t value, void* self);
    static void hook_tsc(void* uc, uint64_t address, uint32_t size, void* self);
    static void hook_data_watch(void* uc, int type, uint64_t address, int size, int64_t value, void* self);
    // The block's instruction count, decoding it (and finding its TSC reads)
    // the first time it is seen.
    uint32_t count_block(uint64_t address, uint32_t size);
    void install_tsc_sites();
    void handle_syscall();
    void handle_sysenter();
    // After a system call numbered `number`: an exec drops the block counts of user space.
    void forget_user_code_on_exec(uint64_t number, uint64_t execve, uint64_t execveat);
    // Splits [address, address + length) of guest virtual memory at page
    // boundaries and calls access(physical, offset, chunk) for each piece,
    // offset counting from `address`. False at the first page that is not
    // mapped or piece that access() refuses.
    template <class Access>
    bool for_each_page_piece(uint64_t address, size_t length, Access access) const
    {
        PagingMode mode = paging_mode();
        for (size_t done = 0; done < length;) {
            uint64_t at = address + done;
            size_t chunk = std::min<size_t>(length - done, 0x1000 - (at & 0xfff));
            auto pa = translate(m_memory, mode, at);
            if (!pa || !access(*pa, done, chunk))
                return false;
            done += chunk;
        }
        return true;
    }
    void repair_after_exit();
    // Unicorn's uc_ctl_remove_cache a page at a time over [address, end)
    // (it translates only the start of a range, and pages contiguous in
    // virtual memory need not be in physical memory), and the counts of the
    // blocks there.
    void drop_translations(uint64_t address, uint64_t end);
    void enter_kernel_mode(const SegmentState& cs, const SegmentState& ss);

    GuestMemory& m_memory;
    CpuClient& m_client;
    void* m_uc = nullptr;  // uc_engine*
    std::unique_ptr<CpuContext> m_context;
    std::atomic<bool> m_stop_requested{false};
    uint64_t m_blocks = 0;
    uint64_t m_client_begin = 0, m_client_span = ~0ull;  // set_client_blocks()
    std::map<uint64_t, size_t> m_watches;  // address -> uc_hook
    struct DataWatch { uint64_t address, length; DataWatchKind kind; size_t hook; };
    std::vector<DataWatch> m_data_watches;
    std::vector<size_t> m_block_hooks;     // uc_hook handles of the block hook's ranges
    std::optional<std::pair<uint64_t, uint64_t>> m_excluded;  // left out of the block hook
    void add_block_hook(uint64_t begin, uint64_t end);
    std::optional<uint64_t> m_resume_at_watch;  // stopped by the watch here: let it run once
    bool m_tracking_smc = false;
    BlockCounter m_counter;
    std::vector<uint8_t> m_block_bytes;
    uint64_t m_instructions = 0;
    uint64_t m_instruction_deadline = ~0ull;
    bool m_emulate_tsc = false;
    bool m_counting = false;
    bool m_stopped_for_tsc_sites = false;  // the last block-hook stop was only for new sites
    bool m_hide_random = false;
    std::set<uint64_t> m_tsc_sites;                      // RDTSC/RDTSCP addresses answered
    std::vector<std::pair<uint64_t, uint8_t>> m_new_tsc_sites;  // found, hooks not yet in
    uint64_t m_block_address = 0, m_block_size = 0;      // the block running now
    bool m_stopped_by_us = false;
    uint64_t m_cr2 = 0;  // CR2 as the guest last saw it (see run())
    bool m_triple_fault = false;
    std::string m_fault_detail;

    // Self-test bookkeeping: while true, exceptions are recorded, not delivered.
    bool m_self_testing = false;
    struct Recorded { uint32_t vector; uint32_t error_code; uint64_t cr2; };
    std::vector<Recorded> m_recorded;
};

}  // namespace bootsim
