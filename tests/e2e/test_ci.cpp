// Headless regression runs for CI: reports valid against the schema for
// every way a run ends, a trace that follows the Trace Event Format, the
// serial log, deterministic runs that repeat exactly under load, the
// instruction budget, --compare's exit codes, and the boot matrix.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "run/exit_codes.h"
#include "support/images.h"
#include "support/interactive.h"
#include "support/report.h"
#include "support/run_command.h"

using namespace bootsim;
using namespace bootsim::test;

namespace {

const std::string tools = std::string(BOOTSIM_SOURCE_DIR) + "/tests/tools/";

std::string read_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_json(const std::string& path, const nlohmann::json& j)
{
    std::ofstream(path) << j.dump(1);
}

// The schema's verdict on a report file: "" when valid, else the problems.
std::string schema_problems(const std::string& report)
{
    auto r = run_command("python3 " + tools + "validate_report.py " + report + " 2>&1");
    return r.exit_code == 0 ? "" : "exit " + std::to_string(r.exit_code) + ": " + r.output;
}

std::string temp_path(const std::string& name)
{
    return (std::filesystem::temp_directory_path() / ("bootsim-ci-" + std::to_string(getpid()) + "-" + name)).string();
}

}  // namespace

// A full boot (to the guest's own halt) with every output asked for.
TEST(CiOutputs, FullBootReportTraceAndSerialLog)
{
    std::string report = temp_report("full"), trace = temp_path("trace.json"), serial = temp_path("serial.log");
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --timeout 300 --report " + report + " --trace " + trace +
                         " --serial-log " + serial + " --top-initcalls 3");
    ASSERT_EQ(r.exit_code, exit_success) << r.output;
    EXPECT_EQ(schema_problems(report), "");

    // The headless summary: phases and the slowest initcalls.
    EXPECT_NE(r.output.find("bootsim: summary: the guest halted"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("slowest initcalls, guest time (3 of "), std::string::npos) << r.output;

    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(json["outcome"]["end"], "halted");
    EXPECT_EQ(json["run"]["instructions_counted"], "outside the decompressor");
    EXPECT_EQ(json["inputs"]["kernel"]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(json["inputs"]["initrd"]["bytes"], std::filesystem::file_size(image("initrd-busybox.cpio.gz")));
    // Phases in order, their instruction counts growing.
    uint64_t previous = 0;
    for (const auto& p : json["phases"]) {
        EXPECT_GE(p["instructions"].get<uint64_t>(), previous) << p.dump();
        previous = p["instructions"];
    }
    EXPECT_GT(json["totals"]["instructions"].get<uint64_t>(), 500'000'000u);
    // The initcall profile: built-in initcalls by name, each returned.
    bool inet_init = false;
    for (const auto& c : json["initcalls"]) {
        EXPECT_TRUE(c["returned"].get<bool>()) << c.dump();
        inet_init = inet_init || c["name"] == "inet_init";
    }
    EXPECT_GT(json["initcalls"].size(), 300u);
    EXPECT_TRUE(inet_init);
    EXPECT_GT(json["counters"]["interrupts"]["by_vector"]["48"].get<int>(), 100);
    EXPECT_GT(json["counters"]["port_io"]["reads"].get<int>(), 1000);
    EXPECT_EQ(json["console"]["lines"].get<size_t>(), json["console"]["text"].size());

    // The trace, by the format's rules, with the boot's phases, initcalls and counters.
    auto checked = run_command("python3 " + tools + "check_trace.py " + trace + " 2>&1");
    ASSERT_EQ(checked.exit_code, 0) << checked.output;
    auto found = nlohmann::json::parse(checked.output);
    std::vector<std::string> phases = found["phases"];
    EXPECT_EQ(phases, phase_names(json));
    EXPECT_EQ(found["initcalls"].get<size_t>(), json["initcalls"].size());
    EXPECT_EQ(found["counters"], nlohmann::json({"interrupts per second"}));
    EXPECT_EQ(found["console_lines"].get<size_t>(), json["console"]["lines"].get<size_t>());

    // The serial log: every console line, stamped with guest time.
    std::string log = read_text(serial);
    std::istringstream lines(log);
    std::string line;
    size_t count = 0;
    static const std::regex stamped(R"(^\[ *[0-9]+\.[0-9]{6}\] .*)");
    while (std::getline(lines, line)) {
        ++count;
        EXPECT_TRUE(std::regex_match(line, stamped)) << line;
    }
    EXPECT_EQ(count, json["console"]["lines"].get<size_t>());
    EXPECT_NE(log.find("Linux version 6.1."), std::string::npos);
    EXPECT_NE(log.find("BOOTSIM-INIT-OK"), std::string::npos);
    std::filesystem::remove(trace);
    std::filesystem::remove(serial);
}

// Every other way a run ends writes a report the schema accepts.
struct EndCase {
    const char* name;
    const char* args;
    int exit_code;
    const char* end;
};

void PrintTo(const EndCase& c, std::ostream* os) { *os << c.name; }

class ReportForEveryEnd : public ::testing::TestWithParam<EndCase> {};

TEST_P(ReportForEveryEnd, ValidatesAgainstTheSchema)
{
    const EndCase& c = GetParam();
    std::string report = temp_report(std::string("end-") + c.name);
    std::string trace = temp_path(std::string("end-trace-") + c.name), serial = temp_path(std::string("end-log-") + c.name);
    auto r = run_bootsim(boot_args("bookworm/cloud") + " " + c.args + " --report " + report + " --trace " + trace +
                         " --serial-log " + serial);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.output;
    EXPECT_EQ(schema_problems(report), "");
    // The trace and the serial log are written however the run ended.
    auto checked = run_command("python3 " + tools + "check_trace.py " + trace + " 2>&1");
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
    std::string log = read_text(serial);
    // A timeout of 1.5 s and --stop-at kernel end before the kernel prints.
    if (std::string(c.name) == "panic" || std::string(c.name) == "expect") {
        EXPECT_NE(log.find("Linux version"), std::string::npos) << log.substr(0, 500);
    }
    std::filesystem::remove(trace);
    std::filesystem::remove(serial);
    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(json["outcome"]["end"], c.end);
    EXPECT_EQ(json["outcome"]["exit_code"], c.exit_code);
}

INSTANTIATE_TEST_SUITE_P(
    Cloud61, ReportForEveryEnd,
    ::testing::Values(EndCase{"panic", "--timeout 300 --append 'console=ttyS0 rdinit=/no/such/init'", exit_guest_panic,
                              "panic"},
                      EndCase{"timeout", "--timeout 1.5", exit_timeout, "timeout"},
                      EndCase{"expect", "--timeout 300 --expect BOOTSIM-INIT-OK", exit_success, "expect_matched"},
                      EndCase{"stop_at", "--timeout 300 --stop-at kernel", exit_success, "stop_phase"}),
    [](const auto& info) { return std::string(info.param.name); });

// SIGINT (and SIGTERM) end the run where the guest is, and the report is
// still written, valid.
TEST(CiOutputs, InterruptedRunWritesAValidReport)
{
    for (int signo : {SIGINT, SIGTERM}) {
        std::string report = temp_report(signo == SIGINT ? "sigint" : "sigterm");
        Interactive guest(boot_args("bookworm/cloud") + " --timeout 300 --report " + report);
        ASSERT_TRUE(guest.wait_for("Linux version", 120)) << guest.output();
        guest.signal(signo);
        EXPECT_EQ(guest.wait_exit(60), exit_interrupted) << guest.output();
        EXPECT_EQ(schema_problems(report), "");
        auto json = read_report(report);
        ASSERT_FALSE(json.is_null());
        EXPECT_EQ(json["outcome"]["end"], "interrupted");
        EXPECT_EQ(json["outcome"]["exit_code"], exit_interrupted);
    }
}

// The validator is strict: a report missing a required field, or with a
// field the schema does not know, is rejected.
TEST(CiOutputs, BrokenReportIsRejected)
{
    std::string report = temp_report("broken");
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --stop-at decompress --report " + report);
    ASSERT_EQ(r.exit_code, exit_success) << r.output;
    ASSERT_EQ(schema_problems(report), "");
    auto json = read_report(report);
    for (int variant = 0; variant < 3; ++variant) {
        nlohmann::json broken = json;
        if (variant == 0)
            broken.erase("outcome");
        else if (variant == 1)
            broken["surprise"] = 1;
        else
            broken["phases"][0]["phase"] = "teatime";
        std::string path = temp_path("broken.json");
        write_json(path, broken);
        EXPECT_NE(schema_problems(path), "") << "variant " << variant;
        std::filesystem::remove(path);
    }
}

// Two deterministic runs of the same boot, at once and with both cores kept
// busy by other processes: the same console bytes, the same instruction
// count at every phase and initcall.
class Deterministic : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string args = boot_args("bookworm/cloud") + " --deterministic --timeout 600 --expect BOOTSIM-INIT-OK";
        // Two processes spinning until told to stop (or for ten minutes).
        std::string stop = temp_path("det-stop");
        std::vector<std::thread> busy;
        for (int i = 0; i < 2; ++i)
            busy.emplace_back([&] { run_command("timeout 600 sh -c 'while [ ! -e " + stop + " ]; do :; done'"); });
        std::thread other([&] {
            s_second = run_command(std::string(BOOTSIM_BINARY) + " " + args + " --report " + s_report[1] + " > " +
                                   s_console[1] + " 2>/dev/null");
        });
        s_first = run_command(std::string(BOOTSIM_BINARY) + " " + args + " --report " + s_report[0] + " > " +
                              s_console[0] + " 2>/dev/null");
        other.join();
        std::ofstream{stop};
        for (auto& t : busy)
            t.join();
        std::filesystem::remove(stop);
    }
    static void TearDownTestSuite()
    {
        for (int i = 0; i < 2; ++i) {
            std::filesystem::remove(s_report[i]);
            std::filesystem::remove(s_console[i]);
        }
    }
    static inline CommandResult s_first, s_second;
    static inline std::string s_report[2] = {temp_path("det-a.json"), temp_path("det-b.json")};
    static inline std::string s_console[2] = {temp_path("det-a.console"), temp_path("det-b.console")};
};

