// The boot protocol as the loader spoke it (setup header, boot_params, the
// e820 map, the command line), the initrd's files as the kernel will unpack
// them, and the devices' traffic.
#include <chrono>

#include <imgui.h>
#include <fmt/format.h>

#include "loader/boot_params_fields.h"
#include "ui/gui/gui_state.h"

namespace bootsim::gui {

namespace {

void field_table(const char* id, const std::vector<BootField>& fields)
{
    if (!ImGui::BeginTable(id, 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_Resizable))
        return;
    ImGui::TableSetupColumn("field");
    ImGui::TableSetupColumn("value");
    ImGui::TableSetupColumn("meaning");
    ImGui::TableHeadersRow();
    for (const BootField& f : fields) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(f.name.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(f.value.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(f.meaning.c_str());
    }
    ImGui::EndTable();
}

void protocol_tab(GuiState& s)
{
    const BootPlan& plan = s.session->boot->plan();
    ImGui::TextWrapped("%s", fmt::format("command line ({} bytes at {:#x}): {}", plan.cmdline.size(),
                                         plan.find(RegionRole::Cmdline) ? plan.find(RegionRole::Cmdline)->guest_address : 0,
                                         plan.cmdline)
                                 .c_str());
    if (ImGui::CollapsingHeader("e820 map", ImGuiTreeNodeFlags_DefaultOpen)) {
        for (const E820Row& e : decode_e820(s.zero_page))
            ImGui::Text("%s", fmt::format("{:#014x}-{:#014x}  {}", e.address, e.address + e.size - 1, e.type_name).c_str());
    }
    if (ImGui::CollapsingHeader("setup header", ImGuiTreeNodeFlags_DefaultOpen))
        field_table("hdr", decode_setup_header(s.zero_page));
    if (ImGui::CollapsingHeader("boot_params"))
        field_table("bp", decode_boot_params(s.zero_page));
}

void initrd_tab(GuiState& s)
{
    auto& future = s.session->initrd;
    if (future.valid() && future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ImGui::TextDisabled("reading the initrd...");
        return;
    }
    const std::optional<InitrdCatalog>* catalog = future.valid() ? &future.get() : nullptr;
    if (!catalog || !*catalog) {
        ImGui::TextDisabled("no initrd, or it could not be read");
        return;
    }
    const InitrdCatalog& initrd = **catalog;
    ImGui::Text("%s", fmt::format("{} archive(s), {} entries", initrd.archives.size(), initrd.total_files()).c_str());
    int n = 0;
    for (const InitrdArchive& a : initrd.archives) {
        std::string title = fmt::format("archive {} at offset {:#x}: {}, {} bytes, {} entries##{}", n, a.offset, a.format,
                                        a.compressed_size, a.files.size(), n);
        ++n;
        if (!ImGui::CollapsingHeader(title.c_str(), size_t(n) == initrd.archives.size() ? ImGuiTreeNodeFlags_DefaultOpen : 0))
            continue;
        if (!a.error.empty())
            ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", a.error.c_str());
        ImGuiListClipper clipper;
        clipper.Begin(int(a.files.size()));
        while (clipper.Step())
            for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
                const InitrdFile& f = a.files[size_t(i)];
                char type = (f.mode & 0170000) == 0040000 ? 'd' : (f.mode & 0170000) == 0120000 ? 'l' : '-';
                std::string line = fmt::format("{}{:04o} {:>10}  {}", type, f.mode & 07777, f.size, f.path);
                if (!f.link_target.empty())
                    line += " -> " + f.link_target;
                ImGui::TextUnformatted(line.c_str());
            }
    }
}

void devices_tab(GuiState& s)
{
    ImGui::Text("%s", fmt::format("timer ticks (IRQ 0): {}", s.snap.irq_counts[0]).c_str());
    ImGui::Text("%s", fmt::format("disk requests: {} ({:.1f} MiB, {} failed)", s.record.disk_requests,
                                  double(s.record.disk_bytes) / (1 << 20), s.record.disk_errors)
                          .c_str());
    ImGui::Text("%s", fmt::format("exceptions delivered: {}", s.record.exceptions).c_str());
    if (ImGui::BeginTable("irqs", 3, ImGuiTableFlags_RowBg)) {
        ImGui::TableSetupColumn("IRQ");
        ImGui::TableSetupColumn("device");
        ImGui::TableSetupColumn("raised");
        ImGui::TableHeadersRow();
        for (int i = 0; i < 16; ++i) {
            const std::string& owner = s.snap.irq_owners[size_t(i)];
            if (owner.empty() && s.snap.irq_counts[size_t(i)] == 0)
                continue;  // nothing wired there
            ImGui::TableNextColumn();
            ImGui::Text("%d", i);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(owner.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%llu", static_cast<unsigned long long>(s.snap.irq_counts[size_t(i)]));
        }
        ImGui::EndTable();
    }
}

// What the kernel and the initrd did to reach the root, in order: modules,
// disks, device-mapper tables, unlocks, mounts, hibernation images.
void steps_tab(GuiState& s)
{
    const auto& steps = s.record.steps;
    if (steps.empty()) {
        ImGui::TextWrapped("No steps yet: modules, block devices, device-mapper tables, unlocks, mounts and "
                           "hibernation images appear here as the kernel and the initrd take them.");
        return;
    }
    if (!ImGui::BeginTable("steps", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("guest s", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("step", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("what");
    ImGui::TableHeadersRow();
    for (const auto& step : steps) {
        // Modules and plain disks are the many; volumes, arrays, unlocks and
        // images are the few that make a root hard: those stand out.
        bool routine = step.kind == BootStepKind::Module || step.kind == BootStepKind::BlockDevice;
        ImVec4 colour = routine ? ImGui::GetStyleColorVec4(ImGuiCol_Text) : ImVec4(1.0f, 0.85f, 0.3f, 1.0f);
        ImGui::TableNextColumn();
        ImGui::Text("%8.3f", double(step.virtual_ns) / 1e9);
        ImGui::TableNextColumn();
        ImGui::TextColored(colour, "%s", boot_step_name(step.kind));
        ImGui::TableNextColumn();
        ImGui::TextColored(colour, "%s", step.text.c_str());
    }
    if (steps.size() > s.steps_seen)
        ImGui::SetScrollHereY(1.0f);  // follow the newest while they come
    ImGui::EndTable();
}

// The real-mode entry's extra steps: the CPU's mode changes, and the BIOS
// services the setup code called, by service.
void firmware_tab(GuiState& s)
{
    const auto& r = s.record;
    if (r.modes.empty() && r.firmware.empty()) {
        ImGui::TextWrapped("The CPU's mode changes and the BIOS services the kernel's setup code calls appear here "
                           "(--entry real: every service; --entry 32: the switch to long mode).");
        return;
    }
    for (const auto& m : r.modes)
        ImGui::Text("%8.3f  %s at %#llx (phase %s)", double(m.virtual_ns) / 1e9,
                    m.mode == "long" ? "long mode on (EFER.LMA)" : "protected mode on (CR0.PE)",
                    static_cast<unsigned long long>(m.address), std::string(phase_name(m.phase)).c_str());
    if (r.firmware.empty() ||
        !ImGui::BeginTable("bios", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("guest s", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("calls", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("BIOS service");
    ImGui::TableHeadersRow();
    for (const auto& f : r.firmware) {
        // What the firmware answered as absent stands out: a feature the
        // setup code looked for and went without.
        ImVec4 colour = f.supported ? ImGui::GetStyleColorVec4(ImGuiCol_Text) : ImVec4(0.6f, 0.6f, 0.6f, 1.0f);
        ImGui::TableNextColumn();
        ImGui::Text("%8.3f", double(f.first_ns) / 1e9);
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(f.calls));
        ImGui::TableNextColumn();
        ImGui::TextColored(colour, "%s", f.service.c_str());
    }
    ImGui::EndTable();
}

// Whether a step beyond modules and mounts is new since the last frame:
// then the tab that lists them comes forward, once per step.
bool new_storage_step(GuiState& s)
{
    bool found = false;
    for (size_t i = s.steps_seen; i < s.record.steps.size(); ++i) {
        BootStepKind kind = s.record.steps[i].kind;
        found |= kind == BootStepKind::DeviceMapper || kind == BootStepKind::RaidArray ||
                 kind == BootStepKind::Unlock || kind == BootStepKind::Hibernate || kind == BootStepKind::Resume ||
                 kind == BootStepKind::DhcpLease;
    }
    return found;
}

}  // namespace

void draw_inspector(GuiState& s)
{
    place_window(s, s.layout.inspector);
    ImGui::Begin("Boot protocol and devices");
    if (!s.session || !s.session->boot) {
        ImGui::TextWrapped("%s", s.snap.status.c_str());
        ImGui::End();
        return;
    }
    if (ImGui::BeginTabBar("tabs")) {
        if (ImGui::BeginTabItem("Boot protocol")) {
            protocol_tab(s);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Initrd files")) {
            initrd_tab(s);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Devices")) {
            devices_tab(s);
            ImGui::EndTabItem();
        }
        // The real-mode setup's BIOS calls are what there is to see
        // while it runs: its tab comes forward once, at the first.
        bool firmware_forward = !s.firmware_shown && !s.record.firmware.empty();
        if (ImGui::BeginTabItem("Firmware and CPU modes", nullptr,
                                firmware_forward ? ImGuiTabItemFlags_SetSelected : 0)) {
            firmware_tab(s);
            ImGui::EndTabItem();
        }
        s.firmware_shown |= firmware_forward;
        bool bring_forward = new_storage_step(s);
        if (ImGui::BeginTabItem("Way to the root", nullptr, bring_forward ? ImGuiTabItemFlags_SetSelected : 0)) {
            steps_tab(s);
            ImGui::EndTabItem();
        }
        s.steps_seen = s.record.steps.size();
        ImGui::EndTabBar();
    }
    ImGui::End();
}

}  // namespace bootsim::gui
