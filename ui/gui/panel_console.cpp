// The guest's serial console as a terminal pane; what is typed in the line
// below goes to the guest's COM1 (Enter sends a carriage return, as a
// terminal does). The text is the guest's output as a terminal shows it.
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
    s.terminal.update(s.record.console, s.record.console_dropped);
    const auto& lines = s.terminal.lines();
    // Draw only the visible lines: a console can hold a megabyte.
    ImGuiListClipper clipper;
    clipper.Begin(int(lines.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i)
            ImGui::TextUnformatted(lines[size_t(i)].c_str());
    ImGui::PopStyleColor();
    if (s.terminal.received() != s.console_seen) {
        ImGui::SetScrollHereY(1.0f);
        s.console_seen = s.terminal.received();
    }
    ImGui::EndChild();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##type", "type here for the guest; Enter sends", s.typed, sizeof s.typed,
                                 ImGuiInputTextFlags_EnterReturnsTrue)) {
        s.controller.type(std::string(s.typed) + "\r");
        s.typed[0] = 0;
        ImGui::SetKeyboardFocusHere(-1);
    }
    ImGui::End();
}

}  // namespace bootsim::gui
