// Guest RAM to scale: the BootPlan's regions and what the boot adds, with
// pages written (white) and executed (pink) recently on top. The wheel
// zooms around the pointer; right-click resets.
#include <algorithm>

#include <GL/gl.h>
#include <imgui.h>
#include <fmt/format.h>

#include "ui/gui/gui_state.h"
#include "ui/gui/memory_map_model.h"

namespace bootsim::gui {

namespace {

std::string size_text(uint64_t bytes)
{
    if (bytes >= (1u << 20))
        return fmt::format("{:.1f} MiB", double(bytes) / (1 << 20));
    if (bytes >= 1024)
        return fmt::format("{:.1f} KiB", double(bytes) / 1024);
    return fmt::format("{} B", bytes);
}

// The regions as the boot stands: the plan's, the decompressor's moved
// copy, the decompressed kernel's segments after the handoff.
std::vector<MapRegion> current_regions(const GuiState& s, const BootPlan& plan)
{
    std::vector<MapRegion> regions = plan_regions(plan);
    // do_populate_rootfs() frees the initrd's pages as it returns, which is
    // what marks the initramfs phase (unless retain_initrd is given).
    const Region* initrd = plan.find(RegionRole::Initrd);
    if (initrd && s.snap.phase >= Phase::Initramfs && plan.cmdline.find("retain_initrd") == std::string::npos) {
        for (MapRegion& r : regions)
            if (r.begin == initrd->guest_address && r.colour == colour::initrd) {
                r.colour = colour::initrd_freed;
                r.label += " (freed by the kernel)";
            }
    }
    if (s.record.decompressor_moved_to && s.snap.phase <= Phase::Handoff) {
        // It runs from the end of the buffer; the copy reaches to the end of
        // the buffer (boot.rst: init_size covers it).
        uint64_t begin = s.record.decompressor_moved_to & ~0xfffull;
        uint64_t end = plan.load_address + plan.init_size;
        if (begin < end)
            regions.push_back({"decompressor (moved copy)", colour::decompressor_copy, begin, end});
    }
    if (s.snap.handoff && !s.snap.kernel_segments.empty()) {
        int n = 0;
        for (const LoadSegment& seg : s.snap.kernel_segments) {
            uint64_t begin = s.snap.handoff->output_address + seg.offset;
            regions.push_back({fmt::format("kernel segment {} (decompressed)", n++), colour::kernel_output, begin,
                               begin + seg.mem_size});
        }
    }
    return regions;
}

}  // namespace

void draw_memory_map(GuiState& s, unsigned texture)
{
    place_window(s, s.layout.memory_map);
    ImGui::Begin("Physical memory map", nullptr, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    if (!s.session || !s.session->boot || !s.grid) {
        ImGui::TextUnformatted("no boot");
        ImGui::End();
        return;
    }
    const BootPlan& plan = s.session->boot->plan();
    MemoryGrid& grid = *s.grid;
    ImGui::Text("%s", fmt::format("{:#x}..{:#x} ({}), {} per cell, {} MiB RAM; wheel zooms, right click resets",
                                  grid.base(), grid.base() + grid.span(), size_text(grid.span()),
                                  size_text(grid.bytes_per_cell()), plan.mem_size >> 20)
                          .c_str());

    std::vector<MapRegion> regions = current_regions(s, plan);
    CellOptions cells;
    // While the decompressor works, paint what it has written so far.
    if (s.snap.phase >= Phase::Decompress && s.snap.phase <= Phase::Handoff) {
        cells.fill_output = true;
        cells.fill_begin = plan.load_address;
        cells.fill_end = s.record.decompressor_moved_to ? s.record.decompressor_moved_to & ~0xfffull
                                                         : plan.load_address + plan.init_size;
    }
    // The cells change at the pace of the sampling: 20 redraws a second
    // are plenty, and leave the CPU to the guest.
    if (s.now - s.map_drawn_at >= 0.05 || s.now < s.map_drawn_at) {
        std::vector<uint32_t> pixels = compose_cells(grid, regions, s.activity.get(), cells);
        glBindTexture(GL_TEXTURE_2D, texture);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, grid.columns(), grid.rows(), 0, GL_RGBA, GL_UNSIGNED_BYTE,
                     pixels.data());
        s.map_drawn_at = s.now;
    }

    const Rect& r = s.layout.map_image;
    ImGui::SetCursorScreenPos(ImVec2(r.x, r.y));
    ImGui::Image(ImTextureID(intptr_t(texture)), ImVec2(r.w, r.h));
    ImDrawList* draw = ImGui::GetWindowDrawList();
    float cell = ScreenLayout::cell_pixels;

    // Zoom with the wheel, around the address under the pointer.
    ImVec2 mouse = ImGui::GetIO().MousePos;
    if (ImGui::IsItemHovered()) {
        int col = int((mouse.x - r.x) / cell), row = int((mouse.y - r.y) / cell);
        uint64_t at = grid.address_of(int64_t(row) * grid.columns() + col);
        ImGui::SetTooltip("%s", fmt::format("{:#x}", at).c_str());
        float wheel = ImGui::GetIO().MouseWheel;
        if (wheel != 0)
            grid = grid.zoomed(at, wheel > 0 ? 2.0 : 0.5, plan.mem_size), s.map_drawn_at = -1;
        if (ImGui::IsMouseClicked(ImGuiMouseButton_Right))
            grid = MemoryGrid(0, plan.mem_size, grid.columns(), grid.rows()), s.map_drawn_at = -1;
    }

    // Labels on the regions big enough to carry one, the topmost region
    // first, each on the first of its rows where it overlaps no other label.
    std::vector<ImVec4> placed;
    auto overlaps = [&placed](ImVec4 a) {
        for (const ImVec4& b : placed)
            if (a.x < b.z && b.x < a.z && a.y < b.w && b.y < a.w)
                return true;
        return false;
    };
    for (auto it = regions.rbegin(); it != regions.rend(); ++it) {
        const MapRegion& region = *it;
        if (region.colour == colour::hole)
            continue;
        ImVec2 size = ImGui::CalcTextSize(region.label.c_str());
        for (const MemoryGrid::Run& run : grid.runs_of(region.begin, region.end)) {
            float x0 = r.x + float(run.first_column) * cell, y0 = r.y + float(run.row) * cell;
            float room = float(run.last_column - run.first_column + 1) * cell;
            if (room < std::min(size.x, 120.0f))
                continue;
            ImVec4 box(x0, y0, x0 + size.x + 4, y0 + size.y + 2);
            if (box.z > r.x + r.w || box.w > r.y + r.h || overlaps(box))
                continue;
            placed.push_back(box);
            // Inside a region of several rows a backing keeps the label
            // readable; on a thin region it would hide the region itself.
            if (grid.runs_of(region.begin, region.end).size() >= 4)
                draw->AddRectFilled(ImVec2(box.x, box.y), ImVec2(box.z, box.w), IM_COL32(0, 0, 0, 150));
            draw->AddText(ImVec2(x0 + 2, y0 + 1), IM_COL32(255, 255, 255, 235), region.label.c_str());
            break;
        }
    }
    ImGui::SetCursorScreenPos(ImVec2(r.x + r.w + 10, r.y));
    ImGui::BeginGroup();
    for (const MapRegion& region : regions) {
        if (region.colour == colour::hole)
            continue;
        ImVec2 p = ImGui::GetCursorScreenPos();
        draw->AddRectFilled(p, ImVec2(p.x + 10, p.y + 10), region.colour.abgr());
        ImGui::Dummy(ImVec2(12, 10));
        ImGui::SameLine();
        ImGui::Text("%s", region.label.c_str());
        ImGui::TextDisabled("  %s", fmt::format("{:#x} +{}", region.begin, size_text(region.end - region.begin)).c_str());
    }
    ImVec2 p = ImGui::GetCursorScreenPos();
    draw->AddRectFilled(p, ImVec2(p.x + 10, p.y + 10), colour::written.abgr());
    ImGui::Dummy(ImVec2(12, 10));
    ImGui::SameLine();
    ImGui::TextUnformatted("written recently");
    p = ImGui::GetCursorScreenPos();
    draw->AddRectFilled(p, ImVec2(p.x + 10, p.y + 10), colour::executed.abgr());
    ImGui::Dummy(ImVec2(12, 10));
    ImGui::SameLine();
    ImGui::TextUnformatted("executing (RIP)");
    ImGui::EndGroup();
    ImGui::End();
}

}  // namespace bootsim::gui
