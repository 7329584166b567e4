#pragma once
// The console pane's text: the guest's serial output split into lines as a
// terminal would show them. Escape sequences (ash's cursor queries, colours)
// are dropped, a carriage return goes back to the start of the line, a
// backspace erases. Fed incrementally, so a long log costs nothing per frame.

#include <cstdint>
#include <string>
#include <vector>

namespace bootsim::gui {

class TerminalText {
public:
    // Takes the console as the event record holds it: `text` is the tail of
    // everything received, `dropped` the bytes cut before it. Only what is
    // new since the last call is read; a cut that overtook us starts over.
    void update(const std::string& text, uint64_t dropped);

    const std::vector<std::string>& lines() const { return m_lines; }
    uint64_t received() const { return m_received; }

private:
    void feed(char c);

    std::vector<std::string> m_lines{""};
    size_t m_column = 0;
    uint64_t m_received = 0;  // bytes consumed, counted from the very start
    enum class Escape { None, Start, Csi } m_escape = Escape::None;
    static constexpr size_t max_lines = 20000;
};

}  // namespace bootsim::gui
