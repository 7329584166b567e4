// The pieces of a CI run's outputs on made-up input: the comparison and its
// diff, the trace's slices, the serial log's stamps, the matrix's JUnit XML,
// the exit-code table, the block counter behind instruction counts, and
// whole-file output writes.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/block_counter.h"
#include "run/boot_matrix.h"
#include "run/exit_codes.h"
#include "run/output_file.h"
#include "run/report_compare.h"
#include "run/run_report.h"
#include "run/serial_log.h"
#include "run/trace_writer.h"

using namespace bootsim;

TEST(UnifiedDiff, ShowsChangedLinesWithContext)
{
    std::vector<std::string> a = {"one", "two", "three", "four", "five", "six"};
    std::vector<std::string> b = {"one", "two", "THREE", "four", "five", "six", "seven"};
    auto d = unified_diff(a, b, 1);
    std::vector<std::string> expected = {"@@ -2,3 +2,3 @@", " two", "-three", "+THREE", " four",
                                         "@@ -6,1 +6,2 @@", " six", "+seven"};
    EXPECT_EQ(d, expected);
    EXPECT_TRUE(unified_diff(a, a).empty());
}

TEST(UnifiedDiff, TimestampsAreIgnored)
{
    EXPECT_EQ(without_timestamp("[    1.234567] Linux version 6.1"), "Linux version 6.1");
    EXPECT_EQ(without_timestamp("no stamp [1.0] here"), "no stamp [1.0] here");
}

namespace {
nlohmann::json report(std::vector<std::pair<std::string, double>> phases, double end, const char* how = "halted")
{
    nlohmann::json r = {{"schema", "bootsim-report"}, {"run", {{"deterministic", false}}},
                        {"outcome", {{"end", how}, {"reason", "r"}}}, {"totals", {{"guest_seconds", end}}}};
    r["phases"] = nlohmann::json::array();
    for (auto& [name, at] : phases)
        r["phases"].push_back({{"phase", name}, {"guest_seconds", at}, {"instructions", 0}});
    r["initcalls"] = nlohmann::json::array();
    return r;
}
}  // namespace

TEST(CompareReports, SameSlowerDifferent)
{
    CompareTolerance tol;
    auto base = report({{"loaded", 0}, {"kernel", 1}, {"init", 3}}, 4);
    EXPECT_EQ(compare_reports(base, base, tol).exit_code, exit_success);
    // The kernel phase took 2 s, now 2.5 s: beyond 10%.
    auto slow = report({{"loaded", 0}, {"kernel", 1}, {"init", 3.5}}, 4.5);
    auto c = compare_reports(base, slow, tol);
    EXPECT_EQ(c.exit_code, exit_compare_slower);
    EXPECT_NE(std::find(c.lines.begin(), c.lines.end(), "phase kernel slower: 2.000 s -> 2.500 s (+25.0%)"),
              c.lines.end());
    // 5% more is within the tolerance.
    EXPECT_EQ(compare_reports(base, report({{"loaded", 0}, {"kernel", 1}, {"init", 3.1}}, 4.1), tol).exit_code,
              exit_success);
    // A phase missing, or the end changed: structurally different, even if slower too.
    EXPECT_EQ(compare_reports(base, report({{"loaded", 0}, {"init", 3.5}}, 4.5), tol).exit_code,
              exit_compare_different);
    EXPECT_EQ(compare_reports(base, report({{"loaded", 0}, {"kernel", 1}, {"init", 3}}, 4, "timeout"), tol).exit_code,
              exit_compare_different);
    // Reordered.
    auto c2 = compare_reports(base, report({{"loaded", 0}, {"init", 1}, {"kernel", 3}}, 4), tol);
    EXPECT_EQ(c2.exit_code, exit_compare_different);
    EXPECT_NE(std::find(c2.lines.begin(), c2.lines.end(), "phases reordered: loaded kernel init -> loaded init kernel"),
              c2.lines.end());
}

