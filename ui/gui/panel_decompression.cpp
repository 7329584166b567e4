// The decompressor at work: the codec, bytes produced against the size the
// payload says it unpacks to, and the rate, from the pages it has written
// (sampled, like the heat map).
#include <imgui.h>
#include <fmt/format.h>

#include "ui/gui/gui_state.h"

namespace bootsim::gui {

void draw_decompression(GuiState& s)
{
    place_window(s, s.layout.decompression);
    ImGui::Begin("Decompression");
    if (!s.session || !s.session->boot || !s.activity) {
        ImGui::End();
        return;
    }
    const PreparedBoot& boot = *s.session->boot;
    const BzImage& k = boot.kernel();
    const BootPlan& plan = boot.plan();
    uint64_t expected = k.decompressed_size;
    ImGui::Text("%s", fmt::format("codec {}: {:.1f} MiB compressed -> {:.1f} MiB", compression_name(k.compression),
                                  double(k.payload().size()) / (1 << 20), double(expected) / (1 << 20))
                          .c_str());
    // Output goes to the buffer below the decompressor's moved copy.
    uint64_t begin = plan.load_address / 4096;
    uint64_t end = (s.record.decompressor_moved_to ? s.record.decompressor_moved_to : plan.load_address + plan.init_size) / 4096;
    uint64_t produced = 0;
    if (s.snap.phase == Phase::Decompress)
        produced = std::min<uint64_t>(expected, s.activity->pages_written_since_epoch(begin, end) * 4096);
    else if (s.snap.phase > Phase::Decompress)
        produced = expected;
    if (s.snap.phase == Phase::Decompress)
        s.decompress_rate.sample(s.now, double(produced));
    float fraction = expected ? float(double(produced) / double(expected)) : 0;
    ImGui::ProgressBar(fraction, ImVec2(-1, 0),
                       fmt::format("{:.1f} / {:.1f} MiB", double(produced) / (1 << 20), double(expected) / (1 << 20)).c_str());
    if (s.snap.phase == Phase::Decompress)
        ImGui::Text("%s", fmt::format("{:.1f} MiB/s (host time)", s.decompress_rate.rate() / (1 << 20)).c_str());
    else if (s.snap.phase < Phase::Decompress)
        ImGui::TextDisabled("not started");
    else {
        for (const PhaseMark& a : s.record.phases)
            for (const PhaseMark& b : s.record.phases)
                if (a.phase == Phase::Decompress && b.phase == Phase::Handoff && b.wall_ns > a.wall_ns)
                    ImGui::Text("%s", fmt::format("done in {:.2f} s host time: {:.1f} MiB/s", double(b.wall_ns - a.wall_ns) / 1e9,
                                                  double(expected) / (1 << 20) / (double(b.wall_ns - a.wall_ns) / 1e9))
                                          .c_str());
    }
    if (s.record.decompressor_moved_to)
        ImGui::Text("%s", fmt::format("decompressor moved itself to {:#x}", s.record.decompressor_moved_to).c_str());
    ImGui::End();
}

}  // namespace bootsim::gui
