#pragma once
// Reading bootsim's --report files in end-to-end tests.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bootsim::test {

// A report path of this test process's own: /tmp/bootsim-NAME-PID.json.
inline std::string temp_report(const std::string& name)
{
    return (std::filesystem::temp_directory_path() / ("bootsim-" + name + "-" + std::to_string(getpid()) + ".json"))
        .string();
}

// The report at `path`, removed once read; null (and a failure) if bootsim
// did not write it.
inline nlohmann::json read_report(const std::string& path)
{
    std::ifstream in(path);
    EXPECT_TRUE(in) << path << " was not written";
    if (!in)
        return nullptr;
    auto json = nlohmann::json::parse(in);
    std::filesystem::remove(path);
    return json;
}

// The names of the report's phases, in order.
inline std::vector<std::string> phase_names(const nlohmann::json& report)
{
    std::vector<std::string> names;
    for (const auto& phase : report["phases"])
        names.push_back(phase["phase"]);
    return names;
}

}  // namespace bootsim::test
