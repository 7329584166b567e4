// Fuzz entry point: the command line. The input is argv, one argument per
// NUL-separated piece after the program name. Any argument vector must
// give options or an error, never an exception or an exit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ui/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::vector<std::string> args = {"bootsim"};
    std::string current;
    for (size_t i = 0; i < size && args.size() < 64; ++i) {
        if (data[i] == 0) {
            args.push_back(current);
            current.clear();
        } else {
            current += char(data[i]);
        }
    }
    if (!current.empty())
        args.push_back(current);
    std::vector<const char*> argv;
    for (const auto& a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    (void)bootsim::parse_options(int(args.size()), argv.data());
    return 0;
}
