// The GDB remote protocol: framing and hex, and the stub's answers on a
// small synthetic guest (registers, memory, breakpoints, a watchpoint, the
// target description and the monitor commands).
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "ui/gdb/gdb_packet.h"
#include "ui/gdb/gdb_registers.h"
#include "ui/gdb/gdb_stub.h"
#include "ui/gdb/symbol_file.h"
#include "unit/synthetic_guest.h"

using namespace bootsim;
using namespace bootsim::gdb;

namespace {

std::string hex_of(uint64_t value, size_t bytes)
{
    return to_hex(reinterpret_cast<const uint8_t*>(&value), bytes);
}

std::string text_of_hex(const std::string& hex)
{
    auto bytes = from_hex(hex);
    return bytes ? std::string(bytes->begin(), bytes->end()) : "(not hex: " + hex + ")";
}

// The register's index in gdb's numbering.
size_t gdb_number(const char* name)
{
    for (size_t i = 0; i < registers().size(); ++i)
        if (std::strcmp(registers()[i].name, name) == 0)
            return i;
    ADD_FAILURE() << "no register " << name;
    return 0;
}

// entry+0: mov eax, 0x1234; +5: mov [0x7000], eax; +12: inc rax; +15: jmp +12
const std::vector<uint8_t> store_code = {0xb8, 0x34, 0x12, 0x00, 0x00, 0x89, 0x04, 0x25, 0x00,
                                         0x70, 0x00, 0x00, 0x48, 0xff, 0xc0, 0xeb, 0xfb};

}  // namespace

TEST(GdbPacket, FramesWithChecksumAndEscapes)
{
    EXPECT_EQ(frame("OK"), "$OK#9a");
    EXPECT_EQ(frame(""), "$#00");
    // '#' goes out as '}' and '#' ^ 0x20 ('\x03'), and the checksum covers what is sent.
    std::string framed = frame("a#b");
    EXPECT_EQ(framed.substr(0, 5), std::string("$a}\x03") + "b");
    PacketReader back;
    back.feed(framed.data(), framed.size());
    auto item = back.next();
    ASSERT_TRUE(item);
    EXPECT_EQ(item->kind, Incoming::Kind::Packet);
    EXPECT_EQ(item->payload, "a#b");
}

TEST(GdbPacket, ReaderTakesSplitPacketsInterruptsAndBadChecksums)
{
    PacketReader r;
    r.feed("+$g#6", 5);
    EXPECT_FALSE(r.next()) << "half a packet";
    r.feed("7\x03$m0,1#00-", 12);
    auto g = r.next();
    ASSERT_TRUE(g);
    EXPECT_EQ(g->kind, Incoming::Kind::Packet);
    EXPECT_EQ(g->payload, "g");
    auto interrupt = r.next();
    ASSERT_TRUE(interrupt);
    EXPECT_EQ(interrupt->kind, Incoming::Kind::Interrupt);
    auto bad = r.next();
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->kind, Incoming::Kind::BadChecksum);
    EXPECT_FALSE(r.next());
}

TEST(GdbPacket, Hex)
{
    EXPECT_EQ(parse_hex("1f"), 0x1fu);
    EXPECT_EQ(parse_hex("ffffffff81000000"), 0xffffffff81000000u);
    EXPECT_FALSE(parse_hex(""));
    EXPECT_FALSE(parse_hex("12345678123456781"));
    EXPECT_FALSE(parse_hex("x1"));
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_EQ(to_hex("OK"), "4f4b");
}

