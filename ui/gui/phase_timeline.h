#pragma once
// The phase timeline as data: each phase the boot entered, from when to
// when on the host's clock (what the user watched), laid out on an axis of
// a given width. The panel draws the bars; the tests check the layout.

#include <cstdint>
#include <string>
#include <vector>

#include "core/phase.h"

namespace bootsim::gui {

struct PhaseMark {
    Phase phase;
    uint64_t wall_ns = 0;     // host time since the machine started
    uint64_t virtual_ns = 0;  // guest time
    uint64_t address = 0;     // the RIP that showed it
};

// One initcall on the host's clock (end_ns 0: still running).
struct InitcallMark {
    std::string name;
    uint64_t begin_ns = 0, end_ns = 0;  // host time
    uint64_t guest_ns = 0;              // its guest time, once returned
    uint64_t instructions = 0;          // counted ones (0 when not counted)
};

struct TimelineBar {
    Phase phase;
    float x0 = 0, x1 = 0;     // pixels from the axis' start
    uint64_t begin_ns = 0, end_ns = 0;
    bool current = false;     // the phase the boot is in now
};

// Bars for `marks` (in the order entered) on an axis [0, width) covering
// [0, max(now, last mark)]. Each bar ends where the next begins; the last
// one at `now` and is current unless `ended`. A bar is at least
// `min_width` pixels so a short phase (the handoff) stays visible; later
// bars shift right to make room and the axis stays within `width`.
std::vector<TimelineBar> layout_timeline(const std::vector<PhaseMark>& marks, uint64_t now_ns, float width,
                                         bool ended, float min_width = 3.0f);

// Where host time `ns` falls on the axis the bars were laid out on: inside
// the bar that covers it, in proportion (bars stretched to their minimum
// width stretch their time with them).
float timeline_x(const std::vector<TimelineBar>& bars, uint64_t ns);

}  // namespace bootsim::gui
