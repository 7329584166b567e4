// The guest's serial console as a terminal pane; what is typed in the line
// below goes to the guest's COM1 (Enter sends a carriage return, as a
// terminal does).
#include <imgui.h>

#include "ui/gui/gui_state.h"

namespace bootsim::gui {

void draw_console(GuiState& s)
{
    place_window(s, s.layout.console);
    ImGui::Begin("Serial console (COM1)");
    float input_h = ImGui::GetFrameHeightWithSpacing();
    ImGui::BeginChild("##text", ImVec2(0, -input_h), false, ImGuiWindowFlags_HorizontalScrollbar);
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(200, 230, 200, 255));
    const std::string& text = s.record.console;
    // Draw only the visible lines: a console can hold a megabyte.
    std::vector<std::pair<size_t, size_t>> lines;
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '\n') {
            size_t end = i;
            if (end > start && text[end - 1] == '\r')
                --end;
            lines.emplace_back(start, end);
            start = i + 1;
        }
    }
    ImGuiListClipper clipper;
    clipper.Begin(int(lines.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i)
            ImGui::TextUnformatted(text.data() + lines[size_t(i)].first, text.data() + lines[size_t(i)].second);
    ImGui::PopStyleColor();
    uint64_t total = s.record.console_dropped + text.size();
    if (total != s.console_seen) {
        ImGui::SetScrollHereY(1.0f);
        s.console_seen = total;
    }
    ImGui::EndChild();
    static char line[256] = "";
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##type", "type here for the guest; Enter sends", line, sizeof line,
                                 ImGuiInputTextFlags_EnterReturnsTrue)) {
        s.controller.type(std::string(line) + "\r");
        line[0] = 0;
        ImGui::SetKeyboardFocusHere(-1);
    }
    ImGui::End();
}

}  // namespace bootsim::gui
