#pragma once
// Large host buffers on transparent huge pages. Asked for before the buffer
// is first touched, the host then faults it in 2 MiB at a time instead of
// 4 KiB: on a host where faults are dear (a virtual machine: ~6 us each
// here) that is most of the cost of filling 50 MiB. Advice only: where THP
// is off (or the buffer is small) nothing changes.

#include <cstddef>
#include <cstdint>
#include <sys/mman.h>

namespace bootsim {

inline void advise_huge_pages(void* data, size_t size)
{
    constexpr uintptr_t huge = uintptr_t(2) << 20;
    uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + huge - 1) & ~(huge - 1);
    uintptr_t end = (reinterpret_cast<uintptr_t>(data) + size) & ~(huge - 1);
    if (end > begin)
        (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace bootsim