TEST(GdbStub, TargetDescriptionNamesTheX86_64CoreAndTheSystemRegisters)
{
    fake::SyntheticGuest g(store_code);
    ASSERT_TRUE(g.machine);
    GdbStub stub(*g.machine, BootPlan{});
    std::string whole;
    for (uint64_t offset = 0;; offset += 0x400) {
        Action a = stub.handle(fmt::format("qXfer:features:read:target.xml:{:x},400", offset));
        ASSERT_FALSE(a.reply.empty());
        whole += a.reply.substr(1);
        if (a.reply[0] == 'l')
            break;
        ASSERT_EQ(a.reply[0], 'm');
    }
    EXPECT_EQ(whole, target_description());
    for (const char* part : {"<architecture>i386:x86-64</architecture>", "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse",
                             "name=\"rip\"", "name=\"cr3\"", "name=\"efer\"", "name=\"fs_base\""})
        EXPECT_NE(whole.find(part), std::string::npos) << part;
    EXPECT_NE(stub.handle("qSupported:multiprocess+").reply.find("qXfer:features:read+"), std::string::npos);
}

TEST(GdbStub, RegistersReadAndWrite)
{
    fake::SyntheticGuest g(store_code);
    ASSERT_TRUE(g.machine);
    GdbStub stub(*g.machine, BootPlan{});
    size_t total = 0;
    for (const RegisterInfo& r : registers())
        total += r.bits / 8;
    std::string all = stub.handle("g").reply;
    ASSERT_EQ(all.size(), 2 * total);
    // rip follows the 16 general registers.
    EXPECT_EQ(all.substr(16 * 16, 16), hex_of(g.entry, 8));
    EXPECT_EQ(stub.handle(fmt::format("p{:x}", gdb_number("rip"))).reply, hex_of(g.entry, 8));
    EXPECT_EQ(stub.handle(fmt::format("p{:x}", gdb_number("efer"))).reply, hex_of(0x500, 8));  // LME | LMA
    EXPECT_EQ(stub.handle(fmt::format("P{:x}={}", gdb_number("rbx"), hex_of(0x1122334455667788, 8))).reply, "OK");
    EXPECT_EQ(g.machine->cpu().state().gpr[3], 0x1122334455667788u);  // rbx, in hardware order
    // A selector can only be "written" with the value it has.
    std::string cs = stub.handle(fmt::format("p{:x}", gdb_number("cs"))).reply;
    EXPECT_EQ(stub.handle(fmt::format("P{:x}={}", gdb_number("cs"), cs)).reply, "OK");
    EXPECT_EQ(stub.handle(fmt::format("P{:x}={}", gdb_number("cs"), hex_of(0x33, 4))).reply, "E01");
    // Each register takes back the value it has (gdb writes what it read).
    for (size_t n = 0; n < registers().size(); ++n) {
        std::string value = stub.handle(fmt::format("p{:x}", n)).reply;
        EXPECT_EQ(stub.handle(fmt::format("P{:x}={}", n, value)).reply, "OK") << registers()[n].name;
    }
    // G writes back what g read (gdb does that), selectors included.
    EXPECT_EQ(stub.handle("G" + stub.handle("g").reply).reply, "OK");
    EXPECT_EQ(stub.handle("p9999").reply, "E01");
}

TEST(GdbStub, MemoryThroughThePageTablesAndPhysical)
{
    fake::SyntheticGuest g(store_code);
    ASSERT_TRUE(g.machine);
    GdbStub stub(*g.machine, BootPlan{});
    EXPECT_EQ(stub.handle(fmt::format("m{:x},5", g.entry)).reply, to_hex(store_code.data(), 5));
    EXPECT_EQ(stub.handle("M7100,4:deadbeef").reply, "OK");
    EXPECT_EQ(stub.handle("m7100,4").reply, "deadbeef");
    // X: binary, '#' escaped on the wire, the escape undone by the reader.
    PacketReader wire;
    std::string framed = frame("X7104,2:#Z");
    wire.feed(framed.data(), framed.size());
    auto x = wire.next();
    ASSERT_TRUE(x);
    EXPECT_EQ(stub.handle(x->payload).reply, "OK");
    EXPECT_EQ(stub.handle("m7104,2").reply, "235a");
    // Nothing mapped there (the loader maps the low 4 GiB only).
    EXPECT_EQ(stub.handle("mffff800000000000,8").reply, "E14");
    // Physical: beyond RAM nothing answers.
    EXPECT_NE(text_of_hex(stub.handle("qRcmd," + to_hex("phys on")).reply).find("guest-physical"), std::string::npos);
    EXPECT_EQ(stub.handle("m7100,4").reply, "deadbeef");  // identity-mapped: the same bytes
    EXPECT_EQ(stub.handle("m100000000,4").reply, "E14");
}

