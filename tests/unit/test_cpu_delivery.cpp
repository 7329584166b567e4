// Exception delivery through the guest IDT, checked on small synthetic
// guests assembled here byte by byte: each test inspects the exact frame the
// CPU pushed and the state after.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/cpu.h"
#include "core/guest_memory.h"

using namespace bootsim;

namespace {

constexpr uint64_t gdt = 0x500, idt_descriptor = 0x600, tss = 0x3000, idt = 0x4000, tables = 0x10000;
constexpr uint64_t code = 0x1000, handler = 0x1800, user_code = 0x5000;
constexpr uint64_t kernel_stack = 0x9000, rsp0_stack = 0xa000, ist1_stack = 0xb000, user_stack = 0xc000;
constexpr uint64_t unmapped = 0x200000;  // the second 2 MiB: not present

class RecordingClient final : public CpuClient {
public:
    uint32_t port_read(uint16_t, unsigned) override { return 0xffffffff; }
    void port_write(uint16_t, uint32_t, unsigned) override {}
    bool on_block(uint64_t) override { return false; }
    void on_exception(uint8_t vector, uint64_t rip, uint32_t error_code) override
    {
        delivered.push_back({vector, rip, error_code});
    }
    struct Delivery { uint8_t vector; uint64_t rip; uint32_t error_code; };
    std::vector<Delivery> delivered;
};

struct Guest {
    std::unique_ptr<GuestMemory> mem{*GuestMemory::create(4 << 20)};
    RecordingClient client;
    std::unique_ptr<Cpu> cpu;

    Guest()
    {
        auto c = Cpu::create(*mem, client);
        if (!c)
            ADD_FAILURE() << c.error().message;
        else
            cpu = std::move(*c);
        // GDT: null, null, 0x10 kernel code64, 0x18 kernel data, 0x20 unused,
        // 0x28 user data (DPL 3), 0x30 user code64 (DPL 3), 0x40 TSS (16 bytes).
        const uint64_t descriptors[] = {0, 0, 0x00af9b000000ffff, 0x00cf93000000ffff, 0, 0x00cff3000000ffff,
                                        0x00affb000000ffff, 0};
        mem->write(gdt, descriptors, sizeof descriptors);
        uint64_t tss_low = 0x67 | (tss & 0xffffff) << 16 | 0x89ull << 40 | ((tss >> 24) & 0xff) << 56;
        mem->write_value(gdt + 0x40, tss_low);
        mem->write_value<uint64_t>(gdt + 0x48, tss >> 32);
        mem->write_value<uint64_t>(tss + 4, rsp0_stack);     // RSP0
        mem->write_value<uint64_t>(tss + 0x24, ist1_stack);  // IST1
        mem->write_value<uint16_t>(idt_descriptor, 256 * 16 - 1);
        mem->write_value<uint64_t>(idt_descriptor + 2, idt);
        // Identity map the first 2 MiB, user-accessible; leave the next 2 MiB out.
        mem->write_value<uint64_t>(tables, (tables + 0x1000) | 7);
        mem->write_value<uint64_t>(tables + 0x1000, (tables + 0x2000) | 7);
        mem->write_value<uint64_t>(tables + 0x2000, 0x87);
    }

    void gate(uint8_t vector, uint64_t target, unsigned ist = 0)
    {
        uint8_t g[16] = {};
        g[0] = uint8_t(target), g[1] = uint8_t(target >> 8);
        g[2] = 0x10;  // kernel CS
        g[4] = uint8_t(ist);
        g[5] = 0x8e;  // present, DPL 0, 64-bit interrupt gate
        g[6] = uint8_t(target >> 16), g[7] = uint8_t(target >> 24);
        mem->write(idt + uint64_t(vector) * 16, g, sizeof g);
    }

    void code_at(uint64_t address, std::vector<uint8_t> bytes) { mem->write(address, bytes.data(), bytes.size()); }

    // lidt [idt_descriptor]; mov ax, 0x40; ltr ax
    static std::vector<uint8_t> prologue()
    {
        return {0x0f, 0x01, 0x1c, 0x25, 0x00, 0x06, 0x00, 0x00, 0x66, 0xb8, 0x40, 0x00, 0x0f, 0x00, 0xd8};
    }

    CpuRunResult run()
    {
        EntryState e;
        e.rip = code;
        e.rsp = kernel_stack;
        e.cr0 = 0x80010033;
        e.cr3 = tables;
        e.cr4 = 0x20;
        e.efer = 0x500;
        e.gdt_base = gdt;
        e.gdt_limit = 0x4f;
        e.cs = 0x10;
        e.ds = 0x18;
        EXPECT_TRUE(cpu->load_entry_state(e).ok());
        return cpu->run();
    }

