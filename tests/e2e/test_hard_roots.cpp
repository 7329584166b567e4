// End to end: the fastest hard roots (images/build-hard-roots.sh,
// images/build-nfs-root.sh) with Debian's own kernel and initrd: root on
// LVM, root on LUKS2 unlocked by a keyfile inside the initrd, and a
// diskless NFS root over user-mode networking. The other scenarios (RAID1,
// degraded RAID1, the typed passphrase, hibernation and resume, the bad
// cases) are slower and run in scripts/hard-roots.py.
//
// Each test boots a private copy of its disk, writable, and reads it on the
// host afterwards: what the real root's init wrote must be on it (in clear
// on LVM, nowhere in clear on LUKS).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "run/exit_codes.h"
#include "support/images.h"
#include "support/report.h"
#include "support/run_command.h"

using bootsim::test::image;
using bootsim::test::read_report;
using bootsim::test::run_bootsim;
using bootsim::test::run_command;
using bootsim::test::temp_report;

namespace {

const std::string hard_roots = "hard-roots/bookworm-cloud/";

// A sparse private copy of a prepared disk, removed at the end of the test.
class DiskCopy {
public:
    explicit DiskCopy(const std::string& name)
    {
        std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        m_path = (std::filesystem::temp_directory_path() /
                  ("bootsim-" + std::to_string(getpid()) + "-" + test + "-" + name))
                     .string();
        auto r = run_command("cp --sparse=always " + image(hard_roots + name) + " " + m_path);
        EXPECT_EQ(r.exit_code, 0) << r.output;
    }
    ~DiskCopy() { std::filesystem::remove(m_path); }
    const std::string& path() const { return m_path; }

    // Whether `text` occurs anywhere in the image's bytes.
    bool contains(const std::string& text) const
    {
        std::ifstream in(m_path, std::ios::binary);
        std::string window, chunk(1 << 20, '\0');
        while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
            window.erase(0, window.size() > text.size() ? window.size() - text.size() : 0);
            window.append(chunk.data(), size_t(in.gcount()));
            if (window.find(text) != std::string::npos)
                return true;
        }
        return false;
    }

private:
    std::string m_path;
};

std::string hard_root_args(const std::string& initrd, const std::string& disk, const std::string& root)
{
    return "--kernel " + image(hard_roots + "vmlinuz") + " --initrd " + image(hard_roots + initrd) + " --disk " + disk +
           " --headless --timeout 600 --expect BOOTSIM-ROOT-POWEROFF --append 'console=ttyS0 root=" + root +
           " init=/usr/local/sbin/bootsim-root-init'";
}

// The report's steps of one kind ("module", "device-mapper", ...), their texts.
std::vector<std::string> steps_of(const nlohmann::json& report, const std::string& kind)
{
    std::vector<std::string> texts;
    for (const auto& step : report.value("steps", nlohmann::json::array()))
        if (step.value("step", "") == kind)
            texts.push_back(step.value("text", ""));
    return texts;
}

bool any_contains(const std::vector<std::string>& texts, const std::string& part)
{
    for (const auto& t : texts)
        if (t.find(part) != std::string::npos)
            return true;
    return false;
}

std::string joined(const std::vector<std::string>& texts)
{
    std::string all;
    for (const auto& t : texts)
        all += t + "\n";
    return all;
}

}  // namespace

TEST(HardRoots, LvmRootWithDebiansInitrd)
{
    DiskCopy disk("lvm.img");
    std::string report_path = temp_report("lvm");
    auto r = run_bootsim(hard_root_args("initrd.img", disk.path(), "/dev/mapper/vg0-root") + " --report " +
                         report_path);
    ASSERT_EQ(r.exit_code, bootsim::exit_success) << r.output;
    for (const char* marker : {"BOOTSIM-ROOT-OK: / is /dev/mapper/vg0-root", "BOOTSIM-ROOT-WROTE: boot 1 in /var/log/bootsim-boots",
                               "BOOTSIM-ROOT-POWEROFF"})
        EXPECT_NE(r.output.find(marker), std::string::npos) << "no \"" << marker << "\" in: " << r.output;
    // bootsim's own console lines name the steps as the guest takes them.
    EXPECT_NE(r.output.find("device-mapper table for vg0-root (LVM)"), std::string::npos) << r.output;

    auto report = read_report(report_path);
    ASSERT_FALSE(report.is_null());
    auto modules = steps_of(report, "module"), tables = steps_of(report, "device-mapper"),
         mounts = steps_of(report, "mount"), disks = steps_of(report, "block-device");
    EXPECT_TRUE(any_contains(modules, "dm_mod")) << joined(modules);
    EXPECT_TRUE(any_contains(tables, "vg0-root (LVM): 0 ")) << joined(tables);
    EXPECT_TRUE(any_contains(tables, " linear ")) << joined(tables);
    EXPECT_TRUE(any_contains(disks, "vda")) << joined(disks);
    EXPECT_TRUE(any_contains(mounts, "/dev/mapper/vg0-root")) << joined(mounts);
    EXPECT_TRUE(steps_of(report, "unlock").empty());
    auto phases = bootsim::test::phase_names(report);
    EXPECT_NE(std::find(phases.begin(), phases.end(), "root"), phases.end()) << report["phases"].dump();

    // What the root's init wrote is on the logical volume, in clear.
    EXPECT_TRUE(disk.contains("boot 1 from /dev/mapper/vg0-root")) << disk.path();
}

