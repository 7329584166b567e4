// End to end: Debian's stock kernels from the handoff to the busybox /init,
// how runs end, and the console both ways. A missing image is a failure.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "support/interactive.h"
#include "run/exit_codes.h"
#include "support/images.h"
#include "support/report.h"
#include "support/run_command.h"

using bootsim::test::Interactive;
using bootsim::test::boot_args;
using bootsim::test::image;
using bootsim::test::phase_names;
using bootsim::test::read_report;
using bootsim::test::run_bootsim;
using bootsim::test::temp_report;

namespace {

class UserSpace : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(UserSpace, BootsToInitAndPowersOff)
{
    auto r = run_bootsim(boot_args(GetParam()) + " --timeout 300");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("BOOTSIM-INIT-OK"), std::string::npos) << r.output;
    // With --append left out the command line is exactly bootsim's default.
    EXPECT_NE(r.output.find("BOOTSIM-CMDLINE: console=ttyS0\r\n"), std::string::npos) << r.output;
    // The kernel's halt line: "reboot: System halted" (6.1), "reboot: Power
    // off not available: System halted instead" (6.12 and later).
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(reboot: (Power off not available: )?System halted)")))
        << r.output;
    for (const char* phase : {"phase decompress", "phase handoff", "phase kernel", "phase initramfs", "phase init ",
                              "phase halt"})
        EXPECT_NE(r.output.find(phase), std::string::npos) << "no \"" << phase << "\" in: " << r.output;
    // Every kernel of the matrix is recognised: its handoff verified against
    // the payload, its own symbols recovered and used, and each phase named
    // with the machine evidence that showed it.
    EXPECT_NE(r.output.find("handoff verified"), std::string::npos) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\d+ kernel symbols from kallsyms)"))) << r.output;
    EXPECT_NE(r.output.find("phase handoff    at rip"), std::string::npos);
    EXPECT_NE(r.output.find("the first block outside the decompressor's moved copy"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("start_kernel runs (kernel symbols)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("do_populate_rootfs returned"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("boot not recognised"), std::string::npos) << r.output;
    EXPECT_LT(r.output.find("phase kernel"), r.output.find("phase initramfs"));
    EXPECT_LT(r.output.find("phase initramfs"), r.output.find("phase init "));
    EXPECT_LT(r.output.find("phase init "), r.output.find("BOOTSIM-INIT-OK"));
}

INSTANTIATE_TEST_SUITE_P(DebianKernels, UserSpace, ::testing::ValuesIn(bootsim::test::default_kernels()),
                         bootsim::test::kernel_param_name);

TEST(RunEnd, ExpectEndsTheRunAsSoonAsEveryPatternMatched)
{
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --timeout 300 --expect 'BOOTSIM-INIT-OK' --expect 'CMDLINE: console'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("every --expect pattern"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("System halted"), std::string::npos) << "should have stopped before power-off";
}

TEST(RunEnd, PowerOffBeforeAnExpectIsAFailure)
{
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --timeout 300 --expect 'THIS-NEVER-APPEARS'");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("THIS-NEVER-APPEARS"), std::string::npos) << r.output;
}

TEST(RunEnd, PanicIsNamedAndEndsTheRunPromptly)
{
    auto start = std::chrono::steady_clock::now();
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --timeout 300 --append 'console=ttyS0 rdinit=/no/such/init'");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_code, bootsim::exit_guest_panic) << r.output;
    // With no such rdinit the kernel falls back to mounting a root device,
    // finds none and panics; bootsim's reason names the kernel's own message.
    std::smatch kernel_line, bootsim_line;
    ASSERT_TRUE(std::regex_search(r.output, kernel_line, std::regex(R"(Kernel panic - not syncing: ([^\r\n]+))")))
        << r.output;
    ASSERT_TRUE(std::regex_search(r.output, bootsim_line, std::regex(R"(end: kernel panic: ([^\r\n]+) \(exit 4\))")))
        << r.output;
    EXPECT_EQ(bootsim_line[1].str(), kernel_line[1].str());
    EXPECT_NE(r.output.find("Unable to mount root fs"), std::string::npos) << r.output;
    EXPECT_LT(seconds, 120) << "bootsim waited for the panic loop instead of ending at the panic";
}

// A 6.12 kernel that panics (no init, no root) ends the run within seconds
// of printing the panic, with the kernel's reason and a written report:
// with its symbols (panic() is watched) and without (--no-kernel-symbols:
// the console's closing panic line, the fallback for a kernel bootsim does
// not recognise).
class Panic : public ::testing::TestWithParam<bool> {};

TEST_P(Panic, EndsWithinSecondsWithTheReasonAndAReport)
{
    bool symbols = GetParam();
    std::string report = temp_report(symbols ? "panic-symbols" : "panic-none");
    auto r = run_bootsim(boot_args("trixie/generic") + " --timeout 300 --report " + report +
                         " --append 'console=ttyS0 panic=0 rdinit=/no/such/init root=/dev/nosuch'" +
                         (symbols ? "" : " --no-kernel-symbols"));
    EXPECT_EQ(r.exit_code, bootsim::exit_guest_panic) << r.output;
    std::smatch kernel_line, printed, ended;
    ASSERT_TRUE(std::regex_search(r.output, kernel_line, std::regex(R"(Kernel panic - not syncing: ([^\r\n]+))")))
        << r.output;
    ASSERT_TRUE(std::regex_search(r.output, printed,
                                  std::regex(R"(\[ *([0-9.]+)s\] the kernel printed: Kernel panic - not syncing)")))
        << r.output;
    ASSERT_TRUE(std::regex_search(r.output, ended,
                                  std::regex(R"(\[ *([0-9.]+)s\] end: kernel panic: ([^\r\n]+) \(exit 4\))")))
        << r.output;
    EXPECT_EQ(ended[2].str(), kernel_line[1].str());
    EXPECT_LT(std::stod(ended[1].str()) - std::stod(printed[1].str()), 2.0) << r.output;
    EXPECT_EQ(r.output.find(symbols ? "--no-kernel-symbols" : "kernel symbols from kallsyms"), std::string::npos)
        << r.output;

    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(json["outcome"]["exit_code"], bootsim::exit_guest_panic);
    EXPECT_EQ(json["outcome"]["end"], "panic");
    EXPECT_EQ(json["outcome"]["reason"], "kernel panic: " + kernel_line[1].str());
    EXPECT_EQ(json["kernel_log"]["panic"], kernel_line[1].str());
    EXPECT_EQ(json["kernel_symbols"]["armed"], symbols);
    EXPECT_GT(json["counters"]["interrupts"]["by_vector"]["48"].get<int>(), 100) << "the timer drove the boot";
    // Without symbols nothing shows the initrd unpacked: no initramfs phase.
    std::vector<std::string> expected{"loaded", "setup", "decompress", "handoff", "kernel"};
    if (symbols)
        expected.push_back("initramfs");
    EXPECT_EQ(phase_names(json), expected);
}

INSTANTIATE_TEST_SUITE_P(Trixie612, Panic, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "with_symbols" : "without_symbols"; });

TEST(RunEnd, RebootIsAFailure)
{
    // bootsim.reboot: the initrd's /init runs `reboot -f`; with no ACPI the
    // kernel resets through the keyboard controller.
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --timeout 300 --append 'console=ttyS0 bootsim.reboot'");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("reset the machine"), std::string::npos) << r.output;
}

TEST(RunEnd, TimeoutExits6AndStillWritesTheReport)
{
    std::string report = temp_report("timeout");
    auto r = run_bootsim(boot_args("bookworm/generic") + " --timeout 2 --report " + report);
    EXPECT_EQ(r.exit_code, bootsim::exit_timeout) << r.output;
    EXPECT_NE(r.output.find("timed out after 2 s"), std::string::npos) << r.output;
    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(json["outcome"]["exit_code"], bootsim::exit_timeout);
    EXPECT_EQ(json["outcome"]["end"], "timeout");
    EXPECT_EQ(json["outcome"]["reason"], "timed out after 2 s");
    EXPECT_EQ(json["inputs"]["kernel"]["payload_codec"], "xz");
    // Stopped inside the XZ decompressor: the handoff never came.
    EXPECT_EQ(json["phases"].back()["phase"], "decompress");
    EXPECT_TRUE(json["recognised"].is_null());
    EXPECT_TRUE(json["handoff_check"].is_null());
}

TEST(Console, TextOnStdinReachesTheGuestShell)
{
    Interactive guest(boot_args("bookworm/cloud") + " --timeout 300 --append 'console=ttyS0 bootsim.shell'");
    ASSERT_TRUE(guest.wait_for(R"(/ # )", 240)) << guest.output();
    guest.type("echo SHELL-$((6*7))\n");
    EXPECT_TRUE(guest.wait_for("SHELL-42", 60)) << guest.output();
    guest.type("exit\n");
    EXPECT_EQ(guest.wait_exit(120), 0) << guest.output();
}

class StopAt : public ::testing::TestWithParam<std::string> {};

TEST_P(StopAt, EndsTheRunAtThePhase)
{
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --timeout 300 --stop-at " + GetParam());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("phase " + GetParam()), std::string::npos) << r.output;
    if (GetParam() != "halt") {
        EXPECT_NE(r.output.find("end: reached phase " + GetParam()), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("System halted"), std::string::npos) << "ran past the phase: " << r.output;
    }
}

INSTANTIATE_TEST_SUITE_P(Phases, StopAt, ::testing::Values("kernel", "initramfs", "init", "halt"));
