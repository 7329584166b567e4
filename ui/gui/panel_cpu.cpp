// The CPU: its mode, the registers (those changed since the last stop in
// yellow), the code at RIP, and the execution rate.
#include <imgui.h>
#include <fmt/format.h>

#include "ui/gui/disassembler.h"
#include "ui/gui/gui_state.h"

namespace bootsim::gui {

namespace {

void register_cell(const char* name, uint64_t value, bool changed)
{
    ImVec4 colour = changed ? ImVec4(1.0f, 0.85f, 0.2f, 1) : ImVec4(0.85f, 0.85f, 0.85f, 1);
    ImGui::TextColored(colour, "%-6s %016llx", name, static_cast<unsigned long long>(value));
}

}  // namespace

void draw_cpu(GuiState& s)
{
    place_window(s, s.layout.cpu);
    ImGui::Begin("CPU");
    if (!s.snap.have_cpu) {
        ImGui::TextUnformatted("not started");
        ImGui::End();
        return;
    }
    const CpuState& c = s.snap.cpu;
    int bits = code_bits(c);
    double ips = s.block_rate.rate() * (s.instructions_per_block > 0 ? s.instructions_per_block : 1);
    std::string rate = "stopped";
    if (s.snap.state == RunState::Running)
        rate = s.snap.unhooked ? "not counted (the decompressor runs unhooked)"
                               : fmt::format("blocks/s: {:.2f} M   ~{:.1f} MIPS", s.block_rate.rate() / 1e6, ips / 1e6);
    ImGui::Text("%s", fmt::format("mode: {} ({}-bit code)   {}", c.mode_name(), bits, rate).c_str());
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("MIPS = translated blocks entered per second x the mean length of the blocks RIP was "
                          "sampled at (counting every instruction would slow the guest several times)");

    const CpuState& before = s.previous_cpu;
    bool have_before = s.have_previous_cpu;
    if (ImGui::BeginTable("regs", 3, ImGuiTableFlags_SizingFixedFit)) {
        for (size_t i = 0; i < 16; ++i) {
            ImGui::TableNextColumn();
            register_cell(gpr_names[i], c.gpr[i], have_before && before.gpr[i] != c.gpr[i]);
        }
        struct Named { const char* name; uint64_t now, was; };
        const Named extra[] = {{"rip", c.rip, before.rip},   {"rflags", c.rflags, before.rflags},
                               {"cr0", c.cr0, before.cr0},   {"cr2", c.cr2, before.cr2},
                               {"cr3", c.cr3, before.cr3},   {"cr4", c.cr4, before.cr4},
                               {"efer", c.efer, before.efer}, {"cs", c.cs.selector, before.cs.selector}};
        for (const Named& n : extra) {
            ImGui::TableNextColumn();
            register_cell(n.name, n.now, have_before && n.now != n.was);
        }
        ImGui::EndTable();
    }
    ImGui::Separator();
    auto code = disassemble(s.snap.code, s.snap.code_address, bits, 14);
    // The sampled block's length feeds the MIPS estimate.
    if (s.snap.state == RunState::Running && !code.empty()) {
        double n = 0;
        for (const Instruction& i : code) {
            ++n;
            if (i.ends_block)
                break;
        }
        s.instructions_per_block = s.instructions_per_block == 0 ? n : 0.95 * s.instructions_per_block + 0.05 * n;
    }
    for (size_t i = 0; i < code.size(); ++i) {
        const Instruction& in = code[i];
        std::string line = fmt::format("{} {:016x}  {}", i == 0 ? "=>" : "  ", in.address, in.text);
        if (i == 0)
            ImGui::TextColored(ImVec4(0.4f, 1.0f, 0.5f, 1), "%s", line.c_str());
        else
            ImGui::TextUnformatted(line.c_str());
    }
    if (code.empty())
        ImGui::TextDisabled("%s", fmt::format("no code readable at {:#x}", c.rip).c_str());
    ImGui::End();
}

}  // namespace bootsim::gui
