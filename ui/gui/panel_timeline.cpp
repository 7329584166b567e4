// Every phase the boot went through on the host's time axis, the current
// one highlighted, the handoff marked with its addresses.
#include <algorithm>

#include <imgui.h>
#include <fmt/format.h>

#include "ui/gui/gui_state.h"
#include "ui/gui/phase_timeline.h"

namespace bootsim::gui {

namespace {
ImU32 phase_colour(Phase p)
{
    static const ImU32 colours[] = {
        IM_COL32(90, 90, 100, 255),  IM_COL32(120, 100, 60, 255), IM_COL32(40, 200, 210, 255),
        IM_COL32(230, 60, 80, 255),  IM_COL32(70, 110, 200, 255), IM_COL32(60, 170, 90, 255),
        IM_COL32(230, 200, 60, 255), IM_COL32(180, 120, 220, 255), IM_COL32(240, 140, 40, 255),
        IM_COL32(150, 150, 150, 255),
    };
    return colours[size_t(p)];
}
}  // namespace

void draw_timeline(GuiState& s)
{
    place_window(s, s.layout.timeline);
    ImGui::Begin("Phase timeline", nullptr, ImGuiWindowFlags_NoScrollbar);
    ImVec2 origin = ImGui::GetCursorScreenPos();
    float width = ImGui::GetContentRegionAvail().x - 4;
    bool ended = s.snap.state == RunState::Ended || s.snap.state == RunState::Failed;
    uint64_t now = s.snap.wall_ns;
    if (!s.record.phases.empty())
        now = std::max(now, s.record.phases.back().wall_ns);
    auto bars = layout_timeline(s.record.phases, now, width, ended);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    float bar_h = 22;
    for (size_t i = 0; i < bars.size(); ++i) {
        const TimelineBar& b = bars[i];
        ImVec2 a(origin.x + b.x0, origin.y + 16), z(origin.x + b.x1, origin.y + 16 + bar_h);
        draw->AddRectFilled(a, z, phase_colour(b.phase));
        if (b.current)
            draw->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(z.x + 1, z.y + 1), IM_COL32(255, 255, 255, 255), 0, 0, 2);
        // Names above, alternating rows so neighbours do not collide.
        std::string name(phase_name(b.phase));
        float label_x = std::min(a.x, origin.x + width - ImGui::CalcTextSize(name.c_str()).x);
        draw->AddText(ImVec2(label_x, origin.y + (i % 2 ? 40 : 0)), IM_COL32(230, 230, 230, 255), name.c_str());
        if (ImGui::IsMouseHoveringRect(a, z)) {
            const PhaseMark& m = s.record.phases[i];
            ImGui::SetTooltip("%s", fmt::format("{}: entered at host {:.3f} s, guest {:.3f} s, rip {:#x}", name,
                                                double(m.wall_ns) / 1e9, double(m.virtual_ns) / 1e9, m.address)
                                        .c_str());
        }
    }
    // The initcall track: each initcall on the same axis, the longer ones
    // brighter; hover for its name and cost.
    const float track_y = origin.y + 80, track_h = 14;
    if (!s.record.initcalls.empty()) {
        // The label sits at the track's start: initcalls begin after the
        // decompressor's bars, so the left of the row is free.
        draw->AddText(ImVec2(origin.x, track_y - 1), IM_COL32(200, 200, 200, 255),
                      fmt::format("initcalls ({})", s.record.initcalls.size()).c_str());
        uint64_t longest = 1;
        for (const InitcallMark& c : s.record.initcalls)
            longest = std::max(longest, (c.end_ns ? c.end_ns : now) - c.begin_ns);
        for (const InitcallMark& c : s.record.initcalls) {
            uint64_t end = c.end_ns ? c.end_ns : now;
            float x0 = origin.x + timeline_x(bars, c.begin_ns), x1 = origin.x + timeline_x(bars, end);
            x1 = std::max(x1, x0 + 1);
            int shade = 90 + int(165 * double(end - c.begin_ns) / double(longest));
            ImVec2 a(x0, track_y), z(x1, track_y + track_h);
            draw->AddRectFilled(a, z, IM_COL32(shade, shade / 2, 40, 255));
            if (ImGui::IsMouseHoveringRect(a, z))
                ImGui::SetTooltip("%s", (c.end_ns ? fmt::format("{}: {:.3f} ms guest time{}", c.name,
                                                                double(c.guest_ns) / 1e6,
                                                                c.instructions ? fmt::format(", {} instructions",
                                                                                             c.instructions)
                                                                               : "")
                                                  : c.name + ": running")
                                            .c_str());
        }
    }
    ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + 58));
    for (const PhaseMark& m : s.record.phases) {
        if (m.phase != Phase::Handoff)
            continue;
        std::string text = fmt::format("handoff at {:.3f} s: jump to {:#x}", double(m.wall_ns) / 1e9, m.address);
        if (s.snap.handoff)
            text += fmt::format(", kernel at physical {:#x}, virtual offset {:#x}{}", s.snap.handoff->output_address,
                                s.snap.handoff->virtual_offset, s.snap.handoff->matched ? ", output verified" : "");
        ImGui::TextUnformatted(text.c_str());
    }
    ImGui::End();
}

}  // namespace bootsim::gui
