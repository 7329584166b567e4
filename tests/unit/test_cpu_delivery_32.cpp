// Interrupts, exceptions and SYSENTER in protected mode without long mode,
// the way a 32-bit kernel takes them (8-byte IDT gates, 32-bit frames, the
// TSS's SS0:ESP0 on the way in from user mode), on a small synthetic guest
// assembled byte by byte: paging off, flat segments.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/cpu.h"
#include "core/guest_memory.h"

using namespace bootsim;

namespace {

constexpr uint32_t gdt = 0x500, idt_descriptor = 0x600, tss = 0x3000, idt = 0x4000;
constexpr uint32_t code = 0x1000, handler = 0x1800, user_code = 0x5000;
constexpr uint32_t kernel_stack = 0x9000, esp0_stack = 0xa000, user_stack = 0xc000, sysenter_stack = 0xd000;
// GDT selectors: kernel code and data, user code and data (RPL 3), the TSS.
constexpr uint16_t kernel_cs = 0x08, kernel_ds = 0x10, user_cs = 0x1b, user_ds = 0x23, tss_selector = 0x28;

class RecordingClient final : public CpuClient {
public:
    uint32_t port_read(uint16_t, unsigned) override { return 0xffffffff; }
    void port_write(uint16_t, uint32_t, unsigned) override {}
    bool on_block(uint64_t) override { return false; }
    void on_exception(uint8_t vector, uint64_t, uint32_t error_code) override
    {
        delivered.push_back({vector, error_code});
    }
    struct Delivery { uint8_t vector; uint32_t error_code; };
    std::vector<Delivery> delivered;
};

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<uint8_t> le32(uint32_t v)
{
    return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}

struct Guest32 {
    std::unique_ptr<GuestMemory> mem{*GuestMemory::create(4 << 20)};
    RecordingClient client;
    std::unique_ptr<Cpu> cpu;

    Guest32()
    {
        auto c = Cpu::create(*mem, client);
        if (!c)
            ADD_FAILURE() << c.error().message;
        else
            cpu = std::move(*c);
        // null, kernel code32, kernel data, user code32 (DPL 3), user data (DPL 3), 32-bit TSS.
        const uint64_t descriptors[] = {0, 0x00cf9b000000ffff, 0x00cf93000000ffff, 0x00cffb000000ffff,
                                        0x00cff3000000ffff, 0};
        mem->write(gdt, descriptors, sizeof descriptors);
        uint64_t tss_descriptor = 0x67 | uint64_t(tss & 0xffffff) << 16 | 0x89ull << 40 | uint64_t(tss >> 24) << 56;
        mem->write_value(gdt + tss_selector, tss_descriptor);
        mem->write_value<uint32_t>(tss + 4, esp0_stack);   // ESP0
        mem->write_value<uint16_t>(tss + 8, kernel_ds);    // SS0
        mem->write_value<uint16_t>(idt_descriptor, 256 * 8 - 1);
        mem->write_value<uint32_t>(idt_descriptor + 2, idt);
    }

    // A 32-bit interrupt gate (type 0xe) to `target` in the kernel's code
    // segment; `dpl` 3 lets user mode reach it with INT n.
    void gate(uint8_t vector, uint32_t target, unsigned dpl = 0)
    {
        uint8_t g[8] = {uint8_t(target), uint8_t(target >> 8), uint8_t(kernel_cs), 0, 0,
                        uint8_t(0x8e | dpl << 5), uint8_t(target >> 16), uint8_t(target >> 24)};
        mem->write(idt + uint32_t(vector) * 8, g, sizeof g);
    }

    void code_at(uint32_t address, const std::vector<uint8_t>& bytes) { mem->write(address, bytes.data(), bytes.size()); }

    // lidt [idt_descriptor]; mov ax, 0x28; ltr ax
    static std::vector<uint8_t> prologue()
    {
        return std::vector<uint8_t>{0x0f, 0x01, 0x1d} + le32(idt_descriptor) +
               std::vector<uint8_t>{0x66, 0xb8, uint8_t(tss_selector), 0x00, 0x0f, 0x00, 0xd8};
    }

    // IRETD to user_code at CPL 3 with IF on: push ss, esp, eflags, cs, eip.
    static std::vector<uint8_t> to_user()
    {
        return std::vector<uint8_t>{0x6a, uint8_t(user_ds), 0x68} + le32(user_stack) +
               std::vector<uint8_t>{0x68, 0x02, 0x02, 0x00, 0x00, 0x6a, uint8_t(user_cs), 0x68} + le32(user_code) +
               std::vector<uint8_t>{0xcf};
    }

    CpuRunResult run()
    {
        EntryState e;
        e.mode = EntryMode::Protected32;
        e.rip = code;
        e.rsp = kernel_stack;
        e.cr0 = 0x11;  // PE | ET, paging off
        e.gdt_base = gdt;
        e.gdt_limit = 0x2f;
        e.cs = kernel_cs;
        e.ds = kernel_ds;
        EXPECT_TRUE(cpu->load_entry_state(e).ok());
        return cpu->run();
    }

    uint32_t stack(uint64_t esp, int slot)
    {
        uint32_t v = 0;
        mem->read_value(esp + 4 * uint64_t(slot), v);
        return v;
    }
};

const std::vector<uint8_t> hlt = {0xf4};

}  // namespace

