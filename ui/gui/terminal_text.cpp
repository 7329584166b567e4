#include "ui/gui/terminal_text.h"

namespace bootsim::gui {

void TerminalText::update(const std::string& text, uint64_t dropped)
{
    if (dropped > m_received) {
        // Bytes we never saw were cut: start from what there is.
        *this = TerminalText();
        m_received = dropped;
    }
    for (uint64_t i = m_received - dropped; i < text.size(); ++i)
        feed(text[i]);
    m_received = dropped + text.size();
    if (m_lines.size() > max_lines)
        m_lines.erase(m_lines.begin(), m_lines.begin() + long(m_lines.size() - max_lines));
}

void TerminalText::feed(char c)
{
    switch (m_escape) {
    case Escape::Start:
        // ESC [ opens a control sequence; any other ESC x is two bytes long.
        m_escape = c == '[' ? Escape::Csi : Escape::None;
        return;
    case Escape::Csi:
        // Parameters and intermediates until a final byte in 0x40..0x7e.
        if (c >= 0x40 && c <= 0x7e)
            m_escape = Escape::None;
        return;
    case Escape::None:
        break;
    }
    std::string& line = m_lines.back();
    switch (c) {
    case '\033':
        m_escape = Escape::Start;
        return;
    case '\n':
        m_lines.emplace_back();
        m_column = 0;
        return;
    case '\r':
        m_column = 0;
        return;
    case '\b':
        if (m_column > 0)
            --m_column;
        return;
    case '\t':
        do
            feed(' ');
        while (m_column % 8);
        return;
    default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return;  // other controls (bell, ...) print nothing
        if (m_column < line.size())
            line[m_column] = c;
        else
            line.push_back(c);
        ++m_column;
    }
}

}  // namespace bootsim::gui
