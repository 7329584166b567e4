// End to end: the boot protocol's ways into the kernel. A 6.1, a 6.12 and
// a 7.x kernel boot to the busybox initrd's /init through the real-mode
// entry (the kernel's own 16-bit setup code, bootsim answering its BIOS
// calls), the 32-bit entry (startup_32: protected mode, paging off; the
// decompressor enters long mode itself) and the 64-bit one, and the e820
// map the kernel prints is the same through each.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "run/exit_codes.h"
#include "support/images.h"
#include "support/report.h"
#include "support/run_command.h"

using bootsim::test::boot_args;
using bootsim::test::read_report;
using bootsim::test::run_bootsim;
using bootsim::test::temp_report;

namespace {

// The kernel's "BIOS-e820: [mem ...] usable" lines, in order.
std::vector<std::string> e820_lines(const std::string& console)
{
    std::vector<std::string> lines;
    static const std::regex line(R"(BIOS-e820: \[mem 0x[0-9a-f]+-0x[0-9a-f]+\] [a-zA-Z ]+)");
    for (auto it = std::sregex_iterator(console.begin(), console.end(), line); it != std::sregex_iterator(); ++it)
        lines.push_back(it->str());
    return lines;
}

// The report's switches of CPU mode, "mode@phase" each, in order.
std::vector<std::string> cpu_modes(const nlohmann::json& report)
{
    std::vector<std::string> modes;
    for (const auto& m : report["cpu_modes"])
        modes.push_back(m.value("mode", "") + "@" + m.value("phase", ""));
    return modes;
}

class Entries : public ::testing::TestWithParam<std::string> {};

TEST_P(Entries, The32BitEntryBootsToInitWithTheSameMemoryMap)
{
    std::string args = boot_args(GetParam()) + " --timeout 300 --expect BOOTSIM-INIT-OK";
    auto through64 = run_bootsim(args + " --entry 64");
    ASSERT_EQ(through64.exit_code, bootsim::exit_success) << bootsim::test::output_tail(through64.output);
    auto through32 = run_bootsim(args + " --entry 32");
    ASSERT_EQ(through32.exit_code, bootsim::exit_success) << bootsim::test::output_tail(through32.output);

    EXPECT_NE(through32.output.find("32-bit entry at 0x"), std::string::npos) << through32.output;
    EXPECT_NE(through64.output.find("64-bit entry at 0x"), std::string::npos) << through64.output;
    // The 32-bit entry starts at the protected-mode code's first byte and
    // gets to the kernel through the same decompressor.
    for (const char* step : {"phase decompress", "phase handoff", "handoff verified", "phase init"})
        EXPECT_NE(through32.output.find(step), std::string::npos) << step << " in: " << through32.output;
    EXPECT_NE(through32.output.find("the CPU entered long mode"), std::string::npos) << through32.output;
    EXPECT_EQ(through64.output.find("the CPU entered long mode"), std::string::npos) << through64.output;

    auto map32 = e820_lines(through32.output), map64 = e820_lines(through64.output);
    ASSERT_GE(map64.size(), 3u) << through64.output;
    EXPECT_EQ(map32, map64);
}

TEST_P(Entries, TheRealModeEntryRunsTheSetupCodeOnTheBiosAndBootsToInit)
{
    std::string report_path = temp_report("real-entry");
    std::string args = boot_args(GetParam()) + " --timeout 300 --expect BOOTSIM-INIT-OK";
    auto real = run_bootsim(args + " --entry real --report " + report_path);
    ASSERT_EQ(real.exit_code, bootsim::exit_success) << bootsim::test::output_tail(real.output);
    auto through64 = run_bootsim(args + " --entry 64");
    ASSERT_EQ(through64.exit_code, bootsim::exit_success) << bootsim::test::output_tail(through64.output);

    for (const char* step : {"real-mode entry at 1020:0000", "phase setup", "BIOS int 15h AX=E820h: memory map",
                             "the CPU switched to protected mode", "the setup code's jump to code32_start",
                             "the CPU entered long mode", "handoff verified", "phase init"})
        EXPECT_NE(real.output.find(step), std::string::npos) << step << " in: " << real.output;
    // The setup code built boot_params from the BIOS's answers: the kernel
    // prints the map it got through INT 15h E820h, the same as the 64-bit
    // entry's boot_params carried.
    auto map_real = e820_lines(real.output), map64 = e820_lines(through64.output);
    ASSERT_GE(map64.size(), 3u) << through64.output;
    EXPECT_EQ(map_real, map64);

    auto report = read_report(report_path);
    ASSERT_FALSE(report.is_null());
    std::vector<std::string> modes = cpu_modes(report);
    EXPECT_EQ(modes, (std::vector<std::string> {"protected@setup", "long@decompress"})) << report["cpu_modes"].dump();
    bool e820_called = false;
    for (const auto& call : report["firmware_calls"])
        if (call.value("service", "") == "int 15h AX=E820h: memory map")
            e820_called = call.value("supported", false) && call.value("calls", 0) == int(map64.size()) + 0;
    EXPECT_TRUE(e820_called) << report["firmware_calls"].dump();
    auto phases = bootsim::test::phase_names(report);
    ASSERT_GE(phases.size(), 3u);
    EXPECT_EQ(phases[1], "setup") << report["phases"].dump();
}

INSTANTIATE_TEST_SUITE_P(Kernels, Entries,
                         ::testing::Values("bookworm/generic", "trixie/generic", "trixie-backports/cloud"),
                         bootsim::test::kernel_param_name);

}  // namespace

