#include "core/guest_memory.h"

#include <cerrno>
#include <sys/mman.h>

namespace bootsim {

Result<GuestMemory*> GuestMemory::create(uint64_t size)
{
    size = (size + 0xfff) & ~uint64_t(0xfff);
    // Anonymous private mapping: zero-filled, and pages the guest never
    // touches cost no host memory.
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return make_error(ErrorKind::DoesNotFit, "cannot reserve {} MiB of host memory for guest RAM: {}",
                          size >> 20, strerror(errno));
    return new GuestMemory(static_cast<uint8_t*>(base), size);
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
