#pragma once
// Where each panel of the visualizer sits in a window of a given size. The
// window opens with this layout (the user may move panels afterwards);
// screenshots always use it, so the tests know where to look.

#include <algorithm>
#include <cmath>

namespace bootsim::gui {

struct Rect {
    float x = 0, y = 0, w = 0, h = 0;
    bool contains(float px, float py) const { return px >= x && px < x + w && py >= y && py < y + h; }
};

struct ScreenLayout {
    Rect controls, memory_map, map_image, timeline, console, cpu, decompression, inspector;
    static constexpr float cell_pixels = 4;  // one memory-map cell, square
};

inline ScreenLayout screen_layout(float width, float height)
{
    ScreenLayout l;
    float left = std::max(480.0f, width * 0.56f), right = width - left;
    float top = 64;
    l.controls = {0, 0, width, top};
    float body = height - top;
    l.memory_map = {0, top, left, body * 0.55f};
    l.timeline = {0, l.memory_map.y + l.memory_map.h, left, body * 0.15f};
    l.console = {0, l.timeline.y + l.timeline.h, left, height - (l.timeline.y + l.timeline.h)};
    // The map's cells fill the panel under its title and one line of text,
    // left of a legend column, in whole cells.
    float legend = 250;
    float map_w = std::max(ScreenLayout::cell_pixels, l.memory_map.w - legend - 16);
    float map_h = std::max(ScreenLayout::cell_pixels, l.memory_map.h - 52 - 8);
    map_w -= std::fmod(map_w, ScreenLayout::cell_pixels);
    map_h -= std::fmod(map_h, ScreenLayout::cell_pixels);
    l.map_image = {l.memory_map.x + 8, l.memory_map.y + 52, map_w, map_h};
    l.cpu = {left, top, right, body * 0.45f};
    l.decompression = {left, l.cpu.y + l.cpu.h, right, body * 0.17f};
    l.inspector = {left, l.decompression.y + l.decompression.h, right, height - (l.decompression.y + l.decompression.h)};
    return l;
}

}  // namespace bootsim::gui
