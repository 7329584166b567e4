// The memory map's activity heat: pages seen written or executed, decaying.
#include <gtest/gtest.h>

#include <vector>

#include "ui/gui/page_activity.h"

using namespace bootsim::gui;

namespace {
constexpr uint64_t page = 4096;
}

TEST(PageActivity, FirstSweepOnlyLearnsThenChangesShow)
{
    std::vector<uint8_t> ram(64 * page, 0);
    ram[5 * page] = 1;  // loaded before the first sweep: not "written recently"
    PageActivity a(ram.size(), 1.0);
    a.sample_writes(ram, 64);
    EXPECT_FALSE(a.primed());
    a.sample_writes(ram, 1);  // wraps: the first sweep is done
    EXPECT_TRUE(a.primed());
    for (uint64_t p = 0; p < 64; ++p)
        EXPECT_EQ(a.write_heat(p), 0.0f) << p;

    ram[10 * page + 100] = 0xaa;
    ram[63 * page + 4095] = 0x55;  // the last byte of the last page
    a.sample_writes(ram, 64);
    EXPECT_EQ(a.write_heat(10), 1.0f);
    EXPECT_EQ(a.write_heat(63), 1.0f);
    EXPECT_EQ(a.write_heat(11), 0.0f);
}

TEST(PageActivity, SweepsInSlicesAndWraps)
{
    std::vector<uint8_t> ram(16 * page, 0);
    PageActivity a(ram.size(), 1.0);
    a.sample_writes(ram, 17);  // learn everything
    ram[3 * page] = 7;
    ram[12 * page] = 7;
    a.sample_writes(ram, 8);  // pages 1..8 (the cursor went past page 0)
    EXPECT_EQ(a.write_heat(3), 1.0f);
    EXPECT_EQ(a.write_heat(12), 0.0f);  // not sampled yet
    a.sample_writes(ram, 8);
    EXPECT_EQ(a.write_heat(12), 1.0f);
}

TEST(PageActivity, HeatHalvesEveryHalfLifeAndDiesOut)
{
    std::vector<uint8_t> ram(4 * page, 0);
    PageActivity a(ram.size(), 0.5);
    a.sample_writes(ram, 5);
    ram[page] = 1;
    a.sample_writes(ram, 4);
    a.mark_executed(2 * page + 17);
    ASSERT_EQ(a.write_heat(1), 1.0f);
    ASSERT_EQ(a.exec_heat(2), 1.0f);
    a.decay(0.5);
    EXPECT_NEAR(a.write_heat(1), 0.5f, 1e-4);
    EXPECT_NEAR(a.exec_heat(2), 0.5f, 1e-4);
    a.decay(0.5);
    EXPECT_NEAR(a.write_heat(1), 0.25f, 1e-4);
    a.decay(10);
    EXPECT_EQ(a.write_heat(1), 0.0f);
    EXPECT_EQ(a.exec_heat(2), 0.0f);
    a.mark_executed(1ull << 40);  // outside RAM: ignored
}

TEST(PageActivity, EpochCountsPagesWrittenSince)
{
    std::vector<uint8_t> ram(32 * page, 0);
    PageActivity a(ram.size(), 1.0);
    a.sample_writes(ram, 33);
    ram[2 * page] = 1;
    a.sample_writes(ram, 32);
    a.mark_epoch();  // page 2 was before the epoch
    for (uint64_t p = 8; p < 12; ++p)
        ram[p * page + 9] = 3;
    a.sample_writes(ram, 32);
    EXPECT_EQ(a.pages_written_since_epoch(0, 32), 4u);
    EXPECT_EQ(a.pages_written_since_epoch(9, 11), 2u);
    EXPECT_FALSE(a.written_since_epoch(2));
    EXPECT_TRUE(a.written_since_epoch(8));
}

TEST(PageActivity, HashSeesMovedAndSwappedWords)
{
    std::vector<uint8_t> a(page, 0), b(page, 0);
    a[0] = 1;
    b[8] = 1;  // the same word, one position on
    EXPECT_NE(PageActivity::hash_page(a.data()), PageActivity::hash_page(b.data()));
    std::vector<uint8_t> c(page, 0);
    c[page - 1] = 0x80;
    EXPECT_NE(PageActivity::hash_page(c.data()), PageActivity::hash_page(std::vector<uint8_t>(page, 0).data()));
}