TEST(GdbStub, BreakpointContinueAndAWatchpoint)
{
    fake::SyntheticGuest g(store_code);
    ASSERT_TRUE(g.machine);
    GdbStub stub(*g.machine, BootPlan{});
    EXPECT_EQ(stub.handle(fmt::format("Z0,{:x},1", g.entry + 12)).reply, "OK");
    EXPECT_EQ(stub.handle("Z2,7000,4").reply, "OK");
    EXPECT_EQ(stub.handle("c").kind, Action::Kind::Continue);
    // The store stops the run (at the end of its block at the latest) and says where.
    RunOutcome watched = g.machine->run({});
    ASSERT_EQ(watched.end, RunEnd::Breakpoint) << watched.reason;
    EXPECT_EQ(stub.stop_reply(watched), "T05watch:7000;thread:01;");
    uint32_t stored = 0;
    g.machine->memory().read(0x7000, &stored, 4);
    EXPECT_EQ(stored, 0x1234u);
    EXPECT_EQ(stub.handle("z2,7000,4").reply, "OK");
    // On to the breakpoint at the inc.
    RunOutcome at_break = g.machine->run({});
    ASSERT_EQ(at_break.end, RunEnd::Breakpoint) << at_break.reason;
    EXPECT_EQ(g.machine->cpu().rip(), g.entry + 12);
    EXPECT_EQ(stub.stop_reply(at_break), "T05thread:01;");
    EXPECT_EQ(stub.handle("s").kind, Action::Kind::Step);
    EXPECT_EQ(g.machine->step().end, RunEnd::Stepped);
    EXPECT_EQ(g.machine->cpu().rip(), g.entry + 15);
    // Detach clears the debugger's stops: the loop runs on past the inc.
    stub.clear_all();
    std::thread pauser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        g.machine->request_pause("test");
    });
    RunOutcome paused = g.machine->run({.stop_at = std::nullopt, .timeout_seconds = 5});
    pauser.join();
    EXPECT_EQ(paused.end, RunEnd::StopRequested) << paused.reason;
    EXPECT_EQ(stub.stop_reply(paused), "T02thread:01;");  // SIGINT: the debugger's pause
    EXPECT_EQ(exit_reply(4), "W04");  // the run over, with bootsim's exit code
}

TEST(GdbStub, MonitorCommands)
{
    fake::SyntheticGuest g(store_code);
    ASSERT_TRUE(g.machine);
    BootPlan plan;
    plan.mem_size = 64 << 20;
    plan.cmdline = "console=ttyS0";
    plan.e820 = {{0, 0x9fc00, E820Type::Ram}, {0x100000, (64 << 20) - 0x100000, E820Type::Ram}};
    plan.regions.push_back({RegionRole::Cmdline, "command line", 0x20000, 14, {}});
    GdbStub stub(*g.machine, plan);
    auto monitor = [&](const std::string& command) { return text_of_hex(stub.handle("qRcmd," + to_hex(command)).reply); };
    EXPECT_EQ(monitor("e820"), "0x0000000000000000-0x000000000009fbff usable\n"
                               "0x0000000000100000-0x0000000003ffffff usable\n");
    std::string p = monitor("plan");
    EXPECT_NE(p.find("RAM 64 MiB, command line \"console=ttyS0\""), std::string::npos) << p;
    EXPECT_NE(p.find("cmdline"), std::string::npos) << p;
    EXPECT_NE(monitor("mode").find("long"), std::string::npos);
    EXPECT_NE(monitor("mode").find("set architecture i386:x86-64"), std::string::npos);
    EXPECT_EQ(monitor("phase"), "phase loaded\n");
    EXPECT_NE(monitor("phase loaded").find("behind"), std::string::npos);
    EXPECT_NE(monitor("phase teatime").find("no phase"), std::string::npos);
    EXPECT_FALSE(stub.stop_at_phase());
    EXPECT_NE(monitor("phase kernel").find("next continue stops"), std::string::npos);
    EXPECT_EQ(stub.stop_at_phase(), Phase::Kernel);
    EXPECT_NE(monitor("help").find("phase [NAME]"), std::string::npos);
}

