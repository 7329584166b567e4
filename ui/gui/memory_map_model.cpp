#include "ui/gui/memory_map_model.h"

#include <algorithm>

#include <fmt/format.h>

namespace bootsim::gui {

std::vector<MapRegion> plan_regions(const BootPlan& plan)
{
    std::vector<MapRegion> regions;
    // Everything the e820 map does not call RAM is a hole.
    uint64_t cursor = 0;
    for (const E820Entry& e : plan.e820) {
        if (e.address > cursor)
            regions.push_back({"hole", colour::hole, cursor, e.address});
        if (e.type != E820Type::Ram)
            regions.push_back({"reserved (e820)", colour::hole, e.address, e.address + e.size});
        cursor = std::max(cursor, e.address + e.size);
    }
    // Past the top of RAM (the grid's last cells may reach there).
    regions.push_back({"beyond RAM", colour::hole, std::max(cursor, plan.mem_size), ~0ull});
    std::vector<const Region*> ordered;
    for (const Region& r : plan.regions)
        ordered.push_back(&r);
    // The buffer first: the compressed kernel sits inside it.
    std::stable_partition(ordered.begin(), ordered.end(),
                          [](const Region* r) { return r->role == RegionRole::DecompressBuffer; });
    for (const Region* r : ordered)
        regions.push_back({r->name, role_colour(r->role), r->guest_address, r->guest_address + r->size});
    return regions;
}

std::vector<uint32_t> compose_cells(const MemoryGrid& grid, const std::vector<MapRegion>& regions,
                                    const PageActivity* activity, const CellOptions& options)
{
    size_t cells = size_t(grid.columns()) * size_t(grid.rows());
    std::vector<Rgb> colours(cells, colour::ram);
    auto paint = [&](uint64_t begin, uint64_t end, Rgb c) {
        for (const MemoryGrid::Run& run : grid.runs_of(begin, end))
            for (int col = run.first_column; col <= run.last_column; ++col)
                colours[size_t(run.row) * size_t(grid.columns()) + size_t(col)] = c;
    };
    for (const MapRegion& r : regions)
        paint(r.begin, r.end, r.colour);

    std::vector<uint32_t> out(cells);
    const uint64_t page = 4096, pages_per_cell = grid.bytes_per_cell() / page;
    for (size_t cell = 0; cell < cells; ++cell) {
        Rgb c = colours[cell];
        if (activity) {
            uint64_t first = grid.address_of(int64_t(cell)) / page;
            float write = 0, exec = 0;
            bool filled = false;
            for (uint64_t p = first; p < first + pages_per_cell && p < activity->pages(); ++p) {
                write = std::max(write, activity->write_heat(p));
                exec = std::max(exec, activity->exec_heat(p));
                if (options.fill_output && p * page >= options.fill_begin && p * page < options.fill_end &&
                    activity->written_since_epoch(p))
                    filled = true;
            }
            if (filled)
                c = colour::kernel_output;
            if (write > 0)
                c = blend(c, colour::written, 0.75f * write);
            if (exec > 0)
                c = blend(c, colour::executed, exec);
        }
        out[cell] = c.abgr();
    }
    return out;
}

}  // namespace bootsim::gui
