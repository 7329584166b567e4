// The phase timeline's layout on its axis.
#include <gtest/gtest.h>

#include "ui/gui/phase_timeline.h"

using namespace bootsim;
using namespace bootsim::gui;

namespace {
constexpr uint64_t ms = 1'000'000;
}

TEST(PhaseTimeline, BarsFollowOneAnotherToNow)
{
    std::vector<PhaseMark> marks = {{Phase::Loaded, 0}, {Phase::Decompress, 100 * ms}, {Phase::Handoff, 600 * ms}};
    auto bars = layout_timeline(marks, 1000 * ms, 1000, false, 0);
    ASSERT_EQ(bars.size(), 3u);
    EXPECT_FLOAT_EQ(bars[0].x0, 0);
    EXPECT_FLOAT_EQ(bars[0].x1, 100);
    EXPECT_FLOAT_EQ(bars[1].x0, 100);
    EXPECT_FLOAT_EQ(bars[1].x1, 600);
    EXPECT_FLOAT_EQ(bars[2].x0, 600);
    EXPECT_FLOAT_EQ(bars[2].x1, 1000);
    EXPECT_EQ(bars[2].end_ns, 1000 * ms);
    EXPECT_FALSE(bars[0].current);
    EXPECT_FALSE(bars[1].current);
    EXPECT_TRUE(bars[2].current);
}

TEST(PhaseTimeline, NothingIsCurrentOnceEnded)
{
    std::vector<PhaseMark> marks = {{Phase::Loaded, 0}, {Phase::Halt, 500 * ms}};
    auto bars = layout_timeline(marks, 500 * ms, 100, true);
    ASSERT_EQ(bars.size(), 2u);
    EXPECT_FALSE(bars[1].current);
}

TEST(PhaseTimeline, ShortPhasesKeepAMinimumWidthWithinTheAxis)
{
    // The handoff lasts a microsecond of a ten-second boot.
    std::vector<PhaseMark> marks = {{Phase::Loaded, 0},
                                    {Phase::Decompress, 1 * ms},
                                    {Phase::Handoff, 5000 * ms},
                                    {Phase::Kernel, 5000 * ms + 1000},
                                    {Phase::Init, 9000 * ms}};
    auto bars = layout_timeline(marks, 10000 * ms, 500, false, 4);
    ASSERT_EQ(bars.size(), 5u);
    for (size_t i = 0; i < bars.size(); ++i) {
        EXPECT_GE(bars[i].x1 - bars[i].x0, 4.0f - 1e-3f) << i;
        EXPECT_LE(bars[i].x1, 500.0f);
        if (i > 0) {
            EXPECT_GE(bars[i].x0, bars[i - 1].x1 - 1e-3f) << i;  // no overlap
        }
    }
    // Long phases stay roughly proportional: the kernel's 4 s vs decompress's 5 s.
    float decompress = bars[1].x1 - bars[1].x0, kernel = bars[3].x1 - bars[3].x0;
    EXPECT_NEAR(kernel / decompress, 4.0f / 5.0f, 0.05f);
}

TEST(PhaseTimeline, EmptyOrNoRoom)
{
    EXPECT_TRUE(layout_timeline({}, 5, 100, false).empty());
    EXPECT_TRUE(layout_timeline({{Phase::Loaded, 0}}, 5, 0, false).empty());
    // Now before the last mark (a stale snapshot): the axis reaches the mark.
    auto bars = layout_timeline({{Phase::Loaded, 0}, {Phase::Decompress, 50}}, 10, 100, false, 0);
    ASSERT_EQ(bars.size(), 2u);
    EXPECT_LE(bars[1].x1, 100.0f);
}

// Initcalls sit on the phases' axis: a time inside a bar maps into it in
// proportion, past the last bar to its end.
TEST(PhaseTimeline, TimesMapOntoTheBars)
{
    std::vector<PhaseMark> marks = {{Phase::Loaded, 0, 0, 0}, {Phase::Kernel, 1000, 0, 0}};
    auto bars = layout_timeline(marks, 3000, 300, true, 0);
    EXPECT_FLOAT_EQ(timeline_x(bars, 0), 0);
    EXPECT_FLOAT_EQ(timeline_x(bars, 500), 50);
    EXPECT_FLOAT_EQ(timeline_x(bars, 2000), 200);
    EXPECT_FLOAT_EQ(timeline_x(bars, 5000), 300);
    EXPECT_FLOAT_EQ(timeline_x({}, 5), 0);
}
