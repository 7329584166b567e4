#pragma once
// What the memory map shows, as data: the labelled regions (the BootPlan's,
// the e820 holes, and what the boot adds as it goes: the decompressor's
// moved copy, the decompressed kernel's segments), and the colour of every
// grid cell with the activity heat on top. The panel only uploads the
// cells as a texture and writes the labels.

#include <cstdint>
#include <string>
#include <vector>

#include "loader/boot_plan.h"
#include "ui/gui/memory_grid.h"
#include "ui/gui/page_activity.h"
#include "ui/gui/palette.h"

namespace bootsim::gui {

struct MapRegion {
    std::string label;
    Rgb colour;
    uint64_t begin = 0, end = 0;
};

// The e820 holes, then the plan's regions, in drawing order: the
// decompression buffer under the compressed kernel it contains.
std::vector<MapRegion> plan_regions(const BootPlan& plan);

struct CellOptions {
    // Paint pages written since the activity epoch (the decompressor's
    // output) inside [fill_begin, fill_end) in colour::kernel_output.
    bool fill_output = false;
    uint64_t fill_begin = 0, fill_end = 0;
};

// One ABGR colour per cell, row after row: regions in order (later ones on
// top), the output fill, then the heat of the hottest page in each cell.
std::vector<uint32_t> compose_cells(const MemoryGrid& grid, const std::vector<MapRegion>& regions,
                                    const PageActivity* activity, const CellOptions& options = {});

}  // namespace bootsim::gui