// The symbol file: an ELF64 whose symbol table holds the kernel's symbols
// at their running addresses, locals first, functions in the one section.
TEST(GdbSymbolFile, HoldsTheSymbolsAtTheirRunningAddresses)
{
    auto symbols = KernelSymbols::parse_system_map("ffffffff81000000 T _text\n"
                                                   "ffffffff81000000 T startup_64\n"
                                                   "ffffffff81001234 t local_helper\n"
                                                   "ffffffff82000000 D some_data\n"
                                                   "0000000000000000 A fixed_percpu_data\n",
                                                   "System.map");
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    const int64_t offset = 0x2c400000;
    std::vector<uint8_t> elf = build_symbol_file(*symbols, offset);
    ASSERT_GE(elf.size(), 64u);
    EXPECT_EQ(std::string(elf.begin(), elf.begin() + 4), "\x7f" "ELF");
    auto u16 = [&](size_t at) { return uint16_t(elf[at] | elf[at + 1] << 8); };
    auto u32 = [&](size_t at) { return uint32_t(u16(at) | uint32_t(u16(at + 2)) << 16); };
    auto u64 = [&](size_t at) { return uint64_t(u32(at)) | uint64_t(u32(at + 4)) << 32; };
    EXPECT_EQ(u16(18), 62);  // EM_X86_64
    uint64_t shoff = u64(40);
    uint16_t shnum = u16(60);
    ASSERT_EQ(shnum, 5);
    auto section = [&](int i) { return shoff + 64 * size_t(i); };
    // Section 1: the kernel's span, address only.
    EXPECT_EQ(u32(section(1) + 4), 8u);  // SHT_NOBITS
    EXPECT_EQ(u64(section(1) + 16), 0xffffffff81000000u + offset);
    // Section 2: the symbols; 3: their names.
    size_t symtab = u64(section(2) + 24), symtab_size = u64(section(2) + 32), strtab = u64(section(3) + 24);
    ASSERT_EQ(symtab_size, 24u * 5);  // the null symbol and four (the per-CPU one left out)
    EXPECT_EQ(u32(section(2) + 44), 2u) << "sh_info: the first global symbol follows the null one and the local";
    std::map<std::string, std::pair<uint64_t, uint8_t>> found;
    for (size_t i = 1; i < 5; ++i) {
        size_t at = symtab + 24 * i;
        std::string name(reinterpret_cast<const char*>(&elf[strtab + u32(at)]));
        found[name] = {u64(at + 8), elf[at + 4]};
        EXPECT_EQ(u16(at + 6), 1) << name;  // in the kernel's section
    }
    EXPECT_EQ(found["startup_64"].first, 0xffffffff81000000u + offset);
    EXPECT_EQ(found["startup_64"].second, 0x12);  // global function
    EXPECT_EQ(found["local_helper"].second, 0x02);  // local function
    EXPECT_EQ(found["some_data"].first, 0xffffffff82000000u + offset);
    EXPECT_EQ(found["some_data"].second, 0x11);  // global object
    EXPECT_FALSE(found.count("fixed_percpu_data"));
}
