// End to end: Debian's stock kernels, fetched by images/fetch-kernels.sh,
// run through their own decompressors to a verified handoff. A missing
// image is a failure, never a skip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "run/exit_codes.h"
#include "support/images.h"
#include "support/report.h"
#include "support/run_command.h"

using bootsim::test::boot_args;
using bootsim::test::image;
using bootsim::test::run_bootsim;

namespace {

struct HandoffCase {
    const char* kernel;  // images/out/<kernel>/vmlinuz
    const char* codec;
    bool kaslr;
};

void PrintTo(const HandoffCase& c, std::ostream* os)
{
    *os << c.kernel << (c.kaslr ? " with KASLR" : " nokaslr");
}

std::string case_name(const ::testing::TestParamInfo<HandoffCase>& info)
{
    return bootsim::test::kernel_test_name(info.param.kernel) + (info.param.kaslr ? "_kaslr" : "_nokaslr");
}

class Handoff : public ::testing::TestWithParam<HandoffCase> {};

}  // namespace

TEST_P(Handoff, ReachesAVerifiedHandoff)
{
    const HandoffCase& c = GetParam();
    std::string args = "--kernel " + image(std::string(c.kernel) + "/vmlinuz") + " --initrd " +
                       image("initrd-busybox.cpio.gz") + " --headless --stop-at handoff --timeout 300";
    if (!c.kaslr)
        args += " --append 'console=ttyS0 nokaslr'";
    auto r = run_bootsim(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The plan, the phases in order, and the check.
    EXPECT_NE(r.output.find("region kernel"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("region initrd"), std::string::npos) << r.output;
    size_t decompress = r.output.find("phase decompress");
    size_t handoff = r.output.find("phase handoff");
    ASSERT_NE(decompress, std::string::npos) << r.output;
    ASSERT_NE(handoff, std::string::npos) << r.output;
    EXPECT_LT(decompress, handoff);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(handoff verified: .* at (0x[0-9a-f]+) .*virtual offset \+(0x[0-9a-f]+))")))
        << r.output;
    EXPECT_NE(r.output.find(std::string(c.codec) + " payload"), std::string::npos) << r.output;
    if (!c.kaslr) {
        // Without KASLR the kernel decompresses in place, at its preferred address.
        EXPECT_EQ(m[1].str(), "0x1000000");
        EXPECT_EQ(m[2].str(), "0x0");
    }
}

INSTANTIATE_TEST_SUITE_P(DebianKernels, Handoff,
                         ::testing::Values(HandoffCase{"bookworm/generic", "xz", true},
                                           HandoffCase{"bookworm/generic", "xz", false},
                                           HandoffCase{"bookworm/cloud", "lz4", true},
                                           HandoffCase{"bookworm/cloud", "lz4", false},
                                           // 6.12 and 7.x: an unaligned entry, zstd, a two-list relocation table
                                           HandoffCase{"trixie/generic", "zstd", true},
                                           HandoffCase{"trixie/generic", "zstd", false},
                                           HandoffCase{"trixie-backports/cloud", "zstd", true},
                                           HandoffCase{"trixie-backports/cloud", "zstd", false}),
                         case_name);

// The check compares the guest's bytes, not the host's with themselves: one
// byte changed in guest memory must fail it, naming the address.
TEST(HandoffCheck, OneCorruptedGuestByteFailsAndIsNamed)
{
    std::string args = "--kernel " + image("bookworm/cloud/vmlinuz") +
                       " --headless --stop-at handoff --timeout 120 --append 'console=ttyS0 nokaslr'"
                       " --debug-corrupt-output 0x123456";
    auto r = run_bootsim(args);
    EXPECT_EQ(r.exit_code, bootsim::exit_bootsim_failed) << r.output;
    EXPECT_NE(r.output.find("handoff MISMATCH"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("first at 0x1123456"), std::string::npos) << r.output;
}

TEST(Report, JsonHasThePhasesAndTheCheck)
{
    std::string report = bootsim::test::temp_report("report");
    auto r = run_bootsim("--kernel " + image("bookworm/cloud/vmlinuz") + " --initrd " + image("initrd-busybox.cpio.gz") +
                         " --headless --stop-at handoff --timeout 120 --report " + report);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto json = bootsim::test::read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(bootsim::test::phase_names(json), (std::vector<std::string>{"loaded", "setup", "decompress", "handoff"}));
    EXPECT_TRUE(json["handoff_check"]["matched"].get<bool>());
    EXPECT_EQ(json["outcome"]["exit_code"], 0);
    bool has_initrd = false;
    for (auto& region : json["regions"])
        has_initrd |= region["role"] == "initrd";
    EXPECT_TRUE(has_initrd);
}