namespace {

// Debian 12's 32-bit kernel (linux-image-686-pae, images/kernels.txt's
// "i386" line) with a busybox-static:i386 initrd: a kernel without a 64-bit
// entry, booted through the two it has.
std::string args_32bit_kernel()
{
    return "--kernel " + bootsim::test::image("bookworm/686-pae/vmlinuz") + " --initrd " +
           bootsim::test::image("bookworm/686-pae/initrd-busybox.cpio.gz") + " --headless";
}

TEST(ThirtyTwoBitKernel, IsRefusedTheSixtyFourBitEntryWithItsReason)
{
    auto run = run_bootsim(args_32bit_kernel() + " --entry 64 --timeout 60");
    EXPECT_EQ(run.exit_code, bootsim::exit_bad_input) << run.output;
    for (const char* part : {"686-pae/vmlinuz", "a 32-bit kernel has no 64-bit entry", "XLF_KERNEL_64",
                             "--entry real or --entry 32"})
        EXPECT_NE(run.output.find(part), std::string::npos) << part << " in: " << run.output;
    EXPECT_EQ(run.output.find("phase decompress"), std::string::npos) << "nothing runs: " << run.output;
}

TEST(ThirtyTwoBitKernel, BootsToInitThroughTheRealModeAnd32BitEntriesWithTheSameMemoryMap)
{
    std::string report_path = temp_report("entry-32bit-kernel");
    std::string args = args_32bit_kernel() + " --timeout 300 --expect BOOTSIM-INIT-OK";
    auto through32 = run_bootsim(args + " --entry 32");
    ASSERT_EQ(through32.exit_code, bootsim::exit_success) << bootsim::test::output_tail(through32.output);
    auto real = run_bootsim(args + " --entry real --report " + report_path);
    ASSERT_EQ(real.exit_code, bootsim::exit_success) << bootsim::test::output_tail(real.output);

    // The host read the 32-bit kernel too: an ELF32 vmlinux, its one
    // relocation list and its kallsyms; the kernel never enters long mode.
    for (const auto* run : {&through32, &real}) {
        for (const char* step : {"phase decompress", "handoff verified", "kernel symbols from kallsyms",
                                 "start_kernel runs", "phase initramfs", "phase init", "BOOTSIM-INIT-OK"})
            EXPECT_NE(run->output.find(step), std::string::npos) << step << " in: " << run->output;
        EXPECT_EQ(run->output.find("the CPU entered long mode"), std::string::npos) << run->output;
        // The first user-mode block is below the kernel's own split (PAGE_OFFSET 0xc0000000 in Debian's build).
        std::smatch init;
        static const std::regex init_line(R"(phase init +at rip 0x([0-9a-f]+))");
        ASSERT_TRUE(std::regex_search(run->output, init, init_line)) << run->output;
        EXPECT_LT(std::stoull(init[1].str(), nullptr, 16), 0xc0000000ull) << init[0].str();
    }
    for (const char* step : {"phase setup", "BIOS int 15h AX=E820h: memory map", "the CPU switched to protected mode",
                             "the setup code's jump to code32_start"})
        EXPECT_NE(real.output.find(step), std::string::npos) << step << " in: " << real.output;

    auto map32 = e820_lines(through32.output), map_real = e820_lines(real.output);
    ASSERT_GE(map32.size(), 3u) << through32.output;
    EXPECT_EQ(map_real, map32);

    auto report = read_report(report_path);
    ASSERT_FALSE(report.is_null());
    std::vector<std::string> modes = cpu_modes(report);
    EXPECT_EQ(modes, (std::vector<std::string> {"protected@setup"})) << report["cpu_modes"].dump();
}

}  // namespace
