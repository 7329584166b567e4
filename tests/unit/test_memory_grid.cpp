// The memory map's grid: addresses to cells to scale, runs of cells per
// region, zoom.
#include <gtest/gtest.h>

#include "ui/gui/memory_grid.h"

using namespace bootsim::gui;

TEST(MemoryGrid, WholeRamToScale)
{
    // 512 MiB over 128 x 64 cells: 64 KiB a cell.
    MemoryGrid g(0, 512ull << 20, 128, 64);
    EXPECT_EQ(g.bytes_per_cell(), 64u << 10);
    EXPECT_EQ(g.cell_of(0), 0);
    EXPECT_EQ(g.cell_of(0xffff), 0);
    EXPECT_EQ(g.cell_of(0x10000), 1);
    EXPECT_EQ(g.cell_of((512ull << 20) - 1), 128 * 64 - 1);
    EXPECT_EQ(g.cell_of(512ull << 20), -1);
    EXPECT_EQ(g.address_of(128), 128u * (64 << 10));
}

TEST(MemoryGrid, CellsAreWholePagesAndCoverTheSpan)
{
    // 100 MiB does not divide evenly: cells round up to whole pages, and the
    // grid ends at or after the span, by less than a page a cell.
    MemoryGrid g(0, 100ull << 20, 100, 30);
    EXPECT_EQ(g.bytes_per_cell() % 4096, 0u);
    EXPECT_GE(g.end(), 100ull << 20);
    EXPECT_LT(g.end() - (100ull << 20), uint64_t(g.columns()) * uint64_t(g.rows()) * 4096);
}

TEST(MemoryGrid, RunsOfARegionSpanningRows)
{
    MemoryGrid g(0, 1 << 20, 16, 16);  // 4 KiB cells, 16 a row
    // From the middle of row 1 to the middle of row 3.
    auto runs = g.runs_of(0x18000, 0x38000);
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].row, 1);
    EXPECT_EQ(runs[0].first_column, 8);
    EXPECT_EQ(runs[0].last_column, 15);
    EXPECT_EQ(runs[1].row, 2);
    EXPECT_EQ(runs[1].first_column, 0);
    EXPECT_EQ(runs[1].last_column, 15);
    EXPECT_EQ(runs[2].row, 3);
    EXPECT_EQ(runs[2].first_column, 0);
    EXPECT_EQ(runs[2].last_column, 7);
}

TEST(MemoryGrid, TinyRegionStillGetsItsCell)
{
    MemoryGrid g(0, 512ull << 20, 128, 64);
    auto runs = g.runs_of(0x7000, 0x8000);  // boot_params: one page in a 64 KiB cell
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].first_column, 0);
    EXPECT_EQ(runs[0].last_column, 0);
    EXPECT_TRUE(g.runs_of(600ull << 20, 700ull << 20).empty());  // beyond the grid
    EXPECT_TRUE(g.runs_of(0x9000, 0x9000).empty());              // empty range
}

TEST(MemoryGrid, ZoomKeepsTheAnchorAndStaysInRam)
{
    const uint64_t ram = 512ull << 20;
    MemoryGrid g(0, ram, 128, 64);
    uint64_t anchor = 256ull << 20;
    MemoryGrid z = g.zoomed(anchor, 4.0, ram);
    EXPECT_EQ(z.span(), ram / 4);
    EXPECT_LE(z.base(), anchor);
    EXPECT_GT(z.base() + z.span(), anchor);
    EXPECT_EQ(z.cell_of(anchor), g.cell_of(anchor));  // same place on screen
    // Zooming out past everything shows all of RAM from 0.
    MemoryGrid out = z.zoomed(anchor, 0.01, ram);
    EXPECT_EQ(out.base(), 0u);
    EXPECT_EQ(out.span(), ram);
    // Zooming in stops at a page a cell.
    MemoryGrid deep = g.zoomed(anchor, 1e9, ram);
    EXPECT_EQ(deep.bytes_per_cell(), 4096u);
    // Near the top, the window is pushed back inside RAM.
    MemoryGrid top = g.zoomed(ram - 4096, 8.0, ram);
    EXPECT_LE(top.base() + top.span(), ram);
}
