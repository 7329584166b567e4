#include "ui/gui/phase_timeline.h"

#include <algorithm>

namespace bootsim::gui {

std::vector<TimelineBar> layout_timeline(const std::vector<PhaseMark>& marks, uint64_t now_ns, float width,
                                         bool ended, float min_width)
{
    std::vector<TimelineBar> bars;
    if (marks.empty() || width <= 0)
        return bars;
    uint64_t total = std::max<uint64_t>({now_ns, marks.back().wall_ns, 1});
    // Room the minimum widths take, shared out of the axis first.
    float reserved = min_width * float(marks.size());
    float scale = std::max(0.0f, width - reserved) / float(total);
    float x = 0;
    for (size_t i = 0; i < marks.size(); ++i) {
        TimelineBar bar{marks[i].phase};
        bar.begin_ns = marks[i].wall_ns;
        bar.end_ns = i + 1 < marks.size() ? marks[i + 1].wall_ns : std::max(now_ns, bar.begin_ns);
        bar.x0 = std::max(x, float(bar.begin_ns) * scale + min_width * float(i));
        bar.x1 = std::min(width, bar.x0 + std::max(min_width, float(bar.end_ns - bar.begin_ns) * scale));
        bar.current = !ended && i + 1 == marks.size();
        x = bar.x1;
        bars.push_back(bar);
    }
    return bars;
}

float timeline_x(const std::vector<TimelineBar>& bars, uint64_t ns)
{
    if (bars.empty())
        return 0;
    for (const TimelineBar& b : bars) {
        if (ns > b.end_ns)
            continue;
        if (ns <= b.begin_ns || b.end_ns == b.begin_ns)
            return b.x0;
        return b.x0 + (b.x1 - b.x0) * float(double(ns - b.begin_ns) / double(b.end_ns - b.begin_ns));
    }
    return bars.back().x1;
}

}  // namespace bootsim::gui
