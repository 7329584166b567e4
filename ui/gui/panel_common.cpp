#include <imgui.h>

#include "ui/gui/gui_state.h"

namespace bootsim::gui {

void place_window(const GuiState& s, const Rect& r)
{
    ImGuiCond cond = s.fixed_layout ? ImGuiCond_Always : ImGuiCond_FirstUseEver;
    ImGui::SetNextWindowPos(ImVec2(r.x, r.y), cond);
    ImGui::SetNextWindowSize(ImVec2(r.w, r.h), cond);
}

}  // namespace bootsim::gui