TEST(HardRoots, LuksRootUnlockedByTheKeyfileInTheInitrd)
{
    DiskCopy disk("luks.img");
    std::string report_path = temp_report("luks");
    auto r = run_bootsim(hard_root_args("initrd-luks-keyfile.img", disk.path(), "/dev/mapper/root_crypt") +
                         " --report " + report_path);
    ASSERT_EQ(r.exit_code, bootsim::exit_success) << r.output;
    for (const char* marker : {"root_crypt: set up successfully", "BOOTSIM-ROOT-OK: / is /dev/mapper/root_crypt",
                               "BOOTSIM-ROOT-WROTE: boot 1 in /var/log/bootsim-boots", "BOOTSIM-ROOT-POWEROFF"})
        EXPECT_NE(r.output.find(marker), std::string::npos) << "no \"" << marker << "\" in: " << r.output;

    auto report = read_report(report_path);
    ASSERT_FALSE(report.is_null());
    auto unlocks = steps_of(report, "unlock");
    ASSERT_EQ(unlocks.size(), 1u) << report["steps"].dump();
    EXPECT_NE(unlocks[0].find("unlocked root_crypt (CRYPT): 0 "), std::string::npos) << unlocks[0];
    EXPECT_NE(unlocks[0].find(" crypt aes-xts-plain64 <key> "), std::string::npos) << unlocks[0];
    EXPECT_TRUE(any_contains(steps_of(report, "module"), "dm_crypt")) << report["steps"].dump();
    EXPECT_TRUE(any_contains(steps_of(report, "mount"), "/dev/mapper/root_crypt")) << report["steps"].dump();

    // The guest wrote through dm-crypt: the image changed, the text is not in it in clear.
    EXPECT_FALSE(disk.contains("from /dev/mapper/root_crypt")) << disk.path();
    auto cmp = run_command("cmp -s " + disk.path() + " " + image(hard_roots + "luks.img"));
    EXPECT_EQ(cmp.exit_code, 1) << "the guest's writes did not reach " << disk.path();
}

namespace {

// scripts/nfs-server.sh for the length of a test: nfs-ganesha exporting
// `dir` on the host's loopback (the guest's 10.0.2.2).
class NfsServer {
public:
    explicit NfsServer(const std::string& dir)
        : m_state((std::filesystem::temp_directory_path() / ("bootsim-nfs-" + std::to_string(getpid()))).string())
    {
        auto r = run_command(m_script + " start " + dir + " " + m_state);
        m_started = r.exit_code == 0;
        EXPECT_TRUE(m_started) << r.output;
    }
    ~NfsServer()
    {
        run_command(m_script + " stop " + m_state);
        std::filesystem::remove_all(m_state);
    }
    bool started() const { return m_started; }

private:
    std::string m_script = std::string(BOOTSIM_SOURCE_DIR) + "/scripts/nfs-server.sh";
    std::string m_state;
    bool m_started = false;
};

size_t lines_in(const std::string& path)
{
    std::ifstream in(path);
    return size_t(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}

}  // namespace

TEST(HardRoots, DisklessNfsRootOverUserModeNetworking)
{
    std::string root = std::filesystem::canonical(image(hard_roots + "nfs-root")).string();
    std::string boots = root + "/var/log/bootsim-boots";
    size_t boots_before = lines_in(boots);
    NfsServer server(root);
    ASSERT_TRUE(server.started());
    std::string report_path = temp_report("nfs");
    auto r = run_bootsim("--kernel " + image(hard_roots + "vmlinuz") + " --initrd " +
                         image(hard_roots + "initrd-nfs.img") +
                         " --net user --headless --timeout 600 --expect BOOTSIM-ROOT-POWEROFF --report " + report_path +
                         " --append 'console=ttyS0 root=/dev/nfs nfsroot=10.0.2.2:" + root +
                         " ip=dhcp ro init=/usr/local/sbin/bootsim-root-init'");
    ASSERT_EQ(r.exit_code, bootsim::exit_success) << r.output;
    for (std::string marker : {std::string("IP-Config: enp0s5 complete"), "BOOTSIM-ROOT-OK: / is 10.0.2.2:" + root,
                               std::string("BOOTSIM-ROOT-POWEROFF")})
        EXPECT_NE(r.output.find(marker), std::string::npos) << "no \"" << marker << "\" in: " << r.output;

    auto report = read_report(report_path);
    ASSERT_FALSE(report.is_null());
    auto cards = steps_of(report, "network-device"), leases = steps_of(report, "dhcp-lease"),
         mounts = steps_of(report, "mount"), modules = steps_of(report, "module");
    ASSERT_EQ(cards.size(), 1u) << report["steps"].dump();
    EXPECT_NE(cards[0].find("virtio-net 52:54:00:12:34:56"), std::string::npos) << cards[0];
    ASSERT_FALSE(leases.empty()) << report["steps"].dump();
    EXPECT_NE(leases[0].find("DHCP lease 10.0.2.15/24 router 10.0.2.2"), std::string::npos) << leases[0];
    EXPECT_TRUE(any_contains(mounts, "mount 10.0.2.2:" + root + " on /root (nfs)")) << joined(mounts);
    EXPECT_TRUE(any_contains(modules, "virtio_net")) << joined(modules);
    EXPECT_TRUE(any_contains(modules, "nfsv3")) << joined(modules);
    auto phases = bootsim::test::phase_names(report);
    EXPECT_NE(std::find(phases.begin(), phases.end(), "root"), phases.end()) << report["phases"].dump();
    // Each step happened in a phase of the boot, not before it.
    for (const auto& step : report["steps"])
        EXPECT_NE(step.value("phase", ""), "loaded") << step.dump();

    // The guest wrote through NFS into the host's directory.
    ASSERT_EQ(lines_in(boots), boots_before + 1) << boots;
    std::ifstream in(boots);
    std::string line, last;
    while (std::getline(in, line))
        last = line;
    EXPECT_EQ(last.rfind("boot " + std::to_string(boots_before + 1) + " from 10.0.2.2:" + root, 0), 0u) << last;
}
