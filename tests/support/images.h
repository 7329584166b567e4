#pragma once
// The reference images for end-to-end tests. A missing image is a failure
// (never a skip): CI must have fetched them.

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bootsim::test {

inline std::string image(const std::string& name)
{
    std::string path = std::string(BOOTSIM_IMAGES) + "/" + name;
    EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing: run images/fetch-kernels.sh and "
                                                  "images/build-initrd.sh";
    return path;
}

// The kernels the default test run boots: "SUITE/FLAVOUR" for each line of
// images/kernels.txt tagged "default" (the list images/fetch-kernels.sh
// fetches with no arguments). Read once, at test registration.
inline std::vector<std::string> default_kernels()
{
    std::vector<std::string> kernels;
    std::ifstream list(std::string(BOOTSIM_IMAGES) + "/../kernels.txt");
    std::string line;
    while (std::getline(list, line)) {
        std::istringstream words(line);
        std::string suite, flavour, tag;
        if (!(words >> suite >> flavour) || suite[0] == '#')
            continue;
        while (words >> tag)
            if (tag == "default")
                kernels.push_back(suite + "/" + flavour);
    }
    // An unreadable list must fail the run, not register no tests.
    if (kernels.empty())
        kernels.push_back("images/kernels.txt has no default kernels");
    return kernels;
}

// A test name part for a kernel: "trixie-backports/cloud" -> "trixie_backports_cloud".
inline std::string kernel_test_name(const std::string& kernel)
{
    std::string name = kernel;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            c = '_';
    return name;
}

inline std::string kernel_param_name(const ::testing::TestParamInfo<std::string>& info)
{
    return kernel_test_name(info.param);
}

// bootsim's arguments to boot `kernel` ("bookworm/cloud", ...) with the busybox initrd, headless.
inline std::string boot_args(const std::string& kernel)
{
    return "--kernel " + image(kernel + "/vmlinuz") + " --initrd " + image("initrd-busybox.cpio.gz") + " --headless";
}

}  // namespace bootsim::test
