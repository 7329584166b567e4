#include "core/guest_memory.h"

#include "core/huge_pages.h"

#include <cerrno>
#include <sys/mman.h>

namespace bootsim {

Result<GuestMemory*> GuestMemory::create(uint64_t size)
{
    size = (size + 0xfff) & ~uint64_t(0xfff);
    // Anonymous private mapping: zero-filled, and pages the guest never
    // touches cost no host memory. It starts on a huge-page boundary and asks
    // for transparent huge pages, as QEMU does for its RAM: the kernel's
    // decompressor and its page allocator touch tens of MiB at once, and a
    // host fault per 2 MiB instead of per 4 KiB is most of the decompressor's
    // run on a host where faults are dear (a virtual machine). Fewer TLB
    // misses for the translated code too.
    const uint64_t huge = uint64_t(2) << 20;
    uint64_t reserve = size + huge;
    void* mapping = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED)
        return make_error(ErrorKind::DoesNotFit, "cannot reserve {} MiB of host memory for guest RAM: {}",
                          size >> 20, strerror(errno));
    // Keep the aligned part, give the rest back.
    auto start = reinterpret_cast<uintptr_t>(mapping);
    uintptr_t aligned = (start + huge - 1) & ~uintptr_t(huge - 1);
    if (aligned > start)
        munmap(mapping, aligned - start);
    if (uintptr_t tail = start + reserve - (aligned + size))
        munmap(reinterpret_cast<void*>(aligned + size), tail);
    auto* base = reinterpret_cast<uint8_t*>(aligned);
    advise_huge_pages(base, size);
    return new GuestMemory(base, size);
}

GuestMemory::~GuestMemory()
{
    munmap(m_base, m_size);
}

bool GuestMemory::read(uint64_t address, void* out, uint64_t length) const
{
    if (!contains(address, length))
        return false;
    if (length)  // memcpy's pointers must be valid even for no bytes
        memcpy(out, m_base + address, length);
    return true;
}

bool GuestMemory::write(uint64_t address, const void* data, uint64_t length)
{
    if (!contains(address, length))
        return false;
    if (length == 0)  // a region that only reserves space has no bytes (nor a pointer)
        return true;
    memcpy(m_base + address, data, length);
    if (m_write_observer)
        m_write_observer(address, length);
    return true;
}

}  // namespace bootsim
