#pragma once
// Guest physical memory laid out to scale as a grid of cells, row after row
// like the text of a hex dump: the memory map panel draws it, zoomed to a
// window of addresses. Pure arithmetic, no window.

#include <cstdint>
#include <vector>

namespace bootsim::gui {

class MemoryGrid {
public:
    // `columns` x `rows` cells showing [base, base + span); each cell covers
    // the same whole number of 4 KiB pages.
    MemoryGrid(uint64_t base, uint64_t span, int columns, int rows);

    uint64_t base() const { return m_base; }
    uint64_t span() const { return m_span; }
    int columns() const { return m_columns; }
    int rows() const { return m_rows; }
    uint64_t bytes_per_cell() const { return m_cell_bytes; }
    // The end of what the grid shows (may pass base + span by part of a row).
    uint64_t end() const { return m_base + m_cell_bytes * uint64_t(m_columns) * uint64_t(m_rows); }

    // The cell an address falls in, or -1 outside the grid.
    int64_t cell_of(uint64_t address) const;
    uint64_t address_of(int64_t cell) const { return m_base + uint64_t(cell) * m_cell_bytes; }

    // The runs of cells, one per row touched, that [begin, end) covers at
    // least partly. Empty when it misses the grid.
    struct Run { int row, first_column, last_column; };
    std::vector<Run> runs_of(uint64_t begin, uint64_t end) const;

    // Zooms by `factor` (> 1: closer) keeping `anchor` at the same cell,
    // within [0, limit). The span never drops below one page per cell.
    MemoryGrid zoomed(uint64_t anchor, double factor, uint64_t limit) const;

private:
    uint64_t m_base, m_span, m_cell_bytes;
    int m_columns, m_rows;
};

}  // namespace bootsim::gui
