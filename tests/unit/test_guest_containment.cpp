// A guest cannot reach the host: hand-written guests that store and load
// outside RAM, jump there, never halt, flood port I/O or fault without an
// IDT. Each ends (or goes on) the way a PC would, with a clear reason, and
// nothing outside guest RAM changes. (The virtio-blk device's containment
// is in test_virtio_blk.cpp and its fuzzer.)
#include <gtest/gtest.h>

#include <cstring>

#include "core/cpu.h"
#include "core/machine.h"
#include "loader/guest_layout.h"
#include "unit/synthetic_guest.h"

using namespace bootsim;

namespace {

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<uint8_t> movabs(uint8_t opcode, uint64_t value)  // 48 B8+r imm64
{
    std::vector<uint8_t> code = {0x48, opcode};
    for (int i = 0; i < 8; ++i)
        code.push_back(uint8_t(value >> (8 * i)));
    return code;
}
const std::vector<uint8_t> cli_hlt = {0xfa, 0xf4};

constexpr uint64_t outside_ram = 0x10000000;  // 256 MiB: identity-mapped, but RAM is 64 MiB

}  // namespace

TEST(GuestContainment, StoresOutsideRamAreDroppedAndLoadsReadAllOnes)
{
    // mov rdi, 256 MiB; mov qword [rdi], 0x12345678; mov rax, [rdi];
    // mov rbx, 1 GiB - 8; mov [rbx], eax; mov cl, [rbx]; cli; hlt
    auto code = movabs(0xbf, outside_ram) + std::vector<uint8_t>{0x48, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12} +
                std::vector<uint8_t>{0x48, 0x8b, 0x07} + movabs(0xbb, (1ull << 30) - 8) +
                std::vector<uint8_t>{0x89, 0x03, 0x8a, 0x0b} + cli_hlt;
    fake::SyntheticGuest g(code);
    ASSERT_TRUE(g.machine);
    std::vector<uint8_t> before(g.machine->memory().bytes().begin(), g.machine->memory().bytes().end());

    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 20});
    EXPECT_EQ(outcome.end, RunEnd::Halted) << outcome.reason;
    EXPECT_EQ(g.machine->cpu().state().gpr[0], ~0ull);      // rax: the floating bus
    EXPECT_EQ(g.machine->cpu().state().gpr[1] & 0xff, 0xffu);  // cl
    // Two stores and two loads; the MMIO bus may see an 8-byte access as
    // two of 4 bytes.
    EXPECT_GE(g.machine->mmio_writes(), 2u);
    EXPECT_GE(g.machine->mmio_reads(), 2u);
    // RAM is as it was: no store wrapped around into it. Only the page
    // tables changed (the walk sets accessed and dirty bits).
    auto after = g.machine->memory().bytes();
    for (size_t i = 0; i < before.size(); ++i)
        if (before[i] != after[i] && !(i >= layout::pml4 && i < layout::pml4 + 3 * 4096))
            ADD_FAILURE() << "RAM changed at " << std::hex << i;
}

TEST(GuestContainment, PhysicalAddressesUpToTheCpuLimitAreCovered)
{
    // The guest's own page tables can reach any physical address the CPU
    // reports; the MMIO space must reach as far. Map the 2 MiB page at
    // 1 GiB (virtual) to the last 2 MiB below the limit, then store there.
    uint64_t target = Cpu::physical_limit - (2 << 20);
    // mov rax, cr3; mov rbx, [rax] (PML4[0] -> PDPT); and rbx, ~0xfff;
    // mov rcx, target | 0x83 (present, writable, 2 MiB); 
    // PDPT[1] needs a directory: use a free page at 0x300000 as the
    // directory, entry 0 = rcx; PDPT[1] = 0x300000 | 3; invlpg; store.
    auto code = std::vector<uint8_t>{0x0f, 0x20, 0xd8} +          // mov rax, cr3
                std::vector<uint8_t>{0x48, 0x8b, 0x18} +          // mov rbx, [rax]
                std::vector<uint8_t>{0x48, 0x81, 0xe3, 0x00, 0xf0, 0xff, 0xff} +  // and rbx, ~0xfff
                movabs(0xb9, target | 0x83) +                      // mov rcx, target | PS | RW | P
                movabs(0xba, 0x300000) +                           // mov rdx, 0x300000 (a free page)
                std::vector<uint8_t>{0x48, 0x89, 0x0a} +          // mov [rdx], rcx
                std::vector<uint8_t>{0x48, 0x83, 0xca, 0x03} +    // or rdx, 3
                std::vector<uint8_t>{0x48, 0x89, 0x53, 0x08} +    // mov [rbx + 8], rdx
                std::vector<uint8_t>{0x0f, 0x22, 0xd8} +          // mov cr3, rax (flush the TLB)
                movabs(0xbf, 1ull << 30) +                         // mov rdi, 1 GiB
                std::vector<uint8_t>{0xc7, 0x07, 0xef, 0xbe, 0xad, 0xde} +  // mov dword [rdi], 0xdeadbeef
                std::vector<uint8_t>{0x8b, 0x07} +                // mov eax, [rdi]
                cli_hlt;
    fake::SyntheticGuest g(code);
    ASSERT_TRUE(g.machine);
    // The directory page starts empty.
    std::vector<uint8_t> zero(4096, 0);
    g.machine->memory().write(0x300000, zero.data(), zero.size());
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 20});
    EXPECT_EQ(outcome.end, RunEnd::Halted) << outcome.reason;
    EXPECT_EQ(g.machine->cpu().state().gpr[0] & 0xffffffff, 0xffffffffu);
    EXPECT_GE(g.machine->mmio_writes(), 1u);
    EXPECT_GE(g.machine->mmio_reads(), 1u);
}

