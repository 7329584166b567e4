#pragma once
// PNG files of RGBA pixels (libpng): the visualizer's screenshots, and the
// tests that look at them.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace bootsim::gui {

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgba;  // rows top to bottom
    const uint8_t* pixel(int x, int y) const { return &rgba[(size_t(y) * size_t(width) + size_t(x)) * 4]; }
};

Status write_png(const std::string& path, const Image& image);
Result<Image> read_png(const std::string& path);

}  // namespace bootsim::gui