TEST_F(Deterministic, SameConsoleAndInstructionCountsUnderLoad)
{
    ASSERT_EQ(s_first.exit_code, exit_success);
    ASSERT_EQ(s_second.exit_code, exit_success);
    std::string a = read_text(s_console[0]), b = read_text(s_console[1]);
    EXPECT_NE(a.find("BOOTSIM-INIT-OK"), std::string::npos);
    EXPECT_EQ(a, b) << "the console differs between two deterministic runs";
    auto ra = nlohmann::json::parse(read_text(s_report[0])), rb = nlohmann::json::parse(read_text(s_report[1]));
    EXPECT_EQ(ra["run"]["instructions_counted"], "all");
    ASSERT_EQ(ra["phases"].size(), rb["phases"].size());
    for (size_t i = 0; i < ra["phases"].size(); ++i) {
        EXPECT_EQ(ra["phases"][i]["phase"], rb["phases"][i]["phase"]);
        EXPECT_EQ(ra["phases"][i]["instructions"], rb["phases"][i]["instructions"]) << ra["phases"][i]["phase"];
        EXPECT_EQ(ra["phases"][i]["guest_seconds"], rb["phases"][i]["guest_seconds"]);
    }
    EXPECT_EQ(ra["initcalls"], rb["initcalls"]);
    EXPECT_EQ(ra["totals"]["instructions"], rb["totals"]["instructions"]);
    // A phase's count is the total when it was entered: the decompressor's
    // run is the difference between the handoff and its own start.
    uint64_t decompress_start = 0, handoff = 0;
    for (const auto& p : ra["phases"]) {
        if (p["phase"] == "decompress")
            decompress_start = p["instructions"].get<uint64_t>();
        if (p["phase"] == "handoff")
            handoff = p["instructions"].get<uint64_t>();
    }
    EXPECT_GT(handoff, decompress_start + 10'000'000u) << "the decompressor's instructions are counted";
    EXPECT_GT(decompress_start, 20'000u) << "the setup code's instructions are counted";
    EXPECT_EQ(schema_problems(s_report[0]), "");
}

// bootsim compare on real reports: the same, a phase removed, the end
// changed, an initcall made slower.
TEST_F(Deterministic, CompareExitCodes)
{
    auto base = nlohmann::json::parse(read_text(s_report[0]));
    auto compare = [&](const nlohmann::json& baseline, const std::string& extra = "") {
        std::string path = temp_path("baseline.json");
        write_json(path, baseline);
        auto r = run_command(std::string(BOOTSIM_BINARY) + " compare " + path + " " + s_report[1] + " " + extra +
                             " 2>&1");
        std::filesystem::remove(path);
        return r;
    };
    auto same = compare(base);
    EXPECT_EQ(same.exit_code, exit_success) << same.output;
    EXPECT_NE(same.output.find("costs compared in instructions"), std::string::npos) << same.output;

    auto missing = base;
    missing["phases"].erase(missing["phases"].begin() + 3);  // the baseline lacks a phase this run has
    auto r = compare(missing);
    EXPECT_EQ(r.exit_code, exit_compare_different) << r.output;
    EXPECT_NE(r.output.find("phase added: " + base["phases"][3]["phase"].get<std::string>()), std::string::npos)
        << r.output;

    auto ended = base;
    ended["outcome"]["end"] = "power_off";
    r = compare(ended);
    EXPECT_EQ(r.exit_code, exit_compare_different) << r.output;
    EXPECT_NE(r.output.find("end changed: power_off -> expect_matched"), std::string::npos) << r.output;

    // The costliest initcall took half as long in the baseline: this run is slower.
    auto faster = base;
    size_t costliest = 0;
    for (size_t i = 0; i < faster["initcalls"].size(); ++i)
        if (faster["initcalls"][i]["instructions"] > faster["initcalls"][costliest]["instructions"])
            costliest = i;
    std::string name = faster["initcalls"][costliest]["name"];
    faster["initcalls"][costliest]["instructions"] = faster["initcalls"][costliest]["instructions"].get<uint64_t>() / 2;
    r = compare(faster);
    EXPECT_EQ(r.exit_code, exit_compare_slower) << r.output;
    EXPECT_NE(r.output.find("initcall " + name + " slower"), std::string::npos) << r.output;
    // ... and within a tolerance of 150%, the same.
    r = compare(faster, "--tolerance 150");
    EXPECT_EQ(r.exit_code, exit_success) << r.output;
}

// --max-instructions ends the run where the budget runs out, and --compare
// in the same run reports the difference; the run's own end (the budget)
// takes precedence over the comparison in the exit code.
TEST_F(Deterministic, InstructionBudgetAndCompareInARun)
{
    std::string report = temp_report("budget");
    auto r = run_bootsim(boot_args("bookworm/cloud") + " --deterministic --max-instructions 300000000 --compare " +
                         s_report[0] + " --report " + report);
    EXPECT_EQ(r.exit_code, exit_instruction_budget) << r.output;
    EXPECT_NE(r.output.find("the instruction budget ran out (300000000 instructions)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("end changed: expect_matched -> instruction_budget"), std::string::npos) << r.output;
    EXPECT_EQ(schema_problems(report), "");
    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(json["outcome"]["end"], "instruction_budget");
    EXPECT_EQ(json["compare"]["exit_code"], exit_compare_different);
    uint64_t retired = json["totals"]["instructions"];
    EXPECT_GE(retired, 300'000'000u);
    EXPECT_LT(retired, 300'000'000u + 100'000u) << "the run ended near the budget, at a block boundary";
    // The same boot to the same budget: the same instruction at which every phase began.
    auto base = nlohmann::json::parse(read_text(s_report[0]));
    for (size_t i = 0; i < json["phases"].size(); ++i)
        EXPECT_EQ(json["phases"][i]["instructions"], base["phases"][i]["instructions"]);
}

// A matrix file with good entries (one multiplied by two command lines), a
// bad entry and an entry whose kernel does not exist: the good ones run in
// parallel and pass, the others are reported, JUnit XML parses, and
// merge-reports gives the table from the reports.
TEST(Matrix, RunsEntriesReportsBadOnesWritesJUnit)
{
    std::filesystem::path dir = temp_path("matrix");
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "boots.toml") << "[defaults]\n"
                                         "timeout = 300\n"
                                         "stop_at = \"kernel\"\n"
                                         "\n"
                                         "[[boot]]\n"
                                         "name = \"cloud\"\n"
                                         "kernel = \"" << image("bookworm/cloud/vmlinuz") << "\"\n"
                                         "initrd = \"" << image("initrd-busybox.cpio.gz") << "\"\n"
                                         "append = [\"console=ttyS0\", \"console=ttyS0 quiet\"]\n"
                                         "\n"
                                         "[[boot]]\n"
                                         "name = \"typo\"\n"
                                         "kernel = \"vmlinuz\"\n"
                                         "colour = \"blue\"\n"
                                         "\n"
                                         "[[boot]]\n"
                                         "name = \"missing\"\n"
                                         "kernel = \"no/such/vmlinuz\"\n";
    std::string out = (dir / "out").string();
    auto r = run_command(std::string(BOOTSIM_BINARY) + " matrix " + (dir / "boots.toml").string() + " --out " + out +
                         " --jobs 2 2>&1");
    EXPECT_EQ(r.exit_code, exit_goal_not_met) << r.output;
    EXPECT_NE(r.output.find("2 of 4 passed"), std::string::npos) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("cloud-1 +6\\.1\\.[^\\n]*stop_phase[^\\n]*pass"))) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("cloud-2 [^\\n]*pass"))) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("typo [^\\n]*ERROR: bad entry: unknown key \"colour\"")))
        << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("missing [^\\n]*FAIL \\(exit 3, expected 0\\)"))) << r.output;
    EXPECT_NE(read_text(out + "/missing.log").find((dir / "no/such/vmlinuz").string()), std::string::npos);

    auto junit = run_command("python3 -c \"import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot()"
                             ".find('testsuite'); print(s.get('tests'), s.get('failures'), s.get('errors'), "
                             "len(s.findall('testcase')))\" " + out + "/junit.xml 2>&1");
    EXPECT_EQ(junit.exit_code, 0) << junit.output;
    EXPECT_EQ(junit.output, "4 1 1 4\n");

    auto merged = run_command(std::string(BOOTSIM_BINARY) + " merge-reports " + out + "/cloud-1.json " + out +
                              "/cloud-2.json --junit " + out + "/merged.xml 2>&1");
    EXPECT_EQ(merged.exit_code, exit_success) << merged.output;
    EXPECT_NE(merged.output.find("2 of 2 passed"), std::string::npos) << merged.output;
    EXPECT_TRUE(std::filesystem::exists(out + "/merged.xml"));

    auto listed = run_command(std::string(BOOTSIM_BINARY) + " matrix " + (dir / "boots.toml").string() + " --list");
    EXPECT_EQ(listed.output, "cloud-1\ncloud-2\ntypo\nmissing\n");
    std::filesystem::remove_all(dir);
}