TEST(GuestContainment, CodeOutsideRamIsAnInvalidOpcode)
{
    // The bus reads all ones there, and FF FF is no instruction: #UD at the
    // address jumped to. With no IDT it cannot be delivered: a triple fault
    // whose reason names the address.
    auto code = std::vector<uint8_t>{0x6a, 0x00, 0x6a, 0x00, 0x0f, 0x01, 0x1c, 0x24} +  // an empty IDT (below)
                movabs(0xb8, outside_ram) + std::vector<uint8_t>{0xff, 0xe0};              // mov rax, 256 MiB; jmp rax
    fake::SyntheticGuest g(code);
    ASSERT_TRUE(g.machine);
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 20});
    EXPECT_EQ(outcome.end, RunEnd::TripleFault) << outcome.reason;
    EXPECT_NE(outcome.reason.find("0x10000000"), std::string::npos) << outcome.reason;
    EXPECT_NE(outcome.reason.find("outside RAM"), std::string::npos) << outcome.reason;
}

TEST(GuestContainment, AGuestThatNeverHaltsEndsAtTheTimeout)
{
    fake::SyntheticGuest g({0xeb, 0xfe});  // jmp $
    ASSERT_TRUE(g.machine);
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 0.3});
    EXPECT_EQ(outcome.end, RunEnd::Timeout) << outcome.reason;
    EXPECT_NE(outcome.reason.find("timed out"), std::string::npos);
}

TEST(GuestContainment, APortIoFloodEndsAtTheTimeout)
{
    // mov dx, 0x1234; loop: out dx, al; in al, dx; jmp loop
    fake::SyntheticGuest g({0x66, 0xba, 0x34, 0x12, 0xee, 0xec, 0xeb, 0xfc});
    ASSERT_TRUE(g.machine);
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 0.3});
    EXPECT_EQ(outcome.end, RunEnd::Timeout) << outcome.reason;
    EXPECT_GT(g.machine->port_writes(), 1000u);
    EXPECT_GT(g.machine->port_reads(), 1000u);
    EXPECT_EQ(g.machine->cpu().state().gpr[0] & 0xff, 0xffu);  // nothing at 0x1234: all ones
}

TEST(GuestContainment, AFaultWithNoIdtIsATripleFault)
{
    // lidt with a zero limit, then ud2: #UD cannot be delivered, nor the
    // double fault after it.
    // sub rsp, 16; mov qword [rsp], 0; mov word... : push 0 twice and lidt [rsp]
    auto code = std::vector<uint8_t>{0x6a, 0x00, 0x6a, 0x00,       // push 0; push 0
                                     0x0f, 0x01, 0x1c, 0x24,       // lidt [rsp]
                                     0x0f, 0x0b};                  // ud2
    fake::SyntheticGuest g(code);
    ASSERT_TRUE(g.machine);
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 20});
    EXPECT_EQ(outcome.end, RunEnd::TripleFault) << outcome.reason;
    EXPECT_FALSE(outcome.reason.empty());
}

namespace {

// An interrupt controller whose INTR pin never drops: every acknowledge
// returns the same vector, and the line is raised again at once.
class StormingController final : public InterruptController {
public:
    explicit StormingController(Machine& machine) : m_machine(machine) {}
    bool has_interrupt() const override { return true; }
    int acknowledge() override
    {
        ++acknowledged;
        m_machine.interrupt_line_changed();
        return 0x30;
    }
    uint64_t acknowledged = 0;

private:
    Machine& m_machine;
};

}  // namespace

TEST(GuestContainment, AnInterruptStormEndsAtTheTimeout)
{
    // lidt [0x5800]; sti; jmp $    (the handler: iretq)
    fake::SyntheticGuest g({0x0f, 0x01, 0x1c, 0x25, 0x00, 0x58, 0x00, 0x00, 0xfb, 0xeb, 0xfe});
    ASSERT_TRUE(g.machine);
    g.install_iretq_handler_for_vector_0x30();

    StormingController storm(*g.machine);
    g.machine->set_interrupt_controller(storm);
    g.machine->interrupt_line_changed();
    RunOutcome outcome = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 0.5});
    EXPECT_EQ(outcome.end, RunEnd::Timeout) << outcome.reason;
    EXPECT_GT(storm.acknowledged, 1000u);
}

// The MMIO space reaches exactly as far as the physical address width the
// guest is told in CPUID 0x80000008 (EAX bits 7-0).
TEST(GuestContainment, PhysicalLimitIsWhatCpuidReports)
{
    bool found = false;
    for (const Cpu::CpuidLeaf& l : Cpu::cpuid_table()) {
        if (l.leaf != 0x80000008)
            continue;
        found = true;
        EXPECT_EQ(Cpu::physical_limit, 1ull << (l.eax & 0xff));
    }
    EXPECT_TRUE(found);
}
