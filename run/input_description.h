#pragma once
// The report's "inputs" and "kernel" sections: what was booted, as read
// (paths, sizes, SHA-256 of the kernel and initrd, the boot protocol and
// payload, the kernel's version string), so a report says exactly which
// files produced it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "devices/disk_image.h"
#include "loader/boot_plan.h"
#include "loader/bzimage.h"
#include "run/run_options.h"

namespace bootsim {

// boot.rst, "kernel_version": "6.12.118+deb13-amd64 (debian-kernel@...) #1 ..."
std::string kernel_version_string(const BzImage& kernel);

std::string sha256_hex(const uint8_t* data, size_t size);

nlohmann::json describe_inputs(const BzImage& kernel, const Options& options, const std::vector<uint8_t>* initrd,
                               const std::vector<std::unique_ptr<DiskImage>>& disks, const BootPlan& plan);

}  // namespace bootsim
