#include <gtest/gtest.h>

#include <memory>

#include "core/guest_memory.h"
#include "core/page_walk.h"

using namespace bootsim;

namespace {

struct Tables {
    std::unique_ptr<GuestMemory> mem{*GuestMemory::create(16 << 20)};
    void set(uint64_t address, uint64_t value) { ASSERT_TRUE(mem->write_value(address, value)); }
};

PagingMode long_mode(uint64_t cr3)
{
    return PagingMode{.paging = true, .pae = true, .long_mode = true, .la57 = false, .cr3 = cr3};
}

}  // namespace

TEST(PageWalk, NoPagingIsIdentity)
{
    Tables t;
    EXPECT_EQ(translate(*t.mem, PagingMode{}, 0x123456), 0x123456u);
}

TEST(PageWalk, LongMode4KiBPage)
{
    Tables t;
    // PML4[511] -> PDPT at 0x2000; PDPT[510] -> PD at 0x3000; PD[1] -> PT at 0x4000; PT[5] -> 0x800000
    t.set(0x1000 + 511 * 8, 0x2000 | 3);
    t.set(0x2000 + 510 * 8, 0x3000 | 3);
    t.set(0x3000 + 1 * 8, 0x4000 | 3);
    t.set(0x4000 + 5 * 8, 0x800000 | 3);
    uint64_t virt = 0xffffffff80000000ull + (1ull << 21) + (5ull << 12) + 0x2a;
    EXPECT_EQ(translate(*t.mem, long_mode(0x1000), virt), 0x80002au);
}

TEST(PageWalk, LongMode2MiBAnd1GiBPages)
{
    Tables t;
    t.set(0x1000, 0x2000 | 3);
    t.set(0x2000, 0x3000 | 3);                 // PDPT[0] -> PD
    t.set(0x2000 + 8, 0x40000000ull | 0x83);   // PDPT[1]: 1 GiB page at 1 GiB
    t.set(0x3000 + 3 * 8, 0x600000 | 0x83);    // PD[3]: 2 MiB page
    EXPECT_EQ(translate(*t.mem, long_mode(0x1000), 3 * 0x200000 + 0x1234), 0x601234u);
    EXPECT_EQ(translate(*t.mem, long_mode(0x1000), 0x40000000ull + 0x345678), 0x40345678u);
}

TEST(PageWalk, NotPresentAndOutsideRam)
{
    Tables t;
    t.set(0x1000, 0x2000 | 3);
    t.set(0x2000, 0x3000 | 2);  // not present
    EXPECT_FALSE(translate(*t.mem, long_mode(0x1000), 0x1000).has_value());
    t.set(0x2000, 0x7000000000ull | 3);  // a table far outside RAM
    EXPECT_FALSE(translate(*t.mem, long_mode(0x1000), 0x1000).has_value());
}

TEST(PageWalk, Legacy32BitWith4MiBPage)
{
    Tables t;
    ASSERT_TRUE(t.mem->write_value<uint32_t>(0x1000 + 2 * 4, 0x00c00000 | 0x83));
    PagingMode m{.paging = true, .cr3 = 0x1000};
    EXPECT_EQ(translate(*t.mem, m, 0x00800000 + 0x1234), 0x00c01234u);
}

TEST(PageWalk, ExecutableOnlyWithoutExecuteDisableAtAnyLevel)
{
    Tables t;
    constexpr uint64_t xd = 1ull << 63;
    t.set(0x1000, 0x2000 | 3);
    t.set(0x2000, 0x3000 | 3);
    t.set(0x3000, 0x4000 | 3);                // PD[0] -> PT
    t.set(0x4000 + 1 * 8, 0x800000 | 3);      // page 1: executable
    t.set(0x4000 + 2 * 8, 0x801000 | 3 | xd); // page 2: XD in its PTE
    t.set(0x3000 + 1 * 8, 0xa00000 | 0x83 | xd);  // PD[1]: a 2 MiB XD page
    PagingMode m = long_mode(0x1000);
    m.nxe = true;
    EXPECT_TRUE(executable(*t.mem, m, 0x1000));
    EXPECT_FALSE(executable(*t.mem, m, 0x2000));
    EXPECT_FALSE(executable(*t.mem, m, 0x200000 + 0x10));
    EXPECT_FALSE(executable(*t.mem, m, 0x3000));  // not present
    // XD in a table entry above the leaf covers everything below it.
    t.set(0x2000, 0x3000 | 3 | xd);
    EXPECT_FALSE(executable(*t.mem, m, 0x1000));
    // Without EFER.NXE the bit means nothing (it is reserved).
    m.nxe = false;
    EXPECT_TRUE(executable(*t.mem, m, 0x1000));
    EXPECT_EQ(translate(*t.mem, m, 0x2000), 0x801000u);
}
