// --screenshot renders the visualizer off-screen (no display: SDL's
// offscreen driver) at a phase. The PNG is checked for what it must show,
// not against a golden image: the BootPlan's regions in their colours where
// the layout puts their addresses, the decompressed kernel at its address,
// the phase timeline, and text (the console at /init).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "loader/boot_plan.h"
#include "loader/bzimage.h"
#include "support/images.h"
#include "support/run_command.h"
#include "ui/gui/memory_grid.h"
#include "ui/gui/palette.h"
#include "ui/gui/png_file.h"
#include "ui/gui/screen_layout.h"

using namespace bootsim;
using namespace bootsim::gui;
using bootsim::test::image;
using bootsim::test::run_command;

namespace {

const std::string append = "console=ttyS0 nokaslr";  // the kernel where the test can find it

struct Shot {
    Image picture;
    BootPlan plan;
    std::string output;
};

Shot take(const std::string& phase)
{
    Shot shot;
    std::string png = (std::filesystem::temp_directory_path() / ("bootsim-shot-" + phase + ".png")).string();
    std::filesystem::remove(png);
    auto r = run_command("env -u DISPLAY -u WAYLAND_DISPLAY " + std::string(BOOTSIM_BINARY) + " --kernel " +
                         image("bookworm/cloud/vmlinuz") + " --initrd " + image("initrd-busybox.cpio.gz") + " --append '" +
                         append + "' --timeout 180 --screenshot " + png + " --screenshot-at " + phase + " 2>&1");
    shot.output = r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0);
    EXPECT_NE(r.output.find("at phase " + phase), std::string::npos);
    auto picture = read_png(png);
    EXPECT_TRUE(picture.ok()) << (picture ? "" : picture.error().message);
    if (picture)
        shot.picture = std::move(*picture);
    // The same plan bootsim made, for the addresses.
    auto kernel = load_bzimage(image("bookworm/cloud/vmlinuz"));
    auto initrd = read_file(image("initrd-busybox.cpio.gz"), "initrd");
    BootConfig config;
    config.cmdline = append;
    config.mem_size = 512ull << 20;
    auto plan = make_boot_plan(*kernel, &*initrd, config);
    EXPECT_TRUE(plan.ok());
    shot.plan = *plan;
    std::filesystem::remove(png);
    return shot;
}

int distance(const uint8_t* p, Rgb c)
{
    return std::abs(p[0] - c.r) + std::abs(p[1] - c.g) + std::abs(p[2] - c.b);
}

// Whether a pixel shows `c`, possibly glowing towards white: the map blends
// pages written recently with white, fading over a second or two.
bool shows(const uint8_t* p, Rgb c)
{
    for (int step = 0; step <= 20; ++step)
        if (distance(p, blend(c, colour::written, float(step) / 20)) <= 15)
            return true;
    return false;
}

// The share of the cells covering [begin, end) whose centre pixel shows
// `want` (labels drawn over a region hide some cells).
double share_of_cells(const Shot& shot, uint64_t begin, uint64_t end, Rgb want)
{
    ScreenLayout l = screen_layout(float(shot.picture.width), float(shot.picture.height));
    const Rect& map = l.map_image;
    MemoryGrid grid(0, shot.plan.mem_size, int(map.w / ScreenLayout::cell_pixels), int(map.h / ScreenLayout::cell_pixels));
    int cells = 0, matching = 0;
    for (const MemoryGrid::Run& run : grid.runs_of(begin, end))
        for (int col = run.first_column; col <= run.last_column; ++col) {
            int x = int(map.x + float(col) * ScreenLayout::cell_pixels + 2);
            int y = int(map.y + float(run.row) * ScreenLayout::cell_pixels + 2);
            ++cells;
            matching += shows(shot.picture.pixel(x, y), want);
        }
    return cells ? double(matching) / cells : 0;
}

// Pixels in `r` within `tolerance` of `c`.
int pixels_like(const Shot& shot, const Rect& r, Rgb c, int tolerance)
{
    int n = 0;
    for (int y = int(r.y); y < int(r.y + r.h) && y < shot.picture.height; ++y)
        for (int x = int(r.x); x < int(r.x + r.w) && x < shot.picture.width; ++x)
            n += distance(shot.picture.pixel(x, y), c) <= tolerance;
    return n;
}

}  // namespace

TEST(Screenshot, HandoffShowsThePlanAndTheDecompressedKernel)
{
    Shot shot = take("handoff");
    ASSERT_EQ(shot.picture.width, 1600);
    ASSERT_EQ(shot.picture.height, 1000);
    const Region* initrd = shot.plan.find(RegionRole::Initrd);
    ASSERT_TRUE(initrd);
    // The initrd, untouched so far, in its colour where its address is.
    EXPECT_GT(share_of_cells(shot, initrd->guest_address, initrd->guest_address + initrd->size, colour::initrd), 0.5);
    // The decompressed kernel's text at 16 MiB (nokaslr), as written
    // (the last writes may still glow white); its first rows carry labels.
    EXPECT_GT(share_of_cells(shot, 0x1000000 + (8 << 20), 0x1000000 + (24 << 20), colour::kernel_output), 0.5);
    // Free RAM far from everything stays plain.
    EXPECT_GT(share_of_cells(shot, 200ull << 20, 300ull << 20, colour::ram), 0.9);
    // The timeline shows the handoff bar (its colour) and phase names (text).
    ScreenLayout l = screen_layout(1600, 1000);
    EXPECT_GT(pixels_like(shot, l.timeline, Rgb{230, 60, 80}, 6), 20);
    EXPECT_GT(pixels_like(shot, l.timeline, Rgb{230, 230, 230}, 30), 40);
}

TEST(Screenshot, InitShowsTheFreedInitrdAndTheConsole)
{
    Shot shot = take("init");
    const Region* initrd = shot.plan.find(RegionRole::Initrd);
    ASSERT_TRUE(initrd);
    // The kernel has freed the initrd by the time /init runs.
    EXPECT_GT(share_of_cells(shot, initrd->guest_address, initrd->guest_address + initrd->size, colour::initrd_freed),
              0.5);
    // The console pane holds the kernel's log: lots of console-coloured text.
    ScreenLayout l = screen_layout(1600, 1000);
    EXPECT_GT(pixels_like(shot, l.console, Rgb{200, 230, 200}, 40), 2000);
    // And the init phase's bar, current, on the timeline.
    EXPECT_GT(pixels_like(shot, l.timeline, Rgb{230, 200, 60}, 6), 10);
    EXPECT_NE(shot.output.find("Run /init as init process"), std::string::npos);
}
