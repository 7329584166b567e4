#pragma once
// A boot matrix: a TOML file lists boots (kernels x initrds x command lines,
// with disks and expectations); `bootsim matrix FILE` runs them as parallel
// bootsim processes up to the core count, one report each, prints a table
// and writes JUnit XML. A bad entry is reported and skipped, not fatal to the
// others. `bootsim merge-reports` prints the same table from reports made
// elsewhere (one CI job per entry). The file's format: README, "bootsim in CI".

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bootsim {

struct MatrixEntry {
    std::string name;
    std::vector<std::string> args;  // bootsim's arguments, --report and --headless left out
    int expected_exit = 0;
    std::string problem;            // a bad entry: why (nothing is run)
};

// The entries of the matrix file, lists multiplied out, paths taken from the
// file's directory. Fails only when the file itself cannot be read or parsed.
struct MatrixFile {
    std::vector<MatrixEntry> entries;
};
std::optional<MatrixFile> read_matrix(const std::string& path, std::string& error);

struct MatrixResult {
    std::string name;
    int exit_code = -1;        // -1: not run (a bad entry)
    int expected_exit = 0;
    std::string problem;       // a bad entry, or why the run failed to start
    std::string report_path;   // written by the run (may be missing)
    std::string log_path;
    nlohmann::json report;     // null when not written
    double wall_seconds = 0;
    bool passed() const { return problem.empty() && exit_code == expected_exit; }
};

// Runs the entries (`binary` is bootsim itself), at most `jobs` at once,
// writing DIR/NAME.json and DIR/NAME.log.
std::vector<MatrixResult> run_matrix(const std::string& binary, const std::vector<MatrixEntry>& entries,
                                     const std::string& out_dir, unsigned jobs);

// The results as a table, one line each, and as JUnit XML.
std::string matrix_table(const std::vector<MatrixResult>& results);
std::string junit_xml(const std::vector<MatrixResult>& results, const std::string& suite);

// A result from a report alone (merge-reports): passed when it ended with
// the exit code it expected (run.expected_exit_code; 0 when it says none).
MatrixResult result_from_report(const std::string& path, std::string& error);

}  // namespace bootsim