// A second signal while the first is being acted on ends bootsim at once,
// and the report it leaves says so and is valid. SIGINT and SIGTERM are
// sent to a stopped process, so both handlers run back to back when it
// continues (two SIGINTs would merge into one while it is stopped).
namespace {
// Boots until /init, then sends the two signals back to back; the exit code.
int signal_twice_at_init(Interactive& guest)
{
    if (!guest.wait_for("Run /init", 120))
        return -1;
    for (int signo : {SIGSTOP, SIGINT, SIGTERM, SIGCONT})
        guest.signal(signo);
    return guest.wait_exit(60);
}
}  // namespace

TEST(CiOutputs, SecondSignalForcesExitWithAMinimalReport)
{
    std::string report = temp_report("forced");
    Interactive guest(boot_args("bookworm/cloud") + " --timeout 300 --report " + report);
    EXPECT_EQ(signal_twice_at_init(guest), exit_interrupted) << guest.output();
    EXPECT_NE(guest.output().find("a second interrupt: exiting at once"), std::string::npos) << guest.output();
    EXPECT_EQ(schema_problems(report), "");
    auto json = read_report(report);
    ASSERT_FALSE(json.is_null());
    EXPECT_EQ(json["outcome"]["end"], "interrupted");
    EXPECT_EQ(json["outcome"]["exit_code"], exit_interrupted);
    EXPECT_NE(json["outcome"]["reason"].get<std::string>().find("second SIGINT or SIGTERM"), std::string::npos);
    // Composed at the last phase entered: the phases up to /init are in it.
    bool has_initramfs = false;
    for (const auto& p : json["phases"])
        has_initramfs |= p["phase"] == "initramfs";
    EXPECT_TRUE(has_initramfs) << json["phases"].dump();
    EXPECT_FALSE(std::filesystem::exists(report + ".forced.tmp"));

    // A report that goes to a character device is written into it, never
    // renamed over it.
    Interactive to_device(boot_args("bookworm/cloud") + " --timeout 300 --report /dev/null");
    EXPECT_EQ(signal_twice_at_init(to_device), exit_interrupted) << to_device.output();
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
}