TEST(TraceWriter, SlicesBalanceAndTimeMovesForward)
{
    TraceWriter trace;
    auto at = [](EventKind kind, uint64_t ns, std::string text = "", Phase phase = Phase::Loaded) {
        BootEvent e{.kind = kind, .virtual_ns = ns, .phase = phase, .text = std::move(text)};
        return e;
    };
    trace.on_event(at(EventKind::PhaseEntered, 0, "plan", Phase::Loaded));
    trace.on_event(at(EventKind::PhaseEntered, 1000, "entry", Phase::Decompress));
    trace.on_event(at(EventKind::SerialOutput, 1500, "hello\nwor"));
    trace.on_event(at(EventKind::InitcallStarted, 2000, "a_init"));
    trace.on_event(at(EventKind::InitcallReturned, 3000, "a_init"));
    trace.on_event(at(EventKind::InitcallStarted, 4000, "b_init"));  // still running at the end
    trace.on_event(at(EventKind::Interrupt, 4500));
    auto json = nlohmann::json::parse(trace.text(5000, 42));
    std::map<int, int> depth;
    std::map<int, double> last;
    int begins = 0, console = 0;
    for (const auto& e : json["traceEvents"]) {
        if (e["ph"] == "M")
            continue;
        int tid = e["tid"];
        double ts = e["ts"];
        EXPECT_GE(ts, last[tid]);
        last[tid] = ts;
        if (e["ph"] == "B")
            ++depth[tid], ++begins;
        if (e["ph"] == "E") {
            EXPECT_GE(--depth[tid], 0);
        }
        if (e.value("cat", "") == "console")
            ++console;
    }
    for (auto [tid, d] : depth)
        EXPECT_EQ(d, 0) << "track " << tid;
    EXPECT_EQ(begins, 5);   // boot, loaded, decompress, a_init, b_init
    EXPECT_EQ(console, 1);  // "hello"; "wor" is not a line yet
}