TEST(CpuDelivery32, InterruptInTheKernelPushesAThirtyTwoBitFrameOnTheSameStack)
{
    Guest32 g;
    ASSERT_TRUE(g.cpu);
    g.gate(0x21, handler);
    g.code_at(handler, hlt);
    auto program = Guest32::prologue() + std::vector<uint8_t>{0xfb, 0xcd, 0x21};  // sti; int 0x21
    g.code_at(code, program + hlt);

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1u);
    uint64_t esp = s.gpr[4];
    ASSERT_EQ(esp, kernel_stack - 3 * 4);  // EIP, CS, EFLAGS: no stack switch, no SS:ESP
    EXPECT_EQ(g.stack(esp, 0), code + program.size());
    EXPECT_EQ(g.stack(esp, 1), kernel_cs);
    EXPECT_TRUE(g.stack(esp, 2) & 0x200);  // the saved EFLAGS had IF on
    EXPECT_FALSE(s.rflags & 0x200);        // an interrupt gate clears it
    EXPECT_EQ(s.cs.selector, kernel_cs);
}

TEST(CpuDelivery32, SystemCallFromUserModeSwitchesToTheTssStack)
{
    Guest32 g;
    ASSERT_TRUE(g.cpu);
    g.gate(0x80, handler, 3);
    g.code_at(handler, hlt);
    const std::vector<uint8_t> user = {0xb8, 0x0b, 0x00, 0x00, 0x00, 0xcd, 0x80};  // mov eax, 11; int 0x80
    g.code_at(user_code, user);
    g.code_at(code, Guest32::prologue() + Guest32::to_user());

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1u);
    EXPECT_EQ(s.cpl(), 0u);
    EXPECT_EQ(s.cs.selector, kernel_cs);
    EXPECT_EQ(s.ss.selector, kernel_ds);  // SS0 from the TSS
    uint64_t esp = s.gpr[4];
    ASSERT_EQ(esp, esp0_stack - 5 * 4);   // ESP0, then SS, ESP, EFLAGS, CS, EIP
    EXPECT_EQ(g.stack(esp, 0), user_code + user.size());
    EXPECT_EQ(g.stack(esp, 1), user_cs);
    EXPECT_TRUE(g.stack(esp, 2) & 0x200);
    EXPECT_EQ(g.stack(esp, 3), user_stack);
    EXPECT_EQ(g.stack(esp, 4), user_ds);
    EXPECT_EQ(s.gpr[0], 11u);
}

TEST(CpuDelivery32, FaultInUserModePushesItsErrorCodeBelowTheFrame)
{
    Guest32 g;
    ASSERT_TRUE(g.cpu);
    g.gate(13, handler);
    g.code_at(handler, hlt);
    g.code_at(user_code, {0xfa});  // cli at CPL 3 with IOPL 0: #GP(0)
    g.code_at(code, Guest32::prologue() + Guest32::to_user());

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1u);
    uint64_t esp = s.gpr[4];
    ASSERT_EQ(esp, esp0_stack - 6 * 4);
    EXPECT_EQ(g.stack(esp, 0), 0u);         // error code
    EXPECT_EQ(g.stack(esp, 1), user_code);  // the faulting CLI itself
    EXPECT_EQ(g.stack(esp, 2), user_cs);
    EXPECT_EQ(g.stack(esp, 4), user_stack);
    ASSERT_EQ(g.client.delivered.size(), 1u);
    EXPECT_EQ(g.client.delivered[0].vector, 13);
}

TEST(CpuDelivery32, SysenterEntersTheKernelFromTheMsrs)
{
    Guest32 g;
    ASSERT_TRUE(g.cpu);
    g.code_at(handler, hlt);
    const std::vector<uint8_t> user = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0x0f, 0x34};  // mov eax, 42; sysenter
    g.code_at(user_code, user);
    // wrmsr IA32_SYSENTER_CS (0x174) = kernel_cs, _ESP (0x175), _EIP (0x176)
    auto wrmsr = [](uint32_t index, uint32_t value) {
        return std::vector<uint8_t>{0xb9} + le32(index) + std::vector<uint8_t>{0xb8} + le32(value) +
               std::vector<uint8_t>{0x31, 0xd2, 0x0f, 0x30};
    };
    g.code_at(code, Guest32::prologue() + wrmsr(0x174, kernel_cs) + wrmsr(0x175, sysenter_stack) +
                        wrmsr(0x176, handler) + Guest32::to_user());

    CpuRunResult r = g.run();
    ASSERT_EQ(r.stop, CpuStop::Halted) << r.detail;
    CpuState s = g.cpu->state();
    EXPECT_EQ(s.rip, handler + 1u);
    EXPECT_EQ(s.cpl(), 0u);
    EXPECT_EQ(s.cs.selector, kernel_cs);
    EXPECT_EQ(s.ss.selector, kernel_cs + 8);
    EXPECT_EQ(s.gpr[4], sysenter_stack);  // ESP from the MSR: nothing pushed
    EXPECT_FALSE(s.rflags & 0x200);       // SYSENTER clears IF
    EXPECT_EQ(s.gpr[0], 42u);
}

TEST(CpuDelivery32, ATaskGateIsNotDeliveredAndEndsInATripleFault)
{
    Guest32 g;
    ASSERT_TRUE(g.cpu);
    // Vector 0x21 and #DF (8) as task gates (type 5), as a 32-bit kernel's
    // double-fault handler is: a task switch this CPU core does not make.
    uint8_t task_gate[8] = {0, 0, uint8_t(tss_selector), 0, 0, 0x85, 0, 0};
    g.mem->write(idt + 0x21 * 8, task_gate, sizeof task_gate);
    g.mem->write(idt + 8 * 8, task_gate, sizeof task_gate);
    g.code_at(code, Guest32::prologue() + std::vector<uint8_t>{0xcd, 0x21} + hlt);
    CpuRunResult r = g.run();
    EXPECT_EQ(r.stop, CpuStop::TripleFault);
    EXPECT_NE(r.detail.find("triple fault"), std::string::npos) << r.detail;
}
