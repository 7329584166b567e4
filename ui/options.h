#pragma once
// The command line: parses argv into the run's options (run/run_options.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/result.h"
#include "run/run_options.h"

namespace bootsim {

// Parses argv. A help request returns an error of kind BadUsage whose
// message is the help text and `help` set.
struct ParsedOptions {
    std::optional<Options> options;
    std::optional<std::string> help;  // print and exit 0
};
Result<ParsedOptions> parse_options(int argc, const char* const* argv);

// --compare's tolerance options, shared with `bootsim compare`.
void add_tolerance_options(CLI::App& app, double& percent, double& min_seconds, uint64_t& min_instructions);

// The exit-code table and the other commands, as --help ends.
std::string exit_code_help();

}  // namespace bootsim