TEST(SerialLog, StampsEachLineWithItsFirstByte)
{
    SerialLog log;
    log.on_event({.kind = EventKind::SerialOutput, .virtual_ns = 1'500'000'000, .text = "Linux "});
    log.on_event({.kind = EventKind::SerialOutput, .virtual_ns = 1'600'000'000, .text = "version\r\nnext"});
    EXPECT_EQ(log.text(), "[   1.500000] Linux version\n[   1.600000] next\n");
}

TEST(ExitCodes, OneTableNoDuplicates)
{
    std::set<int> codes;
    for (const auto& row : exit_code_table)
        EXPECT_TRUE(codes.insert(row.code).second) << row.code;
    EXPECT_EQ(codes.size(), 13u);
    EXPECT_TRUE(codes.count(exit_interrupted));
}

TEST(Junit, EscapesAndCounts)
{
    MatrixResult ok, failed, bad;
    ok.name = "a<b";
    ok.exit_code = 0;
    failed.name = "f";
    failed.exit_code = 4;
    bad.name = "x";
    bad.problem = "bad entry: \"colour\"";
    std::string xml = junit_xml({ok, failed, bad}, "matrix");
    EXPECT_NE(xml.find("tests=\"3\" failures=\"1\" errors=\"1\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("name=\"a&lt;b\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("<error message=\"bad entry: &quot;colour&quot;\"/>"), std::string::npos) << xml;
}

TEST(BlockCounter, CountsInstructionsAndFindsTscReads)
{
    BlockCounter counter;
    // xor rax, rax; rdtsc; hlt
    const uint8_t code[] = {0x48, 0x31, 0xc0, 0x0f, 0x31, 0xf4};
    EXPECT_EQ(counter.lookup(0x1000, sizeof code), 0u);
    auto d = counter.decode(0x1000, code, sizeof code);
    EXPECT_EQ(d.instructions, 3u);
    ASSERT_EQ(d.tsc_reads.size(), 1u);
    EXPECT_EQ(d.tsc_reads[0].first, 0x1003u);
    EXPECT_EQ(counter.lookup(0x1000, sizeof code), 3u);
    // A patch inside the block (not at its start) forgets it.
    counter.forget(0x1004, 0x1005);
    EXPECT_EQ(counter.lookup(0x1000, sizeof code), 0u);
    counter.decode(0x1000, code, sizeof code);
    counter.forget(0x2000, 0x3000);  // elsewhere: kept
    EXPECT_EQ(counter.lookup(0x1000, sizeof code), 3u);
    counter.forget(0, 1ull << 47);   // all of user space (an execve)
    EXPECT_EQ(counter.lookup(0x1000, sizeof code), 0u);
}

TEST(BlockCounter, DecodesInTheCodeSegmentsSize)
{
    BlockCounter counter;
    // 32-bit: inc eax; dec eax; ret (three). In 64-bit mode 40 and 48 are
    // REX prefixes of the RET: one.
    const uint8_t incdec[] = {0x40, 0x48, 0xc3};
    EXPECT_EQ(counter.count(0x1000, incdec, sizeof incdec, CodeSize::Bits32), 3u);
    EXPECT_EQ(counter.count(0x1000, incdec, sizeof incdec, CodeSize::Bits64), 1u);
    // 16-bit: mov ax, 0x1234; ret; hlt (three). 32-bit: mov eax, 0xf4c31234 (one).
    const uint8_t mov[] = {0xb8, 0x34, 0x12, 0xc3, 0xf4};
    EXPECT_EQ(counter.count(0x1000, mov, sizeof mov, CodeSize::Bits16), 3u);
    EXPECT_EQ(counter.count(0x1000, mov, sizeof mov, CodeSize::Bits32), 1u);
    // A 32-bit block's RDTSC is found where 32-bit decoding puts it.
    const uint8_t tsc[] = {0x40, 0x0f, 0x31, 0xc3};  // inc eax; rdtsc; ret
    auto d = counter.decode(0x2000, tsc, sizeof tsc, CodeSize::Bits32);
    EXPECT_EQ(d.instructions, 3u);
    ASSERT_EQ(d.tsc_reads.size(), 1u);
    EXPECT_EQ(d.tsc_reads[0].first, 0x2001u);
}

TEST(OutputFile, WritesWholeOrRefusesUpFront)
{
    auto dir = std::filesystem::temp_directory_path() / ("bootsim-out-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::string path = (dir / "r.json").string();
    ASSERT_TRUE(write_output_file(path, "{}\n", "report"));
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "{}\n");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "no temporary file left";
    auto refused = check_output_path(dir.string(), "--report");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("is a directory"), std::string::npos);
    EXPECT_FALSE(check_output_path("/nonexistent/dir/r.json", "--trace"));
    EXPECT_TRUE(check_output_path("-", "--report"));
    std::filesystem::remove_all(dir);
}

// An output that is not a regular file is never replaced: a pipe or a
// character device is written as it comes, a named pipe nobody reads fails
// at once, a block device is refused; through a symbolic link the target is
// replaced and the link stays.
TEST(OutputFile, NeverReplacesWhatIsNotARegularFile)
{
    auto dir = std::filesystem::temp_directory_path() / ("bootsim-out-special-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // /dev/full: written (and failing with ENOSPC), still a device after.
    auto full = write_output_file("/dev/full", "{}\n", "report");
    ASSERT_FALSE(full);
    EXPECT_NE(full.error().message.find("No space left"), std::string::npos) << full.error().message;
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));
    EXPECT_TRUE(check_output_path("/dev/null", "--trace"));
    EXPECT_TRUE(write_output_file("/dev/null", "{}\n", "trace"));
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
    // A named pipe nobody reads: an error at once, not a hang.
    std::string fifo = (dir / "fifo").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    auto unread = write_output_file(fifo, "{}\n", "report");
    ASSERT_FALSE(unread);
    EXPECT_NE(unread.error().message.find("nobody reads"), std::string::npos);
    EXPECT_TRUE(std::filesystem::is_fifo(fifo));
    // A symbolic link to a regular file.
    std::string target = (dir / "target.json").string(), link = (dir / "link.json").string();
    std::ofstream(target) << "old";
    std::filesystem::create_symlink(target, link);
    ASSERT_TRUE(write_output_file(link, "new", "report"));
    EXPECT_TRUE(std::filesystem::is_symlink(link));
    std::ifstream in(target);
    EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "new");
    // A block device is no output (found through /sys, whatever this
    // machine's disk is called).
    for (const auto& e : std::filesystem::directory_iterator("/dev")) {
        if (!e.is_block_file())
            continue;
        auto refused = check_output_path(e.path().string(), "--report");
        EXPECT_FALSE(refused) << e.path();
        EXPECT_FALSE(write_output_file(e.path().string(), "x", "report")) << e.path();
        EXPECT_TRUE(std::filesystem::is_block_file(e.path()));
        break;
    }
    std::filesystem::remove_all(dir);
}

// What the guest prints need not be UTF-8: the report and the trace replace
// what is not, rather than fail to be written.
TEST(RunReport, GuestBytesThatAreNotUtf8)
{
    RunReport report;
    TraceWriter trace;
    BootEvent e{.kind = EventKind::SerialOutput, .text = "ok \xff\xfe bad\n"};
    report.on_event(e);
    trace.on_event(e);
    report.on_event({.kind = EventKind::Note, .text = "panic: \xc3"});
    std::string text;
    ASSERT_NO_THROW(text = report.text());
    auto json = nlohmann::json::parse(text);
    EXPECT_EQ(json["console"]["lines"], 1);
    EXPECT_EQ(json["console"]["text"][0], "ok \xef\xbf\xbd\xef\xbf\xbd bad");
    ASSERT_NO_THROW(nlohmann::json::parse(trace.text(0, 0)));
}

// A guest that floods its console, its notes or its interrupts: what the
// outputs keep is bounded (run/output_limits.h), and each says what it
// dropped or counted.
TEST(OutputLimits, FloodsAreKeptBounded)
{
    RunReport report;
    TraceWriter trace;
    SerialLog serial;
    const std::string line(1000, 'x');
    BootEvent e{.kind = EventKind::SerialOutput, .text = line + "\n"};
    const uint64_t lines = 60'000;  // 60 MB of console
    for (uint64_t i = 0; i < lines; ++i) {
        e.virtual_ns = i * 1000;
        report.on_event(e);
        trace.on_event(e);
        serial.on_event(e);
    }
    // One line that never ends: cut, not grown without end.
    BootEvent endless{.kind = EventKind::SerialOutput, .text = std::string(1 << 20, 'y')};
    serial.on_event(endless);
    for (uint64_t i = 0; i < 200'000; ++i) {
        report.on_event({.kind = EventKind::Note, .virtual_ns = i, .text = "note"});
        trace.on_event({.kind = EventKind::Note, .virtual_ns = i, .text = "note"});
    }
    for (uint64_t i = 0; i < 1'000'000; ++i)  // a storm within 1 s of guest time
        trace.on_event({.kind = EventKind::Interrupt, .virtual_ns = i * 1000, .value = 0x30});

    auto json = nlohmann::json::parse(report.text());
    EXPECT_EQ(json["console"]["lines"], 50'000);
    EXPECT_EQ(json["console"]["bytes"], lines * (line.size() + 1));
    EXPECT_EQ(json["notes"].size(), 100'000u);
    std::string log = serial.text();
    EXPECT_LT(log.size(), (32u << 20) + 4096);
    EXPECT_NE(log.find("more console lines were not kept"), std::string::npos);
    auto events = nlohmann::json::parse(trace.text(lines * 1000, 0))["traceEvents"];
    EXPECT_LE(events.size(), 100'000u + 1000u);
    size_t counters = 0;
    for (const auto& ev : events)
        counters += ev["ph"] == "C";
    EXPECT_LE(counters, 200u);  // one per 10 ms bucket, not one per interrupt
}
