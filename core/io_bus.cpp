#include "core/io_bus.h"

namespace bootsim {

bool IoBus::attach(uint16_t base, uint16_t length, BusDevice& device, std::string label)
{
    uint32_t end = uint32_t(base) + length;
    for (const Mapping& m : m_mappings) {
        if (base < uint32_t(m.base) + m.length && m.base < end)
            return false;
    }
    m_mappings.push_back({base, length, &device, std::move(label)});
    return true;
}

bool IoBus::detach(uint16_t base, const BusDevice& device)
{
    for (auto it = m_mappings.begin(); it != m_mappings.end(); ++it) {
        if (it->base == base && it->device == &device) {
            m_mappings.erase(it);
            return true;
        }
    }
    return false;
}

const IoBus::Mapping* IoBus::find(uint16_t port) const
{
    for (const Mapping& m : m_mappings) {
        if (port >= m.base && uint32_t(port) < uint32_t(m.base) + m.length)
            return &m;
    }
    return nullptr;
}

uint32_t IoBus::read(uint16_t port, unsigned width)
{
    const Mapping* m = find(port);
    if (!m) {
        ++m_unassigned_reads;
        return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    }
    return m->device->read(port - m->base, width);
}

void IoBus::write(uint16_t port, uint32_t value, unsigned width)
{
    const Mapping* m = find(port);
    if (!m) {
        ++m_unassigned_writes;
        return;
    }
    m->device->write(port - m->base, value, width);
}

}  // namespace bootsim
