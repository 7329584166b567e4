#pragma once
// The reference images for end-to-end tests. A missing image is a failure
// (never a skip): CI must have fetched them.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace bootsim::test {

inline std::string image(const std::string& name)
{
    std::string path = std::string(BOOTSIM_IMAGES) + "/" + name;
    EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing: run images/fetch-kernels.sh and "
                                                  "images/build-initrd.sh";
    return path;
}

// bootsim's arguments to boot `kernel` ("generic", "cloud") with the busybox initrd, headless.
inline std::string boot_args(const std::string& kernel)
{
    return "--kernel " + image(kernel + "/vmlinuz") + " --initrd " + image("initrd-busybox.cpio.gz") + " --headless";
}

}  // namespace bootsim::test
