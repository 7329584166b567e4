// End to end: Debian's gdb attached to bootsim's stub (--gdb 0 --gdb-wait)
// on a 6.1 and a 6.12 kernel. gdb finds the guest waiting in the setup
// code's real mode, breaks at the decompressed kernel's entry (the handoff
// address a first run reported; nokaslr keeps it), checks registers and
// memory there (long mode and paging on, boot_params in RSI), steps one
// instruction, runs to phase kernel, loads the symbol file bootsim writes
// from the kernel's kallsyms and breaks at a function by name, detaches,
// and the guest boots on to /init by itself.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "support/images.h"
#include "support/run_command.h"

using bootsim::test::image;
using bootsim::test::output_tail;
using bootsim::test::run_command;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The first group of `pattern` in `text` as a number (hex with 0x), or -1.
long long number_after(const std::string& text, const std::string& pattern)
{
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(pattern)))
        return -1;
    return std::stoll(m[1].str(), nullptr, 0);
}

std::string fmt_hex(long long v)
{
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

class Gdb : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(Gdb, BreaksAtTheHandoffAndAtAKernelFunctionThenTheGuestBootsOn)
{
    const std::string dir = std::filesystem::temp_directory_path() /
                            ("bootsim-gdb-" + std::to_string(getpid()) + "-" + bootsim::test::kernel_test_name(GetParam()));
    std::filesystem::create_directories(dir);
    const std::string log = dir + "/bootsim.log", script = dir + "/session.gdb";
    const std::string boot = " --kernel " + image(GetParam() + "/vmlinuz") + " --initrd " +
                             image("initrd-busybox.cpio.gz") + " --append 'console=ttyS0 nokaslr' --headless";

    // The handoff address, as bootsim reports it (nokaslr: the same every boot).
    auto first = bootsim::test::run_bootsim(boot + " --stop-at handoff --timeout 120");
    ASSERT_EQ(first.exit_code, 0) << output_tail(first.output);
    long long handoff = number_after(first.output, R"(phase handoff +at rip (0x[0-9a-f]+))");
    ASSERT_GT(handoff, 0) << output_tail(first.output);

    // In the background: the guest waits for gdb; the console marker ends the run.
    // `timeout`: a test that fails before gdb attaches must not leave it waiting.
    std::string start = "timeout 400 " + std::string(BOOTSIM_BINARY) + boot +
                        " --gdb 0 --gdb-wait --timeout 300 --expect BOOTSIM-INIT-OK </dev/null >" + log +
                        " 2>&1; echo $? >" + dir + "/exit";
    ASSERT_EQ(std::system(("(" + start + ") >/dev/null 2>&1 &").c_str()), 0);

    // The stub says where it listens (port 0: a free one).
    std::string address;
    for (int i = 0; i < 600 && address.empty(); ++i) {
        std::smatch m;
        std::string text = read_file(log);
        if (std::regex_search(text, m, std::regex(R"(gdb stub on (127\.0\.0\.1:\d+))")))
            address = m[1];
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(address.empty()) << read_file(log);

    // The breakpoint may be hit in the decompressor first (6.1's entry is
    // 0x1000000, where startup_32 runs too): continue until bootsim says
    // the phase is handoff.
    std::ofstream(script) << "set pagination off\n"
                             "set confirm off\n"
                             "target remote " << address << "\n"
                             "printf \"START rip=%#x cs=%#x\\n\", $rip, $cs\n"
                             "monitor mode\n"
                             "monitor e820\n"
                             "break *" << handoff << "\n"
                             "python\n"
                             "for i in range(4):\n"
                             "    gdb.execute('continue')\n"
                             "    phase = gdb.execute('monitor phase', to_string=True).strip()\n"
                             "    print('STOP %s at %#x' % (phase, int(gdb.parse_and_eval('$rip'))))\n"
                             "    if phase == 'phase handoff':\n"
                             "        break\n"
                             "end\n"
                             "printf \"HANDOFF rip=%#x efer=%#x cr0=%#x cr3=%#x magic=%#x\\n\", $rip, $efer, $cr0, $cr3, "
                             "*(unsigned int *)($rsi + 0x202)\n"
                             "stepi\n"
                             "printf \"STEPPED rip=%#x\\n\", $rip\n"
                             "delete\n"
                             // The kernel's own symbols, from its kallsyms, for gdb.
                             "monitor phase kernel\n"
                             "continue\n"
                             "monitor symbols " << dir << "/kernel.elf\n"
                             "symbol-file " << dir << "/kernel.elf\n"
                             "info symbol $pc\n"
                             "break do_one_initcall\n"
                             "continue\n"
                             "info symbol $pc\n"
                             "delete\n"
                             "detach\n";
    auto session = run_command("timeout 300 gdb -nx -batch -x " + script + " 2>&1");
    const std::string& out = session.output;
    EXPECT_EQ(session.exit_code, 0) << out;

    // Real mode at the setup code's entry, CS 0x1020 (setup at 0x10000).
    EXPECT_NE(out.find("START rip=0 cs=0x1020"), std::string::npos) << out;
    EXPECT_NE(out.find("real, CPL 0; gdb: set architecture i8086"), std::string::npos) << out;
    EXPECT_NE(out.find("0x0000000000100000-"), std::string::npos) << out;  // e820: RAM from 1 MiB
    // Stopped at the breakpoint in phase handoff: the decompressed kernel's
    // entry, in long mode with paging, boot_params (its "HdrS") in RSI,
    // read through the decompressor's page tables.
    EXPECT_NE(out.find("STOP phase handoff at " + fmt_hex(handoff)), std::string::npos) << out;
    EXPECT_EQ(number_after(out, R"(HANDOFF rip=(0x[0-9a-f]+))"), handoff) << out;
    EXPECT_EQ(number_after(out, R"(HANDOFF .*efer=(0x[0-9a-f]+))") & 0x500, 0x500) << out;
    EXPECT_EQ(number_after(out, R"(HANDOFF .*cr0=(0x[0-9a-f]+))") & 0x80000001, 0x80000001) << out;
    EXPECT_GT(number_after(out, R"(HANDOFF .*cr3=(0x[0-9a-f]+))"), 0) << out;
    EXPECT_EQ(number_after(out, R"(HANDOFF .*magic=(0x[0-9a-f]+))"), 0x53726448) << out;  // "HdrS"
    // One instruction on: past the entry's first instruction, within 15 bytes.
    long long stepped = number_after(out, R"(STEPPED rip=(0x[0-9a-f]+))");
    EXPECT_GT(stepped, handoff) << out;
    EXPECT_LE(stepped, handoff + 15) << out;
    // At phase kernel, by the symbol file bootsim wrote: start_kernel, then
    // a breakpoint by name.
    EXPECT_NE(out.find("symbols from kallsyms (virtual offset +0x0)"), std::string::npos) << out;
    EXPECT_NE(out.find("start_kernel in section .kernel"), std::string::npos) << out;
    EXPECT_NE(out.find("do_one_initcall in section .kernel"), std::string::npos) << out;
    EXPECT_NE(out.find("detached"), std::string::npos) << out;

    // Without the debugger, the guest boots on to /init.
    for (int i = 0; i < 3000 && !std::filesystem::exists(dir + "/exit"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string console = read_file(log);
    EXPECT_EQ(read_file(dir + "/exit"), "0\n") << output_tail(console);
    EXPECT_NE(console.find("BOOTSIM-INIT-OK"), std::string::npos) << output_tail(console);
    std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(DebianKernels, Gdb, ::testing::Values("bookworm/cloud", "trixie/generic"),
                         [](const auto& info) { return bootsim::test::kernel_test_name(info.param); });
