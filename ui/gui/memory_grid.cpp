#include "ui/gui/memory_grid.h"

#include <algorithm>
#include <cmath>

namespace bootsim::gui {

namespace {
constexpr uint64_t page = 4096;
}

MemoryGrid::MemoryGrid(uint64_t base, uint64_t span, int columns, int rows)
    : m_base(base & ~(page - 1)), m_span(std::max<uint64_t>(span, page)), m_columns(std::max(columns, 1)),
      m_rows(std::max(rows, 1))
{
    uint64_t cells = uint64_t(m_columns) * uint64_t(m_rows);
    uint64_t pages = (m_span + page - 1) / page;
    m_cell_bytes = std::max<uint64_t>(1, (pages + cells - 1) / cells) * page;
}

int64_t MemoryGrid::cell_of(uint64_t address) const
{
    if (address < m_base || address >= end())
        return -1;
    return int64_t((address - m_base) / m_cell_bytes);
}

std::vector<MemoryGrid::Run> MemoryGrid::runs_of(uint64_t begin, uint64_t end_address) const
{
    std::vector<Run> runs;
    begin = std::max(begin, m_base);
    end_address = std::min(end_address, end());
    if (begin >= end_address)
        return runs;
    int64_t first = cell_of(begin), last = cell_of(end_address - 1);
    for (int64_t cell = first; cell <= last;) {
        int row = int(cell / m_columns);
        int64_t row_last = std::min<int64_t>(last, int64_t(row + 1) * m_columns - 1);
        runs.push_back({row, int(cell % m_columns), int(row_last % m_columns)});
        cell = row_last + 1;
    }
    return runs;
}

MemoryGrid MemoryGrid::zoomed(uint64_t anchor, double factor, uint64_t limit) const
{
    uint64_t cells = uint64_t(m_columns) * uint64_t(m_rows);
    double span = std::clamp(double(m_span) / factor, double(cells * page), double(limit));
    // Keep the anchor at the same fraction of the window.
    double fraction = m_span ? double(std::clamp(anchor, m_base, m_base + m_span) - m_base) / double(m_span) : 0;
    double base = double(anchor) - fraction * span;
    base = std::clamp(base, 0.0, std::max(0.0, double(limit) - span));
    return MemoryGrid(uint64_t(base), uint64_t(span), m_columns, m_rows);
}

}  // namespace bootsim::gui