    uint64_t stack(uint64_t rsp, int slot)
    {
        uint64_t v = 0;
        mem->read_value(rsp + 8 * uint64_t(slot), v);
        return v;
    }
};

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::vector<uint8_t> write_unmapped = {0xc6, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x01};  // mov byte [0x200000], 1
const std::vector<uint8_t> hlt = {0xf4};

}  // namespace

TEST(CpuDelivery, KernelPageFaultPushesErrorCodeAndSetsCr2)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.gate(14, handler);
    g.code_at(handler, hlt);
    auto program = Guest::prologue();
    uint64_t fault_rip = code + program.size();
    g.code_at(code, program + write_unmapped + hlt);

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1);
    EXPECT_EQ(s.cr2, unmapped);
    uint64_t rsp = s.gpr[4];
    ASSERT_EQ(rsp, kernel_stack - 6 * 8);
    EXPECT_EQ(g.stack(rsp, 0), 0x2u);  // error code: write to a not-present page
    EXPECT_EQ(g.stack(rsp, 1), fault_rip);
    EXPECT_EQ(g.stack(rsp, 2), 0x10u);
    EXPECT_EQ(g.stack(rsp, 4), kernel_stack);
    EXPECT_EQ(g.stack(rsp, 5), 0x18u);
    ASSERT_EQ(g.client.delivered.size(), 1u);
    EXPECT_EQ(g.client.delivered[0].vector, 14);
}

TEST(CpuDelivery, InterruptThroughAnIstStack)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.gate(0x20, handler, 1);
    g.code_at(handler, hlt);
    auto program = Guest::prologue() + std::vector<uint8_t>{0xcd, 0x20};  // int 0x20
    g.code_at(code, program + hlt);

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    uint64_t rsp = s.gpr[4];
    ASSERT_EQ(rsp, ist1_stack - 5 * 8);  // no error code
    EXPECT_EQ(g.stack(rsp, 0), code + program.size());  // returns after the int
    EXPECT_EQ(g.stack(rsp, 1), 0x10u);
    EXPECT_EQ(g.stack(rsp, 3), kernel_stack);
    EXPECT_FALSE(s.rflags & (1 << 9));  // interrupt gate: IF clear
}

TEST(CpuDelivery, SecondFaultAfterAReturnIsNotADoubleFault)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.gate(14, handler);
    g.gate(8, handler + 0x100);
    // add qword [rsp+8], 8 (skip the 8-byte faulting store); add rsp, 8 (drop the error code); iretq
    g.code_at(handler, {0x48, 0x83, 0x44, 0x24, 0x08, 0x08, 0x48, 0x83, 0xc4, 0x08, 0x48, 0xcf});
    g.code_at(handler + 0x100, hlt);
    g.code_at(code, Guest::prologue() + write_unmapped + write_unmapped + hlt);

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    ASSERT_EQ(g.client.delivered.size(), 2u);
    EXPECT_EQ(g.client.delivered[0].vector, 14);
    EXPECT_EQ(g.client.delivered[1].vector, 14);
    EXPECT_NE(g.cpu->state().rip, handler + 0x101) << "the second fault became a double fault";
}

TEST(CpuDelivery, UserModePageFaultSwitchesToRsp0AndCpl0)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.gate(14, handler);
    g.code_at(handler, hlt);
    g.code_at(user_code, write_unmapped);
    // iretq to CPL 3: push ss 0x2b, rsp, rflags 0x2, cs 0x33, rip
    std::vector<uint8_t> to_user = {0x6a, 0x2b, 0x68, 0x00, 0xc0, 0x00, 0x00, 0x6a, 0x02,
                                    0x6a, 0x33, 0x68, 0x00, 0x50, 0x00, 0x00, 0x48, 0xcf};
    g.code_at(code, Guest::prologue() + to_user);

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.cpl(), 0u);
    EXPECT_EQ(s.rip, handler + 1);
    EXPECT_EQ(s.cr2, unmapped);
    uint64_t rsp = s.gpr[4];
    ASSERT_EQ(rsp, rsp0_stack - 6 * 8);
    EXPECT_EQ(g.stack(rsp, 0), 0x6u);  // user | write, not present
    EXPECT_EQ(g.stack(rsp, 1), user_code);
    EXPECT_EQ(g.stack(rsp, 2), 0x33u);
    EXPECT_EQ(g.stack(rsp, 4), user_stack);
    EXPECT_EQ(g.stack(rsp, 5), 0x2bu);
}

