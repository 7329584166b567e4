#pragma once
// The guest's console as lines: bytes from SerialOutput events are split at
// '\n', carriage returns dropped. Each consumer that reads the console line
// by line (--expect, the kernel's own health) keeps the unfinished line.

#include <cstddef>
#include <string>
#include <string_view>

namespace bootsim {

// Appends `bytes` to `partial` and calls `on_line` with each line completed;
// `partial` keeps what follows the last newline, at most `max_line` bytes of it.
template <typename OnLine>
void split_console_lines(std::string& partial, std::string_view bytes, OnLine&& on_line,
                         size_t max_line = std::string::npos)
{
    for (char c : bytes) {
        if (c == '\n') {
            on_line(partial);
            partial.clear();
        } else if (c != '\r' && partial.size() < max_line) {
            partial += c;
        }
    }
}

}  // namespace bootsim
