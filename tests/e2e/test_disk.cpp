// End to end: the two-stage boot on a virtio disk. Each test works on its own
// copy of images/out/root.ext4 and checks the image on the host afterwards
// (debugfs from e2fsprogs, or byte for byte).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "run/exit_codes.h"
#include "support/images.h"
#include "support/interactive.h"
#include "support/report.h"
#include "support/run_command.h"

using bootsim::test::image;
using bootsim::test::Interactive;
using bootsim::test::read_report;
using bootsim::test::run_bootsim;

namespace {

std::string read_all(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A private copy of the root disk, removed at the end of the test.
class DiskCopy {
public:
    DiskCopy()
    {
        std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(test.begin(), test.end(), '/', '_');  // parameterised names have a slash
        m_path = (std::filesystem::temp_directory_path() / ("bootsim-disk-" + std::to_string(getpid()) + "-" + test +
                                                            ".ext4"))
                     .string();
        std::filesystem::copy_file(image("root.ext4"), m_path, std::filesystem::copy_options::overwrite_existing);
    }
    ~DiskCopy() { std::filesystem::remove(m_path); }
    const std::string& path() const { return m_path; }

    // A file inside the ext4 image, read on the host.
    std::string file(const std::string& name) const
    {
        auto r = bootsim::test::run_command("debugfs -R 'cat " + name + "' " + m_path + " 2>/dev/null");
        return r.output;
    }

private:
    std::string m_path;
};

std::string two_stage_args(const std::string& kernel, const std::string& disk, int timeout = 300)
{
    return "--kernel " + image(kernel + "/vmlinuz") + " --initrd " + image(kernel + "/initrd-modules.cpio.gz") +
           " --disk " + disk + " --headless --timeout " + std::to_string(timeout);
}

class TwoStage : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TwoStage, ModulesRootSwitchRootAndTheFileLands)
{
    DiskCopy disk;
    std::string report = disk.path() + ".json";
    auto r = run_bootsim(two_stage_args(GetParam(), disk.path()) + " --report " + report);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const char* marker : {"BOOTSIM-MODULE virtio_blk", "BOOTSIM-MODULES-LOADED", "BOOTSIM-ROOT-MOUNTED",
                               "BOOTSIM-ROOT-OK", "BOOTSIM-ROOT-WROTE", "BOOTSIM-ROOT-SYNCED",
                               "BOOTSIM-ROOT-READBACK: written by the guest at boot"})
        EXPECT_NE(r.output.find(marker), std::string::npos) << "no \"" << marker << "\" in: " << r.output;
    size_t init = r.output.find("phase init "), modules = r.output.find("phase modules"),
           root = r.output.find("phase root"), halt = r.output.find("phase halt");
    ASSERT_NE(modules, std::string::npos) << r.output;
    ASSERT_NE(root, std::string::npos) << r.output;
    EXPECT_LT(init, modules);
    EXPECT_LT(modules, root);
    EXPECT_LT(root, halt);
    EXPECT_NE(r.output.find("module virtio_blk loaded"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("mount /dev/vda on /newroot (ext4)"), std::string::npos) << r.output;
    EXPECT_NE(disk.file("/bootsim-wrote.txt").find("written by the guest at boot"), std::string::npos);

    // The report of the full boot: every phase with the evidence that showed
    // it, the kernel recognised (handoff verified, its own symbols used), the
    // disk and the timer at work.
    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    for (const auto& phase : json["phases"])
        EXPECT_FALSE(phase["evidence"].get<std::string>().empty()) << phase.dump();
    EXPECT_EQ(bootsim::test::phase_names(json), (std::vector<std::string>{"loaded", "setup", "decompress", "handoff", "kernel", "initramfs", "init",
                                                "modules", "root", "halt"}));
    EXPECT_EQ(json["outcome"]["exit_code"], 0);
    EXPECT_EQ(json["recognised"]["ok"], true) << json["recognised"].dump();
    EXPECT_EQ(json["handoff_check"]["matched"], true);
    EXPECT_EQ(json["kernel_symbols"]["armed"], true);
    EXPECT_EQ(json["kernel_symbols"]["source"], "kallsyms");
    EXPECT_GT(json["kernel_symbols"]["count"].get<int>(), 50000);
    EXPECT_EQ(json["kernel_log"]["oopses"], 0) << r.output;
    EXPECT_GT(json["counters"]["disk"]["requests"].get<int>(), 10);
    EXPECT_EQ(json["counters"]["disk"]["errors"], 0);
    EXPECT_GT(json["counters"]["interrupts"]["by_vector"]["48"].get<int>(), 100);
    EXPECT_NE(json["inputs"]["kernel"]["version"].get<std::string>().find(GetParam().find("bookworm") == 0 ? "6.1." : "+deb"),
              std::string::npos)
        << json["inputs"]["kernel"].dump();
}

INSTANTIATE_TEST_SUITE_P(DebianKernels, TwoStage, ::testing::ValuesIn(bootsim::test::default_kernels()),
                         bootsim::test::kernel_param_name);

TEST(Disk, SnapshotReadsBackItsWritesAndNeverChangesTheFile)
{
    DiskCopy disk;
    std::string before = read_all(disk.path());
    auto mtime = std::filesystem::last_write_time(disk.path());
    auto r = run_bootsim(two_stage_args("bookworm/cloud", disk.path() + ",snapshot"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("BOOTSIM-ROOT-READBACK: written by the guest at boot"), std::string::npos) << r.output;
    EXPECT_TRUE(read_all(disk.path()) == before) << "the snapshot image changed";
    EXPECT_EQ(std::filesystem::last_write_time(disk.path()), mtime);
}

TEST(Disk, ReadOnlyDiskRefusesTheGuestsWrites)
{
    DiskCopy disk;
    std::string before = read_all(disk.path());
    auto r = run_bootsim(two_stage_args("bookworm/cloud", disk.path() + ",ro"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("BOOTSIM-ROOT-OK"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("BOOTSIM-ROOT-WRITE-FAILED"), std::string::npos) << r.output;
    EXPECT_TRUE(read_all(disk.path()) == before) << "a read-only image changed";
}

TEST(Disk, TimeoutAfterTheSyncKeepsTheFile)
{
    DiskCopy disk;
    Interactive guest(two_stage_args("bookworm/cloud", disk.path(), 40) + " --append 'console=ttyS0 bootsim.hold'");
    ASSERT_TRUE(guest.wait_for("BOOTSIM-ROOT-SYNCED", 240)) << guest.output();
    EXPECT_EQ(guest.wait_exit(120), bootsim::exit_timeout) << guest.output();
    EXPECT_NE(disk.file("/bootsim-wrote.txt").find("written by the guest at boot"), std::string::npos);
}

TEST(Disk, SigintAfterTheSyncKeepsTheFileAndExitsCleanly)
{
    DiskCopy disk;
    Interactive guest(two_stage_args("bookworm/cloud", disk.path()) + " --append 'console=ttyS0 bootsim.hold'");
    ASSERT_TRUE(guest.wait_for("BOOTSIM-ROOT-SYNCED", 240)) << guest.output();
    guest.signal(SIGINT);
    EXPECT_EQ(guest.wait_exit(60), 130) << guest.output();
    EXPECT_NE(guest.output().find("interrupted by a signal"), std::string::npos) << guest.output();
    EXPECT_NE(disk.file("/bootsim-wrote.txt").find("written by the guest at boot"), std::string::npos);
}

TEST(Disk, ImageTruncatedUnderTheGuestGivesItIoErrors)
{
    DiskCopy disk;
    Interactive guest(two_stage_args("bookworm/cloud", disk.path()) + " --append 'console=ttyS0 bootsim.hold'");
    ASSERT_TRUE(guest.wait_for("BOOTSIM-ROOT-SYNCED", 240)) << guest.output();
    std::filesystem::resize_file(disk.path(), 1 << 20);
    // The guest sees failed reads (its init, paged back in from the disk,
    // may die of them and the kernel panic: that is the guest's business)...
    EXPECT_TRUE(guest.wait_for(R"(I/O error, dev vda)", 60)) << guest.output();
    // ...and bootsim ends cleanly, with a reason: no SIGBUS, no crash. If
    // init died of a failed page-in before the signal, the kernel panicked
    // ("Attempted to kill init! exitcode=0x7"): exit 4, also a clean end.
    guest.signal(SIGINT);
    int code = guest.wait_exit(60);
    EXPECT_TRUE(code == 1 || code == 130 || code == bootsim::exit_guest_panic)
        << "exit " << code << ": " << guest.output();
    EXPECT_NE(guest.output().find("end: "), std::string::npos) << guest.output();
}
