// Run, pause, step, step over, run to the next phase, to a named phase, to
// an address, restart; and the one-line status.
#include <cstdlib>

#include <imgui.h>
#include <fmt/format.h>

#include "ui/gui/gui_state.h"

namespace bootsim::gui {

namespace {
const char* state_name(RunState state)
{
    switch (state) {
    case RunState::Paused: return "paused";
    case RunState::Running: return "running";
    case RunState::Ended: return "ended";
    case RunState::Failed: return "failed";
    }
    return "?";
}
}  // namespace

void draw_controls(GuiState& s)
{
    place_window(s, s.layout.controls);
    ImGui::Begin("bootsim", nullptr, ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoTitleBar);
    bool paused = s.snap.state == RunState::Paused;
    bool running = s.snap.state == RunState::Running;
    BootController& c = s.controller;

    ImGui::BeginDisabled(!paused);
    if (ImGui::Button("Run"))
        c.send({CommandKind::Run});
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!running);
    if (ImGui::Button("Pause"))
        c.pause();
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!paused);
    if (ImGui::Button("Step"))
        c.send({CommandKind::Step});
    ImGui::SameLine();
    if (ImGui::Button("Step over"))
        c.send({CommandKind::StepOver});
    ImGui::SameLine();
    if (ImGui::Button("Next phase"))
        c.send({CommandKind::RunToNextPhase});
    ImGui::SameLine();
    ImGui::SetNextItemWidth(110);
    static const char* names[] = {"loaded", "setup", "decompress", "handoff", "kernel",
                                  "initramfs", "init", "modules", "root", "halt"};
    ImGui::Combo("##phase", &s.phase_choice, names, IM_ARRAYSIZE(names));
    ImGui::SameLine();
    if (ImGui::Button("Run to phase"))
        c.send({CommandKind::RunToPhase, all_phases[size_t(s.phase_choice)]});
    ImGui::SameLine();
    ImGui::SetNextItemWidth(160);
    ImGui::InputTextWithHint("##address", "0xffffffff81000000", s.address_text, sizeof s.address_text);
    ImGui::SameLine();
    if (ImGui::Button("Run to address")) {
        // Hexadecimal, with or without 0x: the addresses the panels show.
        char* end = nullptr;
        Command command{CommandKind::RunToAddress};
        command.address = std::strtoull(s.address_text, &end, 16);
        s.address_error = !s.address_text[0] || (end && *end);
        if (!s.address_error)
            c.send(command);
    }
    if (s.address_error) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "not a hex address");
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Restart")) {
        c.abandon();
        c.send({CommandKind::Restart});
    }
    ImGui::SameLine();
    ImGui::BeginDisabled(running);
    if (ImGui::Checkbox("fast decompression", &s.fast_decompression)) {
        Command command{CommandKind::SetFastDecompression};
        command.flag = s.fast_decompression;
        c.send(command);
    }
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("The decompressor's relocated copy runs without the per-block hook: twice as fast "
                          "for XZ, but a pause lands only at its jump to the kernel (stepping and run-to-address "
                          "are exact either way). Untick to pause anywhere.");
    if (running && c.pause_waits()) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1, 0.8f, 0.3f, 1), "decompressing unhooked: Pause lands at the handoff");
    }

    ImGui::Text("%s", fmt::format("[{}] phase {} | {} | guest {:.3f} s, host {:.3f} s | {:.0f} fps",
                                  state_name(s.snap.state), phase_name(s.snap.phase), s.snap.status,
                                  double(s.snap.virtual_ns) / 1e9, double(s.snap.wall_ns) / 1e9, s.fps)
                          .c_str());
    ImGui::End();
}

}  // namespace bootsim::gui
