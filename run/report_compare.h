#pragma once
// --compare BASELINE.json (and `bootsim compare BASE NEW`): what changed
// between two runs' reports, and an exit code CI can gate on:
//   exit_compare_different  the structure changed: a phase missing, added
//                           or reordered, or the run ended another way
//   exit_compare_slower     the same structure, but a phase or initcall
//                           cost more than the tolerance allows
//   exit_success            the same within the tolerance
// Costs are instructions when both runs were deterministic at the same
// guest speed (exact: any difference is real), guest time otherwise.
// Regions that moved and console lines added or missing (a unified diff,
// timestamps ignored) are shown, not gated on.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bootsim {

struct CompareTolerance {
    double fraction = 0.10;              // a cost may grow by this much of the baseline's
    double min_seconds = 0.005;          // ... and by at least this much guest time to count
    uint64_t min_instructions = 1'000'000;  // ... or this many instructions
};

struct Comparison {
    int exit_code = 0;
    std::vector<std::string> lines;  // what to print, one finding per line
};

Comparison compare_reports(const nlohmann::json& baseline, const nlohmann::json& current,
                           const CompareTolerance& tolerance);

// The lines of a unified diff of `a` against `b` (---/+++ headers left out,
// at most `max_lines`); empty when equal.
std::vector<std::string> unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                      size_t context = 2, size_t max_lines = 200);

// A console line without the kernel's "[    1.234567] " timestamp.
std::string without_timestamp(const std::string& line);

}  // namespace bootsim
