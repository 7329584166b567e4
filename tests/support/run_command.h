#pragma once
// Runs bootsim as a user would, capturing its exit code and output.

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace bootsim::test {

struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

// Runs any shell command, output merged.
inline CommandResult run_command(const std::string& command)
{
    CommandResult r;
    FILE* pipe = popen((command + " </dev/null").c_str(), "r");
    if (!pipe)
        return r;
    std::array<char, 4096> buffer;
    size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        r.output.append(buffer.data(), n);
    int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// Runs bootsim with `args` (stdin closed), stdout and stderr merged.
inline CommandResult run_bootsim(const std::string& args)
{
    return run_command(std::string(BOOTSIM_BINARY) + " " + args + " 2>&1");
}

// Lines of output that bootsim printed as errors.
inline std::string error_lines(const std::string& output)
{
    std::string out;
    size_t pos = 0;
    while ((pos = output.find("bootsim: error:", pos)) != std::string::npos) {
        size_t end = output.find('\n', pos);
        out += output.substr(pos, end - pos) + "\n";
        pos = end;
    }
    return out;
}

// The end of a run's output, for a failure message: CI logs cut long ones
// in the middle, and a boot's reason to end (a panic and the console lines
// before it) is at the end.
inline std::string output_tail(const std::string& output, size_t bytes = 6000)
{
    if (output.size() <= bytes)
        return output;
    return "[... " + std::to_string(output.size() - bytes) + " bytes before ...]\n" + output.substr(output.size() - bytes);
}

}  // namespace bootsim::test
