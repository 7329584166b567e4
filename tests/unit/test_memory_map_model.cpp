// What the memory map paints: the plan's regions in their colours at their
// cells, the decompressor's output filling in, heat on top.
#include <gtest/gtest.h>

#include "loader/boot_plan.h"
#include "ui/gui/memory_map_model.h"
#include "unit/fake_bzimage.h"

using namespace bootsim;
using namespace bootsim::gui;

namespace {

BootPlan fake_plan(std::vector<uint8_t>* initrd, EntryMode entry = EntryMode::Long64)
{
    auto kernel = parse_bzimage("fake", fake::build_fake_bzimage({}));
    EXPECT_TRUE(kernel.ok());
    BootConfig config;
    config.mem_size = 128ull << 20;
    config.entry = entry;
    auto plan = make_boot_plan(*kernel, initrd, config);
    EXPECT_TRUE(plan.ok());
    return *plan;
}

uint32_t cell_at(const std::vector<uint32_t>& cells, const MemoryGrid& g, uint64_t address)
{
    return cells[size_t(g.cell_of(address))];
}

}  // namespace

TEST(MemoryMapModel, RegionsInPlanOrderWithHolesFirst)
{
    std::vector<uint8_t> initrd(300 << 10, 0x42);
    BootPlan plan = fake_plan(&initrd);
    auto regions = plan_regions(plan);
    ASSERT_FALSE(regions.empty());
    // The legacy hole 640 KiB..1 MiB is there, as a hole (the part the e820
    // map leaves out and the part it calls reserved), and so is what lies
    // past the top of RAM.
    auto hole_at = [&](uint64_t address) {
        for (const MapRegion& r : regions)
            if (r.colour == colour::hole && r.begin <= address && address < r.end)
                return true;
        return false;
    };
    EXPECT_TRUE(hole_at(0xa0000));
    EXPECT_TRUE(hole_at(0xb8000));
    EXPECT_TRUE(hole_at(0xfffff));
    EXPECT_FALSE(hole_at(0x100000));
    EXPECT_FALSE(hole_at(0x9f000));
    EXPECT_TRUE(hole_at(plan.mem_size));
    // The decompression buffer comes before the compressed kernel inside it.
    size_t buffer = 0, kernel = 0;
    for (size_t i = 0; i < regions.size(); ++i) {
        if (regions[i].colour == colour::decompress_buffer)
            buffer = i;
        if (regions[i].colour == colour::kernel)
            kernel = i;
    }
    EXPECT_LT(buffer, kernel);
}

TEST(MemoryMapModel, CellsShowEachRegionsColourWhereItIs)
{
    std::vector<uint8_t> initrd(4 << 20, 0x42);
    BootPlan plan = fake_plan(&initrd);
    MemoryGrid g(0, plan.mem_size, 64, 64);  // 32 KiB cells
    auto cells = compose_cells(g, plan_regions(plan), nullptr);
    const Region* rd = plan.find(RegionRole::Initrd);
    const Region* buffer = plan.find(RegionRole::DecompressBuffer);
    ASSERT_TRUE(rd && buffer);
    EXPECT_EQ(cell_at(cells, g, rd->guest_address + rd->size / 2), colour::initrd.abgr());
    EXPECT_EQ(cell_at(cells, g, plan.load_address), colour::kernel.abgr());
    EXPECT_EQ(cell_at(cells, g, buffer->guest_address + buffer->size - 1), colour::decompress_buffer.abgr());
    EXPECT_EQ(cell_at(cells, g, 0xb0000), colour::hole.abgr());
    EXPECT_EQ(cell_at(cells, g, 0x7000), colour::boot_params.abgr());
    EXPECT_EQ(cell_at(cells, g, (64ull << 20) + 12345), colour::ram.abgr());  // nothing placed there

    // Through the real-mode entry, the setup sectors and the BIOS's tables
    // are there instead of the loader's boot_params (the BIOS tables, 1.2 KiB,
    // are too small to win a 32 KiB cell).
    BootPlan real = fake_plan(&initrd, EntryMode::Real16);
    auto real_cells = compose_cells(g, plan_regions(real), nullptr);
    EXPECT_EQ(cell_at(real_cells, g, 0x10000), colour::setup.abgr());
    EXPECT_EQ(cell_at(real_cells, g, 0x7000), colour::ram.abgr());
}

TEST(MemoryMapModel, OutputFillAndHeat)
{
    BootPlan plan = fake_plan(nullptr);
    std::vector<uint8_t> ram(plan.mem_size, 0);
    PageActivity activity(ram.size(), 1.0);
    activity.sample_writes(ram, activity.pages() + 1);
    activity.mark_epoch();
    // The decompressor writes two pages at the load address.
    ram[plan.load_address] = 1;
    ram[plan.load_address + 4096] = 1;
    activity.sample_writes(ram, activity.pages());
    activity.decay(100);  // heat gone; the fill stays
    MemoryGrid g(0, plan.mem_size, 512, 64);  // 4 KiB cells
    CellOptions fill{true, plan.load_address, plan.load_address + plan.init_size};
    auto cells = compose_cells(g, plan_regions(plan), &activity, fill);
    EXPECT_EQ(cell_at(cells, g, plan.load_address), colour::kernel_output.abgr());
    EXPECT_EQ(cell_at(cells, g, plan.load_address + 4096), colour::kernel_output.abgr());
    EXPECT_EQ(cell_at(cells, g, plan.load_address + 8192), colour::decompress_buffer.abgr());  // past the fake's code
    // Without the fill option the region's own colour shows.
    auto plain = compose_cells(g, plan_regions(plan), &activity);
    EXPECT_EQ(cell_at(plain, g, plan.load_address), colour::kernel.abgr());

    // A page just written glows towards white; one executed, pink.
    ram[(64ull << 20)] = 9;
    activity.sample_writes(ram, activity.pages());
    activity.mark_executed((80ull << 20) + 5);
    cells = compose_cells(g, plan_regions(plan), &activity);
    EXPECT_EQ(cell_at(cells, g, 64ull << 20), blend(colour::ram, colour::written, 0.75f).abgr());
    EXPECT_EQ(cell_at(cells, g, 80ull << 20), colour::executed.abgr());
}