TEST(CpuDelivery, UndeliverableFaultIsATripleFault)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    // No gates at all: #PF cannot be delivered, nor #DF.
    g.code_at(code, Guest::prologue() + write_unmapped + hlt);
    CpuRunResult r = g.run();
    EXPECT_EQ(r.stop, CpuStop::TripleFault);
    EXPECT_NE(r.detail.find("triple fault"), std::string::npos) << r.detail;
}

namespace {
// EFER.SCE on; STAR: kernel CS 0x10, SYSRET base 0x20 (user CS 0x33, SS 0x2b);
// LSTAR = handler; FMASK = IF. Then IRETQ to user code at user_code, IF on.
std::vector<uint8_t> syscall_setup_then_user()
{
    return {
        0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x83, 0xc8, 0x01, 0x0f, 0x30,  // EFER |= SCE
        0xb9, 0x81, 0x00, 0x00, 0xc0, 0x31, 0xc0, 0xba, 0x10, 0x00, 0x20, 0x00, 0x0f, 0x30,  // STAR
        0xb9, 0x82, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x18, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30,  // LSTAR = 0x1800
        0xb9, 0x84, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30,  // FMASK = IF
        0x6a, 0x2b, 0x68, 0x00, 0xc0, 0x00, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00,              // ss, rsp, rflags 0x202
        0x6a, 0x33, 0x68, 0x00, 0x50, 0x00, 0x00, 0x48, 0xcf,                                // cs, rip; iretq
    };
}
const std::vector<uint8_t> user_syscall = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0x0f, 0x05};  // mov eax, 42; syscall
}  // namespace

TEST(CpuDelivery, SyscallEntersTheKernelAsTheArchitectureSays)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.code_at(handler, hlt);
    g.code_at(user_code, user_syscall);
    g.code_at(code, Guest::prologue() + syscall_setup_then_user());

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1);
    EXPECT_EQ(s.cpl(), 0u);
    EXPECT_EQ(s.cs.selector, 0x10);
    EXPECT_EQ(s.gpr[1], user_code + user_syscall.size());  // rcx: where to return
    EXPECT_EQ(s.gpr[11] & 0x200, 0x200u);                   // r11: the user's RFLAGS, IF set
    EXPECT_EQ(s.rflags & 0x200, 0u);                        // FMASK cleared IF
    EXPECT_EQ(s.gpr[0], 42u);
}

TEST(CpuDelivery, SysretReturnsToUserModeAndAFaultThereComesBack)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.code_at(handler, {0xb8, 0x07, 0x00, 0x00, 0x00, 0x48, 0x0f, 0x07});  // mov eax, 7; sysretq
    g.gate(14, handler + 0x100);
    g.code_at(handler + 0x100, hlt);
    g.code_at(user_code, user_syscall + write_unmapped);
    g.code_at(code, Guest::prologue() + syscall_setup_then_user());

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 0x101);
    EXPECT_EQ(s.gpr[0], 7u);  // the system call's result reached user mode
    uint64_t rsp = s.gpr[4];
    ASSERT_EQ(rsp, rsp0_stack - 6 * 8);
    EXPECT_EQ(g.stack(rsp, 0), 0x6u);                                      // user write fault
    EXPECT_EQ(g.stack(rsp, 1), user_code + user_syscall.size());           // after the syscall
    EXPECT_EQ(g.stack(rsp, 2), 0x33u);                                     // from CPL 3
}

TEST(CpuDelivery, InterruptWakesAHaltedGuest)
{
    Guest g;
    ASSERT_TRUE(g.cpu);
    g.gate(0x30, handler);
    g.code_at(handler, hlt);
    // sti; hlt: the shadow of STI covers only the HLT itself.
    auto program = Guest::prologue() + std::vector<uint8_t>{0xfb, 0xf4};
    g.code_at(code, program + hlt);

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    uint64_t after_hlt = code + program.size();
    EXPECT_EQ(g.cpu->rip(), after_hlt);
    ASSERT_TRUE(g.cpu->accepts_interrupts());
    ASSERT_TRUE(g.cpu->interrupt(0x30));

    r = g.cpu->run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1);
    EXPECT_EQ(g.stack(s.gpr[4], 0), after_hlt);  // returns past the HLT it woke
    EXPECT_FALSE(s.rflags & 0x200);
    EXPECT_TRUE(g.stack(s.gpr[4], 2) & 0x200);   // the saved RFLAGS had IF on
}
