#include "ui/commands.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "loader/bzimage.h"
#include "run/boot_matrix.h"
#include "run/exit_codes.h"
#include "run/output_file.h"
#include "run/report_compare.h"
#include "ui/options.h"

namespace bootsim {

namespace {

// Parses with CLI11; nullopt to go on, else the exit code to end with.
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv)
{
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        fmt::print("{}", app.help());
        return exit_success;
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "bootsim: error: {} (see bootsim {} --help)\n", e.what(), app.get_name());
        return exit_usage;
    }
    return std::nullopt;
}

std::optional<nlohmann::json> read_report(const std::string& path)
{
    // Read as every input is (a FIFO or a device is refused, not read).
    auto bytes = read_file(path, "report");
    if (!bytes) {
        fmt::print(stderr, "bootsim: error: {}\n", bytes.error().message);
        return std::nullopt;
    }
    auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("schema", "") != "bootsim-report") {
        fmt::print(stderr, "bootsim: error: {}: not a bootsim report (JSON with \"schema\": \"bootsim-report\")\n", path);
        return std::nullopt;
    }
    return j;
}

std::string self_path(const char* argv0)
{
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(argv0) : p.string();
}

}  // namespace

int compare_command(int argc, const char* const* argv)
{
    CLI::App app{"compares two bootsim reports: exit 0 the same within the tolerance, 10 slower, 11 structurally "
                 "different",
                 "compare"};
    std::string baseline, current;
    double percent = 10;
    CompareTolerance tolerance;
    app.add_option("BASELINE", baseline, "the earlier report")->required();
    app.add_option("REPORT", current, "this run's report")->required();
    add_tolerance_options(app, percent, tolerance.min_seconds, tolerance.min_instructions);
    if (auto done = parse(app, argc, argv))
        return *done;
    tolerance.fraction = percent / 100;
    auto a = read_report(baseline), b = read_report(current);
    if (!a || !b)
        return exit_bad_input;
    Comparison c = compare_reports(*a, *b, tolerance);
    fmt::print("compare {} -> {}:\n", baseline, current);
    for (const auto& line : c.lines)
        fmt::print("  {}\n", line);
    return c.exit_code;
}

int matrix_command(int argc, const char* const* argv, const char* self)
{
    CLI::App app{"runs a boot matrix (a TOML file) in parallel: a report and a log per boot, a table, JUnit XML; "
                 "exit 0 when every boot ended as expected, 1 otherwise",
                 "matrix"};
    std::string file, out_dir = "bootsim-matrix", junit;
    std::vector<std::string> only;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool list = false;
    app.add_option("FILE", file, "the matrix file")->required();
    app.add_option("--out", out_dir, "where reports and logs go (default bootsim-matrix/)");
    app.add_option("--junit", junit, "the JUnit XML file (default OUT/junit.xml)");
    app.add_option("--jobs,-j", jobs, "boots at once (default: the number of cores)");
    app.add_option("--only", only, "run only the boots of these names (repeatable; one per CI job)");
    app.add_flag("--list", list, "print the boots' names, one per line, and run nothing");
    if (auto done = parse(app, argc, argv))
        return *done;
    std::string error;
    auto matrix = read_matrix(file, error);
    if (!matrix) {
        fmt::print(stderr, "bootsim: error: {}\n", error);
        return exit_bad_input;
    }
    std::vector<MatrixEntry> entries;
    for (const auto& e : matrix->entries)
        if (only.empty() || std::find(only.begin(), only.end(), e.name) != only.end())
            entries.push_back(e);
    if (list) {
        for (const auto& e : entries)
            fmt::print("{}\n", e.name);
        return exit_success;
    }
    if (entries.empty()) {
        fmt::print(stderr, "bootsim: error: {}: no boot of that name (see --list)\n", file);
        return exit_usage;
    }
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (junit.empty())
        junit = (std::filesystem::path(out_dir) / "junit.xml").string();
    if (auto ok = check_output_path(junit, "--junit"); !ok) {
        fmt::print(stderr, "bootsim: error: {}\n", ok.error().message);
        return exit_output_not_written;
    }
    fmt::print(stderr, "bootsim: matrix {}: {} boot(s), {} at once, reports in {}\n", file, entries.size(), jobs,
               out_dir);
    auto results = run_matrix(self_path(self), entries, out_dir, jobs);
    fmt::print("{}", matrix_table(results));
    if (auto written = write_output_file(junit, junit_xml(results, "matrix"), "JUnit XML"); !written) {
        fmt::print(stderr, "bootsim: error: {}\n", written.error().message);
        return exit_output_not_written;
    }
    fmt::print(stderr, "bootsim: JUnit XML in {}\n", junit);
    for (const auto& r : results)
        if (!r.passed())
            return exit_goal_not_met;
    return exit_success;
}

int merge_reports_command(int argc, const char* const* argv)
{
    CLI::App app{"prints the matrix table from reports made by separate runs (one CI job per boot), and JUnit XML; "
                 "exit 0 when every report ended with the exit code it expected, 1 otherwise",
                 "merge-reports"};
    std::vector<std::string> reports;
    std::string junit;
    app.add_option("REPORT", reports, "the reports")->required();
    app.add_option("--junit", junit, "write JUnit XML to FILE");
    if (auto done = parse(app, argc, argv))
        return *done;
    std::vector<MatrixResult> results;
    bool bad = false;
    for (const auto& path : reports) {
        std::string error;
        results.push_back(result_from_report(path, error));
        if (!error.empty()) {
            fmt::print(stderr, "bootsim: error: {}\n", error);
            bad = true;
        }
    }
    fmt::print("{}", matrix_table(results));
    if (!junit.empty()) {
        if (auto written = write_output_file(junit, junit_xml(results, "merged"), "JUnit XML"); !written) {
            fmt::print(stderr, "bootsim: error: {}\n", written.error().message);
            return exit_output_not_written;
        }
    }
    for (const auto& r : results)
        if (!r.passed())
            return bad ? exit_bad_input : exit_goal_not_met;
    return exit_success;
}

}  // namespace bootsim
